"""Log-likelihoods of hypocentre particles given picks, and the pick error model.

Equal differential time (EDT, Lomax et al. 2000; HypoSVI eq. 11-12): for every pair (a, b) of
picks of an event, with residuals ``r = t_obs - T_pred`` and ``s_ab^2 = s_a^2 + s_b^2``,

    log L = power * log sum_{a<b} exp(-(r_a - r_b)^2 / s_ab^2) / s_ab.

Near the optimum ``log sum exp`` behaves like ``log n_pairs - mean_pairs (r_a - r_b)^2 / s_ab^2``
and, for equal errors, ``sum_{a<b} (r_a - r_b)^2 = n sum (r - mean r)^2``. So the paper's
power (the number of pairs, ``n (n - 1) / 2``) makes the likelihood ``n`` times sharper than a
Gaussian likelihood with the origin time marginalised, and posteriors ``sqrt(n)`` too narrow.
``power="calibrated"`` (the default) uses ``(n - 1) / 2``, which matches that Gaussian near the
optimum while keeping EDT's robustness to outliers far from it; ``power="pairs"`` is the paper's.

The error model (HypoSVI eq. 13-14, after NonLinLoc's LOCGAU2):
``s^2 = sigma_pick^2 + clip(fraction * T_pred, min_s, max_s)^2``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch

__all__ = ["ErrorModel", "LikelihoodConfig", "pick_sigma", "edt_log_likelihood",
           "gaussian_log_likelihood"]


@dataclass(frozen=True, kw_only=True)
class ErrorModel:
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

    def __post_init__(self) -> None:
        if self.fraction < 0:
            raise ValueError(f"ErrorModel.fraction must be >= 0, got {self.fraction}")
        if self.min_s < 0:
            raise ValueError(f"ErrorModel.min_s must be >= 0 s, got {self.min_s}")
        if self.max_s < self.min_s:
            raise ValueError(f"ErrorModel.max_s ({self.max_s}) must be >= min_s ({self.min_s})")

    def to_dict(self) -> dict:
        """Plain dict of the settings."""
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class LikelihoodConfig:
    """Which likelihood to use and how.

    Parameters
    ----------
    kind
        ``"edt"`` (default) or ``"gaussian"`` (L2 with the origin time marginalised analytically).
    power
        EDT exponent: ``"calibrated"`` ((n - 1) / 2), ``"pairs"`` (the paper's n (n - 1) / 2),
        or a number.
    error_model
        Forward-model error term.
    """

    kind: str = "edt"
    power: str | float = "calibrated"
    error_model: ErrorModel = ErrorModel()

    def __post_init__(self) -> None:
        if self.kind not in ("edt", "gaussian"):
            raise ValueError(f"LikelihoodConfig.kind must be 'edt' or 'gaussian', got {self.kind!r}")
        if isinstance(self.power, str):
            if self.power not in ("calibrated", "pairs"):
                raise ValueError("LikelihoodConfig.power must be 'calibrated', 'pairs' or a "
                                 f"positive number, got {self.power!r}")
        elif not self.power > 0:
            raise ValueError(f"LikelihoodConfig.power must be positive, got {self.power}")

    def to_dict(self) -> dict:
        """Plain dict of the settings."""
        out = asdict(self)
        out["error_model"] = self.error_model.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "LikelihoodConfig":
        """Build from a dict, rejecting unknown keys."""
        valid = {f.name for f in fields(cls)}
        unknown = set(data) - valid
        if unknown:
            raise ValueError(f"unknown LikelihoodConfig keys {sorted(unknown)}; valid: {sorted(valid)}")
        data = dict(data)
        if isinstance(data.get("error_model"), dict):
            data["error_model"] = ErrorModel(**data["error_model"])
        return cls(**data)


def pick_sigma(travel_time_s: torch.Tensor, pick_sigma_s: torch.Tensor,
               model: ErrorModel) -> torch.Tensor:
    """Total standard deviation of each pick, s (eq. 13-14)."""
    forward = (model.fraction * travel_time_s).clamp(model.min_s, model.max_s)
    return torch.sqrt(pick_sigma_s**2 + forward**2)


def _power(n_used: torch.Tensor, power: str | float) -> torch.Tensor:
    if power == "calibrated":
        return (n_used - 1.0).clamp_min(1.0) / 2.0
    if power == "pairs":
        return (n_used * (n_used - 1.0) / 2.0).clamp_min(1.0)
    return torch.full_like(n_used, float(power))


def edt_log_likelihood(arrival_s: torch.Tensor, travel_time_s: torch.Tensor, sigma_s: torch.Tensor,
                       mask: torch.Tensor, power: str | float = "calibrated") -> torch.Tensor:
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
    power
        See :class:`LikelihoodConfig`.

    Returns
    -------
    Tensor
        ``(n_events, n_particles)``.
    """
    residual = arrival_s - travel_time_s
    diff = residual[..., :, None] - residual[..., None, :]
    var = sigma_s[..., :, None] ** 2 + sigma_s[..., None, :] ** 2
    pair_mask = mask[..., :, None] & mask[..., None, :]
    pair_mask = torch.triu(pair_mask, diagonal=1)
    log_terms = -diff**2 / var - 0.5 * torch.log(var)
    log_terms = log_terms.masked_fill(~pair_mask, float("-inf"))
    lse = torch.logsumexp(log_terms.flatten(-2), dim=-1)
    n_used = mask.sum(-1).to(arrival_s.dtype)
    return _power(n_used, power) * lse


def gaussian_log_likelihood(arrival_s: torch.Tensor, travel_time_s: torch.Tensor,
                            sigma_s: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Gaussian (L2) log-likelihood with the origin time marginalised (weighted-mean residual).

    Shapes as for :func:`edt_log_likelihood`.
    """
    weight = mask.to(sigma_s.dtype) / sigma_s**2
    residual = arrival_s - travel_time_s
    t0 = (weight * residual).sum(-1, keepdim=True) / weight.sum(-1, keepdim=True)
    return -0.5 * (weight * (residual - t0) ** 2).sum(-1) - (mask * torch.log(sigma_s)).sum(-1)
