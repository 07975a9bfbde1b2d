"""SVGD fault inversion: a synthetic fault is recovered within its posterior."""

from __future__ import annotations

import pytest
import torch

from obspy_hyposvi.locate.svgd import SVGDConfig
from obspy_hyposvi.okada.fault import PARAM_NAMES, okada_enu
from obspy_hyposvi.okada.inversion import invert_fault_svgd

#: truth within this many posterior standard deviations of the posterior mean (SVGD with few
#: particles under-disperses slightly; 1 sigma noise on 3 mm offsets)
N_SIGMA = 4.0
#: and never further than these absolute errors (km, km, km, deg, deg, deg, m)
MAX_ABS_ERROR = [0.5, 0.5, 0.5, 3.0, 3.0, 3.0, 0.05]


@pytest.mark.slow
def test_synthetic_fault_recovered():
    truth = torch.tensor([2.0, -3.0, 8.0, 30.0, 60.0, 80.0, 1.5, 20.0, 10.0], dtype=torch.float64)
    gen = torch.Generator().manual_seed(1)
    stations = (torch.rand(25, 2, generator=gen, dtype=torch.float64) - 0.5) * 80.0
    clean, _ = okada_enu(truth, stations)
    sigma = torch.full_like(clean, 0.003)
    offsets = clean + sigma * torch.randn(clean.shape, generator=gen, dtype=torch.float64)
    # box prior: +-5 km position, 5-11 km depth, +-15/20/30 deg, 0.5-2.5 m; L and W fixed
    span = torch.tensor([10.0, 10.0, 6.0, 30.0, 40.0, 60.0, 2.0, 0.0, 0.0], dtype=torch.float64)
    lower = truth - span * torch.tensor([0.4, 0.6, 0.5, 0.3, 0.7, 0.5, 0.5, 0, 0],
                                        dtype=torch.float64)
    upper = lower + span
    cfg = SVGDConfig(n_particles=48, n_epochs=250, learning_rate=0.05,
                     final_learning_rate=0.002, kernel_width=None, seed=3)
    post = invert_fault_svgd(stations, offsets, sigma, lower, upper, config=cfg)
    mean, std = post.mean(), post.std()
    for k, name in enumerate(PARAM_NAMES[:7]):
        err = float((mean[k] - truth[k]).abs())
        assert err <= N_SIGMA * float(std[k]) + 1e-9 or err < 0.2 * MAX_ABS_ERROR[k], name
        assert err < MAX_ABS_ERROR[k], (name, err)
    # fixed parameters stay fixed
    assert (post.particles[:, 7:] == truth[7:]).all()
