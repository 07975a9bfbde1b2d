"""EDT and Gaussian likelihoods."""

import numpy as np
import pytest
import torch

from obspy_hyposvi.locate.likelihood import (ErrorModel, LikelihoodConfig, edt_log_likelihood,
                                             pick_sigma)

#: Simulation of calibrated EDT against the marginal Gaussian: 1D location offset, 20 picks,
#: 300 noise draws. EDT's posterior variance is ~1.2x the Gaussian's (EDT's estimates scatter
#: ~11 % more); the 1-sigma interval's coverage is binomial (sd 0.027 at 300 draws) around
#: 0.68, so 0.57-0.79 is a 4-sd band.
VARIANCE_RATIO = (1.0, 1.45)
COVERAGE_1SIGMA = (0.57, 0.79)
CURVATURE_RTOL = 0.05  # paper power vs calibrated, small residuals


def _setup(n=12, seed=0):
    rng = np.random.default_rng(seed)
    arr = torch.tensor(rng.normal(0, 0.01, n))[None, None, :]
    mask = torch.ones(1, 1, n, dtype=torch.bool)
    sig = torch.full((1, 1, n), 0.5, dtype=torch.float64)
    return arr, mask, sig, rng


def test_calibrated_power_gives_marginal_gaussian_width_for_data_with_stated_errors():
    """Picks with noise of their stated sigma: the calibrated EDT posterior of a location
    offset ``x`` (travel times ``g x`` with random sensitivities g) has the variance of the
    Gaussian likelihood with origin time marginalised, and its 1-sigma interval covers the
    truth about 68 % of the time. The small-residual power (n - 1) / 2 would be ~3x too wide."""
    rng = np.random.default_rng(42)
    n, sigma = 20, 0.05
    x = torch.linspace(-2.0, 2.0, 801, dtype=torch.float64)
    ratios, covered, ratios_small = [], [], []
    for _ in range(300):
        g = torch.tensor(rng.normal(0.0, 0.15, n))  # s/km
        arrival = torch.tensor(rng.normal(0.0, sigma, n))[None, None, :]
        t = (x[:, None] * g)[None]  # (1, n_x, n): truth at x = 0
        sig = torch.full_like(t, sigma)
        mask = torch.ones(1, 1, n, dtype=torch.bool)
        variances = []
        for power in ("calibrated", 1.0 * (n - 1) / 2):
            logp = edt_log_likelihood(arrival, t, sig, mask, power)[0]
            w = torch.softmax(logp, 0)
            mean = float((w * x).sum())
            variances.append(float((w * (x - mean) ** 2).sum()))
            if power == "calibrated":
                covered.append(abs(mean) < variances[-1] ** 0.5)
        gc = g - g.mean()
        gaussian_var = sigma**2 / float(gc @ gc)
        ratios.append(variances[0] / gaussian_var)
        ratios_small.append(variances[1] / gaussian_var)
    assert VARIANCE_RATIO[0] < np.median(ratios) < VARIANCE_RATIO[1]
    assert COVERAGE_1SIGMA[0] < np.mean(covered) < COVERAGE_1SIGMA[1]
    assert np.median(ratios_small) > 2.5  # the linearised power: far too wide


#: Spread 4 against the paper's EDT in the same simulation: the estimates' mean squared error
#: (over the marginal Gaussian's variance) measured 1.11 at spread 1, 0.99 at spread 4 and
#: 0.96 for least squares; the posterior variances agree within 1 %.
SPREAD_MSE_GAIN = 0.93  # spread 4's mse at most this share of spread 1's
SPREAD_MSE_OVER_LS = 1.08  # and within 8 % of least squares'
SPREAD_WIDTH_RTOL = 0.05


def _simulate_offsets(spreads, draws=300, n=20, sigma=0.05, seed=42, outlier_s=0.0,
                      drop_first=False):
    """Per spread: the posterior means and variances of a 1D location offset (truth 0) over
    noise draws, with the marginal Gaussian's variance and the least-squares estimate of each
    draw. ``outlier_s`` moves the first pick by that much; ``drop_first`` leaves it out."""
    rng = np.random.default_rng(seed)
    x = torch.linspace(-2.0, 2.0, 801, dtype=torch.float64)
    out = {c: ([], []) for c in spreads}
    gaussian, least_squares = [], []
    for _ in range(draws):
        g = torch.tensor(rng.normal(0.0, 0.15, n))  # s/km
        noise = rng.normal(0.0, sigma, n)
        noise[0] += outlier_s
        arrival = torch.tensor(noise)[None, None, :]
        t = (x[:, None] * g)[None]
        sig = torch.full_like(t, sigma)
        mask = torch.ones(1, 1, n, dtype=torch.bool)
        mask[..., 0] = not drop_first
        for c in spreads:
            w = torch.softmax(edt_log_likelihood(arrival, t, sig, mask, spread=c)[0], 0)
            mean = float((w * x).sum())
            out[c][0].append(mean)
            out[c][1].append(float((w * (x - mean) ** 2).sum()))
        gc = g - g.mean()
        gaussian.append(sigma**2 / float(gc @ gc))
        least_squares.append(float(gc @ torch.tensor(noise - noise.mean())) / float(gc @ gc))
    return ({c: (np.array(m), np.array(v)) for c, (m, v) in out.items()}, np.array(gaussian),
            np.array(least_squares))


def test_spread_keeps_the_posterior_width_and_gains_efficiency():
    """Spread 4 weighs the pairs that fit more evenly: its estimates come near least squares'
    scatter, where the paper's EDT (spread 1) scatters ~11 % more, with the same posterior
    width and a 1-sigma coverage still about 68 %."""
    runs, gaussian, least_squares = _simulate_offsets((1.0, 4.0))
    mse = {c: np.mean(m**2 / gaussian) for c, (m, _) in runs.items()}
    mse_ls = np.mean(least_squares**2 / gaussian)
    assert mse[4.0] < SPREAD_MSE_GAIN * mse[1.0]
    assert mse[4.0] < SPREAD_MSE_OVER_LS * mse_ls
    width = {c: np.median(v / gaussian) for c, (_, v) in runs.items()}
    assert width[4.0] == pytest.approx(width[1.0], rel=SPREAD_WIDTH_RTOL)
    means, variances = runs[4.0]
    assert COVERAGE_1SIGMA[0] < np.mean(np.abs(means) < np.sqrt(variances)) < COVERAGE_1SIGMA[1]


def test_spread_still_ignores_a_pick_seconds_off():
    """A pick 2 s late among 20 of 0.05 s weighs nothing at spread 4 (exp(-k^2 / 4) with
    k ~ 28): the estimate is the one without that pick, to a small share of the posterior sd,
    where least squares is pulled by many sigma."""
    dropped, gaussian, _ = _simulate_offsets((4.0,), draws=40, seed=7, drop_first=True)
    moved, _, moved_ls = _simulate_offsets((4.0,), draws=40, seed=7, outlier_s=2.0)
    shift = np.abs(moved[4.0][0] - dropped[4.0][0]) / np.sqrt(dropped[4.0][1])
    assert np.max(shift) < 0.05
    _, _, clean_ls = _simulate_offsets((4.0,), draws=40, seed=7)
    assert np.median(np.abs(moved_ls - clean_ls) / np.sqrt(gaussian)) > 3.0


def test_paper_power_is_0_4_n_times_sharper_than_calibrated():
    arr, mask, sig, rng = _setup()
    direction = torch.tensor(rng.normal(0, 1, arr.shape[-1]))
    steps = torch.tensor([0.0, 0.01, 0.02], dtype=torch.float64)
    t = steps[None, :, None] * direction  # (1, 3, n)
    edt = edt_log_likelihood(arr, t, sig.expand(1, 3, -1), mask, "calibrated")[0]
    pairs = edt_log_likelihood(arr, t, sig.expand(1, 3, -1), mask, "pairs")[0]
    ratio = float(pairs[2] - 2 * pairs[1] + pairs[0]) / float(edt[2] - 2 * edt[1] + edt[0])
    assert ratio == pytest.approx(0.4 * arr.shape[-1], rel=CURVATURE_RTOL)


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


def _naive_edt(arrival, travel, sigma, mask, power, spread=1.0):
    """The EDT sum written out pair by pair in numpy (independent of the pair layouts), with
    the pair variances times ``spread`` and the sum times ``(spread + 2) / 3``."""
    out = np.empty(travel.shape[:2])
    for e in range(travel.shape[0]):
        for p in range(travel.shape[1]):
            res = arrival[e, 0] - travel[e, p]
            used = np.flatnonzero(mask[e, 0])
            terms = [np.exp(-(res[b] - res[a]) ** 2 / v) / np.sqrt(v)
                     for i, a in enumerate(used) for b in used[i + 1:]
                     for v in [spread * (sigma[e, p, a] ** 2 + sigma[e, p, b] ** 2)]]
            out[e, p] = ((spread + 2.0) / 3.0 * power(len(used)) * np.log(np.sum(terms))
                         if terms else -np.inf)
    return out


@pytest.mark.parametrize("spread", [1.0, 4.0])
@pytest.mark.parametrize("layout", ["diagonal", "dense"])
def test_edt_matches_the_pair_sum_written_out_and_its_gradient(layout, spread):
    rng = np.random.default_rng(3)
    n_events, n_particles, n_picks = 3, 4, 7
    arrival = torch.tensor(rng.uniform(0, 20, (n_events, 1, n_picks)))
    travel = arrival + torch.tensor(rng.normal(0, 0.3, (n_events, n_particles, n_picks)))
    sigma = torch.tensor(rng.uniform(0.05, 0.5, (n_events, n_particles, n_picks)))
    mask = torch.ones(n_events, 1, n_picks, dtype=torch.bool)
    mask[1, 0, [0, 3]] = False  # two picks left out
    mask[2, 0, 1:] = False  # a single usable pick: no pair, log 0
    got = edt_log_likelihood(arrival, travel, sigma, mask, "calibrated", spread=spread,
                             pair_layout=layout)
    want = _naive_edt(arrival.numpy(), travel.numpy(), sigma.numpy(), mask.numpy(),
                      lambda n: 1.25 * max(n - 1.0, 1.0), spread)
    np.testing.assert_allclose(got.numpy()[:2], want[:2], rtol=1e-10)
    assert np.all(np.isneginf(got.numpy()[2]))
    # gradients in the travel times and the errors, events with pairs only
    t = travel[:2].clone().requires_grad_(True)
    s = sigma[:2].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda tt, ss: edt_log_likelihood(arrival[:2], tt, ss, mask[:2], spread=spread,
                                          pair_layout=layout),
        (t, s))


def test_dense_and_diagonal_pair_layouts_agree_in_float32():
    rng = np.random.default_rng(4)
    arrival = torch.tensor(rng.uniform(0, 30, (5, 1, 23)), dtype=torch.float32)
    travel = (arrival + torch.tensor(rng.normal(0, 0.2, (5, 60, 23)), dtype=torch.float32))
    sigma = torch.tensor(rng.uniform(0.03, 0.3, (5, 60, 23)), dtype=torch.float32)
    mask = torch.tensor(rng.random((5, 1, 23)) > 0.2)
    out = {}
    for layout in ("diagonal", "dense"):
        t = travel.clone().requires_grad_(True)
        value = edt_log_likelihood(arrival, t, sigma, mask, pair_layout=layout)
        (grad,) = torch.autograd.grad(value.sum(), t)
        out[layout] = value, grad
    torch.testing.assert_close(out["dense"][0], out["diagonal"][0], rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(out["dense"][1], out["diagonal"][1], rtol=1e-4, atol=1e-3)
    with pytest.raises(ValueError, match="pair_layout"):
        edt_log_likelihood(arrival, travel, sigma, mask, pair_layout="sparse")
