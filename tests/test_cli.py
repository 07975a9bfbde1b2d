"""The ``hyposvi`` command, called through ``main([...])``: exit codes, outputs, messages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from obspy import read_events

from obspy_hyposvi.bridge.examples import example_dir
from obspy_hyposvi.cli import main
from obspy_hyposvi.eikonet.model import bundled_model_dir

DATA = Path(__file__).resolve().parent / "data"
EXAMPLES = example_dir()
#: Few particles and epochs: these tests check the plumbing, not the accuracy.
FAST = ["--particles", "16", "--epochs", "10"]
#: Fewer still, where only the options' effect is checked.
TINY = ["--particles", "4", "--epochs", "2"]

needs_bundled = pytest.mark.skipif(
    not (bundled_model_dir() / "socal-1d-P.pt").is_file(),
    reason="bundled socal-1d checkpoints not present")


def test_usage_errors_exit_2(capsys):
    assert main([]) == 2
    assert main(["no-such-command"]) == 2
    assert main(["locate"]) == 2  # PICKS, --inventory and -o missing
    assert main(["locate", "a.xml", "-i", "b.xml", "-o", "c.xml", "--particles", "0"]) == 2
    assert "usage:" in capsys.readouterr().err


def test_out_of_range_setting_is_a_usage_error(capsys, tmp_path):
    code = main(["locate", str(EXAMPLES / "picks.xml"), "-i", str(EXAMPLES / "stations.xml"),
                 "-o", str(tmp_path / "out.xml"), "--error-min", "2", "--error-max", "1"])
    assert code == 2
    assert "max_s" in capsys.readouterr().err


def test_edt_spread_reaches_the_likelihood_and_is_checked(capsys, tmp_path):
    import argparse

    from obspy_hyposvi.cli._common import add_location_options, location_settings

    parser = argparse.ArgumentParser()
    add_location_options(parser)
    assert location_settings(parser.parse_args(["--edt-spread", "4"]))["likelihood"].spread == 4
    assert location_settings(parser.parse_args([]))["likelihood"].spread == 1  # the paper's
    code = main(["locate", str(EXAMPLES / "picks.xml"), "-i", str(EXAMPLES / "stations.xml"),
                 "-o", str(tmp_path / "out.xml"), "--edt-spread", "0"])
    assert code == 2
    assert "spread" in capsys.readouterr().err


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "locate" in capsys.readouterr().out


def test_missing_picks_file_exit_1_names_it(capsys, tmp_path):
    missing = tmp_path / "nope.xml"
    code = main(["locate", str(missing), "-i", str(EXAMPLES / "stations.xml"),
                 "-o", str(tmp_path / "out.xml")])
    err = capsys.readouterr().err
    assert code == 1
    assert str(missing) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_unreadable_inventory_exit_1_names_it(capsys, tmp_path):
    bad = tmp_path / "stations.xml"
    bad.write_text("this is not StationXML\n")
    code = main(["locate", str(EXAMPLES / "picks.xml"), "-i", str(bad),
                 "-o", str(tmp_path / "out.xml")])
    assert code == 1
    assert str(bad) in capsys.readouterr().err


def test_debug_reraises(tmp_path):
    from obspy_hyposvi.errors import HypoSVIError

    with pytest.raises(HypoSVIError):
        main(["--debug", "info", str(tmp_path / "missing.pt")])


def test_info_bad_file_exit_1(capsys, tmp_path):
    bad = tmp_path / "foreign.pt"
    bad.write_bytes(b"not a checkpoint")
    assert main(["info", str(bad)]) == 1
    assert str(bad) in capsys.readouterr().err


@needs_bundled
def test_models_lists_bundled(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "socal-1d" in out and "median |dT|" in out
    assert main(["models", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert {("socal-1d", "P"), ("socal-1d", "S")} <= {(e["name"], e["phase"]) for e in entries}


@needs_bundled
def test_info_prints_metadata_json(capsys):
    assert main(["info", str(bundled_model_dir() / "socal-1d-S.pt")]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["phase"] == "S" and "validation" in meta


@needs_bundled
def test_locate_example(capsys, tmp_path):
    out = tmp_path / "located.xml"
    code = main(["locate", str(EXAMPLES / "picks.xml"), "-i", str(EXAMPLES / "stations.xml"),
                 "--model", "socal-1d", "-o", str(out), "--seed", "1", *FAST,
                 "--error-fraction", "0", "--error-min", "0.05", "--error-max", "0.05",
                 "--plot", str(tmp_path / "figs")])
    stdout = capsys.readouterr().out
    assert code == 0
    assert "6 events: 6 located, 0 not located" in stdout
    catalog = read_events(str(out))
    assert len(catalog) == 6
    for event in catalog:
        origin = event.preferred_origin()
        assert origin is not None and origin.depth > 0  # m, below sea level
        assert len(origin.arrivals) == len(event.picks)
    assert (tmp_path / "figs" / "catalog.png").is_file()
    assert len(list((tmp_path / "figs").glob("0*.png"))) == 6


@needs_bundled
@pytest.mark.slow
def test_locate_sc3ml(tmp_path):
    out = tmp_path / "located.scml"
    assert main(["locate", str(EXAMPLES / "picks.xml"), "-i", str(EXAMPLES / "stations.xml"),
                 "-o", str(out), "--format", "SC3ML", "--likelihood", "gaussian", *FAST]) == 0
    assert "seiscomp" in out.read_text()[:500].lower()


@needs_bundled
def test_demo(capsys, tmp_path):
    assert main(["demo", "-o", str(tmp_path / "demo"), *FAST]) == 0
    out = capsys.readouterr().out
    assert "mean |error|" in out
    assert (tmp_path / "demo" / "located.xml").is_file()
    assert (tmp_path / "demo" / "located.png").read_bytes()[:4] == b"\x89PNG"


@pytest.fixture
def set_threads_calls(monkeypatch):
    """Calls of torch.set_num_threads, recorded instead of changing this process's threads."""
    import torch

    calls: list[int] = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    return calls


@needs_bundled
@pytest.mark.parametrize("command", ["locate", "demo"])
def test_threads_option_sets_torch_threads(command, set_threads_calls, capsys, tmp_path):
    io = (["locate", str(EXAMPLES / "picks.xml"), "-i", str(EXAMPLES / "stations.xml"),
           "-o", str(tmp_path / "out.xml")] if command == "locate"
          else ["demo", "-o", str(tmp_path / "demo")])
    assert main([*io, *TINY, "--threads", "1"]) == 0
    assert set_threads_calls == [1]
    set_threads_calls.clear()
    assert main([*io, *TINY]) == 0
    assert set_threads_calls == []  # without --threads torch keeps its default
    assert main([*io, "--threads", "0"]) == 2
    assert "--threads" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--chunk-size", "16"], "--chunk-size needs --workers or --scheduler"),
    (["--workers", "2", "--chunk-size", "10"], "not a multiple of the SVGD batch of 16"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not allowed with"),
    (["--workers", "0"], "must be an integer >= 1"),
])
def test_dask_option_usage_errors(args, message, capsys, tmp_path):
    code = main(["locate", str(EXAMPLES / "picks.xml"), "-i", str(EXAMPLES / "stations.xml"),
                 "-o", str(tmp_path / "out.xml"), *args])
    assert code == 2
    assert message in capsys.readouterr().err


@needs_bundled
def test_workers_without_dask_says_how_to_install(monkeypatch, capsys, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    code = main(["locate", str(EXAMPLES / "picks.xml"), "-i", str(EXAMPLES / "stations.xml"),
                 "-o", str(tmp_path / "out.xml"), "--workers", "2"])
    err = capsys.readouterr().err
    assert code == 1 and "pip install obspy_hyposvi[distributed]" in err
    assert "Traceback" not in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available")
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_workers_on_cuda_without_cuda_is_a_clear_error(device, capsys, tmp_path):
    code = main(["locate", str(EXAMPLES / "picks.xml"), "-i", str(EXAMPLES / "stations.xml"),
                 "-o", str(tmp_path / "out.xml"), "--workers", "2", "--device", device])
    err = capsys.readouterr().err
    assert code == 1
    assert f"device '{device}' requested but CUDA is not available; use --device cpu" in err
    assert "Traceback" not in err


def test_a_gpu_index_past_the_visible_gpus_is_refused(monkeypatch):
    from obspy_hyposvi.cli._common import check_device
    from obspy_hyposvi.errors import InputError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    check_device("cuda")
    check_device("cuda:1")
    with pytest.raises(InputError, match=r"'cuda:2' requested but only 2 CUDA device\(s\) "
                                         r"are visible \(cuda:0 to cuda:1\)"):
        check_device("cuda:2")


@pytest.mark.parametrize("n_workers, device, warned", [
    (2, "cuda", None),  # one GPU each
    (3, "cuda", "--workers 3 on 2 visible GPU(s): several Dask workers share a GPU"),
    (2, "cuda:1", "--workers 2 --device cuda:1: every Dask worker uses that one GPU"),
    (1, "cuda:1", None),
    (8, "cpu", None),
])
def test_more_workers_than_gpus_is_logged(n_workers, device, warned, monkeypatch, caplog):
    from obspy_hyposvi.cli.locate import _warn_shared_gpus

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with caplog.at_level("WARNING", logger="obspy_hyposvi.cli.locate"):
        _warn_shared_gpus(n_workers, device)
    messages = [r.getMessage() for r in caplog.records]
    if warned is None:
        assert messages == []
    else:
        assert len(messages) == 1 and warned in messages[0]


@needs_bundled
@pytest.mark.parametrize("processes", [
    False,
    # two worker processes that each import torch: ~40 s on a busy 2-core machine
    pytest.param(True, marks=pytest.mark.slow),
])
def test_locate_on_local_dask_workers_matches_serial(processes, monkeypatch, capsys, tmp_path):
    """``--workers 2`` through the whole command: the local cluster, run_distributed, the
    output. The default run uses in-process (thread) workers, which start in about a second;
    the ``slow`` run starts the worker processes the command really starts."""
    distributed = pytest.importorskip("distributed")
    if not processes:
        local_cluster = distributed.LocalCluster

        def in_process(*args, **kwargs):
            return local_cluster(*args, **{**kwargs, "processes": False})

        monkeypatch.setattr(distributed, "LocalCluster", in_process)
    io = [str(EXAMPLES / "picks.xml"), "-i", str(EXAMPLES / "stations.xml"), "--seed", "2",
          "--particles", "12", "--epochs", "6", "--threads", "1"]
    # worker processes run one torch thread; --threads 1 gives this process the same
    assert main(["locate", *io, "-o", str(tmp_path / "serial.xml")]) == 0
    assert main(["locate", *io, "-o", str(tmp_path / "dask.xml"), "--workers", "2"]) == 0
    assert "6 events: 6 located, 0 not located" in capsys.readouterr().out
    serial = read_events(str(tmp_path / "serial.xml"))
    dask = read_events(str(tmp_path / "dask.xml"))
    assert len(serial) == len(dask) == 6
    for a, b in zip(serial, dask):
        assert str(a.resource_id) == str(b.resource_id)
        oa, ob = a.preferred_origin(), b.preferred_origin()
        assert (oa.latitude, oa.longitude, oa.depth, oa.time) == (
            ob.latitude, ob.longitude, ob.depth, ob.time)


def test_train_tiny_then_info(capsys, tmp_path):
    out = tmp_path / "tiny-S.pt"
    code = main(["train", str(DATA / "velocity_socal_layers.csv"), "--phase", "S",
                 "--max-offset-km", "250", "--depth-km", "-3", "40", "-o", str(out),
                 "--steps", "50", "--width", "8", "--layers", "1", "--batch-size", "64"])
    stdout = capsys.readouterr().out
    assert code == 0 and out.is_file()
    assert "median |dT|" in stdout
    assert not out.with_name(out.name + ".state").exists()
    assert main(["info", str(out)]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["phase"] == "S" and meta["domain"]["depth_km"] == [-3.0, 40.0]
    # the checkpoint states its accuracy over the whole domain it advertises, by band
    whole = meta["validation"]["whole_domain"]
    assert whole["source_depth_km"] == [-3.0, 40.0]
    assert whole["max_offset_km"] == meta["domain"]["max_offset_km"]
    assert len(meta["validation"]["by_range"]) > 1
    named = tmp_path / "named-S.pt"
    assert main(["train", str(DATA / "velocity_socal_layers.csv"), "--phase", "S", "-o",
                 str(named), "--steps", "50", "--width", "8", "--layers", "1",
                 "--batch-size", "64", "--name", "my-region"]) == 0
    capsys.readouterr()
    assert main(["info", str(named)]) == 0
    assert json.loads(capsys.readouterr().out)["velocity_model"]["name"] == "my-region"


def test_train_3d_grid_then_load(capsys, tmp_path):
    from obspy_hyposvi import load_model
    from obspy_hyposvi.velocity import basin_demo_model

    grid_file = tmp_path / "basin.npz"
    basin_demo_model(spacing_km=10.0).save_npz(grid_file)
    out = tmp_path / "basin-P.pt"
    code = main(["train", str(grid_file), "--phase", "P", "-o", str(out), "--steps", "50",
                 "--width", "8", "--layers", "1", "--batch-size", "64"])
    assert code == 0, capsys.readouterr().err
    assert "held-out eikonal residual" in capsys.readouterr().out
    model = load_model(out, "P")
    assert model.geometry == "3d" and model.metadata["velocity_model"]["file"] == "basin.npz"
    assert model.metadata["domain"]["box_max_km"] == [120.0, 120.0, 37.0]
    assert model.travel_time([[10.0, 10.0, 5.0]], [[50.0, 60.0, 0.0]])[0] > 0
    # a depth range reaching outside the grid names both boxes
    code = main(["train", str(grid_file), "--phase", "P", "-o", str(tmp_path / "x.pt"),
                 "--steps", "50", "--depth-km", "-5", "30"])
    assert code == 2 and "outside the velocity grid" in capsys.readouterr().err


@pytest.mark.parametrize("args, code, message", [
    (["--depth-km", "1", "40"], 2, "stations"),       # domain must reach above sea level
    (["--depth-km", "10", "5"], 2, "MIN must be below MAX"),
    (["--steps", "10"], 2, "at least"),
    (["--max-offset-km", "-5"], 2, "max-offset-km"),
])
def test_train_bad_domain(capsys, tmp_path, args, code, message):
    argv = ["train", str(DATA / "velocity_socal_layers.csv"), "--phase", "P",
            "-o", str(tmp_path / "m.pt"), *args]
    assert main(argv) == code
    assert message in capsys.readouterr().err


def test_train_missing_velocity_file(capsys, tmp_path):
    missing = tmp_path / "velocity.csv"
    assert main(["train", str(missing), "--phase", "P", "-o", str(tmp_path / "m.pt")]) == 1
    assert str(missing) in capsys.readouterr().err


def test_train_offset_range_must_cover_the_search_box(capsys, tmp_path):
    """The check is the one `hyposvi locate` applies: every station within reach of every
    corner of the stations' box plus the 30 km search margin."""
    from obspy import read_inventory

    from obspy_hyposvi.geo import Projection
    from obspy_hyposvi.locate.engine import SearchConfig

    inv = read_inventory(str(EXAMPLES / "stations.xml"))
    lon = np.array([s.longitude for n in inv for s in n])
    lat = np.array([s.latitude for n in inv for s in n])
    x, y, _ = Projection.for_points(lon, lat).to_xyz_km(lon, lat)
    m = SearchConfig().margin_km
    reach = max(np.max(np.hypot(x - cx, y - cy)) for cx in (x.min() - m, x.max() + m)
                for cy in (y.min() - m, y.max() + m))
    argv = ["train", str(DATA / "velocity_socal_layers.csv"), "--phase", "P",
            "--inventory", str(EXAMPLES / "stations.xml"), "-o", str(tmp_path / "m.pt"),
            "--steps", "50", "--width", "8", "--layers", "1", "--batch-size", "64"]
    assert main([*argv, "--max-offset-km", f"{reach - 1:.1f}"]) == 1
    assert "need offsets up to" in capsys.readouterr().err
    assert main([*argv, "--max-offset-km", f"{reach + 1:.1f}"]) == 0


def test_train_stations_above_domain(capsys, tmp_path):
    # the example stations reach ~2 km elevation: a domain starting at -0.5 km misses them
    code = main(["train", str(DATA / "velocity_socal_layers.csv"), "--phase", "P",
                 "--depth-km", "-0.5", "40", "--inventory", str(EXAMPLES / "stations.xml"),
                 "-o", str(tmp_path / "m.pt"), "--steps", "50"])
    assert code == 1
    assert "elevation" in capsys.readouterr().err


def test_train_resume_missing_state(capsys, tmp_path):
    missing = tmp_path / "m.pt.state"
    code = main(["train", str(DATA / "velocity_socal_layers.csv"), "--phase", "P",
                 "-o", str(tmp_path / "m.pt"), "--resume", str(missing)])
    assert code == 1
    assert str(missing) in capsys.readouterr().err


@pytest.mark.slow
def test_train_resume_from_saved_state(capsys, monkeypatch, tmp_path):
    from obspy_hyposvi.errors import HypoSVIError

    out = tmp_path / "m-P.pt"
    state = out.with_name(out.name + ".state")
    argv = ["train", str(DATA / "velocity_socal_layers.csv"), "--phase", "P", "-o", str(out),
            "--steps", "500", "--width", "8", "--layers", "1", "--batch-size", "32"]

    def crash(*args, **kwargs):
        raise HypoSVIError("simulated crash after training")

    with monkeypatch.context() as patch:
        patch.setattr("obspy_hyposvi.eikonet.train.checkpoint_metadata", crash)
        assert main(argv) == 1
    assert state.is_file() and not out.exists()  # the state of step 500 survived the crash
    capsys.readouterr()
    # other settings than the state's are refused, naming the difference
    assert main([*argv[:-8], "--steps", "500", "--width", "16", "--layers", "1",
                 "--batch-size", "32", "--resume", str(state)]) == 1
    assert "width" in capsys.readouterr().err
    assert main([*argv, "--resume", str(state)]) == 0
    assert out.is_file() and not state.exists()


def test_search_box_options_reach_the_search_settings():
    import argparse

    from obspy_hyposvi.cli._common import add_location_options, location_settings

    parser = argparse.ArgumentParser()
    add_location_options(parser)
    args = parser.parse_args(["--margin-km", "12", "--depth-km", "0", "25",
                              "--max-distance-km", "80"])
    search = location_settings(args)["search"]
    assert (search.margin_km, search.depth_km, search.max_distance_km) == (12.0, (0.0, 25.0),
                                                                           80.0)
    assert location_settings(parser.parse_args([]))["search"].max_distance_km is None


def test_velocity_model_option_errors_name_the_file_or_the_conflict(capsys, tmp_path):
    base = ["locate", str(EXAMPLES / "picks.xml"), "-i", str(EXAMPLES / "stations.xml"),
            "-o", str(tmp_path / "out.xml")]
    missing = tmp_path / "nope.in"
    assert main(base + ["--velocity-model", str(missing)]) == 1
    assert str(missing) in capsys.readouterr().err
    assert main(base + ["--max-offset-km", "300"]) == 2
    assert "--velocity-model" in capsys.readouterr().err
    layers = tmp_path / "model.in"
    layers.write_text("LAYER 0.0 5.5 0 3.2 0 2.7 0\nLAYER 10.0 6.3 0 3.6 0 2.8 0\n")
    assert main(base + ["--velocity-model", str(layers), "--model", "socal-1d"]) == 2
    capsys.readouterr()
    from obspy_hyposvi.velocity import basin_demo_model

    grid = tmp_path / "basin.npz"
    basin_demo_model().save_npz(grid)
    assert main(base + ["--velocity-model", str(grid)]) == 1
    err = capsys.readouterr().err
    assert str(grid) in err and "1D velocity model" in err and "Traceback" not in err
    crh = tmp_path / "model.crh"  # HypoInverse: P only, the S velocities need a ratio
    crh.write_text("test model\n 5.5  0.0\n 6.3  5.5\n")
    assert main(base + ["--velocity-model", str(crh)]) == 1
    assert str(crh) in capsys.readouterr().err
    assert main(base + ["--vp-vs-ratio", "1.73"]) == 2


def test_networks_option_reaches_the_locator_and_is_checked(capsys, monkeypatch, tmp_path):
    from obspy_hyposvi.errors import InputError
    from obspy_hyposvi.locator import Locator

    base = ["locate", str(EXAMPLES / "picks.xml"), "-i", str(EXAMPLES / "stations.xml"),
            "-o", str(tmp_path / "out.xml")]
    layers = tmp_path / "model.in"
    layers.write_text("LAYER 0.0 5.5 0 3.2 0 2.7 0\nLAYER 10.0 6.3 0 3.6 0 2.8 0\n")
    assert main(base + ["--networks", "--velocity-model", str(layers)]) == 2
    assert "--networks" in capsys.readouterr().err
    seen = []

    def from_model(cls, name, **kwargs):
        seen.append(kwargs["exact_layered"])
        raise InputError("stopped here by the test")

    monkeypatch.setattr(Locator, "from_model", classmethod(from_model))
    assert main(base + ["--networks"]) == 1
    assert main(base) == 1
    assert main(["demo", "-o", str(tmp_path / "demo"), "--networks"]) == 1
    assert seen == [False, True, False]
