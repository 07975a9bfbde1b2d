"""``hyposvi locate`` on NonLinLoc and HypoInverse phase files, with station labels that are
not SEED ids, made from the bundled example catalogue."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from obspy import Catalog, read_events

from obspy_hyposvi.bridge.examples import example_dir
from obspy_hyposvi.cli import main
from obspy_hyposvi.eikonet.model import bundled_model_dir

EXAMPLES = example_dir()
#: Few particles and epochs: the plumbing is checked, not the accuracy.
TINY = ["--particles", "4", "--epochs", "2", "--threads", "1"]

pytestmark = pytest.mark.skipif(not (bundled_model_dir() / "socal-1d-P.pt").is_file(),
                                reason="bundled socal-1d checkpoints not present")


def _example() -> Catalog:
    return read_events(str(EXAMPLES / "picks.xml"))


def _write_nlloc_obs(catalog: Catalog, path: Path, label: str) -> None:
    """One block per event with ObsPy's writer (one event per call), labels per ``label``."""
    blocks = []
    for k, event in enumerate(catalog):
        event = copy.deepcopy(event)
        for pick in event.picks:
            wid = pick.waveform_id
            wid.station_code = label.format(net=wid.network_code, sta=wid.station_code)
            wid.network_code = ""
        part = path.with_suffix(f".{k}")
        Catalog([event]).write(str(part), format="NLLOC_OBS")
        blocks.append(part.read_text().strip())
    path.write_text("\n\n".join(blocks) + "\n")


def _hypoinverse_line(pick) -> str:
    """A Y2000 station archive line for one pick (P or S columns), placed by column."""
    line = [" "] * 113

    def put(column: int, text: str) -> None:
        line[column - 1:column - 1 + len(text)] = list(text)

    wid, t = pick.waveform_id, pick.time
    put(1, f"{wid.station_code:<5}")
    put(6, f"{wid.network_code:<2}")
    put(10, f"{wid.channel_code:<3}")
    put(18, t.strftime("%Y%m%d%H%M"))
    seconds = f"{round(t.second + t.microsecond / 1e6, 2):5.2f}"
    if pick.phase_hint.upper().startswith("P"):
        put(14, "IP"), put(17, "0"), put(30, seconds)
    else:
        put(47, "ES"), put(50, "0"), put(42, seconds)
    return "".join(line)


def _located(path: Path) -> list:
    return [e for e in read_events(str(path)) if e.preferred_origin() is not None
            and "obspy_hyposvi" in str(e.preferred_origin().method_id)]


def test_nlloc_obs_with_nonlinloc_labels(tmp_path, capsys):
    obs = tmp_path / "picks.obs"
    _write_nlloc_obs(_example(), obs, "{net}_{sta}_--")  # NonLinLoc-style labels
    out = tmp_path / "located.xml"
    code = main(["locate", str(obs), "-i", str(EXAMPLES / "stations.xml"), "-o", str(out),
                 *TINY])
    assert code == 0, capsys.readouterr().err
    located = read_events(str(out))
    assert len(located) == len(_example())
    # every pick became a SEED id of the inventory, none was left out as unknown
    assert all(p.waveform_id.network_code == "SY" for e in located for p in e.picks)
    assert "not in the inventory" not in capsys.readouterr().out
    assert len(_located(out)) == len(located)


def test_bare_station_codes_and_a_station_map(tmp_path, capsys):
    obs = tmp_path / "picks.obs"
    _write_nlloc_obs(_example(), obs, "{sta}")  # bare codes: the inventory's unique station
    station_map = tmp_path / "stations.map"
    station_map.write_text("S001 SY.S001..\n")
    out = tmp_path / "located.xml"
    code = main(["locate", str(obs), "--input-format", "nlloc_obs", "--station-map",
                 str(station_map), "--station-rule", "NONE", "-i",
                 str(EXAMPLES / "stations.xml"), "-o", str(out), *TINY])
    assert code == 0, capsys.readouterr().err
    assert all(p.waveform_id.network_code == "SY" for e in read_events(str(out))
               for p in e.picks)


def test_hypoinverse_archive(tmp_path, capsys):
    arc = tmp_path / "picks.arc"
    lines = []
    for event in _example():
        lines += [_hypoinverse_line(p) for p in event.picks] + [" " * 72]
    arc.write_text("\n".join(lines) + "\n")
    out = tmp_path / "located.xml"
    code = main(["locate", str(arc), "-i", str(EXAMPLES / "stations.xml"), "-o", str(out),
                 *TINY])
    assert code == 0, capsys.readouterr().err
    assert len(_located(out)) == len(_example())


def test_bad_station_rule_is_a_usage_error(capsys, tmp_path):
    code = main(["locate", str(EXAMPLES / "picks.xml"), "-i", str(EXAMPLES / "stations.xml"),
                 "-o", str(tmp_path / "out.xml"), "--station-rule", "STA_LOC"])
    assert code == 2
    assert "station label rule" in capsys.readouterr().err
