"""NonLinLoc on a synthetic catalogue, scored against the truth as ours is (issue 9).

Issue 9 quotes NonLinLoc 7.1 on a catalogue of the kind ``benchmarks/accuracy.py`` builds, with
its Alaska sample's settings (``LOCGAU2 0.01 0.05 2.0``, EDT, oct-tree, 0.25 km travel-time
grids). This runs it, through the shared harness (``../shared/tools/nonlinloc``), on the very
catalogues our accuracy benchmark locates (same picks, same stations with their elevations,
the same layered model), so that both are measured on the same data in the same run.

NonLinLoc's hypocentre is its maximum-likelihood point; its 68 % and 90 % ellipsoids are its
covariance (km^2, in its TRANS frame) about its expectation, as it states them. Its origin-time
uncertainty is the harness's spread of origin times over the oct-tree samples (``ot_std_s``).
NonLinLoc is not bundled: build it from its public repository and pass the folder holding
``Vel2Grid``, ``Grid2Time`` and ``NLLoc``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from obspy import UTCDateTime
from pyproj import Geod
from scipy.stats import chi2

# benchmarks/_nll_rerun.py
from _nll_rerun import harness, harness_layers, harness_stations

_GEOD = Geod(ellps="WGS84")
#: The error model of NonLinLoc's Alaska sample, which issue 9's figures used.
GAU2 = (0.01, 0.05, 2.0)
#: Search depths, km below sea level: the events are 1-25 km deep.
DEPTH_KM = (-2.0, 40.0)
#: Search box margin around the stations, degrees.
MARGIN_DEG = 0.1


def locate_synthetic(catalog, inventory, velocity_model, nll_bin: str, workdir: Path) -> dict:
    """NonLinLoc on ``catalog`` (not changed) with the issue's settings; the harness's result."""
    NLLConfig, locate, _ = harness()
    stations = list(harness_stations(inventory).values())
    lats, lons = [s[1] for s in stations], [s[2] for s in stations]
    region = dict(lon_min=min(lons) - MARGIN_DEG, lon_max=max(lons) + MARGIN_DEG,
                  lat_min=min(lats) - MARGIN_DEG, lat_max=max(lats) + MARGIN_DEG,
                  depth_min=DEPTH_KM[0], depth_max=DEPTH_KM[1])
    config = NLLConfig(tt_grid_dx_km=0.25, gau2=GAU2, oct_max_nodes=20000)
    return locate(harness_layers(velocity_model), stations, catalog, region,
                  workdir=str(workdir), nll_bin=nll_bin, config=config)


def score_nll(result: dict, truth: list[dict]) -> dict:
    """NonLinLoc's errors and coverage against the truth, in the keys of ``accuracy.score``."""
    _, _, Projection = harness()
    trans = result["settings"]["trans_line"].split()  # TRANS TRANS_MERC WGS-84 lat0 lon0 rot
    frame = Projection(trans[1], float(trans[3]), float(trans[4]), ellipsoid=trans[2])
    k68, k90 = chi2.ppf(0.68, 3), chi2.ppf(0.90, 3)
    rows = []
    for row, t in zip(result["events"], truth):
        if row.get("latitude") is None:
            continue
        _, _, epi_m = _GEOD.inv(t["lon"], t["lat"], row["longitude"], row["latitude"])
        tx, ty = frame.fwd(t["lat"], t["lon"])
        d = np.array([float(tx) - row["expect_x_km"], float(ty) - row["expect_y_km"],
                      t["depth_km"] - row["expect_depth_km"]])
        cov = np.array([[row["cov_xx"], row["cov_xy"], row["cov_xz"]],
                        [row["cov_xy"], row["cov_yy"], row["cov_yz"]],
                        [row["cov_xz"], row["cov_yz"], row["cov_zz"]]])
        m2 = float(d @ np.linalg.solve(cov, d))
        dt = float(UTCDateTime(row["origin_time"]) - t["time"])
        ot_sd = row.get("ot_std_s")
        rows.append({"epicentral_km": epi_m / 1e3,
                     "depth_km": abs(row["depth_km"] - t["depth_km"]),
                     "origin_time_s": abs(dt), "inside_68": m2 <= k68, "inside_90": m2 <= k90,
                     "origin_time_inside_68": None if ot_sd is None else abs(dt) <= ot_sd,
                     "semi_major_km": row["ell_len3_km"]})

    def col(key):
        return np.array([r[key] for r in rows if r[key] is not None], dtype=float)

    epi = col("epicentral_km")
    timings = result["timings"]
    return {"n_located": len(rows), "n_events": len(truth),
            "mean_epicentral_km": float(epi.mean()),
            "median_epicentral_km": float(np.median(epi)),
            "p90_epicentral_km": float(np.percentile(epi, 90)),
            "mean_depth_km": float(col("depth_km").mean()),
            "mean_origin_time_s": float(col("origin_time_s").mean()),
            "coverage_68": float(col("inside_68").mean()),
            "coverage_90": float(col("inside_90").mean()),
            "origin_time_coverage_68": (float(col("origin_time_inside_68").mean())
                                        if col("origin_time_inside_68").size else None),
            "median_semi_major_km": float(np.median(col("semi_major_km"))),
            "seconds": float(timings.get("grid_total_s", 0.0) + timings.get("NLLoc_total_s", 0.0)),
            "timings": timings, "gau2": list(GAU2),
            "nll_version": result["settings"].get("nll_version")}
