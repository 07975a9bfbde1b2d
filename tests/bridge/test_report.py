"""LocateReport: events not located keep the reasons their picks were left out."""

from __future__ import annotations

import pytest
from obspy import Catalog
from obspy.core.event import Event

from obspy_hyposvi.locate.svgd import SVGDConfig
from obspy_hyposvi.locator import Locator

from .conftest import T0, make_pick

#: Few particles and epochs: these tests check the bookkeeping, not the location.
FAST = SVGDConfig(n_particles=8, n_epochs=2)


@pytest.fixture(scope="module")
def locator():
    return Locator.from_model("socal-1d", svgd=FAST)


def _sparse_event() -> Event:
    """Two usable picks and two left out (unknown station, non-P/S phase): not locatable."""
    return Event(resource_id="smi:local/test/event/sparse", picks=[
        make_pick("XX.S01..HHZ", "P", T0 + 2.0),
        make_pick("XX.S02..HHZ", "P", T0 + 2.5),
        make_pick("XX.GONE..HHZ", "P", T0 + 2.2),
        make_pick("XX.S03..HHE", "PKP", T0 + 5.0),
    ])


def test_rejected_event_keeps_its_skipped_picks(locator, event_with_picks, inventory):
    event_with_picks.picks.append(make_pick("XX.S04..HHE", None, T0 + 5.5))  # no phase hint
    sparse = _sparse_event()
    report = locator.run(Catalog([event_with_picks, sparse]), inventory)
    assert (report.n_located, report.n_failed) == (1, 1)
    assert report.failures[0][0] == "smi:local/test/event/sparse"

    by_event = report.skipped_by_event()
    sparse_ids = [str(p.resource_id) for p in sparse.picks[2:]]
    assert [r.pick_id for r in by_event["smi:local/test/event/sparse"]] == sparse_ids
    assert len(by_event[str(event_with_picks.resource_id)]) == 1
    assert len(report.skipped_picks) == 3

    lines = report.summary_lines()
    text = "\n".join(lines)
    assert lines[0] == "2 events: 1 located, 1 not located"
    # each pick of the event not located is listed, with why it was dropped
    for record in by_event["smi:local/test/event/sparse"]:
        assert f"pick {record.pick_id} ({record.station}) left out: {record.reason}" in text
    assert "not in the inventory" in text and "'PKP' is not a P or S phase" in text
    assert "1 picks left out of located events" in text


def test_summary_without_skipped_picks(locator, event_with_picks, inventory):
    report = locator.run(Catalog([event_with_picks]), inventory)
    assert report.skipped_picks == []
    lines = report.summary_lines()
    assert lines[0] == "1 events: 1 located, 0 not located"
    # a run this short may leave the particles scattered (flagged) and take picks for
    # outliers, but no pick is skipped
    assert not any("left out of located events" in line for line in lines)
    # the bundled socal-1d is layered: its exact first arrivals, named
    assert lines[1] == "  travel times: socal-1d (P, exact), socal-1d (S, exact)"
    # one event of few picks: the prior error model, saying so
    assert lines[2].startswith("  error model (3 passes): P: max(0.100 s, 10.0 % of T)")
    assert "too few to estimate" in lines[2]
