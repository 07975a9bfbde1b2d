"""Training of 3D EikoNet models on a :class:`~obspy_hyposvi.velocity3d.Grid3D`.

Like the 1D trainer, the only training signal is the factored eikonal residual at both ends
of random source-receiver pairs, plus the outflow condition on the top face of the box
(nothing arrives from above). No travel time from any solver enters training; the
fast-marching comparison lives in ``benchmarks/eikonet_3d.py``.

Collocation pairs mix four kinds: one end in the station band at the top of the box (what
location uses most), uniform pairs, near-source pairs (separations log-uniform from 10 m to
20 km) and pairs with one end in a cell where the model is most three-dimensional or changes
fastest, drawn in proportion to the velocity's departure from its mean at that depth (a basin,
a slab) plus its jump to the neighbouring cells (layer interfaces, basin walls); half of those
pairs have their other end in the station band. Without that weighting a basin covering 1 % of
the box is barely sampled and the network ignores it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..settings import Interval, Relation, Settings, TupleOf
from ..velocity import Grid3D
from ._optimise import SHARED_CONSTRAINTS, run_adam
from .network import EikoNet3D
from .physics import eikonal_residual_3d, outflow_violation_3d
from .train import TrainingReport

__all__ = ["Train3DConfig", "checkpoint_metadata_3d", "model_args_3d", "train_eikonet_3d"]


@dataclass(frozen=True, kw_only=True)
class Train3DConfig(Settings):
    """Settings of a 3D training run.

    Parameters
    ----------
    box_min_km, box_max_km
        Corners of the valid box (x east, y north, z down), km; ``None`` takes the grid's box.
    station_band_km
        Thickness of the band below the top of the box where stations are expected, km.
    width, n_layers, activation
        Network shape (see :class:`~obspy_hyposvi.eikonet.network.EikoNet3D`).
    n_steps, batch_size, learning_rate
        Optimiser steps, pairs per step, peak learning rate of the one-cycle schedule.
    n_validation
        Held-out pairs for the validation residual.
    input_gain
        Factor on the initial first-layer weights. The default initialisation makes features
        that vary over the whole box; a basin a fifth of the box wide then stays invisible
        (its residual did not move in 2000 steps), while a gain of 6 resolves it.
    outflow_weight
        Weight of the outflow condition on the top face (0 switches it off).
    seed
        Seed of the initial weights and all sampling.
    dtype
        ``"float32"`` or ``"float64"`` for the network.
    """

    box_min_km: tuple[float, float, float] | None = None
    box_max_km: tuple[float, float, float] | None = None
    station_band_km: float = 4.0
    width: int = 128
    n_layers: int = 4
    activation: str = "silu"
    n_steps: int = 6000
    batch_size: int = 1024
    learning_rate: float = 3e-3
    n_validation: int = 20000
    input_gain: float = 6.0
    outflow_weight: float = 1.0
    seed: int = 0
    dtype: str = "float32"

    _constraints = {
        **SHARED_CONSTRAINTS,
        "box_min_km": [None, TupleOf(Interval(float, None, None), length=3)],
        "box_max_km": [None, TupleOf(Interval(float, None, None), length=3)],
        "input_gain": Interval(float, 0, None, closed="neither"),
    }
    _relations = (Relation("box_max_km", "given with box_min_km and above it on every axis",
                           lambda s: (s.box_min_km is None) == (s.box_max_km is None)
                           and (s.box_min_km is None
                                or all(hi > lo for lo, hi in zip(s.box_min_km, s.box_max_km))),
                           ("box_min_km",)),)


def _box(grid: Grid3D, config: Train3DConfig) -> tuple[np.ndarray, np.ndarray]:
    bounds = np.asarray(grid.bounds_km, dtype=np.float64)
    lo = bounds[:, 0] if config.box_min_km is None else np.asarray(config.box_min_km, float)
    hi = bounds[:, 1] if config.box_max_km is None else np.asarray(config.box_max_km, float)
    if np.any(lo < bounds[:, 0] - 1e-9) or np.any(hi > bounds[:, 1] + 1e-9):
        raise ValueError(f"training box {lo.tolist()}..{hi.tolist()} km reaches outside the "
                         f"velocity grid {grid.name!r}, {bounds.tolist()} km")
    return lo, hi


def model_args_3d(grid: Grid3D, phase: str, config: Train3DConfig) -> dict:
    """Constructor arguments of the :class:`EikoNet3D` trained for ``grid``."""
    lo, hi = _box(grid, config)
    v_lo, v_hi = grid.velocity_range(phase)
    return {"box_min_km": lo.tolist(), "box_max_km": hi.tolist(), "slowness_min": 1.0 / v_hi,
            "slowness_max": 1.0 / v_lo, "width": config.width, "n_layers": config.n_layers,
            "activation": config.activation}


class _Sampler3D:
    """Collocation pairs ``(source, receiver)``, each ``(n, 3)`` km, float64."""

    def __init__(self, grid: Grid3D, phase: str, config: Train3DConfig,
                 generator: torch.Generator) -> None:
        self.c = config
        self.g = generator
        lo, hi = _box(grid, config)
        self.lo = torch.as_tensor(lo)
        self.hi = torch.as_tensor(hi)
        # cells weighted by their 3D anomaly and by the velocity jump across them
        v = grid.velocities(phase)
        jump = sum(np.abs(np.diff(v, axis=a, prepend=np.take(v, [0], axis=a))) for a in range(3))
        anomaly = np.abs(v - v.mean(axis=(0, 1), keepdims=True))
        weight = torch.as_tensor((jump + anomaly).ravel(), dtype=torch.float64)
        self.cell_weight = weight if float(weight.sum()) > 0 else torch.ones_like(weight)
        self.nodes = torch.as_tensor(np.stack(np.meshgrid(grid.x_km, grid.y_km, grid.z_km,
                                                          indexing="ij"), -1).reshape(-1, 3))
        self.spacing = torch.as_tensor(grid.spacing_km)

    def _u(self, *shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=self.g, dtype=torch.float64)

    def uniform(self, n: int) -> torch.Tensor:
        """Points uniform in the box, ``(n, 3)`` km."""
        return self.lo + self._u(n, 3) * (self.hi - self.lo)

    def __call__(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.c
        a, b = self.uniform(n), self.uniform(n)
        kind = torch.randint(0, 4, (n,), generator=self.g)
        band = kind == 0
        a[band, 2] = self.lo[2] + self._u(int(band.sum())) * c.station_band_km
        near = kind == 2
        k = int(near.sum())
        direction = torch.randn(k, 3, generator=self.g, dtype=torch.float64)
        direction /= direction.norm(dim=1, keepdim=True).clamp_min(1e-12)
        radius = 10.0 ** (-2.0 + self._u(k) * math.log10(20.0 / 0.01))
        b[near] = a[near] + radius[:, None] * direction
        contrast = kind == 3
        k = int(contrast.sum())
        cells = torch.multinomial(self.cell_weight, k, replacement=True, generator=self.g)
        b[contrast] = self.nodes[cells] + (self._u(k, 3) - 0.5) * self.spacing
        to_band = contrast & (self._u(n) < 0.5)
        a[to_band, 2] = self.lo[2] + self._u(int(to_band.sum())) * c.station_band_km
        b = torch.minimum(torch.maximum(b, self.lo), self.hi)
        swap = self._u(n) < 0.5
        a, b = torch.where(swap[:, None], b, a), torch.where(swap[:, None], a, b)
        keep = (a - b).norm(dim=1) > 1e-3  # the factored form is singular at zero separation
        return a[keep], b[keep]


def train_eikonet_3d(grid: Grid3D, phase: str, config: Train3DConfig, *,
                     device: str | torch.device = "cpu", state: dict | None = None,
                     on_checkpoint: Callable[[dict], None] | None = None,
                     checkpoint_every: int = 500,
                     progress: Callable[[int, float], None] | None = None,
                     ) -> tuple[EikoNet3D, TrainingReport]:
    """Train a 3D EikoNet for one phase of a gridded velocity model.

    Parameters
    ----------
    grid
        Velocity model on a regular projected grid (km, km/s).
    phase
        ``"P"`` or ``"S"``.
    config
        Box, network shape and optimisation settings.
    device, state, on_checkpoint, checkpoint_every, progress
        As for :func:`~obspy_hyposvi.eikonet.train.train_eikonet_1d`.

    Returns
    -------
    net : EikoNet3D
        Trained network (evaluation mode, on ``device``).
    report : TrainingReport
        Losses and time; ``validation`` holds the held-out residual statistics (a 3D model
        has no exact solution: compare with fast marching, see ``benchmarks/eikonet_3d.py``).
    """
    device = torch.device(device)
    dtype = torch.float64 if config.dtype == "float64" else torch.float32
    generator = torch.Generator().manual_seed(config.seed)
    with torch.random.fork_rng(devices=[]):  # seeded init without touching global RNG state
        torch.manual_seed(config.seed)
        net = EikoNet3D(**model_args_3d(grid, phase, config))
        with torch.no_grad():
            net.net[0].weight.mul_(config.input_gain)
        net = net.to(device=device, dtype=dtype)
    sampler = _Sampler3D(grid, phase, config, generator)
    val_pairs = _Sampler3D(grid, phase, config,
                           torch.Generator().manual_seed(config.seed + 1))(config.n_validation)

    def velocity(xyz: torch.Tensor) -> torch.Tensor:
        return grid.velocity_torch(xyz, phase, outside="clamp").to(device, dtype)

    def residuals(source: torch.Tensor, receiver: torch.Tensor, create_graph: bool = True):
        return eikonal_residual_3d(net, source.to(device, dtype), receiver.to(device, dtype),
                                   velocity(source), velocity(receiver),
                                   create_graph=create_graph)

    def batch_loss() -> torch.Tensor:
        loss = residuals(*sampler(config.batch_size)).abs().mean()
        if config.outflow_weight > 0:
            source = sampler.uniform(max(16, config.batch_size // 4))
            top = sampler.uniform(source.shape[0])
            top[:, 2] = sampler.lo[2]
            loss = loss + config.outflow_weight * outflow_violation_3d(
                net, source.to(device, dtype), top.to(device, dtype), velocity(top)).mean()
        return loss

    t0 = time.perf_counter()
    loss = run_adam(net, batch_loss, n_steps=config.n_steps,
                    learning_rate=config.learning_rate, generator=generator,
                    config=config.to_dict(), state=state, on_checkpoint=on_checkpoint,
                    checkpoint_every=checkpoint_every, progress=progress)
    res = torch.cat([residuals(s, r, create_graph=False).detach().abs().reshape(-1)
                     for s, r in zip(val_pairs[0].split(8192), val_pairs[1].split(8192))])
    res = res.double().cpu().numpy()
    validation = {"median_abs_residual": float(np.median(res)),
                  "p99_abs_residual": float(np.percentile(res, 99)),
                  "n_pairs": int(val_pairs[0].shape[0])}
    return net, TrainingReport(n_steps=config.n_steps, final_train_loss=loss,
                               final_val_loss=float(res.mean()),
                               seconds=time.perf_counter() - t0, device=str(device),
                               validation=validation)


def checkpoint_metadata_3d(grid: Grid3D, phase: str, config: Train3DConfig,
                           report: TrainingReport, *, package_version: str,
                           description: str = "") -> dict:
    """JSON-safe checkpoint metadata for a trained 3D network (see DESIGN.md section 4)."""
    args = model_args_3d(grid, phase, config)
    return {
        "package_version": package_version,
        "min_package_version": "0.1.0",
        "weights_version": 1,
        "description": description or (
            f"EikoNet 3D {phase} model of {grid.name}, trained by obspy_hyposvi on the factored "
            "eikonal residual (Smith et al. 2020)"),
        "phase": phase,
        "geometry": "3d",
        "model_args": args,
        "velocity_model": grid.to_dict(),
        "domain": {"box_min_km": args["box_min_km"], "box_max_km": args["box_max_km"],
                   "depth_km": [args["box_min_km"][2], args["box_max_km"][2]],
                   "crs": grid.crs},
        "normalisation": {"box_min_km": args["box_min_km"], "box_max_km": args["box_max_km"]},
        "training": {**config.to_dict(), "final_train_loss": report.final_train_loss,
                     "final_val_loss": report.final_val_loss, "seconds": report.seconds,
                     "device": report.device, "torch_version": str(torch.__version__)},
        "validation": report.validation,
    }
