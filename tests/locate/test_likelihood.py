"""EDT and Gaussian likelihoods."""

import numpy as np
import pytest
import torch

from obspy_hyposvi.locate.likelihood import (ErrorModel, LikelihoodConfig, edt_log_likelihood,
                                             gaussian_log_likelihood, pick_sigma)

CURVATURE_RTOL = 0.05  # calibrated EDT vs marginal Gaussian curvature for small residuals


def _setup(n=12, seed=0):
    rng = np.random.default_rng(seed)
    arr = torch.tensor(rng.normal(0, 0.01, n))[None, None, :]
    mask = torch.ones(1, 1, n, dtype=torch.bool)
    sig = torch.full((1, 1, n), 0.5, dtype=torch.float64)
    return arr, mask, sig, rng


def test_calibrated_power_matches_marginal_gaussian_curvature():
    arr, mask, sig, rng = _setup()
    direction = torch.tensor(rng.normal(0, 1, arr.shape[-1]))
    steps = torch.tensor([0.0, 0.01, 0.02], dtype=torch.float64)
    t = steps[None, :, None] * direction  # (1, 3, n)
    edt = edt_log_likelihood(arr, t, sig.expand(1, 3, -1), mask, "calibrated")[0]
    gau = gaussian_log_likelihood(arr, t, sig.expand(1, 3, -1), mask)[0]
    curv_edt = float(edt[2] - 2 * edt[1] + edt[0])
    curv_gau = float(gau[2] - 2 * gau[1] + gau[0])
    assert curv_edt == pytest.approx(curv_gau, rel=CURVATURE_RTOL)
    # the paper's power (number of pairs) is n / 2 ... n times sharper
    pairs = edt_log_likelihood(arr, t, sig.expand(1, 3, -1), mask, "pairs")[0]
    ratio = float(pairs[2] - 2 * pairs[1] + pairs[0]) / curv_edt
    assert ratio == pytest.approx(arr.shape[-1], rel=1e-9)


def test_constant_shift_is_invisible_to_edt():
    arr, mask, sig, _ = _setup()
    t = torch.zeros(1, 1, arr.shape[-1], dtype=torch.float64)
    a = edt_log_likelihood(arr, t, sig, mask)
    b = edt_log_likelihood(arr, t + 3.0, sig, mask)
    assert torch.allclose(a, b)


def test_masked_picks_do_not_count():
    arr, mask, sig, _ = _setup()
    t = torch.zeros_like(arr)
    base = edt_log_likelihood(arr, t, sig, mask)
    arr2 = torch.cat([arr, torch.tensor([[[100.0]]], dtype=torch.float64)], -1)
    mask2 = torch.cat([mask, torch.tensor([[[False]]])], -1)
    sig2 = torch.cat([sig, torch.full((1, 1, 1), 0.5, dtype=torch.float64)], -1)
    t2 = torch.zeros_like(arr2)
    assert torch.allclose(edt_log_likelihood(arr2, t2, sig2, mask2), base)


def test_gradcheck_edt():
    arr, mask, sig, _ = _setup(n=5)
    t = torch.rand(1, 2, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda tt: edt_log_likelihood(arr, tt, sig.expand(1, 2, -1), mask.expand(1, 1, -1)), (t,))


def test_error_model_clips():
    em = ErrorModel(fraction=0.1, min_s=0.1, max_s=2.0)
    tt = torch.tensor([0.5, 10.0, 50.0], dtype=torch.float64)
    s = pick_sigma(tt, torch.zeros(3, dtype=torch.float64), em)
    np.testing.assert_allclose(s.numpy(), [0.1, 1.0, 2.0])
    with pytest.raises(ValueError, match="max_s"):
        ErrorModel(min_s=1.0, max_s=0.5)
    with pytest.raises(ValueError, match="kind"):
        LikelihoodConfig(kind="l3")
    cfg = LikelihoodConfig(power=3.0, error_model=em)
    assert LikelihoodConfig.from_dict(cfg.to_dict()) == cfg
