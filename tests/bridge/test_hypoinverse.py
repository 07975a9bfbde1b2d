"""HypoInverse Y2000 archive/phase files: a hand-written fixture and a column round trip."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
from obspy import UTCDateTime

from obspy_hyposvi.bridge.examples import example_dir
from obspy_hyposvi.bridge.hypoinverse import (
    DEFAULT_WEIGHT_SIGMA_S,
    is_hypoinverse,
    read_hypoinverse,
)
from obspy_hyposvi.errors import InputError

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "hypoinverse_y2000.arc"
#: Minutes of latitude and longitude are written to 0.01'; degrees computed from them are
#: exact to float rounding.
DEG_ATOL = 1e-9
#: Weight-code sigmas: 0.1 s / sqrt(1, 3/4, 1/2, 1/4), written out by hand.
SIGMA_BY_CODE = (0.1, 0.1154700538, 0.1414213562, 0.2)


def test_default_weight_table_is_hypoinverse_weights_as_variances():
    np.testing.assert_allclose(DEFAULT_WEIGHT_SIGMA_S, SIGMA_BY_CODE, rtol=1e-9)


def test_fixture_events_picks_and_header():
    catalog = read_hypoinverse(FIXTURE)
    assert len(catalog) == 2
    first, second = catalog
    assert str(first.resource_id) == "smi:local/hypoinverse/event/12345678"
    origin = first.preferred_origin()
    assert origin.time == UTCDateTime(2018, 11, 30, 17, 29, 35.20)
    assert origin.latitude == pytest.approx(61 + 18.23 / 60, abs=DEG_ATOL)
    assert origin.longitude == pytest.approx(-(149 + 56.98 / 60), abs=DEG_ATOL)  # west
    assert origin.depth == pytest.approx(44900.0)  # m

    got = [(p.waveform_id.id, p.phase_hint, p.time, p.onset, p.polarity,
            p.evaluation_status,
            None if p.time_errors.uncertainty is None else round(p.time_errors.uncertainty, 9))
           for p in first.picks]
    t = UTCDateTime(2018, 11, 30, 17, 29)
    expected = [
        ("AK.RC01..BHZ", "P", t + 37.04, "impulsive", "positive", None, 0.1),
        ("AK.RC01..BHZ", "S", t + 41.50, "emergent", None, None, round(SIGMA_BY_CODE[2], 9)),
        ("AK.SSN.00.BHZ", "P", t + 38.39, "emergent", "negative", None,
         round(SIGMA_BY_CODE[1], 9)),
        # blank P remark: the P time is ignored; S seconds past 60 run into the next minute
        ("AT.PMR..BHN", "S", t + 60.12, None, None, None, 0.2),
        # weight code 4: no weight; only the 1-letter component is given
        ("AK.GHO..Z", "P", t + 41.33, None, "positive", "rejected", None),
    ]
    assert got == expected
    assert second.origins == []
    assert [(p.waveform_id.id, p.phase_hint, p.time) for p in second.picks] == [
        ("AK.KNK..HHZ", "P", UTCDateTime(2018, 11, 30, 17, 36, 5.12)),
        ("AK.KNK..HHZ", "S", UTCDateTime(2018, 11, 30, 17, 36, 12.25))]
    # a blank weight code is full weight
    assert second.picks[0].time_errors.uncertainty == pytest.approx(0.1)


def test_detection():
    assert is_hypoinverse(FIXTURE)
    assert not is_hypoinverse(example_dir() / "picks.xml")


def _station_line(station, network, channel, location, p, s) -> str:
    """A Y2000 station archive line, placed column by column from the guide's table.

    ``p`` and ``s`` are (remark, first motion, weight code, seconds) or None."""
    line = [" "] * 113

    def put(column, text):
        line[column - 1:column - 1 + len(text)] = list(text)

    put(1, f"{station:<5}")
    put(6, f"{network:<2}")
    put(10, f"{channel:<3}")
    put(18, "2021")
    put(22, "07150903")
    if p is not None:
        put(14, f"{p[0]:>2}")
        put(16, p[1])
        put(17, str(p[2]))
        put(30, f"{round(p[3] * 100):5d}")  # F5.2 without a point: implied decimals
    if s is not None:
        put(47, f"{s[0]:>2}")
        put(50, str(s[2]))
        put(42, f"{s[3]:5.2f}")  # with a point
    put(112, f"{location:<2}")
    return "".join(line)


def test_round_trip_of_column_values():
    rng = np.random.default_rng(3)
    rows = []
    for k in range(40):
        p_s = round(float(rng.uniform(0, 59.99)), 2)
        s_s = round(p_s + float(rng.uniform(0.5, 39.9)), 2)  # may pass 60, fits F5.2
        p = ("IP" if k % 2 else "EP", "UD+-C"[k % 5], int(rng.integers(0, 5)), p_s)
        s = ("ES", " ", int(rng.integers(0, 4)), s_s) if k % 3 else None
        rows.append((f"S{k:03d}", "XY", "HHZ", f"{k % 3:02d}" if k % 4 else "", p, s))
    text = "\n".join(_station_line(*row) for row in rows) + "\n" + " " * 72 + "\n"
    (event,) = read_hypoinverse(io.StringIO(text))
    picks = iter(event.picks)
    minute = UTCDateTime(2021, 7, 15, 9, 3)
    for station, network, channel, location, p, s in rows:
        for phase, reading in (("P", p), ("S", s)):
            if reading is None:
                continue
            pick = next(picks)
            assert pick.waveform_id.id == f"{network}.{station}.{location}.{channel}"
            assert pick.phase_hint == phase
            assert pick.time == minute + reading[3]
            assert pick.onset == ("impulsive" if reading[0][0] == "I" else "emergent")
            code = reading[2]
            if code == 4:
                assert pick.evaluation_status == "rejected"
            else:
                assert pick.time_errors.uncertainty == pytest.approx(SIGMA_BY_CODE[code])
            if phase == "P":
                assert pick.polarity == ("positive" if reading[1] in "UC+" else "negative")
    assert next(picks, None) is None


def test_two_digit_year_lines_are_refused_with_the_line_number():
    text = "RC01 AK ZBHZ IPU0  1811301729 3704\n"
    with pytest.raises(InputError, match=r"line 1: year .* not a 4-digit year"):
        read_hypoinverse(io.StringIO(text))


def test_bad_weight_table():
    with pytest.raises(InputError, match="four standard deviations"):
        read_hypoinverse(FIXTURE, weight_sigma_s=(0.1, 0.2))
    assert math.isclose(read_hypoinverse(FIXTURE, weight_sigma_s=(0.1, 0.5, 1.0, 2.0))[0]
                        .picks[3].time_errors.uncertainty, 2.0)
