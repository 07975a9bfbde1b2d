"""Station labels -> SEED ids: map files, split rules, unique bare codes."""

from __future__ import annotations

import io

import pytest
from obspy import Catalog
from obspy.core.event import Event, Pick, WaveformStreamID
from obspy.core.inventory import Channel, Network, Station

from obspy_hyposvi.bridge.station_map import read_station_map, resolve_station_codes, split_label
from obspy_hyposvi.errors import HypoSVIWarning, InputError

from .conftest import T0, make_inventory


def _catalog(*codes: str, channel: str = "HHZ") -> Catalog:
    picks = []
    for code in codes:
        net, _, sta = code.rpartition(":")  # "XX:S01" carries a network code
        picks.append(Pick(time=T0, phase_hint="P",
                          waveform_id=WaveformStreamID(net, sta, "", channel)))
    return Catalog([Event(picks=picks)])


def _ids(catalog: Catalog) -> list[str]:
    return [p.waveform_id.id for p in catalog[0].picks]


def test_read_station_map_formats_and_errors():
    text = "# label seed\nAK_RC01_--\tAK.RC01.--.\n\nRC2, XX.RC2.00.HHZ  # comment\n"
    assert read_station_map(io.StringIO(text)) == {"AK_RC01_--": "AK.RC01..",
                                                   "RC2": "XX.RC2.00.HHZ"}
    with pytest.raises(InputError, match="line 1: expected two columns"):
        read_station_map(io.StringIO("only-one\n"))
    with pytest.raises(InputError, match="line 2: 'AK.RC01' is not NET.STA.LOC.CHA"):
        read_station_map(io.StringIO("a AK.RC01..\nb AK.RC01\n"))
    with pytest.raises(InputError, match="mapped twice"):
        read_station_map(io.StringIO("a AK.RC01..\na AK.RC02..\n"))


@pytest.mark.parametrize("label, rule, expected", [
    ("AK_RC01_--", "NET_STA_LOC", ("AK", "RC01", "", None)),
    ("AK_RC01_00", "NET_STA_LOC", ("AK", "RC01", "00", None)),
    ("AK_RC01", "NET_STA_LOC", ("AK", "RC01", "", None)),
    ("RC01", "NET_STA_LOC", None),
    ("AK_RC01_00_BHZ_X", "NET_STA_LOC", None),
    ("AK__00", "NET_STA_LOC", None),  # empty station
    ("RC01.AK", "STA.NET", ("AK", "RC01", "", None)),
    ("AK-RC01-00-BHZ", "NET-STA-LOC-CHA", ("AK", "RC01", "00", "BHZ")),
])
def test_split_label(label, rule, expected):
    assert split_label(label, rule) == expected


@pytest.mark.parametrize("rule", ["NET_STA.LOC", "NET_FOO", "STA_LOC", "NET_NET_STA", "NETSTA"])
def test_malformed_rules_are_refused(rule):
    with pytest.raises(ValueError, match="station label rule"):
        split_label("AK_RC01", rule)


def test_map_rule_and_bare_codes_against_the_inventory():
    inventory = make_inventory()  # network XX: S01..S06; S03 has locations "" and "10"
    catalog = _catalog("XX_S01_--", "S02", "ZZ_S04", "mapped", "YY:S05", "S03")
    with pytest.warns(HypoSVIWarning, match="1 station labels .* not resolved: ZZ_S04;"):
        resolved = resolve_station_codes(catalog, inventory, {"mapped": "XX.S06.."})
    assert _ids(resolved) == [
        "XX.S01..HHZ",    # split by the rule, confirmed by the inventory
        "XX.S02..HHZ",    # bare code held by one network
        ".ZZ_S04..HHZ",   # the split names no station of the inventory: left, warned
        "XX.S06..HHZ",    # station map; the pick's channel is kept
        "YY.S05..HHZ",    # a pick with a network code is never changed
        "XX.S03..HHZ",    # two locations record HHZ: the location stays empty
    ]
    assert _ids(catalog)[0] == ".XX_S01_--..HHZ"  # the input is not changed


def test_unique_location_is_filled():
    inventory = make_inventory()
    inventory.networks.append(Network(code="ZZ", stations=[Station(
        code="B01", latitude=34.0, longitude=-117.0, elevation=0.0,
        channels=[Channel(code="HHZ", location_code="00", latitude=34.0, longitude=-117.0,
                          elevation=0.0, depth=50.0)])]))
    assert _ids(resolve_station_codes(_catalog("B01"), inventory)) == ["ZZ.B01.00.HHZ"]


def test_ambiguous_bare_codes_are_warned_with_their_networks():
    inventory = make_inventory()
    inventory.networks.append(Network(code="YY", stations=[
        Station(code="S01", latitude=34.0, longitude=-117.0, elevation=0.0)]))
    with pytest.warns(HypoSVIWarning, match=r"S01 \(in networks XX, YY\)"):
        resolved = resolve_station_codes(_catalog("S01"), inventory)
    assert _ids(resolved) == [".S01..HHZ"]
    # a station map settles it
    resolved = resolve_station_codes(_catalog("S01"), inventory, {"S01": "YY.S01.."})
    assert _ids(resolved) == ["YY.S01..HHZ"]


def test_without_inventory_only_map_and_valid_splits_apply():
    with pytest.warns(HypoSVIWarning, match="not resolved: RC01;"):
        resolved = resolve_station_codes(_catalog("AK_RC01_--", "RC01"), None)
    assert _ids(resolved) == ["AK.RC01..HHZ", ".RC01..HHZ"]


def test_in_place():
    catalog = _catalog("XX_S01")
    assert resolve_station_codes(catalog, make_inventory(), inplace=True) is catalog
    assert _ids(catalog) == ["XX.S01..HHZ"]
