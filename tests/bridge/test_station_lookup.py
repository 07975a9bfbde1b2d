"""StationLookup: station_coordinates' answers, each sensor and epoch looked up once."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from obspy import UTCDateTime

from obspy_hyposvi.bridge import picks
from obspy_hyposvi.bridge.picks import (
    StationLookup,
    event_projections,
    observations_from_event,
    station_coordinates,
)

from .conftest import make_event, make_inventory

SWITCH = UTCDateTime(2010, 1, 1)  # S06 moved then (conftest)
SEED_IDS = ["XX.S01..HHZ", "XX.S01..BHZ", "XX.S03.10.HHZ", "XX.S03.20.HHZ", "XX.S06..HHZ",
            "XX.S06..EHZ", "XX.NONE..HHZ", "YY.S01..HHZ", "XX.S01", ""]
TIMES = [None, UTCDateTime(2005, 6, 1), SWITCH - 1e-6, SWITCH, SWITCH + 1e-6,
         UTCDateTime(2020, 1, 1), UTCDateTime(2020, 1, 1, precision=3),
         UTCDateTime(2010, 1, 1, 0, 0, 0, 400, precision=3)]


def test_answers_as_station_coordinates():
    inventory = make_inventory()
    stations = StationLookup(inventory)
    for _ in range(2):  # the second round from the cache
        for seed_id in SEED_IDS:
            for time in TIMES:
                with warnings.catch_warnings():
                    # ObsPy: comparing times of different precisions is deprecated
                    warnings.simplefilter("ignore")
                    assert (stations.coordinates(seed_id, time)
                            == station_coordinates(inventory, seed_id, time)), (seed_id, time)


def test_one_look_up_per_sensor_and_epoch(monkeypatch):
    inventory = make_inventory()
    stations = StationLookup(inventory)
    calls = []

    def counted(*args):
        calls.append(args[1:])
        return station_coordinates(*args)

    monkeypatch.setattr(picks, "station_coordinates", counted)
    for second in range(100):
        for time in (UTCDateTime(2005, 1, 1) + second, UTCDateTime(2015, 1, 1) + second):
            found, _ = stations.coordinates("XX.S06..HHZ", time)
    assert len(calls) == 2  # one per epoch of S06
    found["latitude"] = 0.0  # a caller's change stays its own
    assert stations.coordinates("XX.S06..HHZ", UTCDateTime(2015, 1, 1))[0]["latitude"] != 0.0


def test_shared_look_ups_give_the_same_observations():
    inventory, event = make_inventory(), make_event()
    stations = StationLookup(inventory)
    (frame,) = event_projections([event], inventory, stations=stations)
    assert frame == event_projections([event], inventory)[0]
    event.picks[0].waveform_id.channel_code = "BHZ"  # not in the inventory: a fallback
    with pytest.warns(Warning, match="not in the inventory"):
        shared, skipped_shared = observations_from_event(event, inventory, frame,
                                                         stations=stations)
    with pytest.warns(Warning, match="not in the inventory"):
        own, skipped_own = observations_from_event(event, inventory, frame)
    assert skipped_shared == skipped_own
    for name in ("station_xyz_km", "phase_idx", "arrival_s", "sigma_s"):
        np.testing.assert_array_equal(getattr(shared, name), getattr(own, name))
    assert shared.pick_ids == own.pick_ids and shared.station_ids == own.station_ids
