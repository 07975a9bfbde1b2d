"""Catalogue passes: the error model, outliers and station terms learnt from residuals."""

import numpy as np
import pytest
from straight_rays import Homogeneous

from obspy_hyposvi.locate.catalogue import (
    EstimationConfig,
    apply_station_terms,
    estimate_error_model,
    estimate_station_terms,
    flag_outliers,
    locate_catalogue,
)
from obspy_hyposvi.locate.likelihood import ErrorModel, LikelihoodConfig
from obspy_hyposvi.locate.engine import SearchConfig
from obspy_hyposvi.locate.observations import Observations
from obspy_hyposvi.locate.result import LocationResult
from obspy_hyposvi.locate.svgd import SVGDConfig

#: Relative accuracy of an error term estimated from 3000 residuals (standard error of a
#: standard deviation from n draws is ~1/sqrt(2n) = 1.3 %; the grid spacing is 12 %).
TERM_RTOL = 0.15


def test_constant_error_recovered_with_and_without_outliers():
    rng = np.random.default_rng(0)
    n = 3000
    t = rng.uniform(1, 30, n)
    r = rng.normal(0, np.hypot(0.05, 0.04), n)
    est = estimate_error_model(r, t, np.full(n, 0.05), ErrorModel())
    assert est.source == "estimated" and est.n_residuals == n
    assert est.model.min_s == pytest.approx(0.04, rel=TERM_RTOL)
    assert est.model.fraction * 30 < 0.04  # no travel-time term where there is none
    moved = r.copy()
    moved[:300] += rng.choice([-1, 1], 300) * rng.uniform(1, 3, 300)  # 10 % outliers
    robust = estimate_error_model(moved, t, np.full(n, 0.05), ErrorModel())
    assert robust.model.min_s == pytest.approx(0.04, rel=TERM_RTOL)
    assert robust.outlier_share == pytest.approx(0.1, abs=0.05)


def test_travel_time_proportional_error_recovered():
    rng = np.random.default_rng(1)
    n = 3000
    t = rng.uniform(2, 40, n)
    r = rng.normal(0, np.hypot(0.02, np.maximum(0.03 * t, 0.05)))
    est = estimate_error_model(r, t, np.full(n, 0.02), ErrorModel())
    assert est.model.fraction == pytest.approx(0.03, rel=TERM_RTOL)
    assert est.model.min_s <= 0.08


def test_a_large_catalogue_is_fitted_on_a_seeded_subset_with_the_same_answer():
    """Beyond ``max_residuals`` the fit uses a seeded random subset: the same model as the
    full fit to within the grid's step, the same on every call, and every residual counted."""
    rng = np.random.default_rng(2)
    n = 6000
    t = rng.uniform(2, 40, n)
    sigma = np.full(n, 0.02)
    r = rng.normal(0, np.hypot(0.02, np.maximum(0.02 * t, 0.06)))
    r[:300] += rng.uniform(-3, 3, 300)  # 5 % outliers
    full = estimate_error_model(r, t, sigma, ErrorModel())
    part = estimate_error_model(r, t, sigma, ErrorModel(), max_residuals=2000)
    again = estimate_error_model(r, t, sigma, ErrorModel(), max_residuals=2000)
    assert part == again
    assert part.n_residuals == full.n_residuals == n
    assert part.model.fraction == pytest.approx(full.model.fraction, rel=TERM_RTOL)
    assert part.model.min_s == pytest.approx(full.model.min_s, rel=2 * TERM_RTOL)


def test_too_few_residuals_keep_the_prior():
    prior = ErrorModel(fraction=0.1, min_s=0.1, max_s=2.0)
    est = estimate_error_model(np.zeros(10), np.ones(10), np.full(10, 0.1), prior,
                               min_residuals=30, phase="S")
    assert est.model == prior and est.source == "prior"
    assert "too few" in est.describe() and est.describe().startswith("S:")


def _result_for(obs, travel_time_s):
    n = obs.n_picks
    z3 = np.zeros(3)
    return LocationResult(event_id=obs.event_id, hypocentre_xyz_km=z3, covariance_km2=np.eye(3),
                          origin_time_s=0.0, origin_time_uncertainty_s=0.0, ellipsoid=None,
                          horizontal_uncertainty_km=(0, 0, 0), confidence_level=68.27,
                          travel_time_s=travel_time_s, residual_s=obs.arrival_s - travel_time_s,
                          weight=np.ones(n), takeoff_deg=np.zeros(n),
                          particles_xyz_km=np.zeros((0, 3)), cluster_mask=np.zeros(0, bool))


def test_flag_outliers_names_the_residual_and_keeps_min_picks():
    rng = np.random.default_rng(2)
    n = 20
    tt = rng.uniform(2, 10, n)
    arrival = 5.0 + tt + rng.normal(0, 0.05, n)
    arrival[[3, 11]] += [2.0, -1.5]
    obs = Observations(event_id="e", station_xyz_km=np.zeros((n, 3)), phase_idx=np.zeros(n),
                       arrival_s=arrival, sigma_s=np.full(n, 0.05))
    models = (ErrorModel(fraction=0, min_s=0.0, max_s=0.0),) * 2
    used, notes = flag_outliers(obs, _result_for(obs, tt), models, outlier_sigmas=5,
                                min_picks=4)
    assert sorted(notes) == [3, 11] and used.sum() == n - 2
    assert "residual +2.0" in notes[3] and "left out" in notes[3]
    # never fewer than min_picks: with min_picks = n - 1 only the worst one goes
    used, notes = flag_outliers(obs, _result_for(obs, tt), models, outlier_sigmas=5,
                                min_picks=n - 1)
    assert list(notes) == [3]


def test_station_terms_from_residuals_and_applied():
    rng = np.random.default_rng(3)
    stations = [f"XX.S{k}" for k in range(5)]
    delay = dict(zip(stations, [0.2, -0.1, 0.0, 0.15, -0.2]))
    results, observations = [], []
    for e in range(12):
        tt = rng.uniform(2, 10, 5)
        arrival = tt + np.array([delay[s] for s in stations]) + rng.normal(0, 0.01, 5)
        obs = Observations(event_id=f"e{e}", station_xyz_km=np.zeros((5, 3)),
                           phase_idx=np.zeros(5), arrival_s=arrival, sigma_s=np.full(5, 0.05),
                           station_ids=stations)
        observations.append(obs)
        results.append(_result_for(obs, tt))
    terms = estimate_station_terms(results, observations, min_picks=3)
    for s in stations:
        value, n = terms[(s, "P")]
        assert n == 12
        assert value == pytest.approx(delay[s] * 12 / 14, abs=0.01)  # shrunk by n / (n + 2)
    corrected = apply_station_terms(observations[0], {(s, "P"): delay[s] for s in stations})
    np.testing.assert_allclose(corrected.arrival_s - results[0].travel_time_s, 0, atol=0.04)


_Homogeneous = Homogeneous


def test_catalogue_run_estimates_the_error_model_and_leaves_outliers_out():
    """Straight-ray events with 0.1 s of model-like noise on 0.02 s picks and one 2 s outlier
    per event: the estimated P term is ~0.1 s (the prior says 0.1-2 s, 10 % of T), and every
    moved pick is left out."""
    rng = np.random.default_rng(4)
    models = (_Homogeneous(6.0), _Homogeneous(3.5))
    stations = np.column_stack([rng.uniform(-30, 30, (14, 2)), -rng.uniform(0, 1, 14)])
    events, moved = [], []
    for e in range(6):
        src = np.array([rng.uniform(-10, 10), rng.uniform(-10, 10), rng.uniform(3, 15)])
        xyz = np.vstack([stations, stations])
        phase = np.r_[np.zeros(14), np.ones(14)].astype(int)
        tt = np.linalg.norm(xyz - src, axis=1) / np.where(phase == 0, 6.0, 3.5)
        arrival = tt + rng.normal(0, np.hypot(0.02, 0.1), 28)
        k = int(rng.integers(28))
        arrival[k] += 2.0
        moved.append(k)
        events.append(Observations(event_id=f"e{e}", station_xyz_km=xyz, phase_idx=phase,
                                   arrival_s=arrival, sigma_s=np.full(28, 0.02)))
    run = locate_catalogue(events, models, svgd=SVGDConfig(n_particles=24, n_epochs=40),
                           search=SearchConfig(margin_km=5.0),
                           estimation=EstimationConfig(prior_particles=16, prior_epochs=30))
    p, s = run.error_models
    assert p.source == s.source == "estimated"
    assert p.model.min_s == pytest.approx(0.1, rel=0.35)  # 84 residuals: +-10 % noise
    assert run.n_passes >= 2
    for res, obs, k in zip(run.results, run.observations, moved):
        assert not obs.used[k] and k in res.pick_notes
        assert res.weight[k] == 0 and res.extra["n_outliers"] >= 1
        assert "estimated from" in res.extra["error_model"]


def test_given_error_model_is_used_as_given():
    models = (_Homogeneous(6.0), _Homogeneous(3.5))
    rng = np.random.default_rng(5)
    xyz = np.column_stack([rng.uniform(-20, 20, (8, 2)), np.zeros(8)])
    tt = np.linalg.norm(xyz - [0, 0, 8], axis=1) / 6.0
    obs = Observations(event_id="e", station_xyz_km=xyz, phase_idx=np.zeros(8), arrival_s=tt,
                       sigma_s=np.full(8, 0.05))
    given = ErrorModel(fraction=0.0, min_s=0.02, max_s=0.02)
    run = locate_catalogue([obs], models, svgd=SVGDConfig(n_particles=16, n_epochs=20),
                           likelihood=LikelihoodConfig(error_model=given),
                           search=SearchConfig(margin_km=5.0))
    assert run.n_passes == 2  # a short pass for the outliers, then the final one
    assert [e.source for e in run.error_models] == ["given", "given"]
    assert run.error_models[0].model == given


def test_picks_left_out_before_the_search_are_not_judged_again():
    rng = np.random.default_rng(6)
    n = 12
    tt = rng.uniform(2, 10, n)
    arrival = tt + rng.normal(0, 0.05, n)
    obs = Observations(event_id="e", station_xyz_km=np.zeros((n, 3)), phase_idx=np.zeros(n),
                       arrival_s=arrival, sigma_s=np.full(n, 0.05))
    tt_nan = tt.copy()
    tt_nan[0] = np.nan  # outside the models' domain: no prediction
    eligible = np.ones(n, bool)
    eligible[0] = False
    used, notes = flag_outliers(obs, _result_for(obs, tt_nan), (ErrorModel(),) * 2,
                                outlier_sigmas=5, min_picks=4, eligible=eligible)
    assert not used[0] and used[1:].all() and not notes


def test_a_location_most_picks_disagree_with_flags_none():
    """A short pass that went astray must not leave only the few picks it fits."""
    rng = np.random.default_rng(7)
    n = 20
    tt = rng.uniform(2, 10, n)
    arrival = tt + rng.normal(0, 0.05, n)
    wrong_tt = tt + rng.normal(0, 1.0, n)  # predictions of a location far off
    obs = Observations(event_id="e", station_xyz_km=np.zeros((n, 3)), phase_idx=np.zeros(n),
                       arrival_s=arrival, sigma_s=np.full(n, 0.05))
    models = (ErrorModel(fraction=0, min_s=0.0, max_s=0.0),) * 2
    used, notes = flag_outliers(obs, _result_for(obs, wrong_tt), models, outlier_sigmas=5,
                                min_picks=4, max_share=0.3)
    assert used.all() and not notes


def test_catalogue_run_estimates_station_terms():
    """Straight-ray events whose picks at two stations come 0.3 s late and 0.2 s early: the
    terms, solved jointly with the locations, match the delays less their mean (the one part
    no data can tell from the origin times) within 0.05 s, and do not drift over six
    iterations (iterated medians reached 0.7 s at stations without delay). Every location's
    uncertainty gains the terms' part."""
    rng = np.random.default_rng(9)
    models = (Homogeneous(6.0), Homogeneous(3.5))
    stations = np.column_stack([rng.uniform(-30, 30, (12, 2)), np.zeros(12)])
    ids = [f"XX.S{k:02d}" for k in range(12)]
    delay = np.zeros(12)
    delay[[2, 7]] = [0.3, -0.2]
    events = []
    for e in range(16):
        src = np.array([rng.uniform(-10, 10), rng.uniform(-10, 10), rng.uniform(4, 15)])
        tt = np.linalg.norm(stations - src, axis=1) / 6.0
        events.append(Observations(event_id=f"e{e}", station_xyz_km=stations,
                                   phase_idx=np.zeros(12, int),
                                   arrival_s=tt + delay + rng.normal(0, 0.02, 12),
                                   sigma_s=np.full(12, 0.02), station_ids=ids))
    run = locate_catalogue(events, models, svgd=SVGDConfig(n_particles=40, n_epochs=80),
                           likelihood=LikelihoodConfig(error_model=ErrorModel(
                               fraction=0.0, min_s=0.02, max_s=0.02)),
                           search=SearchConfig(margin_km=5.0),
                           estimation=EstimationConfig(prior_particles=24, prior_epochs=50,
                                                       station_iterations=6),
                           estimate_terms=True)
    terms = np.array([run.station_terms[(s, "P")] for s in ids])
    assert np.abs(terms - (delay - delay.mean())).max() < 0.05
    assert run.station_term_counts[("XX.S02", "P")] == 16
    assert run.joint_terms is not None and run.joint_terms.n_events == 16
    for res in run.results:
        assert res.extra["station_term_sd_km"] > 0 and res.extra["station_term_sd_s"] > 0


def test_picks_beyond_the_maximum_distance_are_left_out_with_the_reason():
    models = (_Homogeneous(6.0), _Homogeneous(3.5))
    rng = np.random.default_rng(9)
    xyz = np.column_stack([rng.uniform(-60, 60, (40, 2)), np.zeros(40)])
    source = np.array([3.0, -2.0, 8.0])
    tt = np.linalg.norm(xyz - source, axis=1) / 6.0
    obs = Observations(event_id="e", station_xyz_km=xyz, phase_idx=np.zeros(40),
                       arrival_s=tt + rng.normal(0, 0.02, 40), sigma_s=np.full(40, 0.05))
    given = ErrorModel(fraction=0.0, min_s=0.02, max_s=0.02)
    run = locate_catalogue([obs], models, svgd=SVGDConfig(n_particles=32, n_epochs=60),
                           likelihood=LikelihoodConfig(error_model=given),
                           search=SearchConfig(margin_km=5.0, max_distance_km=40.0))
    (res,) = run.results
    assert np.linalg.norm(res.hypocentre_xyz_km - source) < 1.0
    # judged at the location of the pass before: allow the location's last move (< 1 km)
    distance = np.hypot(*(xyz[:, :2] - res.hypocentre_xyz_km[:2]).T)
    noted = set(res.pick_notes)
    assert set(np.flatnonzero(distance > 41.0).tolist()) <= noted
    assert noted <= set(np.flatnonzero(distance > 39.0).tolist())
    assert all("beyond the maximum distance of 40 km" in res.pick_notes[i] for i in noted)
    assert np.all(res.weight[list(noted)] == 0) and res.weight.sum() == 40 - len(noted) >= 10
