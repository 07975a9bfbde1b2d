"""Synthetic catalogues: picks from the exact layered solver, stations, ids and truth."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from obspy import read_events, read_inventory

from obspy_hyposvi.bridge.picks import observations_from_event
from obspy_hyposvi.bridge.synthetic import MAX_OFFSET_KM, synthetic_catalog
from obspy_hyposvi.geo import Projection
from obspy_hyposvi.reference.layered_exact import layered_travel_time
from obspy_hyposvi.velocity import socal_1d

#: Pick times are rounded to whole milliseconds: half of that is the largest rounding error.
ROUNDING_S = 0.0005 + 1e-9


@pytest.fixture(scope="module")
def noiseless():
    return synthetic_catalog(3, 10, seed=3, pick_noise_s=0.0)


def test_counts_ids_and_phases():
    catalog, inventory, truth = synthetic_catalog(4, 12, seed=11)
    assert len(catalog) == len(truth) == 4
    assert len(inventory.networks) == 1 and len(inventory[0]) == 12
    assert [str(e.resource_id) for e in catalog] == [t["event_id"] for t in truth]
    pick_ids = [str(p.resource_id) for e in catalog for p in e.picks]
    assert len(pick_ids) == len(set(pick_ids))
    for event in catalog:
        assert event.event_descriptions[0].text.startswith("synthetic event")
        p_sta = {p.waveform_id.station_code for p in event.picks if p.phase_hint == "P"}
        s_sta = {p.waveform_id.station_code for p in event.picks if p.phase_hint == "S"}
        assert len(p_sta) == 12  # P at every station
        assert s_sta <= p_sta and len(s_sta) >= 6  # S at most stations
        assert all(p.time_errors.uncertainty == 0.05 for p in event.picks)
        assert not event.origins  # the answer is not in the file


def test_station_elevations_and_offsets():
    catalog, inventory, truth = synthetic_catalog(5, 20, seed=5, aperture_km=100.0)
    elevations = np.array([s.elevation for s in inventory[0]])
    assert np.all((elevations >= 0.0) & (elevations <= 2000.0))
    assert elevations.std() > 100.0  # realistic relief, not all at sea level
    proj = Projection("EPSG:32611")
    sx, sy, _ = proj.to_xyz_km([s.longitude for s in inventory[0]],
                               [s.latitude for s in inventory[0]])
    for t in truth:
        x, y, _ = proj.to_xyz_km(t["lon"], t["lat"])
        assert np.hypot(sx - x, sy - y).max() < MAX_OFFSET_KM
        assert 1.0 <= t["depth_km"] <= 25.0 and t["z_km"] == t["depth_km"]
        np.testing.assert_allclose([x, y], [t["x_km"], t["y_km"]], atol=1e-6)


def test_pick_times_are_exact_layered_first_arrivals(noiseless):
    catalog, inventory, truth = noiseless
    model = socal_1d()
    proj = Projection("EPSG:32611")
    stations = {s.code: s for s in inventory[0]}
    for event, t in zip(catalog, truth):
        for pick in event.picks:
            sta = stations[pick.waveform_id.station_code]
            x, y, z = proj.to_xyz_km(sta.longitude, sta.latitude, elevation_m=sta.elevation)
            offset = np.hypot(x - t["x_km"], y - t["y_km"])
            expected = layered_travel_time(model, pick.phase_hint, offset, t["z_km"], z)
            assert abs((pick.time - t["time"]) - float(expected)) <= ROUNDING_S


def test_noise_has_the_stated_spread():
    noisy, _, truth = synthetic_catalog(3, 25, seed=8, pick_noise_s=0.2)
    clean, _, _ = synthetic_catalog(3, 25, seed=8, pick_noise_s=0.0)
    diffs = [p.time - q.time for e, f in zip(noisy, clean) for p, q in zip(e.picks, f.picks)]
    assert 0.15 < np.std(diffs) < 0.25


def test_deterministic():
    a = synthetic_catalog(2, 6, seed=42)
    b = synthetic_catalog(2, 6, seed=42)
    c = synthetic_catalog(2, 6, seed=43)
    times = lambda cat: [p.time for e in cat for p in e.picks]  # noqa: E731
    assert times(a[0]) == times(b[0]) and times(a[0]) != times(c[0])
    assert a[2] == b[2]


def test_travel_time_model_override():
    class Constant:
        def travel_time(self, sources_km, receivers_km):
            return np.full(len(receivers_km), 7.0)

    catalog, _, truth = synthetic_catalog(1, 5, seed=1, pick_noise_s=0.0, p_model=Constant())
    for pick in catalog[0].picks:
        if pick.phase_hint == "P":
            assert pick.time - truth[0]["time"] == pytest.approx(7.0)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_events": 0}, "n_events"),
    ({"n_stations": 3}, "n_stations"),
    ({"pick_noise_s": -0.1}, "pick_noise_s"),
    ({"depth_km": (10.0, 5.0)}, "depth_km"),
    ({"aperture_km": 500.0}, "offsets"),
])
def test_bad_arguments(kwargs, match):
    args = {"n_events": 2, "n_stations": 6, **kwargs}
    with pytest.raises(ValueError, match=match):
        synthetic_catalog(args.pop("n_events"), args.pop("n_stations"), seed=0, **args)


def test_files_round_trip_and_observations(tmp_path):
    catalog, inventory, truth = synthetic_catalog(2, 8, seed=9)
    catalog.write(str(tmp_path / "picks.xml"), format="QUAKEML", validate=True)
    inventory.write(str(tmp_path / "stations.xml"), format="STATIONXML", validate=True)
    cat2 = read_events(str(tmp_path / "picks.xml"))
    inv2 = read_inventory(str(tmp_path / "stations.xml"))
    proj = Projection("EPSG:32611")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # exact channels and uncertainties: nothing to warn about
        obs, skipped = observations_from_event(cat2[0], inv2, proj)
    assert not skipped and obs.n_picks == len(catalog[0].picks)
    elevation_km = {s.code: s.elevation / 1e3 for s in inv2[0]}
    expected_z = [-elevation_km[sid.split(".")[1]] for sid in obs.station_ids]
    np.testing.assert_allclose(obs.station_xyz_km[:, 2], expected_z)


def test_event_seeds_share_the_stations_and_draw_other_events():
    base = synthetic_catalog(3, 6, seed=5)
    a = synthetic_catalog(3, 6, seed=5, event_seed=1)
    b = synthetic_catalog(3, 6, seed=5, event_seed=2)
    stations = [[(s.code, s.latitude, s.longitude, s.elevation) for s in inv[0]]
                for inv in (base[1], a[1], b[1])]
    assert stations[0] == stations[1] == stations[2]
    ids = {str(e.resource_id) for cat in (base[0], a[0], b[0]) for e in cat}
    assert len(ids) == 9  # joinable: no id repeats
    assert a[2][0]["x_km"] != b[2][0]["x_km"] != base[2][0]["x_km"]
    again = synthetic_catalog(3, 6, seed=5, event_seed=1)
    assert [t["time"] for t in again[2]] == [t["time"] for t in a[2]]
