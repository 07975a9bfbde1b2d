"""Locate a catalogue in passes: the error model and outlier picks learnt from its residuals.

A single SVGD pass needs the travel-time error of every pick before it starts. The paper fixes
it by hand (10 % of the travel time, at least 0.1 s); for good picks that is 2-20 times the real
scatter, and the posteriors come out several times wider than the data allow, which costs
accuracy as well as honesty. Here the catalogue's own residuals set it (empirical Bayes):

1. **Prior pass.** Every event is located with the prior error model, with fewer particles and
   epochs (:class:`EstimationConfig`): only the residuals are needed.
2. **Error model.** Per phase, the forward-model error ``clip(f T, a, max)`` that, added to the
   stated pick errors, best explains the residuals (each event's residuals about their median,
   scaled by ``sqrt(n / (n - 4))`` for the four fitted unknowns), by maximum likelihood under a
   Gaussian with a uniform outlier share, on a grid (:func:`estimate_error_model`). A phase
   with fewer than ``min_residuals`` residuals keeps the prior, and says so.
3. **Outliers.** A pick whose residual is more than ``outlier_sigmas`` of its total error from
   the rest of its event is left out of the likelihood (kept in the event, with its residual);
   at least ``min_picks`` picks stay.
4. **Refinement pass** (prior size) with that model and without the outliers, whose
   residuals, from better locations, give the model and the outliers again.
5. **Final pass** at full size. The outliers are checked once more at the final locations, and
   events whose flags changed are located again.

Station terms (optional) are per-station, per-phase static corrections (as NonLinLoc's
LOCDELAY or HypoInverse's delays), subtracted from the arrival times before the next pass.
They are estimated jointly with the locations (:mod:`~obspy_hyposvi.locate.joint_terms`: every
event's position and origin time eliminated from the linearised residuals, a Gaussian prior on
the delays whose spread is estimated), and their posterior uncertainty is added to every
location's covariance and origin-time error after the final pass: errors of the terms move
all events that share the stations together, which no per-event error model can see.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from ..settings import Interval, Settings
from .likelihood import ErrorModel, LikelihoodConfig
from ..eikonet.table import TableCache
from .engine import (
    ReadyEvent,
    SearchConfig,
    locate_ready,
    log_quality,
    screen_events,
    total_sigma,
)
from .observations import Observations
from .result import LocationResult
from .joint_terms import (
    JointTerms,
    TermData,
    design_matrix,
    solve_joint_terms,
    source_gradients,
    term_covariance_of_event,
)
from .summary import SummaryConfig, confidence_ellipsoid, horizontal_ellipse
from .svgd import SVGDConfig

__all__ = ["EstimationConfig", "ErrorModelEstimate", "CatalogueRun", "estimate_error_model",
           "flag_outliers", "distant_picks", "estimate_station_terms", "apply_station_terms",
           "joint_station_terms", "widen_for_station_terms",
           "locate_catalogue"]

logger = logging.getLogger(__name__)

#: ``(n_events, ...)`` locations of one pass: a function of the events and the settings,
#: called as ``locate_pass(events, svgd, likelihood, final=...)``; ``final=False`` (the
#: intermediate passes) allows a light summary (``locate_ready(..., light=True)``).
LocatePass = Callable[..., list]

_PHASES = ("P", "S")


@dataclass(frozen=True, kw_only=True)
class EstimationConfig(Settings):
    """How a catalogue's error model, outliers and station terms are estimated.

    Parameters
    ----------
    prior_particles, prior_epochs
        SVGD size of the prior pass (its locations only provide residuals).
    min_residuals
        Fewest residuals of a phase to estimate its error model; fewer keep the prior.
    outlier_sigmas
        A pick further than this many total standard deviations from the rest of its event
        is an outlier. 5: a good pick gets there once in ~2 million.
    max_outlier_share
        An event whose picks would be more than this share outliers keeps them all: its
        location, not its picks, is off (the final checks judge it).
    min_station_picks
        Fewest used picks of a station and phase to estimate its term.
    station_iterations
        Passes of station-term estimation (each relocates the catalogue).
    station_term_sigma_s
        Prior spread (s) of the station delays, both phases; None (default) estimates it per
        phase from the catalogue (maximum marginal likelihood).
    """

    prior_particles: int = 64
    prior_epochs: int = 100
    min_residuals: int = 30
    outlier_sigmas: float = 5.0
    max_outlier_share: float = 0.3
    min_station_picks: int = 3
    station_iterations: int = 3
    station_term_sigma_s: float | None = None

    _constraints = {
        "prior_particles": Interval(int, 2, None),
        "prior_epochs": Interval(int, 1, None),
        "min_residuals": Interval(int, 5, None),
        "outlier_sigmas": Interval(float, 1, None, closed="neither"),
        "max_outlier_share": Interval(float, 0, 1, closed="neither"),
        "min_station_picks": Interval(int, 1, None),
        "station_iterations": Interval(int, 1, None),
        "station_term_sigma_s": [None, Interval(float, 0, None, closed="neither")],
    }


@dataclass(frozen=True)
class ErrorModelEstimate:
    """The error model of one phase and where it came from.

    Attributes
    ----------
    phase
        ``"P"`` or ``"S"``.
    model
        The forward-model error term used.
    source
        ``"estimated"`` (from ``n_residuals`` residuals), ``"prior"`` (too few residuals) or
        ``"given"`` (set by the user).
    n_residuals
        Residuals it was estimated from.
    outlier_share
        Estimated share of residuals from outside the Gaussian (0 where not estimated).
    """

    phase: str
    model: ErrorModel
    source: str
    n_residuals: int = 0
    outlier_share: float = 0.0

    def describe(self) -> str:
        """One line, e.g. ``P: 0.021 s + 0.0 % of T (estimated from 812 residuals)``."""
        m = self.model
        text = f"{self.phase}: max({m.min_s:.3f} s, {100 * m.fraction:.1f} % of T)"
        if m.max_s < 1e3:
            text += f" <= {m.max_s:g} s"
        if self.source == "estimated":
            return text + f" (estimated from {self.n_residuals} residuals)"
        if self.source == "prior":
            return text + (f" (prior: {self.n_residuals} residuals, too few to estimate)")
        return text + " (given)"


@dataclass
class CatalogueRun:
    """Results of :func:`locate_catalogue`.

    Attributes
    ----------
    results
        Per input event, a :class:`LocationResult` or a :class:`LocationFailure`.
    error_models
        Per phase (P, S), the error model of the final pass.
    n_passes
        SVGD passes run over (part of) the catalogue.
    station_terms
        ``{(station_id, phase): delay_s}`` applied (given or estimated); empty if none.
    observations
        Per input event, the observations of its final pass (outliers marked unused, station
        terms subtracted).
    station_term_counts
        ``{(station_id, phase): n_picks}`` of the estimated terms.
    joint_terms
        The terms' posterior at the final locations (:class:`JointTerms`: their covariance
        and the estimated spread of the delays per phase) when they were estimated, else None.
    """

    results: list
    error_models: tuple[ErrorModelEstimate, ...]
    n_passes: int
    station_terms: dict = field(default_factory=dict)
    observations: list = field(default_factory=list)
    station_term_counts: dict = field(default_factory=dict)
    joint_terms: JointTerms | None = None


def _dof_scaled_residuals(result: LocationResult, obs: Observations) -> tuple[np.ndarray, float]:
    """Residuals of an event about their robust centre, scaled for the 4 fitted unknowns, and
    the centre (s). Unused picks are scaled too (for outlier tests) but not centred on."""
    r = obs.arrival_s - result.travel_time_s
    used = obs.used
    centre = float(np.median(r[used]))
    n = int(used.sum())
    scale = np.sqrt(n / (n - 4)) if n > 5 else np.nan
    return (r - centre) * scale, centre


#: Most residuals of one phase the error model is fitted to: a larger catalogue's are
#: subsampled (seeded, so the same catalogue gives the same model). 10 000 residuals fix the
#: scale to ~0.7 % (one standard error), far inside the grid's 13 % steps, and keep the fit
#: to about a second on one core, where 300 000 (10 000 events) took a minute.
MAX_RESIDUALS = 10_000


def estimate_error_model(residual_s: np.ndarray, travel_time_s: np.ndarray,
                         pick_sigma_s: np.ndarray, prior: ErrorModel, *,
                         min_residuals: int = 30, phase: str = "",
                         max_residuals: int = MAX_RESIDUALS) -> ErrorModelEstimate:
    """Forward-model error ``clip(f T, a, prior.max_s)`` that best explains residuals.

    Maximum likelihood on a grid of ``a`` (5 ms to 2 s) and ``f`` (0 to 20 %), the residuals
    modelled as ``(1 - e) N(0, sigma_pick^2 + clip(f T, a)^2) + e U(-W, W)``: the uniform share
    ``e`` (also on a grid) absorbs outlier picks, so that they neither widen the model nor need
    removing first. Beyond ``max_residuals`` a seeded random subset of that size is fitted
    (``n_residuals`` still counts them all).

    Parameters
    ----------
    residual_s
        Residuals about each event's centre, s (see :func:`locate_catalogue`).
    travel_time_s, pick_sigma_s
        Predicted travel time and stated pick error of each residual, s.
    prior
        Returned when there are fewer than ``min_residuals``; its ``max_s`` bounds the estimate.
    phase
        Name for the estimate.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = rng.uniform(2, 20, 2000)
    >>> r = rng.normal(0, np.hypot(0.05, 0.03), 2000)
    >>> r[:100] += rng.uniform(1, 3, 100)                  # 5 % outliers
    >>> est = estimate_error_model(r, t, np.full(2000, 0.05), ErrorModel())
    >>> round(est.model.min_s, 2), est.model.fraction < 0.002, est.source
    (0.03, True, 'estimated')
    """
    r = np.asarray(residual_s, float)
    t = np.asarray(travel_time_s, float)
    sp = np.asarray(pick_sigma_s, float)
    ok = np.isfinite(r) & np.isfinite(t) & np.isfinite(sp)
    r, t, sp = r[ok], t[ok], sp[ok]
    n_all = int(r.size)
    if n_all < min_residuals:
        return ErrorModelEstimate(phase, prior, "prior", n_all)
    if n_all > max_residuals:
        keep = np.sort(np.random.default_rng(0).choice(n_all, max_residuals, replace=False))
        r, t, sp = r[keep], t[keep], sp[keep]
    a_grid = np.geomspace(0.005, 2.0, 48)
    f_grid = np.concatenate([[0.0], np.geomspace(0.001, 0.2, 24)])
    share_grid = np.array([0.0, 0.003, 0.01, 0.03, 0.1, 0.2, 0.35])
    width = max(float(np.abs(r).max()), 1.0)
    r2, sp2 = r**2, sp**2
    best, best_ll = (prior.min_s, prior.fraction, 0.0), -np.inf
    for f in f_grid:
        # (n_a, n) variances for every a at this f
        forward = np.minimum(np.maximum(f * t[None, :], a_grid[:, None]), prior.max_s)
        var = sp2[None, :] + forward**2
        log_gauss = -0.5 * (r2[None, :] / var + np.log(2 * np.pi * var))
        # the mixture as (1 - e) p + e / 2W: one exp for all shares, then a log per share
        # (p underflows only where the uniform term dominates anyway)
        gauss = np.exp(log_gauss)
        for share in share_grid:
            if share == 0:
                ll = log_gauss.sum(axis=1)
            else:
                ll = np.log((1.0 - share) * gauss + share / (2 * width)).sum(axis=1)
            i = int(np.argmax(ll))
            if ll[i] > best_ll:
                best_ll, best = ll[i], (float(a_grid[i]), float(f), float(share))
    a, f, share = best
    return ErrorModelEstimate(phase, ErrorModel(fraction=f, min_s=a, max_s=max(prior.max_s, a)),
                              "estimated", n_all, share)


def _phase_estimates(results: Sequence, observations: Sequence[Observations],
                     likelihood: LikelihoodConfig, config: EstimationConfig,
                     ) -> tuple[ErrorModelEstimate, ...]:
    """Per-phase error models from the used picks of located events."""
    parts: dict[int, list] = {0: [], 1: []}
    for res, obs in zip(results, observations):
        if not isinstance(res, LocationResult) or obs is None:
            continue
        scaled, _ = _dof_scaled_residuals(res, obs)
        for k in parts:
            sel = obs.used & (obs.phase_idx == k) & np.isfinite(scaled)
            parts[k].append((scaled[sel], res.travel_time_s[sel], obs.sigma_s[sel]))
    out = []
    for k, phase in enumerate(_PHASES):
        chunks = parts[k]
        cat = [np.concatenate([c[i] for c in chunks]) if chunks else np.empty(0) for i in range(3)]
        out.append(estimate_error_model(*cat, likelihood.prior_error_model,
                                        min_residuals=config.min_residuals, phase=phase))
    return tuple(out)


def flag_outliers(obs: Observations, result: LocationResult, models: Sequence[ErrorModel], *,
                  outlier_sigmas: float, min_picks: int, max_share: float = 0.3,
                  eligible: np.ndarray | None = None) -> tuple[np.ndarray, dict[int, str]]:
    """Picks of one event inconsistent with the rest, at its located hypocentre.

    A pick is an outlier when its residual about the median residual of the event's other
    picks exceeds ``outlier_sigmas`` total standard deviations. The worst go first, and at
    least ``min_picks`` picks stay used. When more than ``max_share`` of the picks would be
    outliers, none is: the location is then what is wrong. Picks not ``eligible`` (left out
    before the search, e.g. outside the models' domain) stay unused and are not judged.

    Returns
    -------
    used
        ``(n_picks,)`` False for outliers.
    notes
        ``{pick index: reason}`` of each outlier.
    """
    eligible = np.ones(obs.n_picks, bool) if eligible is None else np.asarray(eligible, bool)
    r = obs.arrival_s - result.travel_time_s
    sigma = total_sigma(result.travel_time_s, obs, models)
    candidate = eligible.copy()
    # the centre of the picks that look good: one pass of the median, then of the inliers
    centre = float(np.median(r[eligible]))
    for _ in range(2):
        inlier = eligible & (np.abs(r - centre) <= outlier_sigmas * sigma)
        if inlier.sum() >= min(min_picks, eligible.sum()):
            centre = float(np.median(r[inlier]))
    z = np.where(eligible, np.abs(r - centre) / sigma, -np.inf)
    order = np.argsort(-z)
    n_out = min(int(np.sum(z > outlier_sigmas)), max(int(eligible.sum()) - min_picks, 0))
    if n_out > max_share * eligible.sum():
        # most picks disagree with this location: the location is wrong, not the picks (a
        # short pass that went astray would otherwise leave only the picks it fits)
        n_out = 0
    notes = {}
    for i in order[:n_out]:
        candidate[i] = False
        notes[int(i)] = (f"outlier: residual {r[i] - centre:+.3f} s from the event's other "
                         f"picks is {z[i]:.1f} times its error {sigma[i]:.3f} s (limit "
                         f"{outlier_sigmas:g}); left out of the location")
    return candidate, notes


def distant_picks(obs: Observations, hypocentre_km: np.ndarray, max_distance_km: float,
                  used: np.ndarray, min_picks: int) -> dict[int, str]:
    """Used picks at stations further than ``max_distance_km`` from the epicentre of
    ``hypocentre_km`` (the event's frame), with the reason; the ``min_picks`` nearest used
    picks always stay.

    Examples
    --------
    >>> from obspy_hyposvi.locate.observations import Observations
    >>> obs = Observations(event_id="e", station_xyz_km=np.array(
    ...     [[0.0, 10, 0], [0, 50, 0], [0, 20, 0], [0, 120, 0], [0, 30, 0]]),
    ...     arrival_s=np.zeros(5), sigma_s=np.full(5, 0.1), phase_idx=np.zeros(5, int))
    >>> sorted(distant_picks(obs, np.zeros(3), 40.0, np.ones(5, bool), 4))
    [3]
    """
    distance = np.hypot(*(obs.station_xyz_km[:, :2] - np.asarray(hypocentre_km)[:2]).T)
    candidates = np.flatnonzero(used)
    nearest = candidates[np.argsort(distance[candidates], kind="stable")][:min_picks]
    far = [int(i) for i in candidates if distance[i] > max_distance_km and i not in nearest]
    return {i: (f"station {distance[i]:.1f} km from the located epicentre, beyond the "
                f"maximum distance of {max_distance_km:g} km; left out of the location")
            for i in far}


def estimate_station_terms(results: Sequence, observations: Sequence[Observations], *,
                           min_picks: int = 3) -> dict[tuple[str, str], tuple[float, int]]:
    """Per station and phase, the median residual of its picks over located events.

    Residuals are taken about each event's weighted origin time (its result); a station term
    is shrunk towards 0 by ``n / (n + 2)`` so that a station with few picks moves little.

    Returns
    -------
    dict
        ``{(station_id, phase): (delay_s, n_picks)}``; a positive delay means the station's
        picks come late against the model.
    """
    pool: dict[tuple[str, str], list[float]] = {}
    for res, obs in zip(results, observations):
        if not isinstance(res, LocationResult) or obs is None or not obs.station_ids:
            continue
        # outliers count too (the median shrugs off the odd bad pick): a station whose picks
        # are all late is flagged as an outlier in every event until its term is known
        for i in np.flatnonzero(np.isfinite(res.residual_s)):
            key = (obs.station_ids[i], _PHASES[int(obs.phase_idx[i])])
            pool.setdefault(key, []).append(float(res.residual_s[i]))
    out = {}
    for key, values in sorted(pool.items()):
        n = len(values)
        if n >= min_picks:
            out[key] = (float(np.median(values)) * n / (n + 2.0), n)
    return out


def apply_station_terms(obs: Observations, terms: Mapping[tuple[str, str], float]) -> Observations:
    """Observations with each pick's station term (s) subtracted from its arrival time."""
    if not terms or not obs.station_ids:
        return obs
    delay = np.array([terms.get((sid, _PHASES[int(k)]), 0.0)
                      for sid, k in zip(obs.station_ids, obs.phase_idx)])
    return dataclasses.replace(obs, arrival_s=obs.arrival_s - delay)


def _term_keys(obs: Observations) -> list[tuple[str, str]]:
    return [(sid, _PHASES[int(k)]) for sid, k in zip(obs.station_ids, obs.phase_idx)]


def joint_station_terms(results: Sequence, observations: Sequence[Observations],
                        models: Sequence, error_models: Sequence[ErrorModel],
                        applied: Mapping[tuple[str, str], float] | None = None, *,
                        outlier_sigmas: float = 5.0, prior_sigma_s: float | None = None,
                        device="cpu", dtype=None) -> JointTerms:
    """Station terms estimated jointly with the locations, and their posterior covariance.

    Linearised at each located event's hypocentre (:mod:`~obspy_hyposvi.locate.joint_terms`):
    every event's position and origin time are eliminated exactly and the delays get a
    Gaussian prior whose spread per phase is estimated. The result is the total delay of each
    station and phase, not an increment: iterating cannot drift.

    Parameters
    ----------
    results, observations
        Per event, its :class:`LocationResult` (others are skipped) and the observations it
        was located from (with the ``applied`` terms already subtracted).
    models
        Travel-time models per phase, for the slowness at each hypocentre.
    error_models
        Per phase, the travel-time error added to each pick's stated one (the weights).
    applied
        ``{(station_id, phase): delay_s}`` already subtracted from the arrival times.
    outlier_sigmas
        Picks further than this many total sigmas from their event's others, once the median
        residual of their station is taken off, stay out. Those medians (over every pick,
        outliers too) let a station whose picks are all late, and flagged as outliers until
        its term is known, inform its term.
    prior_sigma_s
        Prior spread of the delays (s); None estimates it per phase.
    device, dtype
        Where the models' gradients are taken.

    Returns
    -------
    JointTerms
    """
    applied = dict(applied or {})
    medians = {key: v[0] for key, v in estimate_station_terms(results, observations,
                                                              min_picks=1).items()}
    located = [(res, obs) for res, obs in zip(results, observations)
               if isinstance(res, LocationResult) and obs is not None and obs.station_ids]
    grads = source_gradients(models, [r.hypocentre_xyz_km for r, _ in located],
                             [o.station_xyz_km for _, o in located],
                             [o.phase_idx for _, o in located], device=device, dtype=dtype)
    picks = []
    for (res, obs), grad in zip(located, grads):
        names = _term_keys(obs)
        # the residual with no term applied: what the joint solve explains
        y = res.residual_s + np.array([applied.get(key, 0.0) for key in names])
        sigma = total_sigma(res.travel_time_s, obs, error_models)
        rough = y - np.array([applied.get(key, 0.0) + medians.get(key, 0.0) for key in names])
        ok = np.isfinite(y) & np.isfinite(sigma)
        if ok.sum() <= 4:
            continue
        keep = ok & (np.abs(rough - np.median(rough[ok])) <= outlier_sigmas * sigma)
        picks.append((grad[keep], y[keep], sigma[keep], [n for n, k in zip(names, keep) if k]))
    keys = sorted({key for *_, names in picks for key in names})
    index = {key: i for i, key in enumerate(keys)}
    data = [TermData(design_matrix(g), y, 1.0 / sigma**2, np.array([index[n] for n in names]))
            for g, y, sigma, names in picks]
    prior = None if prior_sigma_s is None else {ph: prior_sigma_s for ph in _PHASES}
    return solve_joint_terms(data, keys, prior_sigma_s=prior)


def widen_for_station_terms(results: Sequence, observations: Sequence[Observations],
                            models: Sequence, joint: JointTerms,
                            applied: Mapping[tuple[str, str], float], *,
                            device="cpu", dtype=None) -> list:
    """Results whose covariance and origin-time error include the station terms' errors.

    Each event's used picks map errors of the applied terms onto its solution through the
    weighted least-squares sensitivity ``K = (G^T W G)^-1 G^T W`` at its hypocentre
    (:func:`~obspy_hyposvi.locate.joint_terms.term_covariance_of_event`); that covariance
    (4x4: position and origin time) is added to the result's, whose ellipsoid, horizontal
    ellipse and origin-time error are recomputed. ``extra`` gains
    ``station_term_sd_km`` (the largest standard deviation the terms add to the position)
    and ``station_term_sd_s`` (to the origin time).

    Parameters
    ----------
    results, observations
        Per event, as located in the final pass (non-results are passed through).
    models
        Travel-time models per phase.
    joint
        The terms' posterior at these locations (:func:`joint_station_terms`).
    applied
        The corrections subtracted from the picks: their error is ``true - applied``, whose
        second moment is the posterior covariance plus the square of the applied values'
        distance from the posterior mean (:meth:`JointTerms.error_covariance`).
    """
    out = list(results)
    todo = [j for j, (res, obs) in enumerate(zip(results, observations))
            if isinstance(res, LocationResult) and obs is not None and obs.station_ids]
    if not todo or not joint.keys:
        return out
    err = joint.error_covariance(applied)
    index = {key: i for i, key in enumerate(joint.keys)}
    grads = source_gradients(models, [results[j].hypocentre_xyz_km for j in todo],
                             [observations[j].station_xyz_km for j in todo],
                             [observations[j].phase_idx for j in todo],
                             device=device, dtype=dtype)
    for j, grad in zip(todo, grads):
        res, obs = results[j], observations[j]
        sigma = res.sigma_s if res.sigma_s is not None else np.full(obs.n_picks, np.nan)
        use = np.asarray(res.weight, float) > 0
        use &= np.isfinite(sigma) & np.all(np.isfinite(grad), axis=1)
        if use.sum() <= 4:
            continue
        idx = np.array([index.get(key, -1) for key in _term_keys(obs)])[use]
        added = term_covariance_of_event(design_matrix(grad[use]), 1.0 / sigma[use] ** 2, idx,
                                         err)
        out[j] = _widened(res, added)
    return out


def _widened(res: LocationResult, added: np.ndarray) -> LocationResult:
    """``res`` with ``added`` (4x4: x, y, z km, t0 s) added to its covariance, its confidence
    regions and origin-time error recomputed."""
    cov = np.asarray(res.covariance_km2, float) + added[:3, :3]
    level = res.confidence_level
    return dataclasses.replace(
        res, covariance_km2=cov,
        origin_time_uncertainty_s=float(np.hypot(res.origin_time_uncertainty_s,
                                                 np.sqrt(max(added[3, 3], 0.0)))),
        ellipsoid=confidence_ellipsoid(cov, level),
        horizontal_uncertainty_km=horizontal_ellipse(cov, level),
        extra={**res.extra,
               "station_term_sd_km": float(np.sqrt(max(np.linalg.eigvalsh(added[:3, :3])[-1],
                                                       0.0))),
               "station_term_sd_s": float(np.sqrt(max(added[3, 3], 0.0)))})


def locate_catalogue(observations: Sequence[Observations], models: Sequence, *,
                     svgd: SVGDConfig = SVGDConfig(),
                     likelihood: LikelihoodConfig = LikelihoodConfig(),
                     summary: SummaryConfig = SummaryConfig(),
                     search: SearchConfig = SearchConfig(),
                     estimation: EstimationConfig = EstimationConfig(),
                     station_terms: Mapping[tuple[str, str], float] | None = None,
                     estimate_terms: bool = False,
                     device="cpu", dtype=None,
                     locate_pass: LocatePass | None = None,
                     progress: Callable[[str], None] | None = None) -> CatalogueRun:
    """Locate events with an error model, outliers and (optionally) station terms learnt from
    the catalogue (see the module docstring).

    Parameters
    ----------
    observations, models, svgd, likelihood, summary, search, device, dtype
        As for :func:`~obspy_hyposvi.locate.engine.locate_events`. With
        ``likelihood.error_model="auto"`` the error model is estimated; otherwise it is used as
        given, and only outliers (and station terms) are estimated.
    estimation
        Settings of the estimation.
    station_terms
        ``{(station_id, phase): delay_s}`` to subtract from the arrival times.
    estimate_terms
        Estimate station terms (on top of ``station_terms``) over
        ``estimation.station_iterations`` passes.
    locate_pass
        Runs SVGD on screened events with the given settings and returns their results in
        order; default: :func:`~obspy_hyposvi.locate.engine.locate_ready` here (the Dask path
        passes its own).
    progress
        Called with a line naming each pass as it starts.

    Returns
    -------
    CatalogueRun
    """
    import torch

    dtype = torch.float64 if dtype is None else dtype
    if locate_pass is None:
        tables = TableCache(search.table_spacing_km)  # built by the first pass, then reused

        def locate_pass(events, svgd_, likelihood_, final=True):
            return locate_ready(events, models, svgd=svgd_, likelihood=likelihood_,
                                summary=summary, search=search, device=device, dtype=dtype,
                                tables=tables, light=not final)
    say = progress or (lambda line: None)
    terms = dict(station_terms or {})
    counts: dict = {}
    base = [apply_station_terms(o, terms) for o in observations]
    ready, failures = screen_events(base, models, search)
    n_passes = 0
    given = not likelihood.estimated

    def run(events, svgd_, likelihood_, what, final=False):
        nonlocal n_passes
        n_passes += 1
        say(f"pass {n_passes}: {what}, {len(events)} events")
        return locate_pass(events, svgd_, likelihood_, final=final) if events else []

    def term_solve(results_, estimates_) -> JointTerms:
        return joint_station_terms(results_, [e.observations for e in ready], models,
                                   tuple(e.model for e in estimates_), terms,
                                   outlier_sigmas=estimation.outlier_sigmas,
                                   prior_sigma_s=estimation.station_term_sigma_s,
                                   device=device, dtype=dtype)

    cheap = dataclasses.replace(svgd, n_particles=min(svgd.n_particles,
                                                      estimation.prior_particles),
                                n_epochs=min(svgd.n_epochs, estimation.prior_epochs))
    if given:
        estimates = tuple(ErrorModelEstimate(p, m, "given") for p, m in
                          zip(_PHASES, likelihood.phase_error_models(len(_PHASES))))
        results = run(ready, cheap, likelihood, "given error model, outliers")
    else:
        prior = dataclasses.replace(likelihood, error_model=likelihood.prior_error_model)
        results = run(ready, cheap, prior, "prior error model")
    # refinement passes at the prior pass's size: each one's residuals set the error model,
    # the outliers and the station terms of the next; the final pass runs at full size
    n_refine = 0 if given else 1
    if estimate_terms:  # one update of the terms before each pass after the first
        n_refine = max(n_refine, estimation.station_iterations)
    notes: dict[int, dict[int, str]] = {}
    for k in range(n_refine + 1):
        if not given:
            estimates = _phase_estimates(results, [e.observations for e in ready], likelihood,
                                         estimation)
        if estimate_terms and k > 0:
            # the total delays, solved jointly with every event's position and origin time
            # (not increments of per-station medians, which drifted with the locations)
            joint = term_solve(results, estimates)
            found = joint.as_dict(estimation.min_station_picks)
            counts.update({key: int(n) for key, n in zip(joint.keys, joint.n_picks)
                           if key in found})
            updated = {**terms, **found}
            delta = {key: updated[key] - terms.get(key, 0.0) for key in updated}
            terms = updated
            ready = [dataclasses.replace(
                e, observations=apply_station_terms(e.observations, delta)) for e in ready]
        ready, notes, _ = _reflag(ready, results, estimates, notes, estimation, search)
        final_pass = k == n_refine
        results = run(ready, svgd if final_pass else cheap, _with(likelihood, estimates),
                      "final" if final_pass else "estimated error model" if not given
                      else "station terms", final=final_pass)
    # a last look at the outliers from the final locations: relocate events whose flags moved
    ready, notes, changed = _reflag(ready, results, estimates, notes, estimation, search)
    if changed:
        new = run([ready[j] for j in changed], svgd, _with(likelihood, estimates),
                  "outliers settled", final=True)
        for j, res in zip(changed, new):
            results[j] = res
    joint = None
    if estimate_terms:
        # the terms' errors at the final locations: every location that shares a station
        # shares its term's error, a bias its own posterior (terms fixed) cannot show
        joint = term_solve(results, estimates)
        results = widen_for_station_terms(results, [e.observations for e in ready], models,
                                          joint, terms, device=device, dtype=dtype)
        logger.info("station terms: delay spread %s from %d events",
                    ", ".join(f"{ph} {v:.3f} s" for ph, v in joint.prior_sigma_s.items()),
                    joint.n_events)

    final: list = [failures.get(i) for i in range(len(observations))]
    final_obs: list = list(base)
    described = "; ".join(e.describe() for e in estimates)
    for event, res, j in zip(ready, results, range(len(ready))):
        final_obs[event.index] = event.observations
        if isinstance(res, LocationResult):
            res = dataclasses.replace(
                res, pick_notes={**res.pick_notes, **notes.get(j, {})},
                extra={**res.extra, "error_model": described,
                       "n_outliers": len(notes.get(j, {})),
                       "n_station_terms": sum((sid, _PHASES[int(k)]) in terms for sid, k in
                                              zip(event.observations.station_ids,
                                                  event.observations.phase_idx))})
        final[event.index] = res
    log_quality(final)
    for e in estimates:
        logger.info("error model %s", e.describe())
    return CatalogueRun(results=final, error_models=estimates, n_passes=n_passes,
                        station_terms=terms, observations=final_obs,
                        station_term_counts=counts, joint_terms=joint)


def _with(likelihood: LikelihoodConfig,
          estimates: Sequence[ErrorModelEstimate]) -> LikelihoodConfig:
    return dataclasses.replace(likelihood, error_model=tuple(e.model for e in estimates))


def _reflag(ready: list[ReadyEvent], results: Sequence, estimates, notes: dict,
            config: EstimationConfig, search: SearchConfig):
    """Outlier flags of every located event at its current location; the events whose flags
    changed (to relocate)."""
    models = tuple(e.model for e in estimates)
    out, new_notes, changed = [], {}, []
    for j, (event, res) in enumerate(zip(ready, results)):
        obs = event.observations
        if not isinstance(res, LocationResult):
            out.append(event)
            continue
        eligible = np.ones(obs.n_picks, bool)
        eligible[list(event.excluded)] = False
        used, why = flag_outliers(obs, res, models, outlier_sigmas=config.outlier_sigmas,
                                  min_picks=search.min_picks, eligible=eligible,
                                  max_share=config.max_outlier_share)
        if search.max_distance_km is not None:
            far = distant_picks(obs, res.hypocentre_xyz_km, search.max_distance_km,
                                eligible & used, search.min_picks)
            used[list(far)] = False
            why = {**why, **far}
        new_notes[j] = why
        if not np.array_equal(used, obs.used):
            changed.append(j)
            event = dataclasses.replace(event, observations=dataclasses.replace(obs, used=used))
        out.append(event)
    return out, new_notes, changed
