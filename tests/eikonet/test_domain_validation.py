"""Checkpoint accuracy over the whole advertised domain (issue 12): the bundled checkpoints
state it, the figures are reproducible, and ``hyposvi models`` says where they hold."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from obspy_hyposvi.cli import main
from obspy_hyposvi.eikonet.checkpoint import (
    domain_validation,
    load_checkpoint,
    revalidate_checkpoint,
    save_checkpoint,
)
from obspy_hyposvi.eikonet.model import bundled_model_dir
from obspy_hyposvi.errors import CheckpointError

#: Figures from 2000 pairs per band, another seed, against the stored 5000: the median to
#: ~10 %; the 99th percentile (20 pairs beyond it) to ~30 %.
MEDIAN_RTOL, P99_RTOL = 0.10, 0.30

needs_bundled = pytest.mark.skipif(not (bundled_model_dir() / "socal-1d-P.pt").is_file(),
                                   reason="bundled checkpoints not installed")


def _covers(bands, lo, hi):
    """The bands tile [lo, hi] end to end."""
    edges = sorted(bands)
    return edges[0][0] == lo and edges[-1][1] == hi and all(
        a[1] == b[0] for a, b in zip(edges[:-1], edges[1:]))


@needs_bundled
@pytest.mark.parametrize("phase", ["P", "S"])
def test_bundled_checkpoints_state_the_whole_domain(phase):
    checkpoint = load_checkpoint(bundled_model_dir() / f"socal-1d-{phase}.pt")
    meta = checkpoint["metadata"]
    domain, val = meta["domain"], meta["validation"]
    whole = val["whole_domain"]
    assert whole["max_offset_km"] == domain["max_offset_km"] == 400.0
    assert whole["source_depth_km"] == whole["receiver_depth_km"] == domain["depth_km"]
    bands = val["by_range"]
    assert bands[0]["offset_km"] == [0.0, 400.0] and bands[0]["source_depth_km"] == [-3.0, 60.0]
    assert all(b["receiver_depth_km"] == [-3.0, 0.0] for b in bands)  # where stations are
    offsets = [b["offset_km"] for b in bands[1:] if b["source_depth_km"] == [-3.0, 60.0]]
    depths = [b["source_depth_km"] for b in bands[1:] if b["offset_km"] == [0.0, 400.0]]
    assert _covers(offsets, 0.0, 400.0) and len(offsets) == 3
    assert _covers(depths, -3.0, 60.0) and len(depths) == 4
    # training's figures stay, with the ranges they hold over
    assert (val["max_offset_km"], val["source_depth_km"]) == (250.0, [0.0, 40.0])
    # the stored figures are reproducible with other pairs
    again = domain_validation(checkpoint, n_pairs=2000, n_pairs_band=2000, seed=7)
    for stored, fresh in zip(bands, again["by_range"]):
        assert stored["offset_km"] == fresh["offset_km"]
        assert fresh["median_abs_dt_s"] == pytest.approx(stored["median_abs_dt_s"],
                                                         rel=MEDIAN_RTOL, abs=1e-3)
        assert fresh["p99_abs_dt_s"] == pytest.approx(stored["p99_abs_dt_s"], rel=P99_RTOL)


def test_revalidate_keeps_weights_and_earlier_figures(tmp_path, tiny_model_path):
    path = tmp_path / "tiny-P.pt"
    shutil.copy(f"{tiny_model_path}-P.pt", path)
    before = load_checkpoint(path)
    val = revalidate_checkpoint(path, n_pairs=1000, n_pairs_band=500)
    after = load_checkpoint(path)
    for key, value in before["state_dict"].items():
        assert torch.equal(value, after["state_dict"][key])
    for key, value in before["metadata"]["validation"].items():
        assert after["metadata"]["validation"][key] == value
    assert after["metadata"]["validation"] == val
    assert {k: v for k, v in after["metadata"].items() if k != "validation"} == \
        {k: v for k, v in before["metadata"].items() if k != "validation"}
    # the tiny model's domain: offsets 0-150 km, depths -3..40 km
    assert val["whole_domain"]["max_offset_km"] == 150.0
    offsets = [b["offset_km"] for b in val["by_range"][1:] if b["source_depth_km"] == [-3, 40]]
    assert offsets == [[0.0, 100.0], [100.0, 150.0]]
    assert all(b["median_abs_dt_s"] < 0.01 for b in val["by_range"])  # a homogeneous model
    assert np.isfinite(val["whole_domain"]["median_abs_dv_kmps"])


def test_domain_validation_refuses_a_3d_model(tiny_model_path):
    checkpoint = load_checkpoint(f"{tiny_model_path}-P.pt")
    checkpoint["metadata"] = {**checkpoint["metadata"], "geometry": "3d"}
    with pytest.raises(CheckpointError, match="1D model"):
        domain_validation(checkpoint)


def test_models_says_where_the_figures_hold(tmp_path, monkeypatch, capsys, tiny_model_path):
    # a user checkpoint of an earlier release: training's figures only
    monkeypatch.setenv("HYPOSVI_MODEL_DIR", str(tmp_path))
    shutil.copy(f"{tiny_model_path}-P.pt", tmp_path / "old-P.pt")
    revalidated = tmp_path / "new-P.pt"
    checkpoint = load_checkpoint(f"{tiny_model_path}-P.pt")
    save_checkpoint(revalidated, checkpoint["state_dict"], checkpoint["metadata"])
    revalidate_checkpoint(revalidated, n_pairs=500, n_pairs_band=200)
    assert main(["models"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()
             if line.startswith(("old ", "new ", "socal-1d "))}
    assert "0-250 km, 0..40 km" in lines["old"] and lines["old"].rstrip().endswith("-")
    assert " domain " in lines["new"] and " s at " in lines["new"]  # and its worst band
    if (bundled_model_dir() / "socal-1d-P.pt").is_file():
        assert " domain " in lines["socal-1d"]
