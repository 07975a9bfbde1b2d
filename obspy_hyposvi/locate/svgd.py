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
from dataclasses import asdict, dataclass
from typing import Callable

import torch

from .._settings import check_ranges, reject_unknown_keys

__all__ = ["SVGDConfig", "rbf_kernel", "svgd_direction", "run_svgd"]

#: Kernel exponents |x - x'|^2 / h above this give k = 0 (exp(-80) = 1.8e-35).
_KERNEL_CUTOFF = 80.0


@dataclass(frozen=True, kw_only=True)
class SVGDConfig:
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
        RBF width ``h`` in particle units squared (paper: 15 km^2); ``None`` uses the median
        heuristic ``h = median(|x_i - x_j|^2) / log(n_particles)``.
    tolerance
        Stop early once the largest particle move of an epoch, in particle units (km), has
        stayed below this for ``patience`` epochs in a row, in every problem of the batch (0
        disables early stopping). Checked once per ``patience`` epochs (one device
        synchronisation each), never before the ``earliest_stop`` share of the epochs that
        :func:`run_svgd` is given. Measured on 16 synthetic events (~36 picks) located with
        the default schedule: stopping once every move stayed below 5 m (epoch 127 of 175)
        moved the hypocentres by at most 4 m (4 % of their spread) and changed the spread by
        at most 4 % against the full run, inside the sampling noise of 150 particles (8 % and
        6 %), for 27 % fewer epochs.
    patience
        See ``tolerance``.
    seed
        Seed of the initial particle draw.
    """

    n_particles: int = 150
    n_epochs: int = 175
    learning_rate: float = 2.0
    final_learning_rate: float = 0.02
    kernel_width: float | None = 15.0
    tolerance: float = 0.005
    patience: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        checks = {
            "n_particles": self.n_particles >= 2,
            "n_epochs": self.n_epochs >= 1,
            "learning_rate": self.learning_rate > 0,
            "final_learning_rate": 0 < self.final_learning_rate <= self.learning_rate,
            "kernel_width": self.kernel_width is None or self.kernel_width > 0,
            "tolerance": self.tolerance >= 0,
            "patience": self.patience >= 1,
        }
        check_ranges(self, checks)

    def to_dict(self) -> dict:
        """Plain dict of the settings."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "SVGDConfig":
        """Build from a dict, rejecting unknown keys."""
        reject_unknown_keys(cls, data)
        return cls(**data)


def rbf_kernel(x: torch.Tensor, kernel_width: float | None) -> tuple[torch.Tensor, torch.Tensor]:
    """RBF kernel matrix and the width used.

    Parameters
    ----------
    x
        ``(n_batch, n_particles, n_dim)`` particles.
    kernel_width
        ``h``; ``None`` for the median heuristic (per problem of the batch).

    Returns
    -------
    kernel : ``(n_batch, n_particles, n_particles)``
    width : ``(n_batch, 1, 1)``
    """
    sq = torch.cdist(x, x).pow(2)
    if kernel_width is None:
        n = x.shape[1]
        med = sq.flatten(1).median(dim=1).values
        width = (med / math.log(max(n, 2))).clamp_min(1e-12)[:, None, None]
    else:
        width = torch.full((x.shape[0], 1, 1), float(kernel_width), dtype=x.dtype, device=x.device)
    exponent = sq / width
    # pairs further apart than the cutoff have k < 2e-35 and are set to 0: exp() of such
    # arguments takes a slow denormal path in float32 (below -87) and float64 (below -708)
    kernel = torch.exp(-exponent.clamp(max=_KERNEL_CUTOFF))
    return kernel.masked_fill_(exponent > _KERNEL_CUTOFF, 0.0), width


def svgd_direction(x: torch.Tensor, grad_log_p: torch.Tensor,
                   kernel_width: float | None) -> torch.Tensor:
    """Stein direction ``phi`` for each particle, same shape as ``x``.

    Examples
    --------
    >>> x = torch.tensor([[[0.0], [1.0]]])
    >>> svgd_direction(x, torch.zeros_like(x), 1.0)[0, :, 0]   # pure repulsion
    tensor([-0.3679,  0.3679])
    """
    kernel, width = rbf_kernel(x.detach(), kernel_width)
    drive = kernel @ grad_log_p
    # grad_{x_j} k(x_j, x_i) summed over j = (2 / h) (x_i sum_j k_ij - sum_j k_ij x_j)
    repulse = (2.0 / width) * (x * kernel.sum(-1, keepdim=True) - kernel @ x)
    return (drive + repulse) / x.shape[1]


def run_svgd(log_prob: Callable[[torch.Tensor], torch.Tensor], particles: torch.Tensor,
             config: SVGDConfig, *, lower: torch.Tensor | None = None,
             upper: torch.Tensor | None = None,
             active: torch.Tensor | None = None,
             progress_aware: bool = False,
             earliest_stop: float = 0.0) -> tuple[torch.Tensor, dict]:
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
        Share of the epochs before which the run does not stop early (the end of an annealing
        schedule: the target still changes before it).

    Returns
    -------
    particles : Tensor
        Final particles, detached.
    info : dict
        ``n_epochs`` run, the largest move of the last epoch (particle units) and whether the
        run ``stopped_early``.
    """
    x = particles.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=config.learning_rate)
    ratio = config.final_learning_rate / config.learning_rate
    window_move = x.new_zeros(())  # largest move since the last check, kept on the device
    in_window = 0
    epoch = 0
    stopped_early = False
    for epoch in range(1, config.n_epochs + 1):
        frac = (epoch - 1) / max(config.n_epochs - 1, 1)
        # cosine decay in log space from learning_rate to final_learning_rate
        for group in opt.param_groups:
            group["lr"] = config.learning_rate * ratio ** (0.5 * (1 - math.cos(math.pi * frac)))
        logp = log_prob(x, frac) if progress_aware else log_prob(x)
        (grad,) = torch.autograd.grad(logp.sum(), x)
        phi = svgd_direction(x.detach(), grad, config.kernel_width)
        if active is not None:
            phi = phi * active[:, None, None].to(phi.dtype)
        before = x.detach().clone()
        opt.zero_grad(set_to_none=False)
        x.grad = -phi
        opt.step()
        with torch.no_grad():
            if lower is not None:
                x.copy_(torch.maximum(x, lower))
            if upper is not None:
                x.copy_(torch.minimum(x, upper))
            if active is not None:
                x.copy_(torch.where(active[:, None, None], x, before))
            move = (x - before).norm(dim=-1).max()
        if config.tolerance > 0 and frac >= earliest_stop:
            window_move = torch.maximum(window_move, move)
            in_window += 1
            if in_window == config.patience:  # one synchronisation per window
                if float(window_move) < config.tolerance:
                    stopped_early = epoch < config.n_epochs
                    break
                window_move, in_window = x.new_zeros(()), 0
    return x.detach(), {"n_epochs": epoch, "last_move": float(move) if epoch else 0.0,
                        "stopped_early": stopped_early}
