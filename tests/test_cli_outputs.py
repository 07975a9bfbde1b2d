"""``hyposvi locate`` outputs: SeisComP XML with agency/author/version, the posterior samples
file, the solution table (printed and CSV) and progress lines in logs."""

from __future__ import annotations

import csv
import io

import pytest
from obspy import read_events

from obspy_hyposvi.bridge.examples import example_dir
from obspy_hyposvi.bridge.samples import read_samples
from obspy_hyposvi.bridge.scml import schema_errors, scml_versions
from obspy_hyposvi.cli import main
from obspy_hyposvi.eikonet.model import bundled_model_dir

EXAMPLES = example_dir()
#: The fewest particles and epochs: these tests check the plumbing, not the locations.
TINY = ["--particles", "4", "--epochs", "2", "--seed", "1"]

needs_bundled = pytest.mark.skipif(
    not (bundled_model_dir() / "socal-1d-P.pt").is_file(),
    reason="bundled socal-1d checkpoints not present")


def _locate(tmp_path, *options: str) -> int:
    return main(["locate", str(EXAMPLES / "picks.xml"), "-i", str(EXAMPLES / "stations.xml"),
                 *options, *TINY])


@needs_bundled
def test_scml_samples_and_table(capsys, tmp_path):
    out, samples, table = tmp_path / "located.xml", tmp_path / "s.npz", tmp_path / "t.csv"
    newest = scml_versions()[-1]
    assert _locate(tmp_path, "-o", str(out), "--format", "SCML", "--scml-version", newest,
                   "--agency", "GFZ", "--author", "hyposvi@gfz", "--samples", str(samples),
                   "--table", str(table)) == 0
    captured = capsys.readouterr()
    # SCML of the version asked for, valid, and read back with every pick, arrival, origin
    assert f"seiscomp-schema/{newest}" in out.read_text()[:400]
    assert schema_errors(out, "SCML") == []
    picks_in = read_events(str(EXAMPLES / "picks.xml"))
    located = read_events(str(out), format="SCML")
    assert len(located) == len(picks_in) == 6
    for event, source in zip(located, picks_in):
        assert len(event.picks) == len(source.picks)
        assert len(event.origins) == len(source.origins) + 1
        origin = event.preferred_origin()
        assert {str(a.pick_id) for a in origin.arrivals} == {str(p.resource_id)
                                                             for p in source.picks}
        assert (origin.creation_info.agency_id, origin.creation_info.author) == (
            "GFZ", "hyposvi@gfz")
        assert str(origin.earth_model_id).endswith("/earth_model/socal-1d")
        assert "/hyposvi-svgd-edt/" in str(origin.method_id)
    # the table: printed, one line per event, and the same events in the CSV
    stdout = captured.out
    assert "solutions: depth and errors in km" in stdout
    rows = [line for line in stdout.splitlines() if line[:3].strip().isdigit()]
    assert [int(line.split()[0]) for line in rows] == [1, 2, 3, 4, 5, 6]
    records = list(csv.DictReader(io.StringIO(table.read_text())))
    assert [r["event_id"] for r in records] == [str(e.resource_id) for e in picks_in]
    # the table's errors are SeisComP's km: the file holds the same values
    first = located[0].preferred_origin()
    assert float(records[0]["err_lat_km"]) == pytest.approx(
        first.latitude_errors.uncertainty, rel=1e-6)
    # the samples: every located event, tied to its origin
    read = read_samples(samples)
    assert read.n_events == 6
    assert read.events["origin_id"].tolist() == [str(e.preferred_origin_id) for e in located]
    assert f"samples: {samples} (6 located events)" in stdout
    assert f"table: {table} (6 events)" in stdout
    # stderr is not a terminal here: one progress line per SVGD batch
    assert "locating: pass 1: 6/6 events" in captured.err


@pytest.mark.parametrize("options, code, message", [
    (["--scml-version", "0.12"], 2, "--scml-version applies to --format SCML"),
    (["--format", "SCML", "--scml-version", "0.11"], 2, "cannot be written"),
    (["--agency", " "], 2, "agency id is empty"),
    (["--author", "x" * 200], 2, "at most 128"),
])
def test_output_usage_errors(capsys, tmp_path, options, code, message):
    assert _locate(tmp_path, "-o", str(tmp_path / "out.xml"), *options) == code
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out.xml").exists()


@pytest.mark.parametrize("option", ["--samples", "--table"])
def test_extra_output_may_not_replace_out_or_an_input(capsys, tmp_path, option):
    out = tmp_path / "out.xml"
    assert _locate(tmp_path, "-o", str(out), option, str(out)) == 1
    assert option in capsys.readouterr().err
    assert _locate(tmp_path, "-o", str(out), option, str(EXAMPLES / "picks.xml")) == 1
    assert not out.exists()
