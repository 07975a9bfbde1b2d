"""Event + Inventory -> Observations: station lookup, uncertainties, phases, bad input."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import warnings

import numpy as np
import pytest
from obspy import UTCDateTime
from obspy.core.event import Event, QuantityError

from obspy_hyposvi.bridge.picks import (
    PickConfig,
    TooFewUsablePicksError,
    observations_from_event,
    projection_for,
    read_catalog,
    read_inventory,
    station_coordinates,
)
from obspy_hyposvi.errors import HypoSVIWarning, InputError, InsufficientPicksError
from obspy_hyposvi.geo import Projection
from obspy_hyposvi.locate.observations import PHASE_INDEX

from .conftest import BOREHOLE_DEPTH_M, S06_NEW, S06_OLD, STATIONS, T0, make_pick

#: Arrival times are differences of integer-ns UTCDateTimes: exact to float64 rounding.
TIME_ATOL_S = 1e-9
#: Projected station positions: pyproj round trips are good to well below a millimetre.
XYZ_ATOL_KM = 1e-6


def _locate_picks(event, inventory, projection, config=None, **kwargs):
    """observations_from_event, failing on any unexpected warning (pytest's filter does too)."""
    return observations_from_event(event, inventory, projection, config, **kwargs)


# ---------------------------------------------------------------------------------------------
# the normal case


def test_observations_from_clean_event(event_with_picks, inventory, projection):
    obs, skipped = _locate_picks(event_with_picks, inventory, projection)
    assert skipped == []
    assert obs.n_picks == 8 and obs.n_stations == 6
    assert obs.event_id == "smi:local/test/event/1"
    # reference = earliest pick (the borehole P at T0 + 1.5 s)
    assert obs.reference_time == T0 + 1.5
    np.testing.assert_allclose(obs.arrival_s, [0.5, 1.0, 0.0, 1.5, 0.7, 1.3, 2.0, 2.9],
                               atol=TIME_ATOL_S)
    assert obs.arrival_s.dtype == np.float64
    np.testing.assert_array_equal(obs.phase_idx, [0, 0, 0, 0, 0, 0, 1, 1])
    np.testing.assert_allclose(obs.sigma_s, [0.05, 0.05, 0.02, 0.05, 0.05, 0.05, 0.1, 0.1])
    assert obs.phase_hints == ["P", "Pg", "P", "Pn", "P", "P", "S", "Sg"]
    assert obs.station_ids[:3] == ["XX.S01", "XX.S02", "XX.S03"]
    assert obs.pick_ids == [str(p.resource_id) for p in event_with_picks.picks]


def test_station_positions_honour_elevation_and_local_depth(event_with_picks, inventory,
                                                            projection):
    obs, _ = _locate_picks(event_with_picks, inventory, projection)
    lon, lat, elev = STATIONS[2][1], STATIONS[2][2], STATIONS[2][3]
    x, y, _ = projection.to_xyz_km(lon, lat)
    # S03's borehole sensor: z = (local depth - elevation) / 1000, km down from sea level
    np.testing.assert_allclose(obs.station_xyz_km[2], [x, y, (BOREHOLE_DEPTH_M - elev) / 1e3],
                               atol=XYZ_ATOL_KM)
    assert obs.station_xyz_km[2, 2] == pytest.approx(-1.1)
    # S02 at 500 m elevation, surface sensor
    assert obs.station_xyz_km[1, 2] == pytest.approx(-0.5)


def test_station_epoch_at_pick_time(inventory, projection):
    """S06 moved in 2010: a 2005 pick uses the old coordinates, a 2020 pick the new ones."""
    for when, (lon, lat, elev) in ((UTCDateTime(2005, 6, 1), S06_OLD), (T0, S06_NEW)):
        coords, source = station_coordinates(inventory, "XX.S06..HHZ", when)
        assert source == "channel"
        assert (coords["longitude"], coords["latitude"], coords["elevation"]) == (lon, lat, elev)


def test_input_event_and_inventory_not_mutated(event_with_picks, inventory, projection):
    event_before = copy.deepcopy(event_with_picks)
    inventory_before = copy.deepcopy(inventory)
    event_with_picks.picks.append(make_pick("XX.S05..EH1", "S", T0 + 4.0))
    event_before.picks.append(copy.deepcopy(event_with_picks.picks[-1]))
    with pytest.warns(HypoSVIWarning):
        _locate_picks(event_with_picks, inventory, projection)
    assert event_with_picks == event_before
    assert inventory == inventory_before


# ---------------------------------------------------------------------------------------------
# station look-up


def test_missing_channel_falls_back_to_station_and_warns_once(event_with_picks, inventory,
                                                              projection):
    # real picks name channels the inventory lacks (EH1 where it has HHN/HHE)
    event_with_picks.picks += [make_pick("XX.S04..EH1", "S", T0 + 5.0),
                               make_pick("XX.S04..EH2", "Sn", T0 + 5.1),
                               make_pick("XX.S05..BHN", "S", T0 + 4.0)]
    with pytest.warns(HypoSVIWarning, match="not in the inventory") as record:
        obs, skipped = _locate_picks(event_with_picks, inventory, projection)
    messages = [str(w.message) for w in record if issubclass(w.category, HypoSVIWarning)]
    # one warning per station (S04 twice picked -> once), none for exact channels
    assert len(messages) == 2
    assert sum("XX.S04" in m for m in messages) == 1
    assert sum("XX.S05" in m for m in messages) == 1
    # the two S picks at S04 are duplicates (same station and phase model): one is kept
    assert obs.n_picks == 10
    assert [s.reason for s in skipped if "duplicate" in s.reason] != []
    lon, lat, elev = STATIONS[3][1:]
    x, y, z = projection.to_xyz_km(lon, lat, elevation_m=elev)
    np.testing.assert_allclose(obs.station_xyz_km[obs.pick_ids.index(
        str(event_with_picks.picks[-3].resource_id))], [x, y, z], atol=XYZ_ATOL_KM)


def test_fallback_warning_once_per_catalogue_with_shared_set(
        event_with_picks, inventory, projection):
    event_with_picks.picks.append(make_pick("XX.S04..EH1", "S", T0 + 5.0))
    warned: set[str] = set()
    with pytest.warns(HypoSVIWarning, match="XX.S04"):
        observations_from_event(event_with_picks, inventory, projection,
                                warned_stations=warned)
    assert warned == {"XX.S04"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second event of the run: no second warning
        obs, _ = observations_from_event(event_with_picks, inventory, projection,
                                         warned_stations=warned)
    assert obs.n_picks == 9


def test_fallback_prefers_channel_at_same_location(inventory):
    # location "10" at S03 is the borehole: its depth is kept when the channel is unknown
    coords, source = station_coordinates(inventory, "XX.S03.10.EH1", T0)
    assert source == "location"
    assert coords["local_depth"] == BOREHOLE_DEPTH_M
    coords, source = station_coordinates(inventory, "XX.S03.99.EH1", T0)
    assert source == "station" and coords["local_depth"] == 0.0


def test_station_absent_from_inventory_is_skipped(event_with_picks, inventory, projection):
    event_with_picks.picks += [make_pick("XX.NOPE..HHZ", "P", T0 + 2.0),
                               make_pick("YY.S01..HHZ", "P", T0 + 2.1)]
    obs, skipped = _locate_picks(event_with_picks, inventory, projection)
    assert obs.n_picks == 8
    assert [s.station for s in skipped] == ["XX.NOPE..HHZ", "YY.S01..HHZ"]
    assert all("not in the inventory" in s.reason for s in skipped)
    assert "XX.NOPE" in skipped[0].reason
    assert skipped[0].pick_id == str(event_with_picks.picks[-2].resource_id)


def test_station_outside_its_epoch_is_skipped(inventory, projection):
    assert station_coordinates(inventory, "XX.S06..HHZ", UTCDateTime(2010, 1, 1)) is not None
    # no epoch of S06 before 2000? the old epoch has no start: any early time is covered
    assert station_coordinates(inventory, "XX.S06..HHZ", UTCDateTime(1990, 1, 1)) is not None
    inv = inventory.copy()
    inv[0].stations[-1].end_date = UTCDateTime(2015, 1, 1)
    for cha in inv[0].stations[-1]:
        cha.end_date = UTCDateTime(2015, 1, 1)
    assert station_coordinates(inv, "XX.S06..HHZ", T0) is None


def test_pick_without_waveform_id_is_skipped(event_with_picks, inventory, projection):
    pick = make_pick("XX.S01..HHZ", "P", T0 + 2.0)
    pick.waveform_id = None
    event_with_picks.picks.append(pick)
    _, skipped = _locate_picks(event_with_picks, inventory, projection)
    assert len(skipped) == 1 and "names no station" in skipped[0].reason


# ---------------------------------------------------------------------------------------------
# pick uncertainty


def test_missing_uncertainty_uses_default(event_with_picks, inventory, projection):
    event_with_picks.picks[0].time_errors = QuantityError()  # nothing given
    event_with_picks.picks[1].time_errors.uncertainty = -1.0  # "unknown" in some exports
    config = PickConfig(default_sigma_s=0.3)
    with pytest.warns(HypoSVIWarning, match=r"2 of 8 picks .* default_sigma_s=0.3") as record:
        obs, _ = _locate_picks(event_with_picks, inventory, projection, config)
    assert len(record) == 1  # once per event, not once per pick
    np.testing.assert_allclose(obs.sigma_s[:2], [0.3, 0.3])
    np.testing.assert_allclose(obs.sigma_s[2:], [0.02, 0.05, 0.05, 0.05, 0.1, 0.1])


def test_uncertainty_from_lower_upper_confidence_level_and_floor(
        event_with_picks, inventory, projection):
    picks = event_with_picks.picks
    picks[0].time_errors = QuantityError(lower_uncertainty=0.04, upper_uncertainty=0.08)
    picks[1].time_errors = QuantityError(uncertainty=0.196, confidence_level=95.0)
    picks[2].time_errors = QuantityError(uncertainty=0.0)
    obs, _ = _locate_picks(event_with_picks, inventory, projection,
                           PickConfig(min_sigma_s=0.01))
    assert obs.sigma_s[0] == pytest.approx(0.06)  # mean of lower and upper
    assert obs.sigma_s[1] == pytest.approx(0.1, rel=1e-3)  # 95 % half-width / 1.96
    assert obs.sigma_s[2] == pytest.approx(0.01)  # floor


# ---------------------------------------------------------------------------------------------
# phases


@pytest.mark.parametrize("hint, model", [
    ("P", "P"), ("Pg", "P"), ("Pn", "P"), ("Pb", "P"), ("p", "P"), (" P ", "P"),
    ("S", "S"), ("Sg", "S"), ("Sn", "S"), ("Sb", "S"), ("s", "S"),
])
def test_phase_mapping(hint, model, inventory, projection):
    event = Event(picks=[make_pick("XX.S03..HHE", hint, T0 + 4.0)])
    obs, skipped = _locate_picks(event, inventory, projection, min_picks=1)
    assert skipped == []
    assert obs.phase_idx.tolist() == [PHASE_INDEX[model]]
    assert obs.phase_hints == [hint.strip()]


@pytest.mark.parametrize("hint, reason", [
    ("PKP", "'PKP' is not a P or S phase"), ("pP", "'pP' is not a P or S phase"),
    ("Lg", "'Lg' is not a P or S phase"), (None, "no phase hint"), ("", "no phase hint"),
])
def test_other_phases_are_reported_and_skipped(hint, reason, event_with_picks, inventory,
                                               projection):
    event_with_picks.picks.append(make_pick("XX.S03..HHE", hint, T0 + 4.0))
    obs, skipped = _locate_picks(event_with_picks, inventory, projection)
    assert obs.n_picks == 8
    assert len(skipped) == 1 and reason in skipped[0].reason
    assert skipped[0].station == "XX.S03..HHE"


def test_custom_phase_lists(inventory, projection):
    event = Event(picks=[make_pick("XX.S03..HHE", "P*", T0 + 4.0)])
    config = PickConfig(p_phases=("P", "Pg", "Pn", "Pb", "p", "P*"))
    obs, skipped = _locate_picks(event, inventory, projection, config, min_picks=1)
    assert skipped == [] and obs.phase_idx.tolist() == [0]


def test_rejected_pick_is_skipped(event_with_picks, inventory, projection):
    event_with_picks.picks[0].evaluation_status = "rejected"
    obs, skipped = _locate_picks(event_with_picks, inventory, projection)
    assert obs.n_picks == 7 and "rejected" in skipped[0].reason
    obs, skipped = _locate_picks(event_with_picks, inventory, projection,
                                 PickConfig(skip_rejected=False))
    assert obs.n_picks == 8 and skipped == []


# ---------------------------------------------------------------------------------------------
# duplicates and bad times


def test_duplicates_counted_once_keeping_smallest_uncertainty(event_with_picks, inventory,
                                                              projection):
    picks = event_with_picks.picks
    better = make_pick("XX.S01..HHZ", "P", T0 + 2.01, 0.01)
    twin = copy.deepcopy(picks[4])  # the very same pick twice (e.g. merged catalogues)
    twin.resource_id = "smi:local/test/pick/twin"
    pn = make_pick("XX.S02..HHZ", "Pn", T0 + 2.45, 0.2)  # Pg and Pn of one station: one P
    event_with_picks.picks += [better, twin, pn]
    obs, skipped = _locate_picks(event_with_picks, inventory, projection)
    assert obs.n_picks == 8
    assert len(set(zip(obs.station_ids, obs.phase_idx.tolist()))) == obs.n_picks
    # S01 P: the later, more precise pick wins; the first one is reported
    assert str(better.resource_id) in obs.pick_ids
    assert str(picks[0].resource_id) not in obs.pick_ids
    # equal uncertainty: the first pick wins
    assert str(picks[4].resource_id) in obs.pick_ids
    reported = {s.pick_id for s in skipped}
    assert reported == {str(picks[0].resource_id), "smi:local/test/pick/twin",
                        str(pn.resource_id)}
    assert all("duplicate" in s.reason for s in skipped)


def test_known_uncertainty_beats_unknown_in_duplicates(event_with_picks, inventory,
                                                       projection):
    event_with_picks.picks[0].time_errors = QuantityError()
    event_with_picks.picks.append(make_pick("XX.S01..HHZ", "P", T0 + 2.02, 0.5))
    obs, skipped = _locate_picks(event_with_picks, inventory, projection)
    assert obs.sigma_s[obs.pick_ids.index(str(event_with_picks.picks[-1].resource_id))] == 0.5
    assert skipped[0].pick_id == str(event_with_picks.picks[0].resource_id)


def test_absurd_and_missing_pick_times_are_skipped(event_with_picks, inventory, projection):
    far = make_pick("XX.S03..HHE", "S", T0 + 86400.0)  # a day late: another event
    early = make_pick("XX.S04..HHE", "S", T0 - 7200.0)
    no_time = make_pick("XX.S05..HHE", "S", T0 + 3.0)
    no_time.time = None
    event_with_picks.picks += [far, early, no_time]
    obs, skipped = _locate_picks(event_with_picks, inventory, projection)
    assert obs.n_picks == 8
    assert obs.reference_time == T0 + 1.5  # the absurd early pick is not the reference
    assert [s.pick_id for s in skipped] == [str(far.resource_id), str(early.resource_id),
                                            str(no_time.resource_id)]
    assert "median pick time" in skipped[0].reason and "no valid time" in skipped[2].reason


# ---------------------------------------------------------------------------------------------
# too few picks


def test_insufficient_picks_message_names_event(event_with_picks, inventory, projection):
    event = Event(resource_id="smi:local/test/event/sparse",
                  picks=event_with_picks.picks[:2] + [make_pick("XX.GONE..HHZ", "P", T0)])
    with pytest.raises(InsufficientPicksError,
                       match=r"smi:local/test/event/sparse: 2 usable picks of 3 .*at least 4"):
        _locate_picks(event, inventory, projection)


def test_insufficient_picks_error_keeps_the_skipped_picks(
        event_with_picks, inventory, projection):
    gone = make_pick("XX.GONE..HHZ", "P", T0)
    pkp = make_pick("XX.S03..HHE", "PKP", T0 + 5.0)
    event = Event(resource_id="smi:local/test/event/sparse",
                  picks=event_with_picks.picks[:2] + [gone, pkp])
    with pytest.raises(TooFewUsablePicksError) as info:
        _locate_picks(event, inventory, projection)
    assert isinstance(info.value, InsufficientPicksError)
    skipped_ids = [r.pick_id for r in info.value.skipped]
    assert skipped_ids == [str(gone.resource_id), str(pkp.resource_id)]
    assert "not in the inventory" in info.value.skipped[0].reason
    assert {r.event_id for r in info.value.skipped} == {"smi:local/test/event/sparse"}
    # the records survive a pickle round trip (as between processes)
    back = pickle.loads(pickle.dumps(info.value))
    assert back.skipped == info.value.skipped and str(back) == str(info.value)


def test_skipped_picks_carry_known_station_coordinates(event_with_picks, inventory, projection):
    event_with_picks.picks += [
        make_pick("XX.S03..HHE", "PKP", T0 + 5.0),       # station known, phase not usable
        make_pick("XX.S01..HHE", "P", T0 + 2.05, 0.5),    # duplicate: coordinates of its channel
        make_pick("XX.S05..HHN", "S", T0 + 86400.0),      # a day off: station known then too
        make_pick("XX.NOPE..HHZ", "P", T0 + 2.1),         # unknown station: no coordinates
    ]
    _, skipped = _locate_picks(event_with_picks, inventory, projection)
    by_station = {r.station: r for r in skipped}
    stations = {code: (lon, lat) for code, lon, lat, _ in STATIONS}
    for seed_id, code in (("XX.S03..HHE", "S03"), ("XX.S01..HHE", "S01"),
                          ("XX.S05..HHN", "S05")):
        record = by_station[seed_id]
        assert (record.longitude_deg, record.latitude_deg) == pytest.approx(stations[code])
        assert record.event_id == str(event_with_picks.resource_id)
    nope = by_station["XX.NOPE..HHZ"]
    assert nope.longitude_deg is None and nope.latitude_deg is None


def test_min_picks_is_configurable(event_with_picks, inventory, projection):
    with pytest.raises(InsufficientPicksError, match="at least 9"):
        _locate_picks(event_with_picks, inventory, projection, min_picks=9)
    event = Event(resource_id="smi:local/e", picks=event_with_picks.picks[:2])
    obs, _ = _locate_picks(event, inventory, projection, min_picks=2)
    assert obs.n_picks == 2
    with pytest.raises(ValueError, match=r"min_picks must be an int in \[1, inf\), got 0"):
        _locate_picks(event, inventory, projection, min_picks=0)


def test_event_without_picks(inventory, projection):
    with pytest.raises(InsufficientPicksError, match="0 usable picks of 0"):
        _locate_picks(Event(resource_id="smi:local/empty"), inventory, projection)


# ---------------------------------------------------------------------------------------------
# config, projection, readers


@pytest.mark.parametrize("kwargs, field", [
    ({"default_sigma_s": -0.1}, "default_sigma_s"), ({"min_sigma_s": 0.0}, "min_sigma_s"),
    ({"max_time_from_median_s": float("nan")}, "max_time_from_median_s"),
    ({"max_time_from_median_s": float("inf")}, "max_time_from_median_s"),
    ({"default_sigma_s": 0.001}, "default_sigma_s must be >= min_sigma_s"),
    ({"p_phases": "P"}, "p_phases"), ({"s_phases": ("S", "P")}, "disjoint from p_phases"),
])
def test_config_validation(kwargs, field):
    with pytest.raises(ValueError, match=field):
        PickConfig(**kwargs)


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PickConfig().min_sigma_s = 3  # type: ignore[misc]


def test_projection_for_picked_stations(event_with_picks, inventory):
    assert projection_for(event_with_picks, inventory).crs == "EPSG:32611"
    assert projection_for([event_with_picks], inventory).crs == "EPSG:32611"
    with pytest.raises(InputError, match="none of the stations"):
        projection_for([Event(picks=[make_pick("ZZ.X..HHZ", "P", T0)])], inventory)


def test_readers_name_the_file(tmp_path):
    with pytest.raises(InputError, match="missing.xml: file not found"):
        read_catalog(tmp_path / "missing.xml")
    bad = tmp_path / "garbage.xml"
    bad.write_text("this is not QuakeML")
    with pytest.raises(InputError, match="garbage.xml"):
        read_catalog(bad)
    with pytest.raises(InputError, match="cannot read inventory .*garbage.xml"):
        read_inventory(bad)


def test_readers_round_trip(tmp_path, event_with_picks, inventory):
    from obspy import Catalog

    Catalog([event_with_picks]).write(str(tmp_path / "c.xml"), format="QUAKEML")
    inventory.write(str(tmp_path / "i.xml"), format="STATIONXML")
    assert len(read_catalog(tmp_path / "c.xml")[0].picks) == 8
    assert len(read_inventory(tmp_path / "i.xml", format="STATIONXML")[0]) == 7


# ---------------------------------------------------------------------------------------------
# real data: Anchorage 2018 (NonLinLoc sample)


def test_realdata_missing_stations_reported(realdata):
    catalog = read_catalog(realdata / "catalog.xml")
    inventory = read_inventory(realdata / "inventory.xml")
    projection = projection_for(catalog, inventory)
    # median picked-station longitude lies just west of 150 W: UTM zone 5
    assert projection.crs == "EPSG:32605"
    missing_stations: set[str] = set()
    n_used = 0
    for event in catalog:
        with warnings.catch_warnings():
            # all picks carry uncertainties and exact channels: no warning expected
            warnings.simplefilter("error")
            obs, skipped = observations_from_event(event, inventory, projection)
        n_used += obs.n_picks
        for s in skipped:
            assert "not in the inventory" in s.reason, s
            missing_stations.add(s.station.split(".")[1])
        assert obs.n_picks + len(skipped) == len(event.picks)
        assert np.all(obs.arrival_s >= 0) and obs.arrival_s.min() == 0.0
        # uncertainties as given in the file (all 0.02-0.3 s)
        np.testing.assert_array_less(0.0, obs.sigma_s)
    # five picked stations have no coordinates (NonLinLoc gave their picks weight 0)
    assert len(missing_stations) == 5
    assert all(s.startswith("NP") for s in missing_stations)
    assert 0 < n_used < 274


def test_realdata_mainshock_geometry(realdata):
    catalog = read_catalog(realdata / "catalog.xml")
    inventory = read_inventory(realdata / "inventory.xml")
    projection = Projection("EPSG:32606")
    obs, skipped = observations_from_event(catalog[0], inventory, projection)
    # the first arrival at the nearest station is tens of km from NonLinLoc's epicentre
    x0, y0, _ = projection.to_xyz_km(-149.94892, 61.335856)
    nearest = obs.station_xyz_km[np.argmin(obs.arrival_s)]
    assert np.hypot(nearest[0] - x0, nearest[1] - y0) < 60.0
    # station elevations (tens to hundreds of metres) give negative z
    assert np.all(obs.station_xyz_km[:, 2] <= 0.0)
    assert np.all(obs.station_xyz_km[:, 2] > -3.0)


def test_locator_takes_min_picks_from_its_search_settings(event_with_picks, inventory):
    from obspy import Catalog

    from obspy_hyposvi import Locator
    from obspy_hyposvi.locate.engine import SearchConfig

    locator = Locator.from_model("socal-1d", search=SearchConfig(min_picks=9))
    report = locator.run(Catalog([event_with_picks]), inventory)
    [(_, reason)] = report.failures
    assert "at least 9 needed" in reason
