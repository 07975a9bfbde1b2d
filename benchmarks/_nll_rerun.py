"""NonLinLoc run again on the Anchorage sample's picks, for a comparison on the same data.

NonLinLoc's published solutions (the sample's ``.hyp`` files) used only the picks its 400 km
travel-time grids could reach from every node of its search grid. Our runs on every pick use
more data than it did; to separate the effect of the data from that of the method, NonLinLoc
is run again, through the shared harness (``../shared/tools/nonlinloc/nll_locate.py``), with
the sample's own settings (``raw/nlloc_sample.in``: its LAYER model, 1 km travel-time grids,
its 200 x 200 km search grid from -5 to 100 km, EDT_OT_WT, LOCGAU 0.2 0.0, LOCGAU2 0.02 0.05
2.0, oct-tree of 20 000 nodes), once on the picks it used and once on every pick whose station
has coordinates. The first run checks the harness against the published solutions.

NonLinLoc is not bundled: build it from its public repository and pass the folder holding
``Vel2Grid``, ``Grid2Time`` and ``NLLoc`` (``--nll-bin`` or ``NLL_BIN``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pyproj import Transformer

HARNESS = Path(__file__).resolve().parents[2] / "shared" / "tools" / "nonlinloc"

#: The sample's LOCGRID: 201 x 201 nodes 1 km apart centred on its TRANS origin, -5..100 km.
SEARCH_HALF_WIDTH_KM = 100.0
SEARCH_DEPTH_KM = (-5.0, 100.0)


def harness():
    """The shared harness's ``NLLConfig``, ``locate`` and ``Projection`` (its mirror of
    NonLinLoc's TRANS, km)."""
    sys.path.insert(0, str(HARNESS))
    try:
        from nll_locate import NLLConfig, Projection, locate
    finally:
        sys.path.remove(str(HARNESS))
    return NLLConfig, locate, Projection


def harness_stations(inventory) -> dict:
    """The harness's station list, ``code -> (code, lat, lon, elevation m)``: station codes
    only (its NLLOC_OBS picks name no network), the first of a repeated code kept."""
    stations = {}
    for net in inventory:
        for sta in net:
            stations.setdefault(sta.code, (sta.code, sta.latitude, sta.longitude, sta.elevation))
    return stations


def harness_layers(velocity_model) -> list[tuple[float, float, float]]:
    """The harness's layers ``(top km, vp, vs)`` of a layered 1D model."""
    return [(float(z), float(vp), float(vs)) for z, vp, vs in
            zip(velocity_model.depth_km, velocity_model.vp_kmps, velocity_model.vs_kmps)]


def search_region(nll_frame: str) -> dict:
    """The sample's search grid as the harness's lon/lat/depth box (its corners' extremes)."""
    to_geo = Transformer.from_crs(nll_frame, "EPSG:4326", always_xy=True)
    w = SEARCH_HALF_WIDTH_KM
    corners = [to_geo.transform(x, y) for x in (-w, 0.0, w) for y in (-w, 0.0, w)]
    lons, lats = zip(*corners)
    return dict(lon_min=min(lons), lon_max=max(lons), lat_min=min(lats), lat_max=max(lats),
                depth_min=SEARCH_DEPTH_KM[0], depth_max=SEARCH_DEPTH_KM[1])


def rerun_nonlinloc(catalog, inventory, velocity_model, nll_frame: str, nll_bin: str,
                    workdir: Path) -> dict:
    """Locate every event of ``catalog`` with NonLinLoc (the sample's settings).

    Parameters
    ----------
    catalog
        ObsPy catalogue (not changed): each event's picks; its origins are dropped.
    inventory
        ObsPy inventory; picks of stations absent from it are left out (NonLinLoc, like us,
        cannot use them).
    velocity_model
        :class:`~obspy_hyposvi.velocity.Layered1D` read from the sample's LAYER lines.
    nll_frame
        The sample's TRANS projection (PROJ string, km), for its search grid.
    nll_bin, workdir
        NonLinLoc's binaries; a scratch folder for its grids and outputs.

    Returns
    -------
    dict
        ``events`` (per event: the maximum-likelihood latitude, longitude, depth in km,
        phases used, RMS, the 68 % ellipsoid's semi-major axis, the posterior's expectation
        and depth standard deviation; None if not located), ``timings`` (s), ``settings``.
    """
    NLLConfig, locate, _ = harness()
    stations = harness_stations(inventory)
    cat = catalog.copy()
    for event in cat:
        event.origins, event.preferred_origin_id = [], None
        event.picks = [p for p in event.picks if p.waveform_id.station_code in stations]
    config = NLLConfig(tt_grid_dx_km=1.0, loc_grid_dx_km=1.0, gau_sigma_s=0.2,
                       gau2=(0.02, 0.05, 2.0), oct_max_nodes=20000, oct_num_scatter=5000,
                       locmeth="EDT_OT_WT")
    res = locate(harness_layers(velocity_model), list(stations.values()), cat,
                 search_region(nll_frame),
                 workdir=str(workdir), nll_bin=nll_bin, config=config)
    events = []
    for row in res["events"]:
        if row.get("latitude") is None:
            events.append(None)
            continue
        events.append({"lat_deg": row["latitude"], "lon_deg": row["longitude"],
                       "depth_km": row["depth_km"], "n_phases": row["nphs"],
                       "rms_s": row["rms_s"], "semi_major_km": row["ell_len3_km"],
                       # its posterior's mean and depth spread (STAT_GEOG, STATISTICS): the
                       # counterpart of our hypocentre, which is our posterior's mean
                       "expectation": {"lat_deg": row["expect_lat"],
                                       "lon_deg": row["expect_lon"],
                                       "depth_km": row["expect_depth_km"]},
                       "sigma_z_km": row["sigma_z_km"]})
    return {"events": events, "timings": res["timings"], "settings": res.get("settings")}
