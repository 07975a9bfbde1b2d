"""Locate events: batched SVGD over hypocentre particles, then the posterior summary.

Events of a batch are padded to the same number of picks with a mask, so one forward/backward
pass moves every particle of every event. Each event's initial particles come from a generator
seeded by the run seed and the event id, so a result does not depend on which other events
share its batch.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch

from ..errors import HypoSVIError, InsufficientPicksError, OutsideModelDomainError
from .likelihood import LikelihoodConfig, edt_log_likelihood, gaussian_log_likelihood, pick_sigma
from .observations import Observations
from .result import LocationResult
from .summary import (SummaryConfig, confidence_ellipsoid, dominant_cluster, horizontal_ellipse,
                      kde_map)
from .svgd import SVGDConfig, run_svgd

__all__ = ["SearchConfig", "LocationFailure", "locate_events", "search_box"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class SearchConfig:
    """Where particles may go and how events are batched.

    Parameters
    ----------
    margin_km
        The horizontal search box is the stations' bounding box widened by this, km.
    depth_km
        ``(min, max)`` depth range of the search, km below sea level; ``None`` takes the travel
        time models' valid range.
    min_picks
        Events with fewer usable picks are not located.
    batch_size
        Events moved together in one tensor.
    """

    margin_km: float = 30.0
    depth_km: tuple[float, float] | None = None
    min_picks: int = 4
    batch_size: int = 16

    def __post_init__(self) -> None:
        if self.margin_km < 0:
            raise ValueError(f"SearchConfig.margin_km must be >= 0, got {self.margin_km}")
        if self.depth_km is not None and not self.depth_km[0] < self.depth_km[1]:
            raise ValueError(f"SearchConfig.depth_km must be (min, max), got {self.depth_km}")
        if self.min_picks < 3:
            raise ValueError(f"SearchConfig.min_picks must be >= 3, got {self.min_picks}")
        if self.batch_size < 1:
            raise ValueError(f"SearchConfig.batch_size must be >= 1, got {self.batch_size}")


@dataclass(frozen=True)
class LocationFailure:
    """An event that could not be located, and why."""

    event_id: str
    reason: str
    error: str = field(default="HypoSVIError")


def _event_seed(seed: int, event_id: str) -> int:
    return (int(seed) * 1_000_003 + zlib.crc32(event_id.encode())) % (2**63 - 1)


def search_box(obs: Observations, models: Sequence, config: SearchConfig) -> tuple[np.ndarray, np.ndarray]:
    """Search box ``(lower, upper)`` of one event, km, inside every model's valid domain.

    Raises
    ------
    OutsideModelDomainError
        A station lies outside the models' depth range, or the stations are spread wider than
        the models' offset range allows.
    """
    xyz = obs.station_xyz_km
    z_lo = max(m.depth_range_km[0] for m in models)
    z_hi = min(m.depth_range_km[1] for m in models)
    bad = np.flatnonzero((xyz[:, 2] < z_lo) | (xyz[:, 2] > z_hi))
    if bad.size:
        i = bad[0]
        name = obs.station_ids[i] if obs.station_ids else f"#{i}"
        raise OutsideModelDomainError(
            f"event {obs.event_id}: station {name} at depth {xyz[i, 2]:.3f} km (elevation "
            f"{-xyz[i, 2] * 1e3:.0f} m) is outside the travel-time models' depth range "
            f"{z_lo:g}..{z_hi:g} km")
    if config.depth_km is not None:
        z_lo, z_hi = max(z_lo, config.depth_km[0]), min(z_hi, config.depth_km[1])
        if z_lo >= z_hi:
            raise OutsideModelDomainError(
                f"search depths {config.depth_km} km lie outside the models' depth range")
    lower = np.array([xyz[:, 0].min() - config.margin_km, xyz[:, 1].min() - config.margin_km, z_lo])
    upper = np.array([xyz[:, 0].max() + config.margin_km, xyz[:, 1].max() + config.margin_km, z_hi])
    max_offset = min(m.max_offset_km for m in models)
    corners = np.array([[x, y] for x in (lower[0], upper[0]) for y in (lower[1], upper[1])])
    reach = np.max(np.hypot(*(corners[:, None, :] - xyz[None, :, :2]).transpose(2, 0, 1)))
    if reach > max_offset:
        raise OutsideModelDomainError(
            f"event {obs.event_id}: stations and search margin span {reach:.0f} km, more than the "
            f"models' {max_offset:g} km offset range; drop distant stations or lower the margin")
    return lower, upper


def _pad(batch: Sequence[Observations], dtype, device):
    n = max(o.n_picks for o in batch)
    b = len(batch)
    xyz = np.zeros((b, n, 3))
    arr = np.zeros((b, n))
    sig = np.ones((b, n))
    ph = np.zeros((b, n), dtype=np.int64)
    mask = np.zeros((b, n), dtype=bool)
    for i, o in enumerate(batch):
        k = o.n_picks
        xyz[i, :k], arr[i, :k], sig[i, :k], ph[i, :k], mask[i, :k] = (
            o.station_xyz_km, o.arrival_s, o.sigma_s, o.phase_idx, True)
        xyz[i, k:] = o.station_xyz_km[0]  # padding sits on a real station: finite travel times
    t = lambda a, dt=dtype: torch.as_tensor(a, dtype=dt, device=device)  # noqa: E731
    return t(xyz), t(arr), t(sig), t(ph, torch.int64), t(mask, torch.bool)


def _travel_times(models, particles, receivers, phase_idx):
    """``(b, n_particles, n_picks)`` times: P model where phase_idx == 0, S model elsewhere."""
    src = particles[:, :, None, :]
    rcv = receivers[:, None, :, :]
    t_p = models[0].travel_time_torch(src, rcv)
    t_s = models[1].travel_time_torch(src, rcv)
    return torch.where(phase_idx[:, None, :] == 0, t_p, t_s).to(particles.dtype)


def locate_events(observations: Sequence[Observations], models: Sequence, *,
                  svgd: SVGDConfig = SVGDConfig(), likelihood: LikelihoodConfig = LikelihoodConfig(),
                  summary: SummaryConfig = SummaryConfig(), search: SearchConfig = SearchConfig(),
                  device: str | torch.device = "cpu", dtype: torch.dtype = torch.float64,
                  progress: Callable[[int], None] | None = None,
                  ) -> list[LocationResult | LocationFailure]:
    """Locate events from their observations.

    Parameters
    ----------
    observations
        One :class:`Observations` per event.
    models
        ``(p_model, s_model)`` travel-time models (objects with ``travel_time_torch``,
        ``depth_range_km`` and ``max_offset_km``).
    svgd, likelihood, summary, search
        Settings.
    device, dtype
        Where and in which precision particles live (times relative to the event's reference,
        so float32 is safe; float64 is the default).
    progress
        Called with the number of events finished after each batch.

    Returns
    -------
    list
        A :class:`LocationResult` or a :class:`LocationFailure` per event, in input order.
    """
    device = torch.device(device)
    results: list = [None] * len(observations)
    ready = []
    for i, obs in enumerate(observations):
        try:
            if obs.n_picks < search.min_picks:
                raise InsufficientPicksError(
                    f"event {obs.event_id}: {obs.n_picks} usable picks, at least "
                    f"{search.min_picks} needed")
            ready.append((i, obs, *search_box(obs, models, search)))
        except HypoSVIError as exc:
            logger.warning("event %s not located: %s", obs.event_id, exc)
            results[i] = LocationFailure(obs.event_id, str(exc), type(exc).__name__)
    done = len(observations) - len(ready)
    for start in range(0, len(ready), search.batch_size):
        chunk = ready[start:start + search.batch_size]
        for (i, _, _, _), res in zip(chunk, _locate_batch(chunk, models, svgd, likelihood,
                                                          summary, device, dtype)):
            results[i] = res
        done += len(chunk)
        if progress is not None:
            progress(done)
    return results


def _locate_batch(chunk, models, svgd, likelihood, summary, device, dtype):
    batch = [c[1] for c in chunk]
    lower = torch.as_tensor(np.stack([c[2] for c in chunk]), dtype=dtype, device=device)[:, None, :]
    upper = torch.as_tensor(np.stack([c[3] for c in chunk]), dtype=dtype, device=device)[:, None, :]
    receivers, arrival, sigma_pick, phase_idx, mask = _pad(batch, dtype, device)
    init = []
    for obs in batch:
        gen = torch.Generator(device="cpu").manual_seed(_event_seed(svgd.seed, obs.event_id))
        init.append(torch.rand(svgd.n_particles, 3, generator=gen, dtype=torch.float64))
    x0 = lower + torch.stack(init).to(device=device, dtype=dtype) * (upper - lower)
    arrival_b, mask_b = arrival[:, None, :], mask[:, None, :]

    def log_prob(x):
        t = _travel_times(models, x, receivers, phase_idx)
        sig = pick_sigma(t, sigma_pick[:, None, :], likelihood.error_model)
        if likelihood.kind == "edt":
            return edt_log_likelihood(arrival_b, t, sig, mask_b, likelihood.power)
        return gaussian_log_likelihood(arrival_b, t, sig, mask_b)

    particles, info = run_svgd(log_prob, x0, svgd, lower=lower, upper=upper)
    out = []
    for b, obs in enumerate(batch):
        out.append(_summarise(obs, particles[b].cpu().numpy(), models, likelihood, summary, info,
                              device, dtype))
    return out


def _summarise(obs, particles, models, likelihood, summary, info, device, dtype):
    in_cluster = dominant_cluster(particles, summary)
    cluster = particles[in_cluster]
    hypo, bandwidth = kde_map(cluster)
    if len(cluster) <= 3:  # too few to estimate a covariance: fall back to every particle
        in_cluster = np.ones(len(particles), dtype=bool)
        cluster = particles
        hypo, bandwidth = kde_map(cluster)
    cov = np.cov(cluster.T)
    tt, takeoff = _times_and_takeoff(models, hypo, obs, device, dtype)
    per_pick_t0 = obs.arrival_s - tt
    t0 = float(np.median(per_pick_t0))
    mad = float(np.median(np.abs(per_pick_t0 - t0)))
    residual = obs.arrival_s - (t0 + tt)
    level = summary.confidence_level
    if not np.all(np.isfinite(cov)):
        raise AssertionError("the dominant cluster always has more than 3 particles")
    ellipsoid = confidence_ellipsoid(cov, level)
    horizontal = horizontal_ellipse(cov, level)
    return LocationResult(
        event_id=obs.event_id, hypocentre_xyz_km=hypo, covariance_km2=cov, origin_time_s=t0,
        # 1.4826 MAD estimates a standard deviation for Gaussian scatter
        origin_time_uncertainty_s=1.4826 * mad, ellipsoid=ellipsoid,
        horizontal_uncertainty_km=horizontal, confidence_level=level, travel_time_s=tt,
        residual_s=residual, weight=np.ones(obs.n_picks), takeoff_deg=takeoff,
        particles_xyz_km=particles, cluster_mask=in_cluster,
        extra={"n_particles": int(len(particles)), "n_epochs": int(info["n_epochs"]),
               "cluster_fraction": float(in_cluster.mean()),
               "kde_bandwidth_km": bandwidth, "likelihood": likelihood.kind,
               "edt_power": str(likelihood.power),
               "error_model_fraction": likelihood.error_model.fraction,
               "error_model_min_s": likelihood.error_model.min_s,
               "error_model_max_s": likelihood.error_model.max_s})


def _times_and_takeoff(models, hypo, obs, device, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Travel time (s) and take-off angle (deg from downward vertical) of each pick."""
    src = torch.as_tensor(np.repeat(hypo[None], obs.n_picks, 0), dtype=dtype,
                          device=device).requires_grad_(True)
    rcv = torch.as_tensor(obs.station_xyz_km, dtype=dtype, device=device)
    ph = torch.as_tensor(obs.phase_idx, device=device)
    t = torch.where(ph == 0, models[0].travel_time_torch(src, rcv),
                    models[1].travel_time_torch(src, rcv))
    (g,) = torch.autograd.grad(t.sum(), src)
    # the ray leaves the source along -grad_s T; z is down, so cos(angle) = its z component
    direction = -g / g.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    takeoff = np.degrees(np.arccos(direction[:, 2].clamp(-1, 1).double().cpu().numpy()))
    return t.detach().double().cpu().numpy(), takeoff
