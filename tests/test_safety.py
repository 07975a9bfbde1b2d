"""Files and messages (issue 10): no output is ever partial or replaces an input, every bad
input ends in one line naming the file, pick or station and the fix, and checkpoints that
cannot be trusted are refused. No SVGD runs here: where the CLI would locate, the locator is
replaced by a stub that returns the input catalogue."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from obspy import Catalog, UTCDateTime, read_events
from obspy.core.event import Arrival, Event, Origin, ResourceIdentifier

from obspy_hyposvi.bridge.examples import example_dir
from obspy_hyposvi.bridge.origins import write_catalog
from obspy_hyposvi.bridge.picks import (
    observations_from_event,
    projection_for,
    read_catalog,
    read_inventory,
)
from obspy_hyposvi.cli import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, main
from obspy_hyposvi.eikonet.checkpoint import load_checkpoint, save_checkpoint
from obspy_hyposvi.eikonet.model import load_model
from obspy_hyposvi.eikonet.pairing import check_model_pair, model_sources
from obspy_hyposvi.errors import CheckpointError, HypoSVIWarning, InputError, OutputError
from obspy_hyposvi.locator import Locator
from obspy_hyposvi.safe_write import (
    check_output_file,
    check_output_folder,
    make_output_folder,
    write_atomically,
)

from bridge.conftest import T0, make_event, make_inventory  # tests/ is on sys.path

EXAMPLES = example_dir()
PICKS = EXAMPLES / "picks.xml"
STATIONS = EXAMPLES / "stations.xml"


def one_line(err: str) -> str:
    """The single stderr line of a failed command (no traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    """Temporary files :func:`write_atomically` would leave behind if it failed to clean up."""
    return sorted(p.name for p in folder.iterdir() if ".partial" in p.name)


# -- write_atomically ----------------------------------------------------------------------

def test_write_atomically_replaces_only_when_complete(tmp_path):
    target = tmp_path / "out.xml"
    target.write_text("old")
    os.chmod(target, 0o640)
    result = write_atomically(target, lambda tmp: tmp.write_text("new") and "done")
    assert result == "done" and target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o640  # the replaced file's permissions kept
    assert leftovers(tmp_path) == []


def test_new_file_gets_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        write_atomically(tmp_path / "new.txt", lambda tmp: tmp.write_text("x"))
    finally:
        os.umask(umask)
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0o600


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_failed_or_interrupted_write_leaves_the_old_file(tmp_path, error):
    target = tmp_path / "out.xml"
    target.write_text("old")

    def write(tmp):
        tmp.write_text("half of the")
        raise error

    with pytest.raises(type(error)):
        write_atomically(target, write)
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_temporary_name_keeps_the_suffix(tmp_path):
    # matplotlib picks the figure format from the suffix
    seen = []
    write_atomically(tmp_path / "fig.png", lambda tmp: seen.append(tmp) or tmp.write_bytes(b""))
    assert seen[0].suffix == ".png" and seen[0].parent == tmp_path


def test_write_catalog_interrupted_keeps_the_existing_output(tmp_path, monkeypatch):
    target = tmp_path / "located.xml"
    target.write_text("previous run")

    def interrupted_write(self, filename, format, **kwargs):
        Path(filename).write_text("<?xml")
        raise KeyboardInterrupt

    monkeypatch.setattr(Catalog, "write", interrupted_write)
    with pytest.raises(KeyboardInterrupt):
        write_catalog(Catalog(events=[make_event()]), target)
    assert target.read_text() == "previous run"
    assert leftovers(tmp_path) == []


def test_write_catalog_failure_is_an_output_error(tmp_path, monkeypatch):
    def failing_write(self, filename, format, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Catalog, "write", failing_write)
    with pytest.raises(OutputError, match="out.xml"):
        write_catalog(Catalog(events=[make_event()]), tmp_path / "out.xml")
    assert list(tmp_path.iterdir()) == []


# -- output path checks --------------------------------------------------------------------

def test_check_output_file(tmp_path):
    picks = tmp_path / "picks.xml"
    picks.write_text("x")
    assert check_output_file(tmp_path / "out.xml", inputs=[picks]) == tmp_path / "out.xml"
    with pytest.raises(OutputError, match=r"folder .*missing does not exist.*-o"):
        check_output_file(tmp_path / "missing" / "out.xml")
    with pytest.raises(OutputError, match="is a folder"):
        check_output_file(tmp_path)
    # the same file under another name is still the input
    other_name = tmp_path / "sub" / ".." / "picks.xml"
    (tmp_path / "sub").mkdir()
    with pytest.raises(OutputError, match="is the input file.*--overwrite"):
        check_output_file(other_name, inputs=[picks])
    os.symlink(picks, tmp_path / "link.xml")
    with pytest.raises(OutputError, match="is the input file"):
        check_output_file(tmp_path / "link.xml", inputs=[picks])
    assert check_output_file(picks, inputs=[picks], overwrite=True) == picks


def test_check_output_file_unwritable_folder(tmp_path, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    with pytest.raises(OutputError, match="cannot write in folder.*Permission denied"):
        check_output_file(tmp_path / "out.xml")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_check_output_file_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="cannot write in folder"):
            check_output_file(folder / "out.xml")
    finally:
        folder.chmod(0o755)


def test_output_folder_checks(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_folder(tmp_path / "file")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_folder(tmp_path / "file" / "figs", parents=True)
    with pytest.raises(OutputError, match="does not exist"):
        check_output_folder(tmp_path / "a" / "b")
    assert check_output_folder(tmp_path / "a" / "b", parents=True) == tmp_path / "a" / "b"
    assert not (tmp_path / "a").exists()  # checking creates nothing
    assert make_output_folder(tmp_path / "figs").is_dir()
    assert make_output_folder(tmp_path / "figs").is_dir()  # an existing folder is fine


# -- the CLI: checks before any work, Ctrl-C, broken pipes ---------------------------------

class _StubReport:
    """What ``hyposvi locate`` needs of a LocateReport, around an unchanged catalogue."""

    def __init__(self, catalog):
        self.catalog, self.results, self.observations = catalog, [], []
        self.projection, self.n_failed = None, 0

    def summary_lines(self):
        return ["stub run"]


class _StubLocator:
    def __init__(self, run=None):
        self._run = run

    def run(self, catalog, inventory, progress=None):
        if self._run is not None:
            self._run()
        return _StubReport(catalog)


@pytest.fixture
def stub_locator(monkeypatch):
    """Replace the locator by a stub; returns a function that sets what its run does."""
    calls = []

    def install(run=None):
        stub = _StubLocator(run)

        def from_model(cls, *args, **kwargs):
            calls.append(args)
            return stub

        monkeypatch.setattr(Locator, "from_model", classmethod(from_model))
        return calls

    return install


def locate_args(out, *extra):
    return ["locate", str(PICKS), "-i", str(STATIONS), "-o", str(out), *extra]


def test_output_equal_to_input_refused_before_locating(tmp_path, capsys, stub_locator):
    calls = stub_locator()
    picks = tmp_path / "picks.xml"
    shutil.copy(PICKS, picks)
    before = picks.read_bytes()
    code = main(["locate", str(picks), "-i", str(STATIONS), "-o", str(picks)])
    line = one_line(capsys.readouterr().err)
    assert code == 1 and str(picks) in line and "--overwrite" in line
    assert picks.read_bytes() == before and calls == []
    # with --overwrite the input is replaced, by a complete file
    assert main(["locate", str(picks), "-i", str(STATIONS), "-o", str(picks),
                 "--overwrite"]) == 0
    assert len(read_events(str(picks))) == len(read_events(str(PICKS)))


@pytest.mark.parametrize("make_bad, message", [
    (lambda tmp: tmp / "missing" / "out.xml", "does not exist"),
    (lambda tmp: tmp, "is a folder"),
])
def test_bad_output_refused_before_locating(tmp_path, capsys, stub_locator, make_bad, message):
    calls = stub_locator()
    out = make_bad(tmp_path)
    assert main(locate_args(out)) == 1
    line = one_line(capsys.readouterr().err)
    assert message in line and str(out) in line and calls == []


def test_plot_on_a_file_is_one_line(tmp_path, capsys, stub_locator):
    calls = stub_locator()
    figs = tmp_path / "figs"
    figs.write_text("not a folder")
    assert main(locate_args(tmp_path / "out.xml", "--plot", str(figs))) == 1
    line = one_line(capsys.readouterr().err)
    assert "--plot" in line and str(figs) in line and "is a file" in line and calls == []
    assert main(locate_args(tmp_path / "out.xml", "--plot", str(tmp_path / "a" / "b"))) == 1
    assert "does not exist" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize("exists", [False, True])
def test_plot_folder_created_or_reused(tmp_path, capsys, stub_locator, exists):
    stub_locator()
    figs = tmp_path / "figs"
    if exists:
        figs.mkdir()
    assert main(locate_args(tmp_path / "out.xml", "--plot", str(figs))) == 0
    assert (figs / "catalog.png").read_bytes()[:4] == b"\x89PNG"
    assert leftovers(figs) == []


def test_demo_output_on_a_file_refused_before_locating(tmp_path, capsys, stub_locator):
    calls = stub_locator()
    out = tmp_path / "demo"
    out.write_text("x")
    assert main(["demo", "-o", str(out)]) == 1
    assert "is a file" in one_line(capsys.readouterr().err) and calls == []


def test_ctrl_c_while_locating_exits_130_without_output(tmp_path, capsys, stub_locator):
    def interrupt():
        raise KeyboardInterrupt

    stub_locator(interrupt)
    out = tmp_path / "out.xml"
    assert main(locate_args(out)) == EXIT_INTERRUPTED
    assert "interrupted" in one_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_writing_keeps_the_previous_output(tmp_path, capsys, stub_locator,
                                                        monkeypatch):
    stub_locator()
    out = tmp_path / "out.xml"
    out.write_text("previous run")

    def interrupted_write(self, filename, format, **kwargs):
        Path(filename).write_text("<?xml")
        raise KeyboardInterrupt

    monkeypatch.setattr(Catalog, "write", interrupted_write)
    assert main(locate_args(out)) == EXIT_INTERRUPTED
    one_line(capsys.readouterr().err)
    assert out.read_text() == "previous run" and leftovers(tmp_path) == []


def test_sigterm_is_handled_like_ctrl_c(tmp_path, capsys, stub_locator):
    stub_locator(lambda: os.kill(os.getpid(), signal.SIGTERM))
    previous = signal.getsignal(signal.SIGTERM)
    assert main(locate_args(tmp_path / "out.xml")) == EXIT_INTERRUPTED
    assert "interrupted" in one_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is previous  # handler restored


def test_broken_pipe_exits_quietly(monkeypatch, capsys):
    from obspy_hyposvi.cli import models

    def closed(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(models, "run", closed)
    assert main(["models"]) == EXIT_BROKEN_PIPE
    assert capsys.readouterr().err == ""


def test_info_into_a_closed_pipe_prints_nothing_on_stderr(tiny_model_path):
    code = ("import sys; from obspy_hyposvi.cli import main; "
            f"sys.exit(main(['info', '{tiny_model_path}-P.pt']))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader goes away before the output comes (like `| head -0`)
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == EXIT_BROKEN_PIPE
    assert err == ""


# -- input messages -----------------------------------------------------------------------

def test_empty_picks_file_is_one_line(tmp_path, capsys):
    empty = tmp_path / "picks.xml"
    empty.write_text("\n")
    assert main(["locate", str(empty), "-i", str(STATIONS), "-o", str(tmp_path / "o.xml")]) == 1
    line = one_line(capsys.readouterr().err)
    assert str(empty) in line and "empty" in line


def test_unreadable_file_names_the_format_options(tmp_path, capsys):
    bad = tmp_path / "picks.txt"
    bad.write_text("not an event file\n")
    with pytest.raises(InputError, match="--input-format"):
        read_catalog(bad)
    with pytest.raises(InputError, match="--inventory-format"):
        read_inventory(bad)
    code = main(["locate", str(bad), "-i", str(STATIONS), "-o", str(tmp_path / "o.xml")])
    assert code == 1 and "--input-format" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize("option", ["--input-format", "--inventory-format"])
def test_format_options_reach_the_readers(tmp_path, capsys, option):
    code = main(locate_args(tmp_path / "out.xml", option, "NO_SUCH_FORMAT"))
    line = one_line(capsys.readouterr().err)
    assert code == 1 and "NO_SUCH_FORMAT" in line and "check the format name" in line


def test_format_options_read_the_files(tmp_path, capsys, stub_locator):
    stub_locator()
    assert main(locate_args(tmp_path / "out.xml", "--input-format", "QUAKEML",
                            "--inventory-format", "STATIONXML")) == 0


STATION_WITHOUT_COORDINATES = """<?xml version="1.0" encoding="UTF-8"?>
<FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1" schemaVersion="1.1">
  <Source>test</Source><Created>2020-01-01T00:00:00</Created>
  <Network code="XX"><Station code="S01"><Elevation>0</Elevation>
    <Channel code="HHZ" locationCode=""><Elevation>0</Elevation><Depth>0</Depth></Channel>
  </Station></Network>
</FDSNStationXML>
"""


def test_station_without_coordinates_is_named(tmp_path, capsys):
    path = tmp_path / "stations.xml"
    path.write_text(STATION_WITHOUT_COORDINATES)
    with pytest.raises(InputError, match=r"station XX\.S01 \(and 1 more\) has no latitude"):
        read_inventory(path)
    code = main(["locate", str(PICKS), "-i", str(path), "-o", str(tmp_path / "o.xml")])
    assert code == 1 and "XX.S01" in one_line(capsys.readouterr().err)


def test_picks_outside_the_operating_dates_say_so():
    event = make_event()
    for pick in event.picks:
        pick.time = UTCDateTime(1900, 1, 1) + (pick.time - T0)
    inventory = make_inventory()
    for station in inventory[0]:  # all stations start in 2000
        station.start_date = UTCDateTime(2000, 1, 1)
    with pytest.raises(InputError, match="not operating at 1900-01-01") as info:
        projection_for(event, inventory)
    assert "network" not in str(info.value) and "start and end dates" in str(info.value)


def test_pick_outside_its_station_epoch_gives_the_epochs(projection):
    event = make_event()
    inventory = make_inventory()
    inventory[0].stations[0].end_date = T0 - 86400  # S01 closed the day before
    _, skipped = observations_from_event(event, inventory, projection)
    reasons = {s.station: s.reason for s in skipped}
    assert "not operating at" in reasons["XX.S01..HHZ"]
    assert ".." in reasons["XX.S01..HHZ"]  # the epochs


def test_phase_from_the_arrival_when_the_pick_has_none(projection):
    event = make_event()
    origin = Origin(resource_id=ResourceIdentifier("smi:local/test/origin/with-arrivals"),
                    time=T0, latitude=34.0, longitude=-117.0, depth=8000.0)
    for pick in event.picks:
        origin.arrivals.append(Arrival(pick_id=pick.resource_id, phase=pick.phase_hint))
        pick.phase_hint = None
    # a non-preferred origin with other phases: the preferred one wins
    other = Origin(time=T0, latitude=34.0, longitude=-117.0,
                   arrivals=[Arrival(pick_id=p.resource_id, phase="PKP") for p in event.picks])
    event.origins = [other, origin]
    event.preferred_origin_id = origin.resource_id
    obs, skipped = observations_from_event(event, make_inventory(), projection)
    assert skipped == [] and obs.n_picks == len(event.picks)
    assert obs.phase_hints[-2:] == ["S", "Sg"]


def test_pick_without_any_phase_says_where_it_looked(projection):
    event = make_event()
    event.picks[0].phase_hint = None
    _, skipped = observations_from_event(event, make_inventory(), projection)
    assert "no phase hint" in skipped[0].reason and "arrival" in skipped[0].reason


@pytest.fixture
def projection():
    from obspy_hyposvi.geo import Projection

    return Projection("EPSG:32611")


# -- checkpoints --------------------------------------------------------------------------

def _copy_pair(tiny_model_path, folder: Path, name: str) -> Path:
    for phase in "PS":
        shutil.copy(f"{tiny_model_path}-{phase}.pt", folder / f"{name}-{phase}.pt")
    return folder / name


@pytest.mark.parametrize("content, message", [(b"", "empty"),
                                              (None, "not a readable checkpoint")])
def test_damaged_checkpoint_is_one_line(tmp_path, tiny_model_path, capsys, content, message):
    path = tmp_path / "bad-P.pt"
    good = Path(f"{tiny_model_path}-P.pt").read_bytes()
    path.write_bytes(good[:len(good) // 2] if content is None else content)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)
    assert main(["info", str(path)]) == 1
    line = one_line(capsys.readouterr().err)
    assert str(path) in line and message in line and "weights_only=False" not in line


def test_models_skips_damaged_checkpoints(tmp_path, tiny_model_path, capsys, monkeypatch):
    _copy_pair(tiny_model_path, tmp_path, "good")
    (tmp_path / "empty-P.pt").write_bytes(b"")
    (tmp_path / "junk-S.pt").write_bytes(b"junk")
    monkeypatch.setenv("HYPOSVI_MODEL_DIR", str(tmp_path))
    assert main(["models"]) == 0
    captured = capsys.readouterr()
    assert "good" in captured.out and "empty" not in captured.out
    warnings = captured.err.strip().splitlines()
    assert len(warnings) == 2 and all("warning: skipped" in w for w in warnings)
    assert str(tmp_path / "empty-P.pt") in captured.err
    assert main(["models", "--json"]) == 0
    names = {e["name"] for e in json.loads(capsys.readouterr().out)}
    assert "good" in names and not {"empty", "junk"} & names


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_weights_refused_at_load(tmp_path, tiny_model_path, capsys, bad):
    checkpoint = load_checkpoint(f"{tiny_model_path}-P.pt")
    state = {k: v.clone() for k, v in checkpoint["state_dict"].items()}
    key = next(k for k, v in state.items() if v.is_floating_point() and v.numel() > 1)
    state[key].view(-1)[0] = bad
    path = save_checkpoint(tmp_path / "nan-P.pt", state, checkpoint["metadata"])
    with pytest.raises(CheckpointError, match=f"{key}.*NaN or infinite.*re-train"):
        load_model(path, "P")
    assert main(["info", str(path)]) == 1
    assert str(path) in one_line(capsys.readouterr().err)


def _other_velocity_s_model(tiny_model_path, folder: Path) -> Path:
    """``folder/mixed-{P,S}.pt``: the tiny P model and an S model labelled with another
    velocity model."""
    prefix = _copy_pair(tiny_model_path, folder, "mixed")
    checkpoint = load_checkpoint(f"{prefix}-S.pt")
    meta = dict(checkpoint["metadata"])
    meta["velocity_model"] = dict(meta["velocity_model"], name="other", sha256="0" * 64)
    save_checkpoint(f"{prefix}-S.pt", checkpoint["state_dict"], meta)
    return prefix


def test_p_and_s_of_different_velocity_models_refused(tmp_path, tiny_model_path):
    prefix = _other_velocity_s_model(tiny_model_path, tmp_path)
    with pytest.raises(CheckpointError, match="different velocity models.*force"):
        Locator.from_model(str(prefix))
    with pytest.warns(HypoSVIWarning) as caught:
        locator = Locator.from_model(str(prefix), force=True)
    messages = [str(w.message) for w in caught]
    assert any("forced" in m for m in messages)
    # the S model's velocity model (its sha256 made up) does not rebuild: its network is kept
    assert any("mixed-S.pt: its velocity model does not rebuild" in m for m in messages)
    assert locator.s_model.metadata["velocity_model"]["name"] == "other"
    assert locator.p_model.name == "tiny-homogeneous (P, exact)"
    # same pair, same model: no complaint
    p, s = (load_model(f"{tiny_model_path}-{ph}.pt", ph) for ph in "PS")
    check_model_pair(p, s)
    with pytest.raises(CheckpointError, match="is a S model"):
        Locator(s, p)


def test_cli_refuses_mixed_models_unless_forced(tmp_path, tiny_model_path, capsys):
    prefix = _other_velocity_s_model(tiny_model_path, tmp_path)
    code = main(locate_args(tmp_path / "out.xml", "--model", str(prefix)))
    line = one_line(capsys.readouterr().err)
    assert code == 1 and "--force-models" in line and "mixed-S.pt" in line


def test_from_model_takes_a_bare_file_name(tmp_path, tiny_model_path, monkeypatch):
    _copy_pair(tiny_model_path, tmp_path, "mine")
    monkeypatch.chdir(tmp_path)
    assert model_sources("mine-P.pt") == ("mine-P.pt", "mine-S.pt")
    for given in ("mine-P.pt", "mine-S.pt", "mine"):
        locator = Locator.from_model(given)
        assert (locator.p_model.phase, locator.s_model.phase) == ("P", "S")
    with pytest.raises(CheckpointError, match="no model 'nothing'"):
        Locator.from_model("nothing")


def test_info_takes_a_model_name(tmp_path, tiny_model_path, capsys, monkeypatch):
    _copy_pair(tiny_model_path, tmp_path, "tiny")
    monkeypatch.setenv("HYPOSVI_MODEL_DIR", str(tmp_path))
    assert main(["info", "tiny"]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["P"]["phase"] == "P" and meta["S"]["phase"] == "S"
    assert main(["info", "no-such-model"]) == 1
    assert "no model 'no-such-model'" in one_line(capsys.readouterr().err)


def test_checkpoint_save_leaves_no_temporary(tmp_path, tiny_model_path):
    checkpoint = load_checkpoint(f"{tiny_model_path}-P.pt")
    save_checkpoint(tmp_path / "x-P.pt", checkpoint["state_dict"], checkpoint["metadata"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x-P.pt"]
    assert torch.equal(load_checkpoint(tmp_path / "x-P.pt")["state_dict"][next(iter(
        checkpoint["state_dict"]))], next(iter(checkpoint["state_dict"].values())))


def test_read_catalog_unchanged_for_good_files():
    # the new checks keep ordinary files readable
    assert len(read_catalog(PICKS)) > 0
    assert isinstance(read_events(str(PICKS))[0], Event)


def test_dask_workers_get_an_absolute_path_for_a_bare_file_name(tmp_path, tiny_model_path,
                                                                monkeypatch):
    from obspy_hyposvi.distributed import _model_key

    _copy_pair(tiny_model_path, tmp_path, "mine")
    monkeypatch.chdir(tmp_path)
    assert _model_key("mine-P.pt") == str(tmp_path.resolve() / "mine-P.pt")
    assert _model_key("mine") == str(tmp_path.resolve() / "mine-P.pt")
    assert _model_key("socal-1d") == "socal-1d"  # a registered name stays a name


def test_train_output_checked_before_training(tmp_path, capsys):
    velocity = tmp_path / "velocity.csv"
    shutil.copy(Path(__file__).parent / "data" / "velocity_socal_layers.csv", velocity)
    before = velocity.read_bytes()
    assert main(["train", str(velocity), "--phase", "P", "-o", str(velocity)]) == 1
    line = one_line(capsys.readouterr().err)
    assert "is the input file" in line and "--overwrite" not in line  # train has no such option
    assert velocity.read_bytes() == before
    (tmp_path / "file").write_text("x")
    assert main(["train", str(velocity), "--phase", "P", "-o",
                 str(tmp_path / "file" / "m-P.pt")]) == 1
    assert "is a file" in one_line(capsys.readouterr().err)


def test_picks_file_without_events_is_one_line(tmp_path, capsys):
    empty = tmp_path / "none.xml"
    Catalog().write(str(empty), format="QUAKEML")
    assert main(["locate", str(empty), "-i", str(STATIONS), "-o", str(tmp_path / "o.xml")]) == 1
    line = one_line(capsys.readouterr().err)
    assert str(empty) in line and "no events" in line
