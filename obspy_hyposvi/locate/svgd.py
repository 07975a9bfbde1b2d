"""Batched Stein variational gradient descent (SVGD) with an RBF kernel and Adam steps.

Particles are a tensor ``(n_batch, n_particles, n_dim)``: every particle of every problem in the
batch moves in one forward/backward pass. The update direction of particle ``i`` is

    phi(x_i) = 1/n sum_j [ k(x_j, x_i) grad log p(x_j) + grad_{x_j} k(x_j, x_i) ],
    k(x, x') = exp(-|x - x'|^2 / h),

the first term pulling particles to high posterior density, the second keeping them apart.
``-phi`` is handed to Adam as the gradient, so Adam's step sizes (in the units of the particles)
set how far a particle moves per epoch. The fixed points (``phi = 0``) are those of plain SVGD.

References
----------
Liu, Q. and Wang, D. (2016). Stein variational gradient descent: a general purpose Bayesian
inference algorithm. NeurIPS 29.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from ..settings import Interval, Options, Relation, Settings

__all__ = ["SVGDConfig", "rbf_kernel", "svgd_direction", "run_svgd"]

#: Kernel exponents |x - x'|^2 / h above this give k = 0 (exp(-80) = 1.8e-35).
_KERNEL_CUTOFF = 80.0

#: ``kernel_width="adaptive"``: the paper's fixed width (km^2) while the particles explore,
#: before :data:`ADAPTIVE_SWITCH` of the epochs (the engine's annealed half). One width for the
#: whole cloud moves it as a body: particles left on a side ridge feel the main cloud's pull.
ADAPTIVE_EXPLORE_WIDTH = 15.0
#: Share of the epochs after which ``"adaptive"`` follows the cloud: the median heuristic's
#: width times :data:`ADAPTIVE_MEDIAN_FACTOR`.
ADAPTIVE_SWITCH = 0.5
#: Why the switch. A width of 15 km^2 (made for posteriors ~1 km wide) is flat over a cloud
#: 0.1 km wide: its fixed point has the target's spread, but the spread relaxes towards it at
#: a rate ~1/h, and after the default schedule the clouds of synthetic events were 10-15 %
#: (up to 2x) wider horizontally than their posteriors computed on a grid. The median
#: heuristic settles fast but its fixed point is too narrow: on a 3D Gaussian, converged SVGD
#: gives 0.949 (150 particles) and 0.911 (60) of the target's standard deviations, against
#: 0.995 and 0.99 at 4 times its width (3000 epochs; ``tests/locate/test_svgd.py`` checks
#: within 3 % after a shorter run). Used from the start, that width let particles stay on side
#: ridges of synthetic events (a median over a cloud mostly gathered is small): hence the fixed
#: width first.
ADAPTIVE_MEDIAN_FACTOR = 4.0

#: The median heuristic reads every this-many-th column of the squared distances.
_MEDIAN_STRIDE = 10


@dataclass(frozen=True, kw_only=True)
class SVGDConfig(Settings):
    """Settings of the particle optimisation.

    Parameters
    ----------
    n_particles
        Particles per event (paper: 150).
    n_epochs
        Maximum number of updates (paper: 175).
    learning_rate
        Adam step size at the start, in particle units (km for hypocentres).
    final_learning_rate
        Step size reached at the last epoch (cosine decay), particle units.
    kernel_width
        RBF width ``h``: a number in particle units squared (the paper's 15 km^2), ``None``
        for the median heuristic ``h = median(|x_i - x_j|^2) / log(n_particles)``, or
        ``"adaptive"`` (default): 15 km^2 for the first half of the epochs, then four times
        the median heuristic, so that the final cloud has the posterior's spread (see
        :data:`ADAPTIVE_MEDIAN_FACTOR`).
    tolerance
        A problem of the batch stops once the largest move of its particles, in particle units
        (km), has stayed below this for ``patience`` epochs in a row (0: every problem runs
        all epochs). Checked once per ``patience`` epochs (one device synchronisation each),
        never before the ``earliest_stop`` share of the epochs that :func:`run_svgd` is
        given; the batch ends when every problem has stopped. Measured on 16 synthetic events
        (~36 picks) located with the default schedule: the events stopped by epoch 127 of
        175, 32 % less CPU time; against the full run their hypocentres moved by at most 4 m
        (4 % of their spread) and their spreads by at most 8 %, about the sampling noise of
        150 particles (8 % and 6 %).
    patience
        See ``tolerance``.
    seed
        Seed of the initial particle draw.
    """

    n_particles: int = 150
    n_epochs: int = 175
    learning_rate: float = 2.0
    final_learning_rate: float = 0.02
    kernel_width: float | str | None = "adaptive"
    tolerance: float = 0.005
    patience: int = 5
    seed: int = 0

    _constraints = {
        "n_particles": Interval(int, 2, None),
        "n_epochs": Interval(int, 1, None),
        "learning_rate": Interval(float, 0, None, closed="neither"),
        "final_learning_rate": Interval(float, 0, None, closed="neither"),
        "kernel_width": [None, Options({"adaptive"}), Interval(float, 0, None, closed="neither")],
        "tolerance": Interval(float, 0, None),
        "patience": Interval(int, 1, None),
        "seed": Interval(int, None, None),
    }
    _relations = (Relation("final_learning_rate", "<= learning_rate",
                           lambda s: s.final_learning_rate <= s.learning_rate,
                           ("learning_rate",)),)


def rbf_kernel(x: torch.Tensor, kernel_width: float | None, *,
               median_factor: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """RBF kernel matrix and the width used.

    Parameters
    ----------
    x
        ``(n_batch, n_particles, n_dim)`` particles.
    kernel_width
        ``h``; ``None`` for the median heuristic (per problem of the batch).
    median_factor
        Factor on the median heuristic's width.

    Returns
    -------
    kernel : ``(n_batch, n_particles, n_particles)``
    width : ``(n_batch, 1, 1)``
    """
    sq = torch.cdist(x, x).pow(2)
    if kernel_width is None:
        n = x.shape[1]
        # the median over every _MEDIAN_STRIDE-th column (~15 of 150 particles against all):
        # within a few % of the full one, at a tenth of its cost (a per-epoch selection over
        # n^2 elements per problem cost as much as the rest of the kernel)
        med = sq[:, :, ::_MEDIAN_STRIDE].flatten(1).median(dim=1).values
        width = (median_factor * med / math.log(max(n, 2))).clamp_min(1e-12)[:, None, None]
    else:
        width = torch.full((x.shape[0], 1, 1), float(kernel_width), dtype=x.dtype, device=x.device)
    exponent = sq / width
    # pairs further apart than the cutoff have k < 2e-35 and are set to 0: exp() of such
    # arguments takes a slow denormal path in float32 (below -87) and float64 (below -708)
    kernel = torch.exp(-exponent.clamp(max=_KERNEL_CUTOFF))
    return kernel.masked_fill_(exponent > _KERNEL_CUTOFF, 0.0), width


def svgd_direction(x: torch.Tensor, grad_log_p: torch.Tensor,
                   kernel_width: float | None, *, median_factor: float = 1.0) -> torch.Tensor:
    """Stein direction ``phi`` for each particle, same shape as ``x``.

    Examples
    --------
    >>> x = torch.tensor([[[0.0], [1.0]]])
    >>> svgd_direction(x, torch.zeros_like(x), 1.0)[0, :, 0]   # pure repulsion
    tensor([-0.3679,  0.3679])
    """
    kernel, width = rbf_kernel(x.detach(), kernel_width, median_factor=median_factor)
    drive = kernel @ grad_log_p
    # grad_{x_j} k(x_j, x_i) summed over j = (2 / h) (x_i sum_j k_ij - sum_j k_ij x_j)
    repulse = (2.0 / width) * (x * kernel.sum(-1, keepdim=True) - kernel @ x)
    return (drive + repulse) / x.shape[1]


def _epoch_width(kernel_width: float | str | None, frac: float) -> tuple[float | None, float]:
    """``(kernel_width, median_factor)`` of :func:`svgd_direction` at ``frac`` of the epochs."""
    if kernel_width != "adaptive":
        return kernel_width, 1.0
    if frac < ADAPTIVE_SWITCH:
        return ADAPTIVE_EXPLORE_WIDTH, 1.0
    return None, ADAPTIVE_MEDIAN_FACTOR


def run_svgd(log_prob: Callable[..., torch.Tensor], particles: torch.Tensor,
             config: SVGDConfig, *, lower: torch.Tensor | None = None,
             upper: torch.Tensor | None = None,
             active: torch.Tensor | None = None,
             progress_aware: bool = False,
             earliest_stop: float = 0.0,
             subset: Callable[[torch.Tensor], Callable[..., torch.Tensor]] | None = None,
             ) -> tuple[torch.Tensor, dict]:
    """Move particles towards the posterior ``exp(log_prob)``.

    Parameters
    ----------
    log_prob
        Maps ``(n_batch, n_particles, n_dim)`` to the unnormalised log posterior
        ``(n_batch, n_particles)``; must be differentiable in its input.
    particles
        Initial particles ``(n_batch, n_particles, n_dim)``; not modified.
    config
        Epochs, step sizes, kernel width and stopping rule.
    lower, upper
        ``(n_batch, 1, n_dim)`` or broadcastable bounds of a uniform prior: particles are kept
        inside.
    active
        ``(n_batch,)`` bool; problems marked False are left where they are.
    progress_aware
        Call ``log_prob(x, fraction_done)`` with the share of epochs done before this one
        (0 at the first, 1 at the last), for targets that change during the run (annealing).
    earliest_stop
        Share of the epochs before which no problem stops early (the end of an annealing
        schedule: the target still changes before it).
    subset
        ``subset(idx)`` returns the ``log_prob`` of the problems ``idx`` (a ``(k,)`` index
        tensor) alone. With it, problems that have stopped (``config.tolerance``) leave the
        computation: once a quarter of the rows still computed have stopped, the batch is cut
        down to the problems still moving. Without it they are frozen but still computed.

    Returns
    -------
    particles : Tensor
        Final particles, detached.
    info : dict
        ``n_epochs``: the most epochs any problem ran; ``epochs``: ``(n_batch,)`` numpy array,
        epochs each problem ran; ``stopped_early``: whether every problem stopped before the
        last epoch; ``last_move``: the largest move of the last epoch (particle units).

    Notes
    -----
    Adam is written out here rather than taken from ``torch.optim``: its moment estimates are
    per particle, so the rows of stopped problems can be dropped from them. With a shared step
    count its update is ``torch.optim.Adam``'s (betas 0.9, 0.999, eps 1e-8).
    """
    n_batch = particles.shape[0]
    device = particles.device
    out = particles.detach().clone()
    rows = torch.arange(n_batch, device=device)  # problems still computed, as batch indices
    x = out.clone()
    running = torch.ones(n_batch, dtype=torch.bool, device=device) if active is None \
        else active.to(device=device, dtype=torch.bool).clone()
    all_running = bool(running.all())  # known on the host: no masking needed while True
    epochs = torch.zeros(n_batch, dtype=torch.int64, device=device)
    row_epochs = torch.zeros(n_batch, dtype=torch.int64, device=device)  # per row of x
    lo, hi = lower, upper
    target = log_prob
    m1 = torch.zeros_like(x)
    m2 = torch.zeros_like(x)
    window_move = torch.zeros(n_batch, dtype=x.dtype, device=device)

    def cut():
        """Keep only the rows of the problems still running, in every per-problem tensor."""
        nonlocal rows, x, running, lo, hi, m1, m2, window_move, target, row_epochs, all_running
        keep = torch.nonzero(running).flatten()
        n_rows = x.shape[0]
        lo = lo[keep] if lo is not None and lo.shape[0] == n_rows else lo
        hi = hi[keep] if hi is not None and hi.shape[0] == n_rows else hi
        epochs[rows] = row_epochs
        rows, x, running, row_epochs = rows[keep], x[keep], running[keep], row_epochs[keep]
        m1, m2, window_move = m1[keep], m2[keep], window_move[keep]
        target = subset(rows)
        all_running = True

    if subset is not None and not all_running:
        cut()
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    ratio = config.final_learning_rate / config.learning_rate
    in_window = 0
    row_move = None
    for epoch in range(1, config.n_epochs + 1):
        if x.shape[0] == 0:  # every problem was inactive from the start
            break
        frac = (epoch - 1) / max(config.n_epochs - 1, 1)
        # cosine decay in log space from learning_rate to final_learning_rate
        lr = config.learning_rate * ratio ** (0.5 * (1 - math.cos(math.pi * frac)))
        xg = x.detach().requires_grad_(True)
        logp = target(xg, frac) if progress_aware else target(xg)
        (grad,) = torch.autograd.grad(logp.sum(), xg)
        checking = config.tolerance > 0 and frac >= earliest_stop
        with torch.no_grad():
            # Adam on -phi (ascent on phi), in torch.optim.Adam's arithmetic; few kernels:
            # on a GPU a small batch is bound by their launches
            width, factor = _epoch_width(config.kernel_width, frac)
            phi = svgd_direction(x, grad, width, median_factor=factor)
            m1.mul_(beta1).add_(phi, alpha=-(1 - beta1))
            m2.mul_(beta2).addcmul_(phi, phi, value=1 - beta2)
            denom = m2.sqrt().div_(math.sqrt(1 - beta2 ** epoch)).add_(eps)
            new = torch.addcdiv(x, m1, denom, value=-lr / (1 - beta1 ** epoch))
            if lo is not None or hi is not None:
                new = torch.clamp(new, lo, hi)
            if not all_running:
                new = torch.where(running[:, None, None], new, x)  # stopped problems stay
            if checking or epoch == config.n_epochs:
                row_move = (new - x).norm(dim=-1).amax(dim=-1)
            x = new
            row_epochs += running
        if checking:
            window_move = torch.maximum(window_move, row_move)
            in_window += 1
            if in_window == config.patience:  # one synchronisation per window
                running &= window_move >= config.tolerance
                in_window = 0
                window_move = torch.zeros_like(window_move)
                n_running = int(running.sum())
                all_running = n_running == running.shape[0]
                if n_running == 0:
                    break
                if subset is not None and n_running <= 0.75 * x.shape[0]:
                    out[rows] = x  # the stopped problems' final particles
                    cut()
    epochs[rows] = row_epochs
    move = row_move.max() if row_move is not None and row_move.numel() else x.new_zeros(())
    out[rows] = x
    epochs_np = epochs.cpu().numpy()
    return out.detach(), {"n_epochs": int(epochs_np.max(initial=0)), "epochs": epochs_np,
                          "last_move": float(move),
                          "stopped_early": bool(epochs_np.max(initial=0) < config.n_epochs)}
