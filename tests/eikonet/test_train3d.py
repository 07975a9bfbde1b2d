"""3D training: reproducible, resumable, accurate on a homogeneous grid, bounded to its box."""

import numpy as np
import pytest
import torch

from obspy_hyposvi.eikonet.checkpoint import load_checkpoint, save_checkpoint
from obspy_hyposvi.eikonet.model import TravelTimeModel
from obspy_hyposvi.eikonet.physics import outflow_violation_3d
from obspy_hyposvi.eikonet.train3d import (Train3DConfig, checkpoint_metadata_3d,
                                           train_eikonet_3d)
from obspy_hyposvi.velocity import Grid3D

#: 300 steps of a 32x2 net on a 40 km homogeneous box: straight rays within 1 % of T
SHORT_RUN_REL = 0.01


def _grid(v: float = 5.0) -> Grid3D:
    axis = np.linspace(0.0, 40.0, 5)
    z = np.linspace(-2.0, 30.0, 5)
    vp = np.full((5, 5, 5), v)
    return Grid3D(x_km=axis, y_km=axis, z_km=z, vp_kmps=vp, vs_kmps=vp / 1.73,
                  crs="EPSG:32611", name="homogeneous")


def test_homogeneous_grid_gives_straight_ray_times(tmp_path):
    grid = _grid()
    cfg = Train3DConfig(width=32, n_layers=2, n_steps=300, batch_size=256, n_validation=500)
    net, report = train_eikonet_3d(grid, "P", cfg)
    rng = np.random.default_rng(0)
    s = rng.uniform([0, 0, -2], [40, 40, 30], (200, 3))
    r = rng.uniform([0, 0, -2], [40, 40, 30], (200, 3))
    # through the checkpoint and the public model class, as a user would
    meta = checkpoint_metadata_3d(grid, "P", cfg, report, package_version="0.1.0")
    path = save_checkpoint(tmp_path / "h-P.pt", net.state_dict(), meta)
    model = TravelTimeModel(load_checkpoint(path), name="h-P")
    t = model.travel_time(s, r)
    exact = np.linalg.norm(r - s, axis=1) / 5.0
    far = exact > 1.0
    assert np.median(np.abs(t[far] / exact[far] - 1)) < SHORT_RUN_REL
    assert report.validation["median_abs_residual"] < 0.05
    assert meta["geometry"] == "3d" and meta["domain"]["box_max_km"] == [40.0, 40.0, 30.0]
    assert model.outside(np.array([[50.0, 0, 0]]), np.array([[0.0, 0, 0]])).all()


def test_reproducible_and_resumable():
    grid = _grid()
    cfg = Train3DConfig(width=8, n_layers=1, n_steps=40, batch_size=64, n_validation=200)
    saved = []
    full, _ = train_eikonet_3d(grid, "S", cfg, on_checkpoint=saved.append, checkpoint_every=20)
    again, _ = train_eikonet_3d(grid, "S", cfg)
    resumed, _ = train_eikonet_3d(grid, "S", cfg, state=saved[0])
    for a, b, c in zip(full.state_dict().values(), again.state_dict().values(),
                       resumed.state_dict().values()):
        assert torch.equal(a, b)
        assert torch.allclose(a, c)


def test_box_outside_grid_and_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="outside the velocity grid"):
        train_eikonet_3d(_grid(), "P", Train3DConfig(box_min_km=(0, 0, -5), box_max_km=(40, 40, 30),
                                                     n_steps=40))
    with pytest.raises(ValueError, match="box_max_km"):
        Train3DConfig(box_min_km=(0, 0, 0), box_max_km=(10, 10, -1))
    with pytest.raises(ValueError, match="unknown"):
        Train3DConfig.from_dict({"n_steps": 100, "widht": 3})


def test_outflow_3d_flags_a_wave_entering_from_above():
    class FromAbove(torch.nn.Module):  # plane wave travelling down from the top face z = -2
        def forward(self, s, r):
            return (0.6 * r[:, 0] + 0.8 * (r[:, 2] + 2.0) + 0 * s.sum(-1)) / 5.0

    class Direct(torch.nn.Module):
        def forward(self, s, r):
            return torch.linalg.norm(r - s, dim=-1) / 5.0

    s = torch.tensor([[10.0, 10.0, 10.0], [30.0, 5.0, 20.0]], dtype=torch.float64)
    top = torch.tensor([[0.0, 0.0, -2.0], [25.0, 5.0, -2.0]], dtype=torch.float64)
    v = torch.full((2,), 5.0, dtype=torch.float64)
    assert torch.all(outflow_violation_3d(FromAbove(), s, top, v) > 0.5)
    assert torch.all(outflow_violation_3d(Direct(), s, top, v) == 0)
