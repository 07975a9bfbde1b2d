"""Synthetic ObsPy catalogues with known hypocentres, for examples, tests and benchmarks.

Stations and events are drawn at random around a centre; picks are first-arrival times from
the exact layered solver (:func:`~obspy_hyposvi.reference.layered_exact.layered_travel_time`, the
socal-1d model by default) or from any travel-time model given, plus Gaussian noise. The
result is a plain ObsPy ``Catalog`` (events with picks, no origins: the answer is not in the
file) and ``Inventory``, and the true hypocentres as a list of dicts.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from obspy import Catalog, Inventory, UTCDateTime
from obspy.core.event import (
    CreationInfo,
    Event,
    EventDescription,
    Pick,
    QuantityError,
    ResourceIdentifier,
    WaveformStreamID,
)
from obspy.core.inventory import Channel, Network, Site, Station

from ..geo import Projection, utm_crs_for
from ..reference.layered_exact import layered_travel_time
from ..velocity import VelocityModel1D, socal_1d

__all__ = ["synthetic_catalog", "MAX_OFFSET_KM"]

#: Largest station-event offset allowed, km: the bundled models are validated to 250 km.
MAX_OFFSET_KM = 250.0

#: Reference time of the first synthetic event; later ones follow an hour apart.
_START = UTCDateTime(2020, 1, 1, 0, 0, 0)

#: Channels of each synthetic station: P is picked on the vertical, S on a horizontal.
_P_CHANNEL, _S_CHANNEL = "HHZ", "HHE"

#: Probability that a station also has an S pick ("S picks at most stations").
_S_PICK_PROBABILITY = 0.8


class _TravelTimes(Protocol):
    def travel_time(self, sources_km, receivers_km) -> np.ndarray: ...


def synthetic_catalog(
    n_events: int,
    n_stations: int,
    *,
    seed: int,
    pick_noise_s: float = 0.05,
    depth_km: tuple[float, float] = (1.0, 25.0),
    center_lonlat: tuple[float, float] = (-116.5, 33.5),
    aperture_km: float = 60.0,
    velocity_model: VelocityModel1D | None = None,
    p_model: _TravelTimes | None = None,
    s_model: _TravelTimes | None = None,
    network_code: str = "SY",
    event_seed: int | None = None,
) -> tuple[Catalog, Inventory, list[dict[str, Any]]]:
    """A catalogue of events with noisy P and S picks, its stations, and the truth.

    Parameters
    ----------
    n_events
        Number of events (>= 1).
    n_stations
        Number of stations (>= 4), each with channels HHZ (P picks) and HHE (S picks).
    seed
        Seed of everything random: positions, elevations, times, noise, which S picks exist.
    pick_noise_s
        Standard deviation of the Gaussian noise added to each pick, s; also written as the
        pick's ``time_errors.uncertainty`` (one sigma).
    depth_km
        ``(min, max)`` event depths, km below sea level, drawn uniformly.
    center_lonlat
        Centre of the network, degrees.
    aperture_km
        Side of the square (centred, in the local UTM frame) holding the stations, km; events
        are drawn in the central 80 % of it, where the network surrounds them.
    velocity_model
        1D model for the exact solver; default :func:`~obspy_hyposvi.velocity.socal_1d`.
    p_model, s_model
        Optional travel-time models (objects with ``travel_time(sources_km, receivers_km)``,
        e.g. :class:`~obspy_hyposvi.eikonet.model.TravelTimeModel`) used instead of the exact
        solver for that phase.
    network_code
        Network code of the stations.
    event_seed
        Seed of the events alone (positions, times, noise), the stations staying those of
        ``seed``: catalogues of different ``event_seed`` share one inventory and can be
        joined (their event ids name the event seed). None draws everything from ``seed``.

    Returns
    -------
    catalog : obspy.Catalog
        One event per hypocentre, with picks only (no origin), in time order.
    inventory : obspy.Inventory
        The stations, elevations 0-2000 m, sensors at the surface.
    truth : list of dict
        Per event: ``event_id`` (its resource id), ``lon``, ``lat`` (deg), ``depth_km``
        (below sea level), ``time`` (``UTCDateTime`` origin time), and ``x_km``, ``y_km``,
        ``z_km`` in the UTM frame of the centre (``z_km == depth_km``).

    Raises
    ------
    ValueError
        Bad counts or ranges, or a station-event offset above :data:`MAX_OFFSET_KM`.

    Examples
    --------
    >>> cat, inv, truth = synthetic_catalog(2, 6, seed=1)
    >>> len(cat), len(inv[0]), sorted(truth[0])[:3]
    (2, 6, ['depth_km', 'event_id', 'lat'])
    >>> {p.phase_hint for p in cat[0].picks} == {"P", "S"}
    True
    """
    if n_events < 1:
        raise ValueError(f"n_events={n_events}: need at least 1")
    if n_stations < 4:
        raise ValueError(f"n_stations={n_stations}: need at least 4 (4 unknowns per event)")
    if not (pick_noise_s >= 0 and np.isfinite(pick_noise_s)):
        raise ValueError(f"pick_noise_s={pick_noise_s}: must be a finite number >= 0 s")
    if not depth_km[0] < depth_km[1]:
        raise ValueError(f"depth_km={depth_km}: must be (min, max) with min < max")
    if not aperture_km > 0:
        raise ValueError(f"aperture_km={aperture_km}: must be > 0")
    velocity_model = socal_1d() if velocity_model is None else velocity_model
    rng = np.random.default_rng(seed)
    lon0, lat0 = center_lonlat
    projection = Projection(utm_crs_for(lon0, lat0))
    x0, y0, _ = projection.to_xyz_km(lon0, lat0)
    half = aperture_km / 2.0

    # stations: uniform in the square; elevations 0-2000 m, as in Southern California
    sta_x = float(x0) + rng.uniform(-half, half, n_stations)
    sta_y = float(y0) + rng.uniform(-half, half, n_stations)
    elevation_m = np.round(rng.uniform(0.0, 2000.0, n_stations), 1)
    sta_lon, sta_lat, _ = projection.to_lonlat(sta_x, sta_y)
    # round like a real StationXML (1e-5 deg ~ 1 m) and take the stored values as the truth
    sta_lon, sta_lat = np.round(sta_lon, 5), np.round(sta_lat, 5)
    sta_x, sta_y, sta_z = projection.to_xyz_km(sta_lon, sta_lat, elevation_m=elevation_m)
    codes = [f"S{i + 1:03d}" for i in range(n_stations)]
    receivers = np.column_stack([sta_x, sta_y, sta_z])

    # events: the central 80 % of the network, where stations surround them
    if event_seed is not None:
        rng = np.random.default_rng([seed, event_seed])
    ev_x = float(x0) + rng.uniform(-0.8 * half, 0.8 * half, n_events)
    ev_y = float(y0) + rng.uniform(-0.8 * half, 0.8 * half, n_events)
    ev_z = rng.uniform(depth_km[0], depth_km[1], n_events)
    ev_lon, ev_lat, _ = projection.to_lonlat(ev_x, ev_y)
    offsets = np.hypot(ev_x[:, None] - sta_x[None, :], ev_y[:, None] - sta_y[None, :])
    if offsets.max() > MAX_OFFSET_KM:
        raise ValueError(f"aperture_km={aperture_km} gives station-event offsets up to "
                         f"{offsets.max():.0f} km, above {MAX_OFFSET_KM:g} km")

    def times(phase: str, model: _TravelTimes | None, i: int) -> np.ndarray:
        if model is not None:
            sources = np.repeat([[ev_x[i], ev_y[i], ev_z[i]]], n_stations, axis=0)
            return np.asarray(model.travel_time(sources, receivers), dtype=np.float64)
        return layered_travel_time(velocity_model, phase, offsets[i], ev_z[i], sta_z)

    creation = CreationInfo(author="obspy_hyposvi.bridge.synthetic")
    events, truth = [], []
    for i in range(n_events):
        # whole milliseconds keep the truth exact in every file format
        origin_time = _START + 3600.0 * i + round(float(rng.uniform(0.0, 600.0)), 3)
        prefix = (f"smi:local/obspy_hyposvi/synthetic/{seed}/event/{i + 1:03d}"
                  if event_seed is None else
                  f"smi:local/obspy_hyposvi/synthetic/{seed}/{event_seed}/event/{i + 1:03d}")
        t_p = times("P", p_model, i)
        t_s = times("S", s_model, i)
        has_s = rng.random(n_stations) < _S_PICK_PROBABILITY
        noise_p = rng.normal(0.0, pick_noise_s, n_stations)
        noise_s = rng.normal(0.0, pick_noise_s, n_stations)
        picks = []
        for k, code in enumerate(codes):
            for phase, channel, t, noise, present in (
                    ("P", _P_CHANNEL, t_p[k], noise_p[k], True),
                    ("S", _S_CHANNEL, t_s[k], noise_s[k], has_s[k])):
                if not present:
                    continue
                picks.append(Pick(
                    resource_id=ResourceIdentifier(f"{prefix}/pick/{code}/{phase}"),
                    # rounded to 1 ms, the resolution of most pickers
                    time=origin_time + round(float(t + noise), 3),
                    time_errors=QuantityError(uncertainty=pick_noise_s),
                    waveform_id=WaveformStreamID(network_code, code, "", channel),
                    phase_hint=phase, evaluation_mode="manual", creation_info=creation))
        events.append(Event(
            resource_id=ResourceIdentifier(prefix), event_type="earthquake",
            event_descriptions=[EventDescription(text=f"synthetic event {i + 1}",
                                                 type="earthquake name")],
            picks=picks, creation_info=creation))
        truth.append({"event_id": prefix, "lon": float(ev_lon[i]), "lat": float(ev_lat[i]),
                      "depth_km": float(ev_z[i]), "time": origin_time,
                      "x_km": float(ev_x[i]), "y_km": float(ev_y[i]), "z_km": float(ev_z[i])})

    stations = []
    for k, code in enumerate(codes):
        lon, lat, elev = float(sta_lon[k]), float(sta_lat[k]), float(elevation_m[k])
        channels = [Channel(code=cha, location_code="", latitude=lat, longitude=lon,
                            elevation=elev, depth=0.0, sample_rate=100.0,
                            start_date=UTCDateTime(2010, 1, 1))
                    for cha in (_P_CHANNEL, "HHN", _S_CHANNEL)]
        stations.append(Station(code=code, latitude=lat, longitude=lon, elevation=elev,
                                site=Site(name=f"synthetic station {code}"), channels=channels,
                                start_date=UTCDateTime(2010, 1, 1)))
    inventory = Inventory(networks=[Network(code=network_code, stations=stations,
                                            description="obspy_hyposvi synthetic network")],
                          source="obspy_hyposvi.bridge.synthetic")
    catalog = Catalog(events=events, description=f"obspy_hyposvi synthetic catalogue, seed {seed}",
                      resource_id=ResourceIdentifier(
                          f"smi:local/obspy_hyposvi/synthetic/{seed}/catalog"))
    return catalog, inventory, truth
