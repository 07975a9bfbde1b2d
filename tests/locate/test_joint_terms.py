"""Station terms solved jointly with the locations, and their uncertainty carried to each
location: checked against brute-force simulation on straight rays."""

import numpy as np
import pytest
from scipy.optimize import least_squares
from straight_rays import Homogeneous

from obspy_hyposvi.locate.joint_terms import (
    JointTerms,
    TermData,
    design_matrix,
    sensitivity,
    solve_joint_terms,
    source_gradients,
    term_covariance_of_event,
)

VELOCITY = {0: 6.0, 1: 3.5}


def _network(rng, n_stations=10):
    stations = np.column_stack([rng.uniform(-30, 30, (n_stations, 2)),
                                -rng.uniform(0, 1.5, n_stations)])
    xyz = np.vstack([stations, stations])  # a P and an S pick at every station
    phase = np.r_[np.zeros(n_stations, int), np.ones(n_stations, int)]
    term = np.r_[np.arange(n_stations), n_stations + np.arange(n_stations)]
    return xyz, phase, term


def _times(src, xyz, phase):
    """Straight-ray travel times in numpy: the reference, independent of the torch models."""
    v = np.where(phase == 0, VELOCITY[0], VELOCITY[1])
    return np.linalg.norm(xyz - src[:3], axis=1) / v


def _locate_wls(arrival, xyz, phase, sigma, start):
    """Nonlinear weighted least squares for (x, y, z, t0) by scipy: the brute-force locator."""
    fit = least_squares(lambda m: (arrival - m[3] - _times(m, xyz, phase)) / sigma, start,
                        xtol=1e-12, ftol=1e-12, gtol=1e-12)
    return fit.x


def _design(src, xyz, phase):
    models = [Homogeneous(VELOCITY[0]), Homogeneous(VELOCITY[1])]
    (grad,) = source_gradients(models, [src], [xyz], [phase])
    return design_matrix(grad)


def test_source_gradients_are_the_straight_ray_slowness():
    rng = np.random.default_rng(0)
    xyz, phase, _ = _network(rng, 6)
    src = np.array([1.0, -2.0, 8.0])
    g = _design(src, xyz, phase)
    away = (src - xyz) / np.linalg.norm(src - xyz, axis=1, keepdims=True)
    np.testing.assert_allclose(g[:, :3], away / np.where(phase == 0, 6.0, 3.5)[:, None],
                               atol=1e-12)
    np.testing.assert_array_equal(g[:, 3], 1.0)


def test_term_errors_propagate_as_brute_force_locations_scatter():
    """Delay errors shared by every event's picks at a station (correlated across stations
    and phases) move the location; the linear propagation K S C S^T K^T matches the scatter of
    nonlinear weighted least-squares locations of arrivals perturbed by draws of those errors,
    over 2000 draws."""
    rng = np.random.default_rng(1)
    xyz, phase, term = _network(rng, 10)
    src = np.array([3.0, -4.0, 9.0, 0.0])
    sigma = np.where(phase == 0, 0.03, 0.05)
    root = rng.normal(0, 0.03, (20, 20))
    cov_terms = root @ root.T + np.diag(np.full(20, 0.02**2))  # correlated, as a posterior is
    predicted = term_covariance_of_event(_design(src[:3], xyz, phase), 1 / sigma**2, term,
                                         cov_terms)
    exact = src[3] + _times(src, xyz, phase)
    draws = rng.multivariate_normal(np.zeros(20), cov_terms, size=2000)
    sols = np.array([_locate_wls(exact + d[term], xyz, phase, sigma, src) for d in draws])
    empirical = np.cov((sols - src).T)
    sd = np.sqrt(np.diag(predicted))
    np.testing.assert_allclose(np.sqrt(np.diag(empirical)), sd, rtol=0.06)
    # correlations too (x, y, z, t0 trade with each other)
    corr_p = predicted / np.outer(sd, sd)
    corr_e = empirical / np.outer(np.sqrt(np.diag(empirical)), np.sqrt(np.diag(empirical)))
    np.testing.assert_allclose(corr_e, corr_p, atol=0.06)


def test_sensitivity_is_the_weighted_least_squares_solution():
    rng = np.random.default_rng(2)
    g = np.column_stack([rng.normal(0, 0.2, (12, 3)), np.ones(12)])
    w = rng.uniform(100, 400, 12)
    dt = rng.normal(0, 0.1, 12)
    k, inv = sensitivity(g, w)
    ref, *_ = np.linalg.lstsq(g * np.sqrt(w)[:, None], dt * np.sqrt(w), rcond=None)
    np.testing.assert_allclose(k @ dt, ref, atol=1e-12)
    np.testing.assert_allclose(inv, np.linalg.inv(g.T @ (w[:, None] * g)), rtol=1e-10)


def _catalogue(rng, xyz, phase, n_events=15):
    sources = np.column_stack([rng.uniform(-15, 15, (n_events, 2)),
                               rng.uniform(2, 20, n_events), np.zeros(n_events)])
    designs = [_design(s[:3], xyz, phase) for s in sources]
    return sources, designs


def test_joint_posterior_is_calibrated_against_simulation():
    """Delays drawn from the prior, noise from the pick errors: over 1500 catalogues, the
    posterior covariance of the terms is the scatter of their estimates about the truth, and
    each event's marginal covariance (its own, terms fixed, plus the terms' propagated) is the
    scatter of its location, relocated with the estimated terms, about the truth. Linear model
    (the design at the truth), so the identity is exact up to sampling."""
    rng = np.random.default_rng(3)
    xyz, phase, term = _network(rng, 8)
    keys = [(f"S{k}", "P") for k in range(8)] + [(f"S{k}", "S") for k in range(8)]
    sources, designs = _catalogue(rng, xyz, phase, n_events=12)
    sigma = np.where(phase == 0, 0.04, 0.06)
    w = 1 / sigma**2
    prior = {"P": 0.1, "S": 0.15}
    spread = np.where(np.array([k[1] for k in keys]) == "P", 0.1, 0.15)
    tau_err, loc_err, cov_terms = [], [], None
    for _ in range(1500):
        tau = rng.normal(0, spread)
        data = []
        moves = rng.normal(0, 0.5, (len(designs), 4))  # each event's offset from the guess
        for g, m in zip(designs, moves):
            y = g @ m + tau[term] + rng.normal(0, sigma)
            data.append(TermData(g, y, w, term))
        post = solve_joint_terms(data, keys, prior_sigma_s=prior)
        cov_terms = post.covariance_s2
        tau_err.append(post.delay_s - tau)
        k, _ = sensitivity(designs[0], w)
        loc_err.append(k @ (data[0].residual_s - post.delay_s[term]) - moves[0])
    np.testing.assert_allclose(np.cov(np.array(tau_err).T).diagonal(), cov_terms.diagonal(),
                               rtol=0.12)
    _, own = sensitivity(designs[0], w)
    marginal = own + term_covariance_of_event(designs[0], w, term, cov_terms)
    np.testing.assert_allclose(np.cov(np.array(loc_err).T).diagonal(), marginal.diagonal(),
                               rtol=0.12)
    # the terms' part is not small here: without it the stated variance is too small
    assert np.all(np.cov(np.array(loc_err).T).diagonal() > 1.3 * own.diagonal())


def test_prior_spread_estimated_per_phase():
    rng = np.random.default_rng(4)
    xyz, phase, term = _network(rng, 40)
    keys = [(f"S{k}", "P") for k in range(40)] + [(f"S{k}", "S") for k in range(40)]
    _, designs = _catalogue(rng, xyz, phase, n_events=30)
    sigma = np.full(80, 0.05)
    tau = np.r_[rng.normal(0, 0.08, 40), rng.normal(0, 0.2, 40)]
    data = [TermData(g, g @ rng.normal(0, 0.5, 4) + tau[term] + rng.normal(0, sigma),
                     1 / sigma**2, term) for g in designs]
    post = solve_joint_terms(data, keys)
    assert post.prior_sigma_s["P"] == pytest.approx(np.std(tau[:40]), rel=0.25)
    assert post.prior_sigma_s["S"] == pytest.approx(np.std(tau[40:]), rel=0.25)
    assert post.n_events == 30 and list(post.n_picks) == [30] * 80
    # the pattern is recovered; the delay common to all (origin time's twin) is not
    err = post.delay_s - tau
    assert np.std(err) < 0.02
    assert abs(np.mean(err) + np.mean(tau)) < 0.05  # the mean sits near the prior's 0


def test_a_p_minus_s_offset_and_a_trend_are_recovered_not_anchored_away():
    """A delay growing across the network and S picks late against P ones: the components the
    earlier anchoring removed. Events at many depths and positions resolve them."""
    rng = np.random.default_rng(5)
    xyz, phase, term = _network(rng, 20)
    keys = [(f"S{k}", "P") for k in range(20)] + [(f"S{k}", "S") for k in range(20)]
    _, designs = _catalogue(rng, xyz, phase, n_events=40)
    tau = 0.004 * xyz[:, 0] + np.where(phase == 1, 0.08, 0.0) + rng.normal(0, 0.05, 40)
    tau -= tau.mean()  # the common part is the one the data cannot see
    sigma = np.full(40, 0.03)
    data = [TermData(g, g @ rng.normal(0, 0.5, 4) + tau[term] + rng.normal(0, sigma),
                     1 / sigma**2, term) for g in designs]
    post = solve_joint_terms(data, keys)
    assert np.abs(post.delay_s - tau).max() < 0.03


def test_error_covariance_adds_the_applied_values_distance():
    post = JointTerms(keys=[("A", "P"), ("B", "P")], delay_s=np.array([0.1, -0.05]),
                      covariance_s2=np.array([[4e-4, 1e-4], [1e-4, 9e-4]]),
                      n_picks=np.array([10, 2]))
    applied = {("A", "P"): 0.1}  # B had too few picks: its delay stays in the picks
    cov = post.error_covariance(applied)
    d = np.array([0.0, -0.05])
    np.testing.assert_allclose(cov, post.covariance_s2 + np.outer(d, d))
    assert post.as_dict(min_picks=3) == {("A", "P"): 0.1}


def test_events_with_four_picks_or_fewer_inform_nothing():
    g = np.column_stack([np.eye(4)[:, :3], np.ones(4)])
    post = solve_joint_terms([TermData(g, np.ones(4), np.ones(4), np.arange(4))],
                             [(f"S{k}", "P") for k in range(4)], prior_sigma_s={"P": 0.1})
    assert post.n_events == 0
    np.testing.assert_allclose(post.delay_s, 0.0)
    np.testing.assert_allclose(post.covariance_s2, np.eye(4) * 0.01)
