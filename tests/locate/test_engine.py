"""Batched location: per-phase padding, and results that do not depend on the batch."""

import numpy as np
import pytest
import torch
from straight_rays import Homogeneous

from obspy_hyposvi.locate.engine import (
    SearchConfig,
    _pad_by_phase,
    _travel_times,
    locate_events,
)
from obspy_hyposvi.locate.observations import Observations
from obspy_hyposvi.locate.result import LocationResult
from obspy_hyposvi.locate.svgd import SVGDConfig

#: Same event alone or with others: equal to float64 round-off (a few ulp of ~100 km).
BATCH_ATOL_KM = 1e-9


_Homogeneous = Homogeneous


MODELS = (_Homogeneous(6.0), _Homogeneous(3.5))


def _event(event_id: str, source_xyz_km, n_stations: int, s_every: int,
           seed: int) -> Observations:
    """Exact P times at every station and S times at every ``s_every``-th, origin time 0."""
    rng = np.random.default_rng(seed)
    stations = np.column_stack([rng.uniform(-30, 30, (n_stations, 2)),
                                -rng.uniform(0, 1.5, n_stations)])
    phase = np.array([0] * n_stations + [1] * len(stations[::s_every]))
    xyz = np.vstack([stations, stations[::s_every]])
    # interleave P and S picks: the observation order must not matter
    order = rng.permutation(len(phase))
    xyz, phase = xyz[order], phase[order]
    distance = np.linalg.norm(xyz - np.asarray(source_xyz_km), axis=1)
    arrival = distance / np.where(phase == 0, 6.0, 3.5)
    return Observations(event_id=event_id, station_xyz_km=xyz, phase_idx=phase,
                        arrival_s=arrival, sigma_s=np.full(len(phase), 0.05))


EVENTS = [_event("a", [2.0, -3.0, 8.0], 9, 2, 0),
          _event("b", [-5.0, 4.0, 15.0], 12, 3, 1),
          _event("c", [0.0, 0.0, 4.0], 7, 100, 2)]  # one S pick only


def test_each_phase_model_sees_only_its_picks():
    from obspy_hyposvi.locate.likelihood import ErrorModel

    picks = _pad_by_phase(EVENTS, (ErrorModel(),) * 2, torch.float64, torch.device("cpu"))
    assert picks.mask.sum(1).tolist() == [e.n_picks for e in EVENTS]
    sources = torch.tensor([[2.0, -3.0, 8.0], [-5.0, 4.0, 15.0], [0.0, 0.0, 4.0]],
                           dtype=torch.float64)[:, None, :]
    times = _travel_times(MODELS, sources, picks)[:, 0, :]
    residual = (picks.arrival_s - times)[picks.mask]
    # at the true source every real pick is explained by the model of its own phase
    assert torch.allclose(residual, torch.zeros_like(residual), atol=1e-12)
    # and a real pick never lands in a padding slot
    for i, event in enumerate(EVENTS):
        assert sorted(picks.arrival_s[i][picks.mask[i]].tolist()) == sorted(
            event.arrival_s.tolist())


def test_result_does_not_depend_on_the_batch():
    settings = {"svgd": SVGDConfig(n_particles=20, n_epochs=15, seed=3),
                "search": SearchConfig(margin_km=10.0)}
    together = locate_events(EVENTS, MODELS, **settings)
    alone = [locate_events([e], MODELS, **settings)[0] for e in EVENTS]
    for a, b in zip(together, alone):
        assert isinstance(a, LocationResult) and isinstance(b, LocationResult)
        np.testing.assert_allclose(a.particles_xyz_km, b.particles_xyz_km, rtol=0,
                                   atol=BATCH_ATOL_KM)
        assert a.origin_time_s == pytest.approx(b.origin_time_s, abs=1e-9)


def test_annealed_errors_bring_the_particles_to_the_main_mode():
    """Errors of a few hundredths of a second make the EDT likelihood a maze of ridges;
    started uniformly in the box, most particles stop on one unless the errors start wide
    (SearchConfig.anneal_*). Synthetic socal-1d events, bundled models, matched errors: the
    annealed search gathers them without any rescue."""
    from obspy_hyposvi.bridge.picks import PickConfig
    from obspy_hyposvi.bridge.synthetic import synthetic_catalog
    from obspy_hyposvi.eikonet.model import load_model
    from obspy_hyposvi.locate.likelihood import ErrorModel, LikelihoodConfig
    from obspy_hyposvi.locator import Locator

    catalog, inventory, _ = synthetic_catalog(2, 25, seed=7, pick_noise_s=0.05)
    models = [load_model("socal-1d", phase) for phase in "PS"]
    fractions, converged, rescued = {}, {}, {}
    for factor in (20.0,):
        # uniform starts (no candidate screening): the annealing alone is under test
        locator = Locator(*models, search=SearchConfig(anneal_factor=factor, init_candidates=1),
                          likelihood=LikelihoodConfig(error_model=ErrorModel(
                              fraction=0.0, min_s=0.024, max_s=0.024)),
                          picks=PickConfig(default_sigma_s=0.05))
        report = locator.run(catalog, inventory)
        # the share of particles that sample the posterior (within 10.6 of the best)
        fractions[factor] = [r.extra["placed_fraction"] for r in report.results]
        converged[factor] = [r.converged for r in report.results]
        rescued[factor] = [r.extra["depth_rescue"] for r in report.results]
    # (without annealing 87-94 % of the particles stopped on ridges, before the depth scan
    # of _rescue_stranded_depths existed; the scan now also catches many of those)
    assert min(fractions[20.0]) > 0.8 and all(converged[20.0]) and not any(rescued[20.0])


def test_error_inflation_schedule_and_checks():
    search = SearchConfig(anneal_factor=16.0, anneal_fraction=0.5)
    assert search.error_inflation(0.0) == pytest.approx(16.0)
    assert search.error_inflation(0.25) == pytest.approx(4.0)
    assert search.error_inflation(0.5) == search.error_inflation(1.0) == 1.0
    with pytest.raises(ValueError, match="anneal_factor"):
        SearchConfig(anneal_factor=0.5)
    with pytest.raises(ValueError, match="anneal_fraction"):
        SearchConfig(anneal_fraction=1.0)
    with pytest.raises(ValueError, match="init_candidates"):
        SearchConfig(init_candidates=0)


def test_summary_flags_stuck_particles_but_not_a_wide_posterior():
    """Converged means most particles sit within 10.6 of the best log-posterior (_summarise):
    a wide posterior is summarised by all its particles, while particles stranded far below
    the peak are flagged."""
    from obspy_hyposvi.locate.likelihood import ErrorModel, LikelihoodConfig
    from obspy_hyposvi.locate.engine import _pad_by_phase, _summarise, _times_and_takeoff
    from obspy_hyposvi.locate.posterior import summarise_posterior
    from obspy_hyposvi.locate.summary import SummaryConfig, kde_map

    rng = np.random.default_rng(0)
    obs = EVENTS[0]
    info = {"n_epochs": 1}
    box = (np.array([-60.0, -60.0, -3.0]), np.array([60.0, 60.0, 60.0]))
    # the event's picks are exact: with 0.05 s errors, normalised residuals are ~0
    models = (ErrorModel(fraction=0.0, min_s=0.0, max_s=0.0),) * 2

    def summarise(particles, log_prob):
        n = len(particles)
        post = summarise_posterior(particles, log_prob)
        picks = _pad_by_phase([obs], models, torch.float64, torch.device("cpu"))
        tt, takeoff = _times_and_takeoff(MODELS, post.hypocentre_km[None], picks, "cpu",
                                         torch.float64)
        slot = picks.pick_slot[0]
        return _summarise(obs, particles, log_prob, np.zeros(n), np.full(n, 1e-4), post,
                          kde_map(particles[post.mode_mask]), tt[0, slot], takeoff[0, slot],
                          models, LikelihoodConfig(), SummaryConfig(), info, box)

    # wide posterior: 150 particles spread ~10 km, all within 3 of the peak
    wide = np.array([2.0, -3.0, 8.0]) + rng.normal(0.0, 10.0, (150, 3))
    res = summarise(wide, -rng.uniform(0.0, 3.0, 150))
    assert res.extra["placed_fraction"] == 1.0 and res.extra["n_modes"] == 1
    assert np.sqrt(np.diag(res.covariance_km2)).min() > 7.0  # the posterior's width, not 0.8 km
    # 20 particles at the mode, 130 stranded on ridges 40 units below
    stuck = np.vstack([np.array([2.0, -3.0, 8.0]) + rng.normal(0, 0.1, (20, 3)),
                       rng.uniform(-60, 60, (130, 3))])
    res = summarise(stuck, np.r_[-rng.uniform(0, 2, 20), -40.0 - rng.uniform(0, 20, 130)])
    assert not res.converged and "did not gather" in res.quality_note
    assert res.extra["placed_fraction"] == pytest.approx(20 / 150)
    assert res.converged is False
    # a solution far above the highest station is rejected as such
    above = np.array([2.0, -3.0, -2.9]) + rng.normal(0, 0.01, (150, 3))
    res = summarise(above, -rng.uniform(0.0, 1.0, 150))
    assert "above the highest station" in res.quality_note


def test_far_station_and_absurd_times_are_left_out_not_the_event():
    """One station beyond the models' offset range, one above their depth range, and picks an
    hour late: each is left out with its reason, and the event is located from the rest."""
    from obspy_hyposvi.locate.engine import screen_events

    obs = EVENTS[1]
    xyz = obs.station_xyz_km.copy()
    n = obs.n_picks
    far = np.array([[500.0, 0.0, 0.0], [0.0, 5.0, -4.0]])  # 500 km off; 4 km above sea level
    late = np.array([3600.0, 3601.0])
    big = Observations(event_id="big", station_xyz_km=np.vstack([xyz, far, xyz[:2]]),
                       phase_idx=np.r_[obs.phase_idx, 0, 0, 0, 0],
                       arrival_s=np.r_[obs.arrival_s, 10.0, 2.0, obs.arrival_s[:2] + late],
                       sigma_s=np.full(n + 4, 0.05),
                       station_ids=[f"S{i}" for i in range(n)] + ["FAR", "HIGH", "S0", "S1"])
    ready, failures = screen_events([big], MODELS, SearchConfig(margin_km=10.0))
    assert not failures
    notes = ready[0].excluded
    assert sorted(notes) == [n, n + 1, n + 2, n + 3]
    assert "FAR is 499 km" in notes[n] and "400 km range" in notes[n]
    assert "HIGH at elevation 4000 m" in notes[n + 1]
    assert "pick time +36" in notes[n + 2] and "no source in the search box" in notes[n + 3]
    res = locate_events([big], MODELS, svgd=SVGDConfig(n_particles=20, n_epochs=15),
                        search=SearchConfig(margin_km=10.0))[0]
    assert isinstance(res, LocationResult)
    assert res.weight[n:].sum() == 0 and set(res.pick_notes) == set(notes)
    assert np.isnan(res.residual_s[n]) and np.isfinite(res.residual_s[:n]).all()


def test_a_cloud_stranded_on_a_depth_plateau_restarts_at_the_better_depth():
    """A log-posterior with a narrow mode at 8 km and a flat shoulder 40 units lower: a cloud
    left on the shoulder (zero gradient) is found by the depth scan and moved to the mode; a
    cloud already at the mode is left alone."""
    from obspy_hyposvi.locate.engine import _rescue_stranded_depths

    mode = torch.tensor([1.0, 2.0, 8.0], dtype=torch.float64)

    def log_prob(x, fraction_done=1.0):
        gauss = -0.5 * (((x - mode) / 0.3) ** 2).sum(-1)
        return torch.maximum(gauss, torch.full_like(gauss, -40.0))

    gen = torch.Generator().manual_seed(0)
    stranded = torch.tensor([1.0, 2.0, -2.0]) + 0.1 * torch.randn(
        40, 3, generator=gen, dtype=torch.float64)
    placed = mode + 0.3 * torch.randn(40, 3, generator=gen, dtype=torch.float64)
    particles = torch.stack([stranded, placed])
    lower = torch.tensor([-20.0, -20.0, -2.5], dtype=torch.float64)[None, None, :]
    upper = torch.tensor([20.0, 20.0, 60.0], dtype=torch.float64)[None, None, :]
    # the target does not depend on the event: any sub-batch gets the same log_prob
    moved, rescued = _rescue_stranded_depths(log_prob, lambda idx: log_prob, particles, lower,
                                             upper,
                                             SVGDConfig(n_particles=40, n_epochs=60), ["a", "b"])
    assert rescued.tolist() == [True, False]
    assert torch.equal(moved[1], particles[1])  # left alone
    assert abs(float(moved[0, :, 2].mean()) - 8.0) < 0.3  # the scan's 0.66 km step, refined


def test_a_cloud_mostly_left_on_the_wall_is_gathered_around_its_best_particle():
    """As synthetic events 1-3 km deep did: a tenth of the particles sample the basin, the
    rest sit on the top wall 40 log-units lower (the depth scan below the best particle gains
    nothing). The cloud restarts around the best particle and then samples the basin (mean
    and spread of the 0.3 km Gaussian); a cloud that gathered is left alone."""
    from obspy_hyposvi.locate.engine import _rescue_ungathered
    from obspy_hyposvi.locate.posterior import PLACED_LOG_PROB

    mode = torch.tensor([1.0, 2.0, 8.0], dtype=torch.float64)

    def log_prob(x, fraction_done=1.0):
        gauss = -0.5 * (((x - mode) / 0.3) ** 2).sum(-1)
        return torch.maximum(gauss, torch.full_like(gauss, -40.0))

    gen = torch.Generator().manual_seed(2)
    in_basin = mode + 0.3 * torch.randn(60, 3, generator=gen, dtype=torch.float64)
    split = in_basin.clone()
    split[6:] = torch.tensor([4.0, 0.0, -2.5]) + 0.2 * torch.randn(54, 3, generator=gen,
                                                                   dtype=torch.float64)
    split[6:, 2] = -2.5  # clamped on the wall
    particles = torch.stack([split, in_basin])
    lower = torch.tensor([-20.0, -20.0, -2.5], dtype=torch.float64)[None, None, :]
    upper = torch.tensor([20.0, 20.0, 60.0], dtype=torch.float64)[None, None, :]
    moved, rescued = _rescue_ungathered(log_prob, lambda idx: log_prob, particles, lower, upper,
                                        SVGDConfig(n_particles=60, n_epochs=150), ["a", "b"],
                                        0.5)
    assert rescued.tolist() == [True, False]
    assert torch.equal(moved[1], particles[1])  # left alone
    lp = log_prob(moved[0])
    assert float((lp >= lp.max() - PLACED_LOG_PROB).double().mean()) == 1.0
    assert float((moved[0].mean(0) - mode).abs().max()) < 0.1
    # the spread of the target (SVGD with 60 particles: within 20 %)
    assert torch.allclose(moved[0].std(0), torch.full((3,), 0.3, dtype=torch.float64),
                          rtol=0.2)


def test_a_cloud_on_the_top_wall_beside_the_epicentre_is_found_by_the_wider_scan():
    """Particles clamped on the box's top wall 2.7 km east of the mode: the vertical below
    them only sees the floor of the log-posterior (no gain), the square scan around them finds
    the basin and the cloud restarts there; a cloud on the wall above the mode is rescued by
    the vertical scan as before."""
    from obspy_hyposvi.locate.engine import _rescue_stranded_depths

    mode = torch.tensor([1.0, 2.0, 8.0], dtype=torch.float64)

    def log_prob(x, fraction_done=1.0):
        gauss = -0.5 * (((x - mode) / 0.3) ** 2).sum(-1)
        return torch.maximum(gauss, torch.full_like(gauss, -40.0))

    gen = torch.Generator().manual_seed(1)
    top = -2.5
    noise = 0.05 * torch.randn(2, 40, 3, generator=gen, dtype=torch.float64)
    beside = torch.tensor([3.7, 2.0, top], dtype=torch.float64) + noise[0]
    above = torch.tensor([1.0, 2.0, top], dtype=torch.float64) + noise[1]
    particles = torch.stack([beside, above])
    particles[..., 2] = top  # clamped on the wall
    lower = torch.tensor([-20.0, -20.0, top], dtype=torch.float64)[None, None, :]
    upper = torch.tensor([20.0, 20.0, 60.0], dtype=torch.float64)[None, None, :]
    assert float(log_prob(torch.tensor([3.7, 2.0, 8.0], dtype=torch.float64))) == -40.0
    moved, rescued = _rescue_stranded_depths(log_prob, lambda idx: log_prob, particles, lower,
                                             upper,
                                             SVGDConfig(n_particles=40, n_epochs=60), ["a", "b"])
    assert rescued.tolist() == [True, True]
    for k in range(2):
        assert float(torch.linalg.norm(moved[k].mean(0) - mode)) < 0.3


def test_a_cloud_on_the_top_wall_needs_less_gain_to_restart_than_one_inside():
    """A shelf 2 log-units below the mode, just under the top wall: a cloud flattened on the
    wall restarts at the mode (a wall cloud samples nothing: 1 log-unit is enough), a cloud on
    the shelf inside the box stays (it could be sampling a real shoulder: 3 log-units)."""
    from obspy_hyposvi.locate.engine import _rescue_stranded_depths

    mode = torch.tensor([1.0, 2.0, 8.0], dtype=torch.float64)
    top = -2.5

    def log_prob(x, fraction_done=1.0):
        gauss = -0.5 * (((x - mode) / 0.3) ** 2).sum(-1)
        shelf = torch.where(x[..., 2] < top + 0.3, -2.0, -40.0).to(gauss)
        return torch.maximum(gauss, shelf)

    gen = torch.Generator().manual_seed(2)
    noise = 0.05 * torch.randn(2, 40, 3, generator=gen, dtype=torch.float64)
    wall = torch.tensor([1.0, 2.0, top], dtype=torch.float64) + noise[0]
    wall[:, 2] = top
    shelf = torch.tensor([1.0, 2.0, top + 0.15], dtype=torch.float64) + noise[1]
    particles = torch.stack([wall, shelf])
    lower = torch.tensor([-20.0, -20.0, top], dtype=torch.float64)[None, None, :]
    upper = torch.tensor([20.0, 20.0, 60.0], dtype=torch.float64)[None, None, :]
    moved, rescued = _rescue_stranded_depths(log_prob, lambda idx: log_prob, particles, lower,
                                             upper,
                                             SVGDConfig(n_particles=40, n_epochs=60), ["a", "b"])
    assert rescued.tolist() == [True, False]
    assert float(torch.linalg.norm(moved[0].mean(0) - mode)) < 0.3
    assert torch.equal(moved[1], particles[1])


def test_picks_of_a_source_far_outside_the_box_give_a_rejected_origin():
    """Picks from a source 130 km outside the search box: the best point in the box is on
    its wall and leaves residuals far above the pick errors; both checks reject it."""
    rng = np.random.default_rng(8)
    xyz = np.column_stack([rng.uniform(-20, 20, (12, 2)), np.zeros(12)])
    src = np.array([150.0, 0.0, 10.0])
    phase = np.r_[np.zeros(12), np.ones(12)].astype(int)
    both = np.vstack([xyz, xyz])
    arrival = np.linalg.norm(both - src, axis=1) / np.where(phase == 0, 6.0, 3.5)
    obs = Observations(event_id="far", station_xyz_km=both, phase_idx=phase,
                       arrival_s=arrival + rng.normal(0, 0.05, 24), sigma_s=np.full(24, 0.05))
    from obspy_hyposvi.locate.likelihood import ErrorModel, LikelihoodConfig

    res = locate_events([obs], MODELS, svgd=SVGDConfig(n_particles=30, n_epochs=60),
                        likelihood=LikelihoodConfig(error_model=ErrorModel(
                            fraction=0.0, min_s=0.02, max_s=0.02)),
                        search=SearchConfig(margin_km=10.0))[0]
    assert not res.converged
    assert "times the pick errors" in res.quality_note
    assert res.extra["normalised_rms"] > 3


def test_all_phases_in_one_table_call_locate_as_the_per_phase_tables(monkeypatch):
    # the GPU path (PhaseTables: one grid_sample for every phase) forced on the CPU against
    # the per-phase gathers: same interpolant, so the same locations up to float32 round-off
    import obspy_hyposvi.locate.engine as engine
    from obspy_hyposvi.eikonet.model import load_model
    from obspy_hyposvi.eikonet.table import PhaseTables

    models = tuple(load_model("socal-1d", phase) for phase in "PS")
    rng = np.random.default_rng(4)
    stations = np.column_stack([rng.uniform(-30, 30, (10, 2)), -rng.uniform(0, 1.5, 10)])
    source = np.array([3.0, -2.0, 9.0])
    xyz = np.vstack([stations, stations[::2]])
    phase = np.array([0] * 10 + [1] * 5)
    arrival = np.concatenate([models[k].travel_time(source[None], xyz[phase == k])
                              for k in (0, 1)])
    event = Observations(event_id="tab", station_xyz_km=xyz, phase_idx=phase,
                         arrival_s=arrival, sigma_s=np.full(15, 0.05))
    from obspy_hyposvi.locate.likelihood import ErrorModel, LikelihoodConfig

    exact = ErrorModel(fraction=0.0, min_s=0.02, max_s=0.02)  # sharp: the clouds must agree
    settings = {"svgd": SVGDConfig(n_particles=50, n_epochs=120, seed=1),
                "likelihood": LikelihoodConfig(error_model=exact),
                "search": SearchConfig(margin_km=10.0)}
    per_phase = locate_events([event], models, **settings)[0]
    used = []

    def stacked(tables, device):
        used.append(PhaseTables.compatible(tables))
        return PhaseTables(tables)

    monkeypatch.setattr(engine, "_stacked_tables", stacked)
    together = locate_events([event], models, **settings)[0]
    assert used == [True]
    np.testing.assert_allclose(together.hypocentre_xyz_km, per_phase.hypocentre_xyz_km,
                               atol=0.01)  # km
    assert together.origin_time_s == pytest.approx(per_phase.origin_time_s, abs=1e-3)
    np.testing.assert_allclose(np.sqrt(np.diag(together.covariance_km2)),
                               np.sqrt(np.diag(per_phase.covariance_km2)), rtol=0.05)
    # and both found the source
    assert np.linalg.norm(together.hypocentre_xyz_km - source) < 0.3


def test_light_summary_leaves_out_the_kde_peak_and_takeoff_angles_only():
    """Intermediate passes of a catalogue need the residuals only: the same particles,
    hypocentres, residuals and uncertainties, without the kernel-density peak and take-off
    angles."""
    from obspy_hyposvi.locate.engine import locate_ready, screen_events
    from obspy_hyposvi.locate.likelihood import ErrorModel, LikelihoodConfig
    from obspy_hyposvi.locate.summary import SummaryConfig

    search = SearchConfig(margin_km=10.0)
    ready, failures = screen_events(EVENTS, MODELS, search)
    assert not failures
    settings = dict(svgd=SVGDConfig(n_particles=20, n_epochs=15, seed=3),
                    likelihood=LikelihoodConfig(error_model=ErrorModel()),
                    summary=SummaryConfig(), search=search)
    full = locate_ready(ready, MODELS, **settings)
    light = locate_ready(ready, MODELS, **settings, light=True)
    for a, b in zip(full, light):
        np.testing.assert_array_equal(a.particles_xyz_km, b.particles_xyz_km)
        np.testing.assert_array_equal(a.hypocentre_xyz_km, b.hypocentre_xyz_km)
        np.testing.assert_allclose(a.residual_s, b.residual_s, rtol=0, atol=1e-12)
        np.testing.assert_allclose(a.travel_time_s, b.travel_time_s, rtol=0, atol=1e-12)
        assert a.origin_time_uncertainty_s == b.origin_time_uncertainty_s
        assert np.all(np.isfinite(a.kde_mode_xyz_km)) and np.all(np.isnan(b.kde_mode_xyz_km))
        assert np.all(np.isfinite(a.takeoff_deg)) and np.all(np.isnan(b.takeoff_deg))
