"""NonLinLoc GTSRCE station lists, and the Anchorage picks read with no hand conversion."""

from __future__ import annotations

import io
import warnings

import pytest
from obspy import read_inventory as obspy_read_inventory

from obspy_hyposvi.bridge.nlloc_stations import is_gtsrce, read_gtsrce
from obspy_hyposvi.bridge.picks import (
    TooFewUsablePicksError,
    observations_from_event,
    projection_for,
    read_catalog,
    read_inventory,
)
from obspy_hyposvi.bridge.station_map import resolve_station_codes
from obspy_hyposvi.errors import HypoSVIWarning, InputError

from .conftest import REALDATA

RAW = REALDATA.parent / "raw"
#: Coordinates are copied digit for digit; elevations go km -> m.
ELEVATION_ATOL_M = 1e-6


def test_position_types_and_elevation_above_sea_level():
    text = ("# NonLinLoc control file\nTRANS SIMPLE 61 -150 0\n"
            "GTSRCE AK_A_-- LATLON 61.5 -149.5 0.0 0.39\n"
            "GTSRCE AK_B LATLONDM 61 30.0 N 149 30.0 W 0.1 0.5\n"
            "GTSRCE CC LATLONDS 61 30 36 S 149 30 36 E 0 -0.012\n"
            "GTSRCE AK_A_-- LATLON 61.5 -149.5 0.0 0.39\n")  # a repeat is harmless
    inventory = read_gtsrce(io.StringIO(text))
    got = [(n.code, s.code, s.latitude, s.longitude, s.elevation) for n in inventory for s in n]
    assert got == [("AK", "A", 61.5, -149.5, pytest.approx(390.0, abs=ELEVATION_ATOL_M)),
                   ("AK", "B", 61.5, -149.5, pytest.approx(400.0, abs=ELEVATION_ATOL_M)),
                   ("", "CC", pytest.approx(-61.51), pytest.approx(149.51),
                    pytest.approx(-12.0, abs=ELEVATION_ATOL_M))]


@pytest.mark.parametrize("line, reason", [
    ("GTSRCE A XYZ 1.0 2.0 0 0", "XYZ positions"),
    ("GTSRCE A LATLON 61.5 x 0 0", "must be numbers"),
    ("GTSRCE A LATLON 61.5", "needs 4 values"),
    ("GTSRCE A LATLONDM 61 30 Q 149 30 W 0 0", "hemisphere"),
    ("GTSRCE A LATLON 95 0 0 0", "out of range"),
])
def test_bad_lines_name_the_line(line, reason):
    with pytest.raises(InputError, match=f"line 2: .*{reason}"):
        read_gtsrce(io.StringIO("# stations\n" + line + "\n"))


def test_no_stations_and_moved_stations_are_refused():
    with pytest.raises(InputError, match="no GTSRCE line"):
        read_gtsrce(io.StringIO("# nothing\n"))
    with pytest.raises(InputError, match="line 2: station AK.A given twice"):
        read_gtsrce(io.StringIO("GTSRCE AK_A LATLON 61 -149 0 0\nGTSRCE AK_A LATLON 62 -149 0 0\n"))


@pytest.fixture
def anchorage():
    obs, stations = RAW / "2018-11-30-mww70-southern-alaska.obs", RAW / "station_coordinates.txt"
    if not (obs.is_file() and stations.is_file() and (REALDATA / "inventory.xml").is_file()):
        pytest.skip(f"real data not available at {RAW}")
    return obs, stations


def test_real_station_list_matches_the_stationxml_conversion(anchorage):
    _, stations = anchorage
    assert is_gtsrce(stations) and not is_gtsrce(REALDATA / "inventory.xml")
    ours = read_inventory(stations)  # detected
    reference = obspy_read_inventory(str(REALDATA / "inventory.xml"))
    n_compared = 0
    for network in reference:
        for station in network:
            (mine,) = [s for n in ours.select(network=network.code, station=station.code)
                       for s in n]
            assert (mine.latitude, mine.longitude) == (station.latitude, station.longitude)
            assert mine.elevation == pytest.approx(station.elevation, abs=ELEVATION_ATOL_M)
            n_compared += 1
    assert n_compared == 64


def test_anchorage_obs_and_station_list_give_the_same_observations(anchorage):
    """The raw NonLinLoc files, read as they are, give each event the same usable picks and
    station positions as the hand-converted QuakeML and StationXML."""
    obs, stations = anchorage
    results = []
    for picks_path, inventory_path in ((obs, stations),
                                       (REALDATA / "catalog.xml", REALDATA / "inventory.xml")):
        with warnings.catch_warnings():
            # unresolved labels; station-level coordinates for the channel-less station list
            warnings.simplefilter("ignore", HypoSVIWarning)
            inventory = read_inventory(inventory_path)
            catalog = resolve_station_codes(read_catalog(picks_path), inventory)
            projection = projection_for(catalog, inventory)
            per_event = []
            for event in catalog:
                try:
                    observations, _ = observations_from_event(event, inventory, projection)
                except TooFewUsablePicksError:
                    per_event.append(None)
                    continue
                per_event.append((observations.station_ids, observations.phase_hints,
                                  observations.arrival_s.round(6).tolist(),
                                  observations.station_xyz_km.round(6).tolist()))
        results.append(per_event)
    assert results[0] == results[1]
    assert all(r is not None for r in results[0])
