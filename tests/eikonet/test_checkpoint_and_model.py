"""Checkpoint format, loading errors, domain checks, and accuracy of the tiny model."""

import json
import shutil

import numpy as np
import pytest
import torch

from obspy_hyposvi.eikonet.checkpoint import load_checkpoint, save_checkpoint
from obspy_hyposvi.eikonet.model import load_model
from obspy_hyposvi.errors import CheckpointError, HypoSVIWarning, OutsideModelDomainError

TINY_DT_S = 0.01  # tiny 16x2 network of a homogeneous model, 400 steps: ~1e-3 s typical


def test_metadata_is_json_and_weights_only(tiny_model_path):
    payload = torch.load(f"{tiny_model_path}-P.pt", weights_only=True)
    assert payload["format"] == "obspy_hyposvi.eikonet"
    json.dumps(payload["metadata"])
    meta = payload["metadata"]
    for key in ("phase", "model_args", "velocity_model", "domain", "training", "validation",
                "package_version"):
        assert key in meta
    assert len(meta["velocity_model"]["sha256"]) == 64


def test_tiny_model_matches_analytic(tiny_models, rng):
    p, s = tiny_models
    src = np.column_stack([rng.uniform(-50, 50, 500), rng.uniform(-50, 50, 500),
                           rng.uniform(0, 30, 500)])
    rcv = np.column_stack([rng.uniform(-50, 50, 500), rng.uniform(-50, 50, 500),
                           rng.uniform(-2, 0, 500)])
    dist = np.linalg.norm(src - rcv, axis=1)
    np.testing.assert_allclose(p.travel_time(src, rcv), dist / 6.0, atol=TINY_DT_S)
    np.testing.assert_allclose(s.travel_time(src, rcv), dist / 3.5, atol=TINY_DT_S * 6 / 3.5)
    # reciprocity is exact by construction
    np.testing.assert_allclose(p.travel_time(rcv, src), p.travel_time(src, rcv), atol=1e-6)


def test_round_trip_gives_identical_predictions(tiny_model_path, tmp_path):
    data = load_checkpoint(f"{tiny_model_path}-P.pt")
    out = save_checkpoint(tmp_path / "copy-P.pt", data["state_dict"], data["metadata"])
    a = load_model(f"{tiny_model_path}-P.pt", "P").travel_time([[0, 0, 5]], [[10, 3, -1]])
    b = load_model(out, "P").travel_time([[0, 0, 5]], [[10, 3, -1]])
    assert np.array_equal(a, b)


def test_outside_domain_raises_or_warns(tiny_model_path, tiny_models):
    p = tiny_models[0]
    with pytest.raises(OutsideModelDomainError, match="offsets up to 150"):
        p.travel_time([[0, 0, 5]], [[200, 0, 0]])
    with pytest.raises(OutsideModelDomainError, match="depths -3..40"):
        p.travel_time([[0, 0, 55]], [[10, 0, 0]])
    lenient = load_model(f"{tiny_model_path}-P.pt", "P", on_outside="warn")
    with pytest.warns(HypoSVIWarning, match="extrapolated"):
        lenient.travel_time([[0, 0, 5]], [[200, 0, 0]])


def test_bad_files_get_clear_errors(tmp_path, tiny_model_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="garbage.pt: not a readable checkpoint"):
        load_checkpoint(garbage)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(CheckpointError, match="foreign.pt: not an obspy_hyposvi EikoNet"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    data = torch.load(f"{tiny_model_path}-P.pt", weights_only=True)
    data["format_version"] = 99
    torch.save(data, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="format version 99"):
        load_checkpoint(tmp_path / "future.pt")
    data["format_version"] = 1
    data["metadata"]["min_package_version"] = "99.0"
    torch.save(data, tmp_path / "newer.pt")
    with pytest.raises(CheckpointError, match="needs obspy_hyposvi >= 99.0"):
        load_checkpoint(tmp_path / "newer.pt", "0.1.0")
    shutil.copy(f"{tiny_model_path}-P.pt", tmp_path / "x-S.pt")
    with pytest.raises(CheckpointError, match="for phase P, not S"):
        load_model(tmp_path / "x-S.pt", "S")
    with pytest.raises(CheckpointError, match="no model 'nowhere'"):
        load_model("nowhere", "P")
