"""Posterior summary from particles: placed particles, modes, mean and covariance."""

import numpy as np
import pytest

from obspy_hyposvi.locate.posterior import adaptive_eps_km, summarise_posterior


def _gaussian_log_prob(x, mean, sigma):
    return -0.5 * (((x - mean) / sigma) ** 2).sum(1)


def test_mean_and_covariance_of_a_gaussian_cloud():
    """Samples of a Gaussian: the mean and covariance are those of the samples, and one wide
    posterior stays one mode whatever its width (a fixed 0.8 km radius cut it)."""
    rng = np.random.default_rng(0)
    for sigma in (0.05, 1.0, 5.0):
        x = rng.normal([10.0, 20.0, 8.0], sigma, (150, 3))
        post = summarise_posterior(x, _gaussian_log_prob(x, [10.0, 20.0, 8.0], sigma))
        assert post.n_modes == 1 and post.mode_share == 1.0
        np.testing.assert_allclose(post.hypocentre_km, x.mean(0), atol=1e-12)
        np.testing.assert_allclose(post.covariance_km2, np.cov(x.T), rtol=1e-9)
        # the sample mean of 150 draws is within 4 standard errors of the truth
        assert np.abs(post.hypocentre_km - [10, 20, 8]).max() < 4 * sigma / np.sqrt(150)


def test_stuck_particles_are_left_out_and_counted():
    rng = np.random.default_rng(1)
    good = rng.normal([0.0, 0.0, 10.0], 0.3, (60, 3))
    stuck = rng.uniform(-50, 50, (90, 3))
    x = np.vstack([good, stuck])
    lp = np.r_[_gaussian_log_prob(good, [0, 0, 10], 0.3), np.full(90, -60.0)]
    post = summarise_posterior(x, lp)
    assert post.placed_fraction == pytest.approx(60 / 150)
    assert not post.placed_mask[60:].any()
    np.testing.assert_allclose(post.hypocentre_km, good.mean(0), atol=1e-12)


def test_second_mode_widens_the_covariance_and_the_best_mode_gives_the_estimate():
    """Particles held on a wall of the box pile into a dense cluster; the dominant mode is the
    one holding the most probable particle, and the wall pile, being of similar probability,
    widens the stated uncertainty instead of being dropped."""
    rng = np.random.default_rng(4)
    wall = np.column_stack([rng.normal(0, 0.2, 90), rng.normal(0, 0.2, 90), np.full(90, -3.0)])
    mode = rng.normal([0.0, 0.0, 3.4], 0.3, size=(60, 3))
    x = np.vstack([wall, mode])
    lp = np.r_[np.full(90, 146.2), 148.8 - 0.5 * ((mode[:, 2] - 3.4) / 0.3) ** 2]
    post = summarise_posterior(x, lp)
    assert post.n_modes == 2
    assert post.mode_mask[90:].all() and not post.mode_mask[:90].any()
    assert post.mode_share == pytest.approx(60 / 150)
    assert post.hypocentre_km[2] == pytest.approx(3.4, abs=0.15)
    # the depth spread covers both modes: rms distance from 3.4 to the particles ~ 5.2 km
    assert np.sqrt(post.covariance_km2[2, 2]) > 4.0


def test_adaptive_radius_scales_with_the_cloud():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(150, 3))
    assert adaptive_eps_km(10 * x, 3) == pytest.approx(10 * adaptive_eps_km(x, 3))
