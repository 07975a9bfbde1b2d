"""Station-terms files: read, written, refused with the line at fault; through the CLI."""

from __future__ import annotations

import pytest

from obspy_hyposvi.bridge.examples import example_dir
from obspy_hyposvi.bridge.station_terms import read_station_terms, write_station_terms
from obspy_hyposvi.cli import main
from obspy_hyposvi.errors import InputError
from obspy_hyposvi.eikonet.model import bundled_model_dir

EXAMPLES = example_dir()


def test_round_trip(tmp_path):
    terms = {("CI.ABC", "P"): 0.1234, ("CI.ABC", "S"): -0.2, ("CI.XYZ", "P"): 0.0}
    path = tmp_path / "terms.csv"
    write_station_terms(path, terms, {("CI.ABC", "P"): 12})
    assert path.read_text().splitlines()[0] == "station,phase,delay_s,n_picks"
    assert read_station_terms(path) == pytest.approx(terms)


@pytest.mark.parametrize("text, message", [
    ("station,phase\nA,P\n", "missing delay_s"),
    ("station,phase,delay_s\nA,Q,0.1\n", "line 2"),
    ("station,phase,delay_s\nA,P,0.1\nB,S,nan\n", "line 3"),
])
def test_bad_files_name_the_line(tmp_path, text, message):
    path = tmp_path / "terms.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_station_terms(path)


@pytest.mark.skipif(not (bundled_model_dir() / "socal-1d-P.pt").is_file(),
                    reason="bundled socal-1d checkpoints not present")
def test_locate_estimates_writes_and_applies_station_terms(tmp_path, capsys):
    tiny = ["--particles", "4", "--epochs", "2", "--seed", "1"]
    out, terms = tmp_path / "located.xml", tmp_path / "terms.csv"
    assert main(["locate", str(EXAMPLES / "picks.xml"), "-i", str(EXAMPLES / "stations.xml"),
                 "-o", str(out), "--estimate-station-terms", str(terms), *tiny]) == 0
    assert "station terms:" in capsys.readouterr().out
    written = read_station_terms(terms)
    assert written and {phase for _, phase in written} <= {"P", "S"}
    again = tmp_path / "again.xml"
    assert main(["locate", str(EXAMPLES / "picks.xml"), "-i", str(EXAMPLES / "stations.xml"),
                 "-o", str(again), "--station-terms", str(terms), *tiny]) == 0
    assert "station terms applied" in capsys.readouterr().out
