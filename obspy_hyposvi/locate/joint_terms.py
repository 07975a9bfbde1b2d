"""Station terms estimated jointly with the hypocentres, and what their uncertainty does to each
location.

Linearised at the current locations, the residual of pick ``i`` of event ``e`` (observed less
predicted arrival, no station term applied) is

    y_ei = g_ei . dm_e + tau_j(i) + n_ei,     n_ei ~ N(0, sigma_ei^2),

with ``g_ei = (dT/dx, dT/dy, dT/dz, 1)`` at the hypocentre (the source-side slowness and the
origin time), ``dm_e`` the event's correction and ``tau_j`` the delay of the pick's station and
phase. Every ``dm_e`` is eliminated exactly (flat prior), which leaves a small system in the
terms alone; the terms get a Gaussian prior ``tau_j ~ N(0, s_phase^2)`` whose spread per phase
is estimated by maximum marginal likelihood (EM). This is joint hypocentre determination with
station corrections (as in JHD), solved as one Bayesian linear problem:

- **No drift, no anchoring.** The only exact null direction of the joint problem is one delay
  common to every station and phase (it trades with every origin time); the prior pins it
  (its posterior is the prior's ``N(0, s^2 / n_terms)``). A P-S offset or a delay growing
  across the network is not a null direction: events at different depths and positions see
  it differently, and the joint solve recovers it. Removing those components (the earlier
  anchoring) left them in the data as a bias shared by every location.
- **Honest uncertainty.** With the terms estimated from the same picks, the marginal posterior
  covariance of an event's ``(x, y, z, t0)`` is ``N_e^-1 + K_e S_e C_tau S_e^T K_e^T``
  (block elimination), where ``N_e^-1`` is what the event's own posterior shows with the terms
  fixed, ``K_e = N_e^-1 G_e^T W_e`` maps arrival-time perturbations to the solution,
  ``S_e`` selects each pick's term and ``C_tau`` is the terms' posterior covariance
  (:func:`term_covariance_of_event`). The added part is shared by all events: a location
  sees the errors of its stations' terms as a coherent bias, which no per-event error model
  can see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

__all__ = ["TermData", "JointTerms", "source_gradients", "design_matrix", "solve_joint_terms",
           "sensitivity", "term_covariance_of_event"]

#: Floor of a phase's prior term spread, s: below a pick-timing millisecond the prior would
#: pin every term to 0 and the EM would stall there.
MIN_PRIOR_SIGMA_S = 1e-3


@dataclass(frozen=True)
class TermData:
    """The picks of one located event that inform the station terms.

    Parameters
    ----------
    design
        ``(n, 4)`` rows ``(dT/dx, dT/dy, dT/dz, 1)`` at the hypocentre (km, s).
    residual_s
        ``(n,)`` observed less predicted arrival with *no* station term applied, s.
    weight
        ``(n,)`` ``1 / sigma^2`` of each pick (pick and model error), s^-2.
    term_index
        ``(n,)`` index of each pick's station and phase in :attr:`JointTerms.keys`.
    """

    design: np.ndarray
    residual_s: np.ndarray
    weight: np.ndarray
    term_index: np.ndarray


@dataclass(frozen=True)
class JointTerms:
    """Posterior of the station terms given every event's picks.

    Attributes
    ----------
    keys
        ``(station_id, phase)`` of each term, in the order of the arrays.
    delay_s
        ``(n_terms,)`` posterior mean delays, s (positive: picks late against the model).
    covariance_s2
        ``(n_terms, n_terms)`` posterior covariance, s^2.
    n_picks
        ``(n_terms,)`` picks that informed each term.
    prior_sigma_s
        ``{phase: s}`` spread of the delays, estimated (maximum marginal likelihood) or given.
    n_events
        Events that informed the terms (more than 4 picks).
    """

    keys: list
    delay_s: np.ndarray
    covariance_s2: np.ndarray
    n_picks: np.ndarray
    prior_sigma_s: dict = field(default_factory=dict)
    n_events: int = 0

    def as_dict(self, min_picks: int = 1) -> dict:
        """``{(station_id, phase): delay_s}`` of the terms with at least ``min_picks`` picks."""
        return {k: float(v) for k, v, n in zip(self.keys, self.delay_s, self.n_picks)
                if n >= min_picks}

    def error_covariance(self, applied: Mapping) -> np.ndarray:
        """Second moment of (true delay - applied correction) over :attr:`keys`, s^2.

        Given the data the true delays are ``N(delay_s, covariance_s2)``, so the error of a
        correction ``a`` has second moment ``covariance_s2 + d d^T`` with ``d = delay_s - a``:
        0 for a term applied at its posterior mean, the whole posterior delay for a term not
        applied (``applied`` lacks it: too few picks), and the step of the last update for
        terms applied from the previous locations.
        """
        a = np.array([float(applied.get(k, 0.0)) for k in self.keys])
        d = np.asarray(self.delay_s, dtype=float) - a
        return np.asarray(self.covariance_s2, dtype=float) + np.outer(d, d)


def source_gradients(models: Sequence, hypocentres_km: Sequence[np.ndarray],
                     station_xyz_km: Sequence[np.ndarray], phase_idx: Sequence[np.ndarray], *,
                     device="cpu", dtype=None) -> list[np.ndarray]:
    """``dT/d(source)`` (s/km) of every pick at its event's hypocentre, all events at once.

    Parameters
    ----------
    models
        Travel-time models per phase index, with ``travel_time_torch(sources, receivers)``.
    hypocentres_km
        Per event, ``(3,)`` hypocentre.
    station_xyz_km, phase_idx
        Per event, ``(n_picks, 3)`` receivers and ``(n_picks,)`` phase index of its picks.

    Returns
    -------
    list of numpy.ndarray
        Per event, ``(n_picks, 3)``.

    Examples
    --------
    >>> class Straight:                                    # T = distance / 5 km/s
    ...     def travel_time_torch(self, s, r):
    ...         return ((r - s) ** 2).sum(-1).sqrt() / 5.0
    >>> g = source_gradients([Straight()], [np.array([0.0, 0.0, 4.0])],
    ...                      [np.array([[3.0, 0.0, 0.0]])], [np.array([0])])
    >>> g[0].round(3).tolist()                            # -(unit vector to the station) / v
    [[-0.12, -0.0, 0.16]]
    """
    import torch

    dtype = torch.float64 if dtype is None else dtype
    sizes = [len(p) for p in phase_idx]
    if not sizes or sum(sizes) == 0:
        return [np.zeros((n, 3)) for n in sizes]
    src = np.repeat(np.asarray(hypocentres_km, dtype=float).reshape(-1, 3), sizes, axis=0)
    rcv = np.concatenate([np.asarray(r, dtype=float).reshape(-1, 3) for r in station_xyz_km])
    phase = np.concatenate([np.asarray(p, dtype=int) for p in phase_idx])
    grad = np.zeros((len(phase), 3))
    for k, model in enumerate(models):
        idx = np.flatnonzero(phase == k)
        if idx.size == 0:
            continue
        s = torch.as_tensor(src[idx], dtype=dtype, device=device).requires_grad_(True)
        r = torch.as_tensor(rcv[idx], dtype=dtype, device=device)
        (g,) = torch.autograd.grad(model.travel_time_torch(s, r).sum(), s)
        grad[idx] = g.detach().double().cpu().numpy()
    return np.split(grad, np.cumsum(sizes)[:-1])


def design_matrix(gradients: np.ndarray) -> np.ndarray:
    """``(n, 4)`` rows ``(dT/dx, dT/dy, dT/dz, 1)``: a residual's sensitivity to the event's
    position and origin time."""
    g = np.asarray(gradients, dtype=float).reshape(-1, 3)
    return np.column_stack([g, np.ones(len(g))])


def sensitivity(design: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least-squares sensitivity of ``(x, y, z, t0)`` to the arrival times.

    Returns
    -------
    K
        ``(4, n)``: ``K @ dt`` is the change of the solution when the arrivals move by ``dt``,
        ``(G^T W G)^-1 G^T W``.
    inverse_normal
        ``(4, 4)`` ``(G^T W G)^-1``: the solution's covariance with the terms fixed.
    """
    g = np.asarray(design, dtype=float)
    w = np.asarray(weight, dtype=float)
    normal = g.T @ (w[:, None] * g)
    inv = np.linalg.pinv(normal)
    return inv @ (g.T * w[None, :]), inv


def _reduced_system(events: Sequence[TermData], n_terms: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The terms' normal matrix and right-hand side with every event's 4 unknowns eliminated:
    ``sum_e S^T P_e S`` and ``sum_e S^T P_e y`` with ``P_e = W - W G N^-1 G^T W``; and the picks
    per term and the number of events that contributed."""
    m = np.zeros((n_terms, n_terms))
    b = np.zeros(n_terms)
    count = np.zeros(n_terms, int)
    n_events = 0
    for ev in events:
        idx = np.asarray(ev.term_index, dtype=int)
        if idx.size <= 4:  # 4 unknowns: its residuals say nothing about the terms
            continue
        g, w, y = np.asarray(ev.design, float), np.asarray(ev.weight, float), ev.residual_s
        k, _ = sensitivity(g, w)
        # P = W (I - G K): the weight left to the terms once the event has taken its share
        p = w[:, None] * (np.eye(idx.size) - g @ k)
        p = 0.5 * (p + p.T)
        np.add.at(m, (idx[:, None], idx[None, :]), p)
        np.add.at(b, idx, p @ np.asarray(y, float))
        np.add.at(count, idx, 1)
        n_events += 1
    return m, b, count, n_events


def solve_joint_terms(events: Sequence[TermData], keys: Sequence[tuple[str, str]], *,
                      prior_sigma_s: Mapping[str, float] | None = None,
                      max_iterations: int = 200, tolerance: float = 1e-5) -> JointTerms:
    """Posterior of the station terms, every event's position and origin time marginalised.

    Parameters
    ----------
    events
        Per located event, its informative picks (:class:`TermData`); events with 4 picks or
        fewer are skipped.
    keys
        ``(station_id, phase)`` of each term index.
    prior_sigma_s
        ``{phase: s}`` prior spread of the delays; None estimates it per phase by maximum
        marginal likelihood (EM on the variance, starting from 0.1 s). A phase without
        informed terms keeps 0.1 s.
    max_iterations, tolerance
        EM stops when every phase's variance moved less than ``tolerance`` relatively.

    Returns
    -------
    JointTerms

    Examples
    --------
    Six stations, two of them delayed by +-0.2 s, seen by 50 events with unknown positions
    and origin times:

    >>> keys = [("A", "P"), ("B", "P"), ("C", "P"), ("D", "P"), ("E", "P"), ("F", "P")]
    >>> rng = np.random.default_rng(0)
    >>> delay = np.array([0.2, 0, 0, 0, 0, -0.2])
    >>> ev = []
    >>> for e in range(50):
    ...     g = np.column_stack([rng.normal(0, 0.2, (6, 3)), np.ones(6)])
    ...     y = g @ rng.normal(0, 1, 4) + delay + rng.normal(0, 0.01, 6)
    ...     ev.append(TermData(g, y, np.full(6, 1e4), np.arange(6)))
    >>> out = solve_joint_terms(ev, keys)
    >>> bool(np.abs(out.delay_s - delay).max() < 0.03), out.n_events
    (True, 50)
    """
    keys = list(keys)
    n = len(keys)
    phases = sorted({k[1] for k in keys})
    m, b, count, n_events = _reduced_system(events, n)
    phase_of = np.array([k[1] for k in keys])
    given = dict(prior_sigma_s or {})
    var = {ph: float(given.get(ph, 0.1)) ** 2 for ph in phases}
    estimate = [ph for ph in phases if ph not in given and count[phase_of == ph].any()]
    floor = MIN_PRIOR_SIGMA_S**2
    for _ in range(max_iterations if estimate else 1):
        prior = np.array([var[ph] for ph in phase_of]) if n else np.zeros(0)
        precision = m + np.diag(1.0 / prior)
        cov = np.linalg.inv(precision)
        cov = 0.5 * (cov + cov.T)
        mean = cov @ b
        moved = 0.0
        for ph in estimate:  # EM: the expected squared delay under the current posterior
            sel = phase_of == ph
            new = max(float(np.mean(mean[sel] ** 2 + np.diag(cov)[sel])), floor)
            moved = max(moved, abs(new - var[ph]) / var[ph])
            var[ph] = new
        if moved < tolerance:
            break
    if estimate and moved >= tolerance:  # the last update changed the prior: solve again
        prior = np.array([var[ph] for ph in phase_of])
        cov = np.linalg.inv(m + np.diag(1.0 / prior))
        cov = 0.5 * (cov + cov.T)
        mean = cov @ b
    return JointTerms(keys=keys, delay_s=mean if n else np.zeros(0),
                      covariance_s2=cov if n else np.zeros((0, 0)), n_picks=count,
                      prior_sigma_s={ph: float(np.sqrt(v)) for ph, v in var.items()},
                      n_events=n_events)


def term_covariance_of_event(design: np.ndarray, weight: np.ndarray, term_index: np.ndarray,
                             term_error_covariance_s2: np.ndarray) -> np.ndarray:
    """Covariance (4x4: x, y, z km, t0 s) that errors of the applied station terms add to one
    event's solution: ``K S C S^T K^T``.

    Parameters
    ----------
    design, weight
        The event's used picks: ``(n, 4)`` :func:`design_matrix` rows and ``(n,)`` weights.
    term_index
        ``(n,)`` each pick's term; -1 for a pick whose station has no term (it adds nothing).
    term_error_covariance_s2
        Covariance of the terms' errors (:meth:`JointTerms.error_covariance`), s^2.

    Examples
    --------
    One term shared by every pick is a common delay: it moves the origin time alone.

    >>> g = np.column_stack([np.random.default_rng(1).normal(0, 0.2, (8, 3)), np.ones(8)])
    >>> c = term_covariance_of_event(g, np.ones(8), np.zeros(8, int), np.array([[0.01]]))
    >>> (np.round(c, 12) + 0.0).tolist()[3], bool(np.allclose(c[:3], 0))
    ([0.0, 0.0, 0.0, 0.01], True)
    """
    idx = np.asarray(term_index, dtype=int)
    k, _ = sensitivity(design, weight)
    has = idx >= 0
    if not has.any():
        return np.zeros((4, 4))
    k = k[:, has]
    sub = np.asarray(term_error_covariance_s2, dtype=float)[np.ix_(idx[has], idx[has])]
    out = k @ sub @ k.T
    return 0.5 * (out + out.T)
