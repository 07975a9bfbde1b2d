"""NLLOC_OBS phase files: ObsPy's writer round trip, format details, and the real Anchorage
picks against their independent QuakeML conversion (../shared/realdata)."""

from __future__ import annotations

import io
import warnings

import pytest
from obspy import Catalog, UTCDateTime, read_events, read_inventory
from obspy.core.event import Event, Pick, QuantityError, WaveformStreamID

from obspy_hyposvi.bridge.nlloc_obs import is_nlloc_obs, read_nlloc_obs
from obspy_hyposvi.bridge.station_map import resolve_station_codes
from obspy_hyposvi.errors import HypoSVIWarning, InputError

from .conftest import REALDATA

RAW = REALDATA.parent / "raw"
#: ObsPy's writer prints seconds with 4 decimals.
WRITER_TIME_ATOL_S = 5e-5
#: ... and the error magnitude with 3 significant digits (%9.2e).
WRITER_ERROR_RTOL = 5e-3


def _picks():
    t0 = UTCDateTime(2020, 5, 1, 23, 59, 50.12345)
    rows = [("RC01", "BHZ", "P", "impulsive", "positive", 0.02, 0.0),
            ("SSN", "BHN", "S", "emergent", None, 0.085, 3.21),
            ("PMR", "", "Pn", None, "negative", 0.5, 12.5)]  # crosses midnight
    return [Pick(time=t0 + dt, phase_hint=ph, onset=onset, polarity=pol,
                 time_errors=QuantityError(uncertainty=err),
                 waveform_id=WaveformStreamID("", sta, "", cha))
            for sta, cha, ph, onset, pol, err, dt in rows]


def test_round_trip_through_obspys_writer(tmp_path):
    picks = _picks()
    path = tmp_path / "event.obs"
    Catalog([Event(picks=picks)]).write(str(path), format="NLLOC_OBS")
    assert is_nlloc_obs(path)
    (event,) = read_nlloc_obs(path)
    back = sorted(event.picks, key=lambda p: p.waveform_id.station_code)  # the writer sorts
    for original, read in zip(sorted(picks, key=lambda p: p.waveform_id.station_code), back):
        assert read.waveform_id.station_code == original.waveform_id.station_code
        assert read.waveform_id.channel_code == original.waveform_id.channel_code
        assert read.phase_hint == original.phase_hint
        assert abs(read.time - original.time) <= WRITER_TIME_ATOL_S
        assert read.time_errors.uncertainty == pytest.approx(
            original.time_errors.uncertainty, rel=WRITER_ERROR_RTOL)
        assert read.onset == original.onset
        assert read.polarity == original.polarity


def test_blocks_public_ids_comments_prior_weight_and_residuals():
    text = ("# two events\n"
            "PUBLIC_ID smi:local/a\n"
            "STA1 ? HHZ i P + 20200101 0000 1.5 GAU 5.0e-02 -1 -1 -1 1 > 1.2 0.3 1.0\n"
            "STA2 ? HHZ e S - 20200101 0000 3.0 GAU 1.0e-01 -1 -1 -1 0\n"
            "\n\n"
            "STA3 ? ? ? P ? 20200101 0001 59.9999 GAU 2.0e-02 -1 -1 -1\n")
    first, second = read_nlloc_obs(io.StringIO(text))
    assert str(first.resource_id) == "smi:local/a"
    assert [p.polarity for p in first.picks] == ["positive", "negative"]
    assert first.picks[1].evaluation_status == "rejected"  # prior weight 0
    assert first.picks[0].evaluation_status is None
    assert second.picks[0].time == UTCDateTime(2020, 1, 1, 0, 1, 59.9999)
    assert second.picks[0].waveform_id.channel_code == ""


def test_unknown_error_type_leaves_uncertainty_unset_with_one_warning():
    text = ("STA1 ? HHZ i P ? 20200101 0000 1.5 BOX 5.0e-02 -1 -1 -1 1\n"
            "STA2 ? HHZ i P ? 20200101 0000 1.7 GAU -1 -1 -1 -1 1\n")
    with pytest.warns(HypoSVIWarning, match="2 picks have no GAU error"):
        (event,) = read_nlloc_obs(io.StringIO(text))
    assert [p.time_errors.uncertainty for p in event.picks] == [None, None]


@pytest.mark.parametrize("line, reason", [
    ("STA1 ? HHZ i P ? 20200101 0000 1.5 GAU", "fields"),
    ("STA1 ? HHZ i P ? 2020011 0000 1.5 GAU 5e-2 -1 -1 -1", "yyyymmdd"),
    ("STA1 ? HHZ i P ? 20201301 0000 1.5 GAU 5e-2 -1 -1 -1", "invalid date"),
    ("STA1 ? HHZ i P ? 20200101 0000 x GAU 5e-2 -1 -1 -1", "numbers"),
])
def test_bad_lines_name_the_line(line, reason):
    with pytest.raises(InputError, match=rf"line 2: not an NLLOC_OBS phase line \(.*{reason}"):
        read_nlloc_obs(io.StringIO("# header\n" + line + "\n"))


@pytest.fixture
def anchorage_obs():
    path = RAW / "2018-11-30-mww70-southern-alaska.obs"
    if not path.is_file() or not (REALDATA / "catalog.xml").is_file():
        pytest.skip(f"real data not available at {RAW}")
    return path


def test_real_anchorage_picks_match_their_quakeml_conversion(anchorage_obs):
    """274 picks in 7 events: time, phase, uncertainty and (after the NET_STA_LOC rule)
    SEED id equal the independently converted QuakeML; the five picked stations missing from
    the inventory are the ones left unresolved."""
    assert is_nlloc_obs(anchorage_obs)
    assert not is_nlloc_obs(REALDATA / "catalog.xml")
    assert not is_nlloc_obs(RAW / "alaska.20181130.173543.grid0.loc.hyp")
    inventory = read_inventory(str(REALDATA / "inventory.xml"))
    with pytest.warns(HypoSVIWarning, match="5 station labels") as record:
        catalog = resolve_station_codes(read_nlloc_obs(anchorage_obs), inventory)
    for label in ("NP040_D0", "NP_AMJG1", "NP0521", "NP_AHOU1", "NP_ABBK1"):
        assert label in str(record[0].message)
    reference = read_events(str(REALDATA / "catalog.xml"))
    assert [len(e.picks) for e in catalog] == [len(e.picks) for e in reference]
    for event, ref in zip(catalog, reference):
        for pick, ref_pick in zip(event.picks, ref.picks):
            assert pick.time == ref_pick.time
            assert pick.phase_hint == ref_pick.phase_hint
            assert pick.time_errors.uncertainty == ref_pick.time_errors.uncertainty
            assert pick.waveform_id.id == ref_pick.waveform_id.id
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every label of the full file parses
        assert len(read_nlloc_obs(RAW / "2018-11-30-mww70-southern-alaska_ALL_EVENTS.obs")) > 0
