"""Training reaches the analytic solution on a homogeneous model and reports it."""

import numpy as np
import pytest
import torch

from obspy_hyposvi.eikonet.physics import eikonal_residual_1d, outflow_violation_1d
from obspy_hyposvi.eikonet.train import TrainConfig, train_eikonet_1d
from obspy_hyposvi.errors import TrainingDivergedError
from obspy_hyposvi.velocity import Layered1D

SHORT_RUN_DT_S = 0.05  # 150 steps of a 16x2 net on a homogeneous model


def test_short_training_is_reproducible_and_reports_validation():
    model = Layered1D(depth_km=[0.0], vp_kmps=[5.0], vs_kmps=[3.0], name="h")
    cfg = TrainConfig(max_offset_km=100, depth_max_km=30, width=16, n_layers=2, n_steps=150,
                      batch_size=512, n_validation=500, seed=3)
    net_a, rep = train_eikonet_1d(model, "P", cfg)
    net_b, _ = train_eikonet_1d(model, "P", cfg)
    for a, b in zip(net_a.state_dict().values(), net_b.state_dict().values()):
        assert torch.equal(a, b)
    assert rep.validation["median_abs_dt_s"] < SHORT_RUN_DT_S
    assert rep.validation["max_offset_km"] == 100
    r = torch.tensor([30.0], dtype=torch.float32)
    with torch.no_grad():
        t = net_a(r, torch.tensor([10.0]), torch.tensor([0.0]))
    assert float(t) == pytest.approx(np.hypot(30, 10) / 5.0, abs=SHORT_RUN_DT_S)


def test_resume_continues_where_it_stopped():
    model = Layered1D(depth_km=[0.0], vp_kmps=[5.0], vs_kmps=[3.0], name="h")
    cfg = TrainConfig(max_offset_km=100, depth_max_km=30, width=8, n_layers=1, n_steps=40,
                      batch_size=256, n_validation=200)
    saved = []
    full, _ = train_eikonet_1d(model, "P", cfg, on_checkpoint=saved.append, checkpoint_every=20)
    resumed, _ = train_eikonet_1d(model, "P", cfg, state=saved[0])
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values()):
        assert torch.allclose(a, b)


def test_residual_is_zero_for_exact_field():
    class Exact(torch.nn.Module):
        def forward(self, r, za, zb):
            return torch.sqrt(r**2 + (za - zb) ** 2) / 4.0

    r = torch.tensor([3.0, 10.0], dtype=torch.float64)
    za = torch.tensor([1.0, 2.0], dtype=torch.float64)
    zb = torch.tensor([5.0, 0.0], dtype=torch.float64)
    v = torch.full((2,), 4.0, dtype=torch.float64)
    res = eikonal_residual_1d(Exact(), r, za, zb, v, v, create_graph=False)
    assert torch.allclose(res, torch.zeros_like(res), atol=1e-12)


def test_divergence_is_reported():
    model = Layered1D(depth_km=[0.0], vp_kmps=[5.0], vs_kmps=[3.0], name="h")
    cfg = TrainConfig(max_offset_km=100, depth_max_km=30, width=8, n_layers=1, n_steps=40,
                      batch_size=64, n_validation=200, learning_rate=float("inf"))
    with pytest.raises(TrainingDivergedError):
        train_eikonet_1d(model, "P", cfg)


def test_too_few_steps_rejected():
    with pytest.raises(ValueError, match="n_steps"):
        TrainConfig(n_steps=10)


def test_outflow_condition_flags_a_wave_entering_from_above():
    """A plane wave coming down through the top satisfies the eikonal equation everywhere
    (zero residual) yet is not a first arrival from a point inside; only the outflow
    condition sees it."""
    v = 4.0

    class Direct(torch.nn.Module):
        def forward(self, r, za, zb):
            return torch.sqrt(r**2 + (za - zb) ** 2) / v

    class FromAbove(torch.nn.Module):  # T = (0.6 r + 0.8 (z_b - z_top)) / v
        def forward(self, r, za, zb):
            return (0.6 * r + 0.8 * (zb + 3.0) + 0.0 * za) / v

    r = torch.tensor([5.0, 50.0, 200.0], dtype=torch.float64)
    z = torch.tensor([0.0, 10.0, 40.0], dtype=torch.float64)
    v_top = torch.full((3,), v, dtype=torch.float64)
    res = eikonal_residual_1d(FromAbove(), r, z, z + 1.0, v_top, v_top, create_graph=False)
    assert torch.allclose(res[1], torch.zeros(3, dtype=torch.float64), atol=1e-12)
    bad = outflow_violation_1d(FromAbove(), r, z, -3.0, v_top, create_graph=False)
    assert torch.allclose(bad, torch.full((3,), 0.8, dtype=torch.float64))
    good = outflow_violation_1d(Direct(), r, z, -3.0, v_top, create_graph=False)
    assert torch.all(good == 0)
