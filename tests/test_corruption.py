"""Corrupted QuakeML and StationXML through ``hyposvi locate`` (issue 10).

Hypothesis draws corruptions of a small clean catalogue and its stations (missing fields, NaN,
duplicates, shifted times, far or high stations, picks dated 1900, phases only on arrivals,
...), writes them as files and runs the command line on them. Whatever the input, these hold:

- the run finishes (exit 0) or stops with exit 1 and one ``hyposvi locate: error:`` line on
  stderr, never a traceback;
- every input event is in the output, in order, with all its picks; a located event has one
  new, preferred origin with an arrival for every pick, and an event not located is unchanged;
- no new origin short of ``rejected`` has a normalised RMS above
  ``SummaryConfig.max_normalised_rms``;
- the output is valid QuakeML, or absent (no partial or temporary file).

Tiny homogeneous models and tiny SVGD settings keep it fast: the invariants, not the locations,
are under test.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from obspy import Catalog, Inventory, UTCDateTime, read_events
from obspy.core.event import Arrival, Event, Origin, QuantityError, ResourceIdentifier
from obspy.core.inventory import Station
from obspy.io.quakeml.core import _validate as valid_quakeml

from obspy_hyposvi.cli import main
from obspy_hyposvi.locate.summary import SummaryConfig

#: Path prefix of the tiny homogeneous checkpoints (as ``tests/conftest.py::tiny_model_path``).
TINY = Path(__file__).resolve().parent / "data" / "tiny-homogeneous"
#: Tiny SVGD: each run takes about half a second.
FAST = ["--particles", "8", "--epochs", "3", "--seed", "3"]
MAX_NORMALISED_RMS = SummaryConfig().max_normalised_rms
ERROR_PREFIX = "hyposvi locate: error: "

Draw = Callable[[st.SearchStrategy], object]


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """One torch thread: the suite runs beside other jobs on two cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@lru_cache(maxsize=1)
def _clean() -> tuple[Catalog, Inventory]:
    """Two events picked at six stations (times from the tiny models themselves)."""
    from obspy_hyposvi.bridge.synthetic import synthetic_catalog
    from obspy_hyposvi.eikonet.model import load_model

    models = [load_model(f"{TINY}-{phase}.pt", phase) for phase in "PS"]
    catalog, inventory, _ = synthetic_catalog(2, 6, seed=3, aperture_km=30.0,
                                              p_model=models[0], s_model=models[1])
    return catalog, inventory


@dataclass
class Case:
    """The inputs of one run: objects to write, then edits of the written text."""

    catalog: Catalog
    inventory: Inventory
    picks_edits: list[Callable[[str], str]] = field(default_factory=list)
    inventory_edits: list[Callable[[str], str]] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)

    def write(self, folder: Path) -> tuple[Path, Path]:
        """Write the picks and stations files (with the text edits) into ``folder``."""
        picks, stations = folder / "picks.xml", folder / "stations.xml"
        self.catalog.write(str(picks), format="QUAKEML")
        self.inventory.write(str(stations), format="STATIONXML")
        for path, edits in ((picks, self.picks_edits), (stations, self.inventory_edits)):
            text = path.read_text()
            for edit in edits:
                text = edit(text)
            path.write_text(text)
        return picks, stations


def _event(case: Case, draw: Draw) -> Event:
    return case.catalog[draw(st.integers(0, len(case.catalog) - 1))]


def _pick(case: Case, draw: Draw):
    """A pick of a drawn event (None when that event has none)."""
    event = _event(case, draw)
    if not event.picks:
        return None
    return event.picks[draw(st.integers(0, len(event.picks) - 1))]


def _station(case: Case, draw: Draw) -> Station:
    stations = case.inventory[0].stations
    return stations[draw(st.integers(0, len(stations) - 1))]


# -- corruptions of the picks -------------------------------------------------------------

def bad_uncertainty(case: Case, draw: Draw) -> None:
    pick = _pick(case, draw)
    if pick is not None:
        value = draw(st.sampled_from([math.nan, math.inf, 0.0, -0.1, 1e9, None]))
        pick.time_errors = QuantityError(uncertainty=value)


def shifted_pick(case: Case, draw: Draw) -> None:
    pick = _pick(case, draw)
    if pick is not None and pick.time is not None:
        pick.time += draw(st.sampled_from([0.4, -3.0, 40.0, 3600.0, -3600.0, 3.2e7]))


def half_an_hour_late(case: Case, draw: Draw) -> None:
    event = _event(case, draw)
    for pick in event.picks[::2]:
        if pick.time is not None:
            pick.time += 3600.0


def dated_1900(case: Case, draw: Draw) -> None:
    """Every pick of an event before the stations existed (they start in 2010)."""
    event = _event(case, draw)
    for pick in event.picks:
        if pick.time is not None:
            pick.time = UTCDateTime(1900, 1, 1) + (pick.time - UTCDateTime(2020, 1, 1))


def no_phase_hint(case: Case, draw: Draw) -> None:
    pick = _pick(case, draw)
    if pick is not None:
        pick.phase_hint = draw(st.sampled_from([None, "", "PKP", "X", "p", "Pn", " S ", "?"]))


def phases_only_on_arrivals(case: Case, draw: Draw) -> None:
    """An earlier origin's arrivals carry the phases; the picks have none."""
    event = _event(case, draw)
    origin = Origin(resource_id=ResourceIdentifier(), time=UTCDateTime(2020, 1, 1),
                    latitude=33.5, longitude=-116.5, depth=5000.0,
                    arrivals=[Arrival(pick_id=p.resource_id, phase=p.phase_hint or "P")
                              for p in event.picks])
    for pick in event.picks:
        pick.phase_hint = None
    event.origins.append(origin)
    event.preferred_origin_id = origin.resource_id


def unknown_station(case: Case, draw: Draw) -> None:
    pick = _pick(case, draw)
    if pick is not None and pick.waveform_id is not None:
        if draw(st.booleans()):
            pick.waveform_id = None
        else:
            pick.waveform_id.station_code = draw(st.sampled_from(["NOPE", "", "S001 "]))


def duplicate_pick(case: Case, draw: Draw) -> None:
    event = _event(case, draw)
    if event.picks:
        copy = event.picks[draw(st.integers(0, len(event.picks) - 1))].copy()
        if draw(st.booleans()):  # else the same resource id twice
            copy.resource_id = ResourceIdentifier()
        if copy.time is not None:
            copy.time += draw(st.sampled_from([0.0, 0.5, -2.0]))
        event.picks.append(copy)


def dangling_arrival(case: Case, draw: Draw) -> None:
    """An earlier origin whose arrivals name picks the event does not hold."""
    event = _event(case, draw)
    event.origins.append(Origin(
        resource_id=ResourceIdentifier(), time=UTCDateTime(2020, 1, 1), latitude=33.5,
        longitude=-116.5, arrivals=[Arrival(pick_id=ResourceIdentifier(), phase="P")]))


def future_date(case: Case, draw: Draw) -> None:
    """Every pick of an event in 2100 (the stations have no end date)."""
    event = _event(case, draw)
    for pick in event.picks:
        if pick.time is not None:
            pick.time += 80 * 365.25 * 86400.0


def rejected_pick(case: Case, draw: Draw) -> None:
    pick = _pick(case, draw)
    if pick is not None:
        pick.evaluation_status = "rejected"


def no_pick_time(case: Case, draw: Draw) -> None:
    pick = _pick(case, draw)
    if pick is not None:
        pick.time = None


def no_picks(case: Case, draw: Draw) -> None:
    _event(case, draw).picks = []


def duplicate_event(case: Case, draw: Draw) -> None:
    """The same event (same resource ids) twice."""
    case.catalog.append(_event(case, draw).copy())


def few_picks(case: Case, draw: Draw) -> None:
    event = _event(case, draw)
    event.picks = event.picks[:draw(st.integers(1, 4))]


def one_station_only(case: Case, draw: Draw) -> None:
    """All of an event's picks on one station."""
    event = _event(case, draw)
    named = [p for p in event.picks if p.waveform_id is not None]
    for pick in named:
        pick.waveform_id.station_code = named[0].waveform_id.station_code


# -- corruptions of the stations ----------------------------------------------------------

def far_station(case: Case, draw: Draw) -> None:
    """A station moved hundreds of km away (its picks unchanged)."""
    station = _station(case, draw)
    shift = draw(st.sampled_from([1.5, 4.0, 20.0]))
    for item in (station, *station.channels):
        item.latitude = min(89.0, float(item.latitude) + shift)


def high_or_deep_station(case: Case, draw: Draw) -> None:
    station = _station(case, draw)
    elevation = draw(st.sampled_from([9000.0, 4000.0, -5000.0]))
    for item in (station, *station.channels):
        item.elevation = elevation


def colocated_stations(case: Case, draw: Draw) -> None:
    first = case.inventory[0].stations[0]
    for station in case.inventory[0].stations:
        for item in (station, *station.channels):
            item.latitude, item.longitude = first.latitude, first.longitude


def duplicate_station(case: Case, draw: Draw) -> None:
    """The same station code twice, the copy elsewhere."""
    copy = _station(case, draw).copy()
    for item in (copy, *copy.channels):
        item.latitude = float(item.latitude) + 0.3
    case.inventory[0].stations.append(copy)


def no_channels(case: Case, draw: Draw) -> None:
    _station(case, draw).channels = []


def removed_station(case: Case, draw: Draw) -> None:
    stations = case.inventory[0].stations
    if len(stations) > 1:
        stations.pop(draw(st.integers(0, len(stations) - 1)))


def station_closed(case: Case, draw: Draw) -> None:
    station = _station(case, draw)
    for item in (station, *station.channels):
        item.end_date = UTCDateTime(2015, 1, 1)


#: Corruptions drawn by the property test, each ``f(case, draw)``.
CORRUPTIONS = [bad_uncertainty, shifted_pick, half_an_hour_late, dated_1900, no_phase_hint,
               phases_only_on_arrivals, unknown_station, duplicate_pick, dangling_arrival,
               future_date, rejected_pick,
               no_pick_time, no_picks, duplicate_event, few_picks, one_station_only,
               far_station, high_or_deep_station, colocated_stations, duplicate_station,
               no_channels, removed_station, station_closed]


# -- the run and its invariants -----------------------------------------------------------

def run_locate(picks: Path, stations: Path, out: Path) -> tuple[int, str, str]:
    """``hyposvi locate`` in this process: exit code, stdout, stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    # HypoSVIWarnings are expected here (pytest would make them errors)
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["locate", str(picks), "-i", str(stations), "-m", str(TINY),
                     "-o", str(out), *FAST])
    return code, stdout.getvalue(), stderr.getvalue()


def check_failure(code: int, err: str, out: Path) -> None:
    """Exit 1, one error line, no output file and no temporary file."""
    assert code == 1, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and lines[-1].startswith(ERROR_PREFIX), err
    assert sum(line.startswith("hyposvi locate:") for line in lines) == 1, err
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if ".partial" in p.name] == []


def _pick_ids(event: Event) -> list[str]:
    return [str(p.resource_id) for p in event.picks]


def normalised_rms(origin: Origin) -> float:
    """The origin's stated normalised RMS (``origin.extra``), else from its arrivals."""
    extra = getattr(origin, "extra", None) or {}
    if "normalised_rms" in extra:
        return float(extra["normalised_rms"]["value"])
    picks = {str(p.resource_id): p for p in origin.resource_id.get_referred_object().picks}
    ratios = [a.time_residual / picks[str(a.pick_id)].time_errors.uncertainty
              for a in origin.arrivals if a.time_weight and a.time_residual is not None]
    return float(np.sqrt(np.mean(np.square(ratios)))) if ratios else 0.0


def check_event(before: Event, after: Event) -> None:
    """All picks kept; one new preferred origin with an arrival per pick, or no change."""
    assert str(after.resource_id) == str(before.resource_id)
    assert _pick_ids(after) == _pick_ids(before)
    old = {str(o.resource_id) for o in before.origins}
    new = [o for o in after.origins if str(o.resource_id) not in old]
    assert {str(o.resource_id) for o in after.origins} >= old
    assert len(new) <= 1
    if not new:
        assert str(after.preferred_origin_id) == str(before.preferred_origin_id)
        return
    origin = new[0]
    assert str(after.preferred_origin_id) == str(origin.resource_id)
    assert {str(a.pick_id) for a in origin.arrivals} == set(_pick_ids(before))
    values = (origin.latitude, origin.longitude, origin.depth, origin.time.timestamp)
    assert all(math.isfinite(v) for v in values), values
    if origin.evaluation_status != "rejected":
        rms = float(origin.extra["normalised_rms"]["value"])
        assert rms <= MAX_NORMALISED_RMS, (str(after.resource_id), rms)


def check_invariants(code: int, err: str, picks: Path, out: Path) -> None:
    """Every invariant of the module docstring for one run."""
    assert "Traceback" not in err, err
    if code != 0:
        check_failure(code, err, out)
        return
    assert out.is_file() and valid_quakeml(str(out)), err
    assert [p.name for p in out.parent.iterdir() if ".partial" in p.name] == []
    before, after = read_events(str(picks)), read_events(str(out))
    assert len(after) == len(before)
    for old, new in zip(before, after):
        check_event(old, new)


def locate_case(case: Case) -> tuple[int, str]:
    """Write ``case``, run ``hyposvi locate`` on it and check the invariants."""
    with tempfile.TemporaryDirectory() as tmp:
        picks, stations = case.write(Path(tmp))
        out = Path(tmp) / "located.xml"
        code, _, err = run_locate(picks, stations, out)
        check_invariants(code, err, picks, out)
    return code, err


def fresh_case() -> Case:
    catalog, inventory = _clean()
    return Case(catalog.copy(), inventory.copy())


# -- tests --------------------------------------------------------------------------------

def test_clean_catalogue_is_located():
    code, err = locate_case(fresh_case())
    assert code == 0, err


#: Hypothesis settings shared by the property tests: reproducible, no example database.
FIXED = {"deadline": None, "derandomize": True, "database": None,
         "suppress_health_check": [HealthCheck.too_slow]}


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=lambda f: f.__name__)
@settings(max_examples=1, **FIXED)
@given(data=st.data())
def test_each_corruption_alone_keeps_the_invariants(corrupt, data):
    case = fresh_case()
    corrupt(case, data.draw)
    locate_case(case)


@settings(max_examples=15, **FIXED)
@given(data=st.data())
def test_corrupted_inputs_keep_the_invariants(data):
    case = fresh_case()
    kinds = data.draw(st.lists(st.sampled_from(CORRUPTIONS), min_size=2, max_size=4),
                      label="corruptions")
    for corrupt in kinds:
        corrupt(case, data.draw)
    locate_case(case)


def _drop_first(tag: str) -> Callable[[str], str]:
    """Text edit: remove the first ``<tag ...>...</tag>`` or ``<tag .../>`` element."""
    pattern = re.compile(rf"<{tag}\b[^>]*?(/>|>.*?</{tag}>)", re.DOTALL)

    def edit(text: str) -> str:
        assert pattern.search(text), tag  # the edit must change something
        return pattern.sub("", text, count=1)
    return edit


def _first_text(tag: str, value: str) -> Callable[[str], str]:
    """Text edit: the first ``<tag ...>`` element's text becomes ``value``."""
    pattern = re.compile(rf"(<{tag}\b[^>]*>)[^<]*")

    def edit(text: str) -> str:
        assert pattern.search(text), tag
        return pattern.sub(lambda m: m.group(1) + value, text, count=1)
    return edit


def _whole(content: str) -> Callable[[str], str]:
    return lambda text: content


def _half(text: str) -> str:
    return text[:len(text) // 2]


@pytest.mark.parametrize("picks_edit, inventory_edit, message", [
    pytest.param(_whole(""), None, "is empty", id="empty picks file"),
    pytest.param(None, _whole(""), "is empty", id="empty station file"),
    pytest.param(_whole("not xml at all\n"), None, "picks.xml", id="garbage picks"),
    pytest.param(_half, None, "picks.xml", id="truncated picks"),
    pytest.param(None, _half, "stations.xml", id="truncated stations"),
    pytest.param(None, _drop_first("Latitude"), "SY.S001 has no latitude",
                 id="station without latitude"),
    pytest.param(None, _drop_first("Elevation"), "SY.S001 has no latitude, longitude or elev",
                 id="station without elevation"),
    pytest.param(None, _first_text("Latitude", "NaN"), "SY.S001 latitude 'NaN', not a finite",
                 id="NaN latitude"),
    pytest.param(None, _first_text("Elevation", "nan"), "elevation 'nan', not a finite",
                 id="nan elevation"),
    pytest.param(_first_text("value", "NaN"), None, "pick/S001/P of event", id="NaN pick time"),
    pytest.param(_drop_first("time"), None, "has no time", id="pick without time element"),
    pytest.param(_drop_first("waveformID"), None, "--no-validate", id="pick without waveformID"),
    pytest.param(_drop_first("phaseHint"), None, None, id="pick without phaseHint"),
    pytest.param(_first_text("uncertainty", "NaN"), None, None, id="NaN pick uncertainty"),
])
def test_damaged_files_keep_the_invariants(picks_edit, inventory_edit, message):
    """Damaged files: the invariants hold, and an error names the file, station or pick."""
    case = fresh_case()
    if picks_edit is not None:
        case.picks_edits.append(picks_edit)
    if inventory_edit is not None:
        case.inventory_edits.append(inventory_edit)
    code, err = locate_case(case)
    if message is None:
        assert code == 0, err
    else:
        assert code == 1 and message in err.splitlines()[-1], err


def test_no_events_is_one_line():
    case = fresh_case()
    case.catalog = Catalog()
    code, err = locate_case(case)
    assert code == 1 and "no events" in err
