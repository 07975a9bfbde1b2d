"""Fixtures for the ObsPy bridge: a small synthetic inventory and event, a hand-made
LocationResult, and the real Anchorage 2018 picks of ../shared/realdata (skipped if absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from obspy import UTCDateTime
from obspy.core.event import (
    Comment,
    Event,
    Magnitude,
    Origin,
    Pick,
    QuantityError,
    ResourceIdentifier,
    WaveformStreamID,
)
from obspy.core.inventory import Channel, Inventory, Network, Station

from obspy_hyposvi.geo import Projection
from obspy_hyposvi.locate.result import ConfidenceEllipsoid, LocationResult

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
REALDATA = SHARED / "realdata" / "nll_southern_alaska_2018" / "obspy"

#: Reference time of the synthetic event's picks.
T0 = UTCDateTime(2020, 1, 1, 12, 0, 0)

#: (code, lon deg, lat deg, elevation m) of the synthetic stations, around (-117, 34) in
#: UTM zone 11, whose central meridian is -117: the grid there is (almost) geographic.
STATIONS = [
    ("S01", -117.00, 34.20, 0.0),
    ("S02", -116.78, 34.00, 500.0),
    ("S03", -117.00, 33.80, 1200.0),
    ("S04", -117.22, 34.00, 250.0),
    ("S05", -116.85, 34.15, 800.0),
]
#: Borehole sensor of S03: location code "10", 100 m below the surface.
BOREHOLE_DEPTH_M = 100.0
#: S06 moved in 2010: old and new coordinates (lon, lat, elevation m).
S06_OLD = (-117.15, 33.85, 100.0)
S06_NEW = (-117.10, 33.90, 300.0)


def _channels(lon, lat, elev, location="", depth=0.0, start=None, end=None):
    return [Channel(code=code, location_code=location, latitude=lat, longitude=lon,
                    elevation=elev, depth=depth, start_date=start, end_date=end)
            for code in ("HHZ", "HHN", "HHE")]


def make_inventory() -> Inventory:
    """Five stations (S03 with a borehole location) and S06 with two epochs."""
    stations = []
    for code, lon, lat, elev in STATIONS:
        channels = _channels(lon, lat, elev)
        if code == "S03":
            channels += _channels(lon, lat, elev, location="10", depth=BOREHOLE_DEPTH_M)
        stations.append(Station(code=code, latitude=lat, longitude=lon, elevation=elev,
                                channels=channels))
    switch = UTCDateTime(2010, 1, 1)
    stations.append(Station(code="S06", latitude=S06_OLD[1], longitude=S06_OLD[0],
                            elevation=S06_OLD[2], end_date=switch,
                            channels=_channels(*S06_OLD, end=switch)))
    stations.append(Station(code="S06", latitude=S06_NEW[1], longitude=S06_NEW[0],
                            elevation=S06_NEW[2], start_date=switch,
                            channels=_channels(*S06_NEW, start=switch)))
    return Inventory(networks=[Network(code="XX", stations=stations)], source="test")


def make_pick(seed_id: str, phase: str | None, time: UTCDateTime,
              uncertainty: float | None = 0.05, **kwargs) -> Pick:
    """A pick with a stable resource id built from station, phase and time."""
    rid = f"smi:local/test/pick/{seed_id}/{phase}/{time.timestamp:.3f}"
    errors = QuantityError(uncertainty=uncertainty) if uncertainty is not None else None
    pick = Pick(resource_id=ResourceIdentifier(rid), time=time, phase_hint=phase,
                waveform_id=WaveformStreamID(seed_string=seed_id), **kwargs)
    if errors is not None:
        pick.time_errors = errors
    return pick


def make_event() -> Event:
    """Seven P and two S picks with exact channels, an earlier origin, magnitude, comment."""
    picks = [
        make_pick("XX.S01..HHZ", "P", T0 + 2.0),
        make_pick("XX.S02..HHZ", "Pg", T0 + 2.5),
        make_pick("XX.S03.10.HHZ", "P", T0 + 1.5, 0.02),
        make_pick("XX.S04..HHZ", "Pn", T0 + 3.0),
        make_pick("XX.S05..HHZ", "P", T0 + 2.2),
        make_pick("XX.S06..HHZ", "P", T0 + 2.8),
        make_pick("XX.S01..HHN", "S", T0 + 3.5, 0.1),
        make_pick("XX.S02..HHE", "Sg", T0 + 4.4, 0.1),
    ]
    event = Event(resource_id=ResourceIdentifier("smi:local/test/event/1"), picks=picks)
    event.origins.append(Origin(resource_id=ResourceIdentifier("smi:local/test/origin/old"),
                                time=T0, latitude=34.0, longitude=-117.0, depth=8000.0))
    event.preferred_origin_id = event.origins[0].resource_id
    event.magnitudes.append(Magnitude(mag=2.1, magnitude_type="ML"))
    event.comments.append(Comment(text="analyst picks"))
    return event


def make_result(observations, *, hypocentre_xyz_km=None, confidence_level=68.27,
                weight=None, takeoff_deg=None, extra=None, ellipsoid=None,
                horizontal_uncertainty_km=(1.2, 0.8, 30.0)) -> LocationResult:
    """A LocationResult by hand, consistent with ``observations`` (same pick count); the typed
    diagnostics (``converged``, ``quality_note``, ``mode_share``) may come in ``extra``."""
    n = observations.n_picks
    extra = None if extra is None else dict(extra)
    typed = {key: extra.pop(key) for key in ("converged", "quality_note", "mode_share")
             if extra is not None and key in extra}
    if hypocentre_xyz_km is None:
        hypocentre_xyz_km = np.append(observations.station_xyz_km[:, :2].mean(axis=0), 10.0)
    if ellipsoid is None:
        ellipsoid = ConfidenceEllipsoid(
            semi_major_km=2.5, semi_minor_km=0.9, semi_intermediate_km=1.4,
            major_azimuth_deg=40.0, major_plunge_deg=60.0, major_rotation_deg=15.0,
            confidence_level=confidence_level)
    return LocationResult(
        event_id=observations.event_id,
        hypocentre_xyz_km=np.asarray(hypocentre_xyz_km, dtype=float),
        covariance_km2=np.array([[0.64, 0.1, 0.0], [0.1, 0.36, 0.05], [0.0, 0.05, 2.25]]),
        origin_time_s=-1.25,
        origin_time_uncertainty_s=0.08,
        ellipsoid=ellipsoid,
        horizontal_uncertainty_km=horizontal_uncertainty_km,
        confidence_level=confidence_level,
        travel_time_s=observations.arrival_s + 1.25,
        residual_s=np.linspace(-0.1, 0.1, n),
        weight=np.ones(n) if weight is None else np.asarray(weight, float),
        takeoff_deg=np.full(n, 110.0) if takeoff_deg is None else np.asarray(takeoff_deg),
        particles_xyz_km=np.zeros((150, 3)),
        cluster_mask=np.arange(150) < 120,
        extra={"n_particles": 150, "n_epochs": 175, "cluster_fraction": 0.8,
               "kde_bandwidth_km": 0.35} if extra is None else extra,
        **typed,
    )


@pytest.fixture
def inventory() -> Inventory:
    return make_inventory()


@pytest.fixture
def event_with_picks() -> Event:
    return make_event()


@pytest.fixture
def projection() -> Projection:
    return Projection("EPSG:32611")


@pytest.fixture
def realdata() -> Path:
    """Directory of the Anchorage 2018 QuakeML and StationXML; skips when absent."""
    if not (REALDATA / "catalog.xml").is_file() or not (REALDATA / "inventory.xml").is_file():
        pytest.skip(f"real data not available at {REALDATA}")
    return REALDATA
