"""Log-likelihoods of hypocentre particles given picks, and the pick error model.

Equal differential time (EDT, Lomax et al. 2000; HypoSVI eq. 11-12): for every pair (a, b) of
picks of an event, with residuals ``r = t_obs - T_pred`` and ``s_ab^2 = s_a^2 + s_b^2``,

    log L = power * log sum_{a<b} exp(-(r_a - r_b)^2 / s_ab^2) / s_ab.

How sharp is that? With residual differences ``d = r_a - r_b`` small against ``s_ab``, ``log sum
exp`` behaves like ``log n_pairs - mean_pairs d^2 / s_ab^2`` and, for equal errors,
``sum_{a<b} (r_a - r_b)^2 = n sum (r - mean r)^2``: power ``(n - 1) / 2`` would then match a
Gaussian likelihood with the origin time marginalised. But real differences are as large as
their errors (``d ~ N(0, s_ab^2)``), and there the sum is flatter: its weights
``exp(-d^2 / s_ab^2)`` favour the pairs that already fit, the weighted mean of ``d^2`` is
``s_ab^2 / 3``, and the curvature of ``log sum exp`` is ``2 / s_ab^2 - (4 / s_ab^4) s_ab^2 / 3``,
a third of the small-residual value. A power of ``3 (n - 1) / 2`` would thus give the
marginal Gaussian's posterior width; but EDT's estimates scatter about 11 % more than least
squares' (its robustness costs some efficiency), so the width that covers EDT's own errors is
that much larger. ``power="calibrated"`` (the default) is ``2.5 (n - 1) / 2``: in simulations
with the stated errors its 1-sigma intervals cover the truth 66-71 % of the time (10-50 picks;
``tests/locate/test_likelihood.py``), while EDT keeps its robustness to outliers far from the
optimum. ``power="pairs"`` is the paper's ``n (n - 1) / 2``, ``0.4 n`` times sharper still.

Spread. The robustness comes from those weights: a pair whose residuals differ by ``k s_ab``
weighs ``exp(-k^2)`` of a perfect one, so with errors ``s_ab`` as small as the picks' real
scatter, good pairs at 1-2 sigma are already down-weighted and the estimate loses efficiency
(the 11 % above). With ``spread = c`` the pair terms use ``c s_ab^2``:

    log L = (c + 2) / 3 * power * log sum_{a<b} exp(-(r_a - r_b)^2 / (c s_ab^2)) / (sqrt(c) s_ab).

For differences ``d ~ N(0, s_ab^2)`` the weighted mean of ``d^2`` becomes ``c s_ab^2 / (c + 2)``
and the curvature of ``log sum exp`` ``2 / ((c + 2) s_ab^2)`` per pair; the factor ``(c + 2) / 3``
brings it back to the paper's EDT (``c = 1``) so that the calibrated power keeps the
posterior's width, while the weights, ``exp(-k^2 / c)``, treat the pairs that fit within a few
sigma more evenly (towards least squares) and a pick seconds off, against ``s_ab`` of tenths,
still weighs nothing. In the simulation of ``tests/locate/test_likelihood.py`` (20 picks, 300
draws) the estimates' mean squared error against the marginal Gaussian's variance is 1.11 at
``c = 1`` and 0.99 at ``c = 4`` (least squares 0.96), the posterior variance 1.18 of it at
either, and the 1-sigma coverage 70 % at either. On the 60-event synthetic catalogue of
``benchmarks/accuracy.py`` ``c = 4`` took the mean depth error from 0.143 to 0.134 km with
the bundled networks (0.152 to 0.146 km with 10 % of the picks moved; exact times: 0.119 to
0.108 km), with the 68 % coverage in the 60-76 % window. A likelihood closer to least squares
rises again above the highest stations for shallow events (one 1.7 km deep under stations up
to 2 km high went to the top of the search box until the engine's depth rescue took clouds
flattened on that wall at 1 log-unit). The default stays 1 until ``c = 4`` has been run on
more catalogues and on real data.

The error model (HypoSVI eq. 13-14, after NonLinLoc's LOCGAU2):
``s^2 = sigma_pick^2 + clip(fraction * T_pred, min_s, max_s)^2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..settings import InstanceOf, Interval, Options, Relation, Settings, TupleOf

__all__ = ["ErrorModel", "LikelihoodConfig", "pick_sigma", "pick_sigma_per_pick",
           "edt_log_likelihood",
           "gaussian_log_likelihood"]


@dataclass(frozen=True, kw_only=True)
class ErrorModel(Settings):
    """Travel-time (forward model) error added to each pick's uncertainty.

    Parameters
    ----------
    fraction
        Fraction of the predicted travel time (paper: 0.1).
    min_s, max_s
        Bounds of that term, s (paper: 0.1 s and 2.0 s).
    """

    fraction: float = 0.1
    min_s: float = 0.1
    max_s: float = 2.0

    _constraints = {
        "fraction": Interval(float, 0, None),
        "min_s": Interval(float, 0, None),
        "max_s": Interval(float, 0, None),
    }
    _relations = (Relation("max_s", ">= min_s", lambda s: s.max_s >= s.min_s, ("min_s",)),)


@dataclass(frozen=True, kw_only=True)
class LikelihoodConfig(Settings):
    """Which likelihood to use and how.

    Parameters
    ----------
    kind
        ``"edt"`` (default) or ``"gaussian"`` (L2 with the origin time marginalised analytically).
    power
        EDT exponent: ``"calibrated"`` (2.5 (n - 1) / 2), ``"pairs"`` (the paper's n (n - 1) / 2),
        or a number.
    spread
        EDT pair terms with ``spread`` times the pair variance, the sum rescaled to keep the
        posterior's width (see the module notes): 1 is the paper's EDT, larger values weigh the
        pairs that fit within a few sigma more evenly (closer to least squares, more efficient)
        while picks seconds off still weigh nothing. Default 1 (see the module notes for 4).
    error_model
        Forward-model error term: ``"auto"`` (default) estimates it per phase from the
        catalogue's own residuals (:mod:`obspy_hyposvi.locate.catalogue`), an
        :class:`ErrorModel` applies one model to both phases, and a tuple gives one per phase
        index (P, S).
    prior_error_model
        The model of the first pass of ``"auto"``, and its fallback for a phase with too few
        residuals to estimate from (default: the paper's 10 % of T, 0.1-2.0 s). Low-level
        callers that locate in one pass (:func:`~obspy_hyposvi.locate.engine.locate_events`)
        use it when ``error_model="auto"``.
    """

    kind: str = "edt"
    power: str | float = "calibrated"
    spread: float = 1.0
    error_model: ErrorModel | tuple[ErrorModel, ...] | str = "auto"
    prior_error_model: ErrorModel = ErrorModel()

    _constraints = {
        "kind": Options({"edt", "gaussian"}),
        "power": [Options({"calibrated", "pairs"}), Interval(float, 0, None, closed="neither")],
        "spread": Interval(float, 0, None, closed="neither"),
        # one ErrorModel for both phases, or one per phase index (a list is stored as a tuple)
        "error_model": [Options({"auto"}), InstanceOf(ErrorModel),
                        TupleOf(InstanceOf(ErrorModel), min_length=1)],
        "prior_error_model": InstanceOf(ErrorModel),
    }
    _nested = {"error_model": ErrorModel, "prior_error_model": ErrorModel}

    @property
    def estimated(self) -> bool:
        """Whether the error model is to be estimated from the data."""
        return isinstance(self.error_model, str)

    def phase_error_models(self, n_phases: int = 2) -> tuple[ErrorModel, ...]:
        """One :class:`ErrorModel` per phase index (the prior's where ``"auto"``)."""
        em = self.prior_error_model if self.estimated else self.error_model
        if isinstance(em, ErrorModel):
            return (em,) * n_phases
        if len(em) < n_phases:
            raise ValueError(f"LikelihoodConfig.error_model holds {len(em)} models for "
                             f"{n_phases} phases")
        return tuple(em[:n_phases])


def pick_sigma(travel_time_s: torch.Tensor, pick_sigma_s: torch.Tensor,
               model: ErrorModel) -> torch.Tensor:
    """Total standard deviation of each pick, s (eq. 13-14)."""
    forward = (model.fraction * travel_time_s).clamp(model.min_s, model.max_s)
    return torch.sqrt(pick_sigma_s**2 + forward**2)


def pick_sigma_per_pick(travel_time_s: torch.Tensor, pick_sigma_s: torch.Tensor,
                        fraction: torch.Tensor, min_s: torch.Tensor,
                        max_s: torch.Tensor) -> torch.Tensor:
    """As :func:`pick_sigma`, with the error model's terms given per pick (tensors that
    broadcast against ``travel_time_s``): one model per phase in one batch."""
    forward = torch.minimum(torch.maximum(fraction * travel_time_s, min_s), max_s)
    return torch.sqrt(pick_sigma_s**2 + forward**2)


def _power(n_used: torch.Tensor, power: str | float) -> torch.Tensor:
    if power == "calibrated":
        return 1.25 * (n_used - 1.0).clamp_min(1.0)
    if power == "pairs":
        return (n_used * (n_used - 1.0) / 2.0).clamp_min(1.0)
    return torch.full_like(n_used, float(power))


#: Pair terms more than this below the largest of their particle are raised to it: their
#: weight, at most exp(-60) = 9e-27 each, is far below the resolution of the sum, and exp() of
#: arguments below about -87 (float32) or -708 (float64) takes a slow denormal path.
_LOG_WEIGHT_FLOOR = -60.0


def _pair_diagonals(n: int) -> list[tuple[int, int]]:
    """``(k, start)`` of each pick-offset ``k = b - a`` in the pair layout of
    :class:`_PairLogSumExp`: rows ``start .. start + n - k`` hold the pairs ``(a, a + k)``."""
    starts = [0]
    for k in range(1, n - 1):
        starts.append(starts[-1] + n - k)
    return list(zip(range(1, n), starts))


class _PairLogSumExp(torch.autograd.Function):
    """``log sum_{a<b} exp(u_ab)``, ``u_ab = -(r_b - r_a)^2 / v_ab - log(v_ab) / 2``,
    ``v_ab = s_a^2 + s_b^2``, over the pairs of usable picks, with an analytic backward.

    Inputs ``residual``, ``sigma`` and ``mask`` are ``(m, n_picks)`` (``m`` particles of all
    events, flattened). Two layouts of the pair terms, same numbers:

    ``"diagonal"`` (CPU)
        Only the ``n (n - 1) / 2`` pairs ``a < b`` are formed, laid out ``(n_pairs, m)``
        diagonal by diagonal: the pairs ``(a, a + k)`` of one offset ``k`` are one slice of
        rows, built from two shifted slices of the picks, and their gradients go back the same
        way. Least memory traffic, ``n - 1`` small operations per step. (Index gathers and
        scatters would do the same with less Python, but ``index_add_`` opens a parallel region
        for any size: on a busy machine with several torch threads each call then waits
        milliseconds for a descheduled thread.)
    ``"dense"`` (GPU)
        All ``n^2`` ordered pairs as ``(m, n, n)``, the lower triangle masked: twice the
        elements, but a handful of large kernels per step, where the diagonal loop's hundreds
        of small launches would bound a GPU.

    With ``w_p`` the weight of pair ``p = (a, b)`` (``exp(u_p - lse)``) and
    ``dv_p = (r_b - r_a) / v_p``:

        d lse / d r_b = -2 sum_{p = (., b)} w_p dv_p + 2 sum_{p = (b, .)} w_p dv_p,
        d lse / d s_a = 2 s_a sum_{p contains a} w_p (dv_p^2 - 1 / (2 v_p)).

    ``exp(-log(v) / 2)`` is taken as ``sqrt(1 / v)`` (no logarithm per pair); the sum is
    shifted by the largest ``-(r_b - r_a)^2 / v_ab`` of each particle. Autograd through the
    same expression keeps a dozen pair-sized intermediates and makes about three times as many
    passes over them.
    """

    @staticmethod
    def forward(ctx, residual: torch.Tensor, sigma: torch.Tensor,  # type: ignore[override]
                mask: torch.Tensor, layout: str) -> torch.Tensor:
        n, m = residual.shape[-1], residual.shape[0]
        ctx.layout = layout
        if n < 2:  # fewer than two picks: an empty sum, log 0
            ctx.save_for_backward(sigma)
            return residual.new_full((m,), float("-inf"))
        if layout == "dense":
            var_p = sigma.square()
            diff = residual[:, None, :] - residual[:, :, None]  # [m, a, b] = r_b - r_a
            var = var_p[:, None, :] + var_p[:, :, None]
            upper = torch.ones(n, n, dtype=torch.bool, device=mask.device).triu_(1)
            usable = (mask[:, None, :] & mask[:, :, None]) & upper
            diff, var, usable = diff.view(m, n * n), var.view(m, n * n), usable.view(m, n * n)
            dim = 1
        else:
            res_t, var_t = residual.t().contiguous(), sigma.square().t().contiguous()  # (n, m)
            mask_t = mask.t().contiguous()
            n_pairs = n * (n - 1) // 2
            diff = res_t.new_empty((n_pairs, m))
            var = res_t.new_empty((n_pairs, m))
            usable = mask_t.new_empty((n_pairs, m))
            for k, start in _pair_diagonals(n):
                rows = slice(start, start + n - k)
                torch.sub(res_t[k:], res_t[:n - k], out=diff[rows])
                torch.add(var_t[k:], var_t[:n - k], out=var[rows])
                torch.logical_and(mask_t[k:], mask_t[:n - k], out=usable[rows])
            dim = 0
        inv_var = var.reciprocal_()  # in place: var is not needed again
        diff_over_var = diff * inv_var
        exponent = diff.mul_(diff_over_var).neg_()  # -(r_b - r_a)^2 / v, in place
        exponent.masked_fill_(~usable, float("-inf"))
        peak = exponent.amax(dim=dim, keepdim=True)
        # no usable pair: every term is -inf; shift by 0 so that the weights come out 0
        peak = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))
        weight = exponent.sub_(peak).clamp_(min=_LOG_WEIGHT_FLOOR).exp_()  # in place
        weight.mul_(inv_var.sqrt()).mul_(usable)  # 1/sqrt(v); unusable pairs weigh exactly 0
        total = weight.sum(dim=dim)
        ctx.save_for_backward(sigma, inv_var, diff_over_var, weight, total)
        return peak.squeeze(dim) + torch.log(total)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):  # type: ignore[override]
        if len(ctx.saved_tensors) == 1:  # no pairs: the sum does not depend on the inputs
            (sigma,) = ctx.saved_tensors
            return torch.zeros_like(sigma), torch.zeros_like(sigma), None, None
        sigma, inv_var, diff_over_var, weight, total = ctx.saved_tensors
        m, n = sigma.shape
        # normalises the weights (total is 0 only where no pair is usable: all weights 0)
        scale = grad_out / total.clamp_min(torch.finfo(total.dtype).tiny)  # (m,)
        weighted = weight * diff_over_var
        curvature = (weighted * diff_over_var).sub_(weight * inv_var, alpha=0.5)
        if ctx.layout == "dense":
            weighted, curvature = weighted.view(m, n, n), curvature.view(m, n, n)
            # pair (a, b) sits at [:, a, b]: sums over a reach b, sums over b reach a
            grad_residual = weighted.sum(1).sub_(weighted.sum(2))
            grad_var = curvature.sum(1).add_(curvature.sum(2))
        else:
            grad_residual = weighted.new_zeros((n, m))
            grad_var = weighted.new_zeros((n, m))
            for k, start in _pair_diagonals(n):
                rows = slice(start, start + n - k)
                grad_residual[k:].add_(weighted[rows])  # d(r_b - r_a)/dr_b = 1
                grad_residual[:n - k].sub_(weighted[rows])  # ... /dr_a = -1
                grad_var[k:].add_(curvature[rows])
                grad_var[:n - k].add_(curvature[rows])
            grad_residual, grad_var = grad_residual.t(), grad_var.t()
        grad_residual = grad_residual.mul(-2.0 * scale[:, None])
        grad_sigma = grad_var.mul(sigma).mul_(2.0 * scale[:, None])
        return grad_residual, grad_sigma, None, None


def edt_log_likelihood(arrival_s: torch.Tensor, travel_time_s: torch.Tensor, sigma_s: torch.Tensor,
                       mask: torch.Tensor, power: str | float = "calibrated", *,
                       spread: float = 1.0, pair_dtype: torch.dtype | None = None,
                       pair_layout: str | None = None) -> torch.Tensor:
    """EDT log-likelihood of each particle.

    Parameters
    ----------
    arrival_s
        ``(n_events, 1, n_picks)`` observed arrival times, s.
    travel_time_s
        ``(n_events, n_particles, n_picks)`` predicted travel times, s.
    sigma_s
        ``(n_events, n_particles, n_picks)`` total pick standard deviations, s.
    mask
        ``(n_events, 1, n_picks)`` True for real (not padded, used) picks.
    power, spread
        See :class:`LikelihoodConfig` (``spread`` 1 here: the paper's EDT).
    pair_dtype
        Precision of the ``(n_events, n_particles, n_picks, n_picks)`` pair terms; None keeps
        that of ``travel_time_s``. Residuals are formed in the inputs' precision first (times
        after the reference, never epoch seconds), so float32 pairs cost nothing in accuracy
        when the travel times come from a float32 network, and halve the memory traffic.
    pair_layout
        ``"diagonal"`` or ``"dense"`` arrangement of the pair terms (same result; see
        :class:`_PairLogSumExp`); None: dense on a GPU, diagonal elsewhere.

    Returns
    -------
    Tensor
        ``(n_events, n_particles)`` in the dtype of ``travel_time_s``. Differentiable in
        ``travel_time_s`` and ``sigma_s`` (analytic backward of the pair sum).

    Examples
    --------
    >>> arrival = torch.tensor([[[1.0, 2.0, 3.0]]], dtype=torch.float64)
    >>> mask = torch.ones(1, 1, 3, dtype=torch.bool)
    >>> sigma = torch.full((1, 2, 3), 0.1, dtype=torch.float64)
    >>> travel = torch.tensor([[[1.0, 2.0, 3.0], [1.0, 2.0, 3.5]]], dtype=torch.float64)
    >>> logl = edt_log_likelihood(arrival, travel, sigma, mask)
    >>> bool(logl[0, 0] > logl[0, 1])   # the particle that explains the picks wins
    True
    """
    out_dtype = travel_time_s.dtype
    pair_dtype = out_dtype if pair_dtype is None else pair_dtype
    residual = (arrival_s - travel_time_s).to(pair_dtype)
    if spread != 1.0:
        sigma_s = sigma_s * math.sqrt(spread)
    residual, sigma_s, mask_full = torch.broadcast_tensors(residual, sigma_s.to(pair_dtype), mask)
    shape, n = residual.shape, residual.shape[-1]
    if pair_layout is None:
        pair_layout = "dense" if residual.is_cuda else "diagonal"
    elif pair_layout not in ("dense", "diagonal"):
        raise ValueError(f"pair_layout must be 'dense' or 'diagonal', got {pair_layout!r}")
    lse = _PairLogSumExp.apply(residual.reshape(-1, n), sigma_s.reshape(-1, n),
                               mask_full.reshape(-1, n), pair_layout)
    n_used = mask.sum(-1).to(out_dtype)
    scale = (spread + 2.0) / 3.0  # the curvature at residuals of their stated size, as at 1
    return scale * _power(n_used, power) * lse.reshape(shape[:-1]).to(out_dtype)


def gaussian_log_likelihood(arrival_s: torch.Tensor, travel_time_s: torch.Tensor,
                            sigma_s: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Gaussian (L2) log-likelihood with the origin time marginalised (weighted-mean residual).

    Shapes as for :func:`edt_log_likelihood`.
    """
    weight = mask.to(sigma_s.dtype) / sigma_s**2
    residual = arrival_s - travel_time_s
    t0 = (weight * residual).sum(-1, keepdim=True) / weight.sum(-1, keepdim=True)
    return -0.5 * (weight * (residual - t0) ** 2).sum(-1) - (mask * torch.log(sigma_s)).sum(-1)
