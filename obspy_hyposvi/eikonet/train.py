"""Training of 1D EikoNet models by the factored eikonal residual alone.

No file I/O here: :func:`train_eikonet_1d` takes a velocity model and a :class:`TrainConfig`
and returns the network and a :class:`TrainingReport`. Resuming works through ``state`` (as
given to ``on_checkpoint``), which the command line saves to disk.

Collocation sampling mixes four kinds of pairs, each chosen to resolve part of the field:
pairs with one end in the station band (what location uses most), uniform pairs over the
domain, near-source pairs (log-uniform offsets down to 10 m, small depth differences) and pairs
with one end close to an interface (where the vertical derivative jumps). The residual is taken
at both ends of every pair, in L1, which tolerates the unavoidable large residuals on kinks.

The eikonal residual alone does not single out the first arrival: a wave entering through the
top of the domain is a zero-residual field, too early wherever it reaches, and wide networks
find it (shallow sources came out 2.5 s early at 200 km). The outflow condition at the top of
the domain (nothing arrives from above,
:func:`~obspy_hyposvi.eikonet.physics.outflow_violation_1d`) rules that field out. No travel
time from any solver enters training.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import torch

from ..reference.layered_exact import layered_travel_time
from ..settings import InstanceOf, Interval, Relation, Settings
from ..velocity import Layered1D, Nodes1D, VelocityModel1D
from ._optimise import SHARED_CONSTRAINTS, run_adam
from .network import EikoNet1D
from .physics import eikonal_residual_1d, outflow_violation_1d

__all__ = ["TrainConfig", "TrainingReport", "train_eikonet_1d", "validate_1d", "model_args_1d"]


@dataclass(frozen=True, kw_only=True)
class TrainConfig(Settings):
    """Settings of a training run.

    Parameters
    ----------
    max_offset_km
        Largest horizontal source-receiver offset of the valid domain, km.
    depth_min_km, depth_max_km
        Depth range of the valid domain, km below sea level (negative: above).
    station_band_km
        Thickness of the band below ``depth_min_km`` where stations are expected, km.
    width, n_layers, activation, n_branches
        Network shape (see :class:`~obspy_hyposvi.eikonet.network.EikoNet1D`).
    interface_features
        Give the network kinked features at the model's velocity jumps.
    n_steps
        Optimiser steps.
    batch_size
        Collocation pairs per step.
    learning_rate
        Peak learning rate of the one-cycle schedule.
    n_validation
        Held-out collocation pairs for the validation residual.
    offset_gain
        Factor on the initial weights of the offset input: sharper offset features from the
        start resolve the direct/head-wave crossovers sooner.
    outflow_weight
        Weight of the outflow condition at the top of the domain (0 switches it off).
    seed
        Seed of the initial weights and all sampling.
    dtype
        ``"float32"`` or ``"float64"`` for the network.
    """

    max_offset_km: float = 400.0
    depth_min_km: float = -3.0
    depth_max_km: float = 60.0
    station_band_km: float = 4.0
    width: int = 128
    n_layers: int = 4
    activation: str = "silu"
    n_branches: int = 1
    interface_features: bool = True
    n_steps: int = 8000
    batch_size: int = 2048
    learning_rate: float = 3e-3
    n_validation: int = 20000
    offset_gain: float = 4.0
    outflow_weight: float = 1.0
    seed: int = 0
    dtype: str = "float32"

    _constraints = {
        **SHARED_CONSTRAINTS,
        "max_offset_km": Interval(float, 0, None, closed="neither"),
        "depth_min_km": Interval(float, None, None),
        "depth_max_km": Interval(float, None, None),
        "n_branches": Interval(int, 1, None),
        "interface_features": InstanceOf(bool),
        "offset_gain": Interval(float, 0, None, closed="neither"),
    }
    _relations = (Relation("depth_max_km", "> depth_min_km",
                           lambda s: s.depth_max_km > s.depth_min_km, ("depth_min_km",)),)


@dataclass
class TrainingReport:
    """What a training run did and how accurate the result is.

    ``validation`` holds the errors against the exact layered solution (s) and the recovered
    velocity (km/s), see :func:`validate_1d`.
    """

    n_steps: int
    final_train_loss: float
    final_val_loss: float
    seconds: float
    device: str
    validation: dict

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        return asdict(self)


def _interfaces(model: VelocityModel1D, config: TrainConfig) -> list[float]:
    if not (config.interface_features and isinstance(model, Layered1D)):
        return []
    tops = model.depth_km[1:]
    return [float(d) for d in tops if config.depth_min_km < d < config.depth_max_km]


def model_args_1d(model: VelocityModel1D, phase: str, config: TrainConfig) -> dict:
    """Constructor arguments of the :class:`EikoNet1D` trained for ``model``."""
    v_lo, v_hi = model.velocity_range(phase)
    return {"offset_scale_km": config.max_offset_km, "depth_min_km": config.depth_min_km,
            "depth_max_km": config.depth_max_km, "slowness_min": 1.0 / v_hi,
            "slowness_max": 1.0 / v_lo, "width": config.width, "n_layers": config.n_layers,
            "activation": config.activation, "interfaces_km": _interfaces(model, config),
            "n_branches": config.n_branches}


class _Sampler:
    """Collocation pairs ``(offset, z_a, z_b)`` in km, float64."""

    def __init__(self, model: VelocityModel1D, config: TrainConfig, generator: torch.Generator):
        self.c = config
        self.g = generator
        inside = ((model.depth_km > config.depth_min_km)
                  & (model.depth_km < config.depth_max_km))
        tops = model.depth_km[inside]
        if isinstance(model, Nodes1D) or tops.size == 0:
            # velocity-gradient changes play the interfaces' role for node models
            tops = model.depth_km[(model.depth_km > config.depth_min_km)
                                  & (model.depth_km < config.depth_max_km)]
        middle = 0.5 * (config.depth_min_km + config.depth_max_km)
        self.tops = torch.as_tensor(tops if tops.size else [middle], dtype=torch.float64)

    def _u(self, n: int) -> torch.Tensor:
        return torch.rand(n, generator=self.g, dtype=torch.float64)

    def uniform(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Offsets and depths (km) uniform over the domain."""
        c = self.c
        return (self._u(n) * c.max_offset_km,
                c.depth_min_km + self._u(n) * (c.depth_max_km - c.depth_min_km))

    def __call__(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c = self.c
        lo, hi = c.depth_min_km, c.depth_max_km
        kind = torch.randint(0, 4, (n,), generator=self.g)
        r = self._u(n) * c.max_offset_km
        za = lo + self._u(n) * (hi - lo)
        zb = lo + self._u(n) * (hi - lo)
        band = kind == 0
        za[band] = lo + self._u(int(band.sum())) * c.station_band_km
        near = kind == 2
        k = int(near.sum())
        r[near] = 10.0 ** (-2.0 + self._u(k) * math.log10(max(20.0, 1.0) / 0.01))
        jitter = 5.0 * torch.randn(k, generator=self.g, dtype=torch.float64)
        zb[near] = (za[near] + jitter).clamp(lo, hi)
        at_interface = kind == 3
        k = int(at_interface.sum())
        pick = torch.randint(0, self.tops.numel(), (k,), generator=self.g)
        zb[at_interface] = (self.tops[pick] + 0.5 * torch.randn(k, generator=self.g,
                                                                dtype=torch.float64)).clamp(lo, hi)
        za[at_interface] = torch.where(self._u(k) < 0.5, lo + self._u(k) * c.station_band_km,
                                       lo + self._u(k) * (hi - lo))
        swap = self._u(n) < 0.5
        za, zb = torch.where(swap, zb, za), torch.where(swap, za, zb)
        keep = torch.sqrt(r**2 + (za - zb) ** 2) > 1e-3  # the factored form is singular at 0
        return r[keep], za[keep], zb[keep]


def _velocity_fn(model: VelocityModel1D, phase: str) -> Callable[[torch.Tensor], torch.Tensor]:
    depth = torch.tensor(model.depth_km.copy(), dtype=torch.float64)  # model arrays are read-only
    vel = torch.tensor(model.velocities(phase).copy(), dtype=torch.float64)
    if isinstance(model, Layered1D):
        def layered(z: torch.Tensor) -> torch.Tensor:
            idx = torch.searchsorted(depth, z.to(torch.float64), right=True) - 1
            idx = idx.clamp(0, vel.numel() - 1)
            return vel[idx]
        return layered

    def nodes(z: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(np.interp(z.detach().cpu().numpy(), depth.numpy(), vel.numpy()))
    return nodes


@torch.no_grad()
def _predict(net: EikoNet1D, r: np.ndarray, za: np.ndarray, zb: np.ndarray,
             device: torch.device) -> np.ndarray:
    out = [net(torch.as_tensor(r[i:i + 65536], device=device),
               torch.as_tensor(za[i:i + 65536], device=device),
               torch.as_tensor(zb[i:i + 65536], device=device)).double().cpu().numpy()
           for i in range(0, len(r), 65536)]
    return np.concatenate(out) if out else np.zeros(0)


def validate_1d(net: EikoNet1D, model: VelocityModel1D, phase: str, *, n_pairs: int = 20000,
                max_offset_km: float = 250.0, source_depth_km: tuple[float, float] = (0.0, 40.0),
                receiver_depth_km: tuple[float, float] = (-2.0, 0.0), seed: int = 12345,
                device: str | torch.device = "cpu") -> dict:
    """Errors of a 1D network against the exact first-arrival solution and the model velocity.

    Travel-time errors use random pairs (offsets uniform in ``[0, max_offset_km]``, sources and
    receivers uniform in the given depth ranges); velocity errors compare ``1 / |grad_r T|``
    with the model at the receiver end of random pairs, away (> 0.5 km) from velocity jumps.
    Node models are solved exactly on 50 m constant sub-layers.

    Returns
    -------
    dict
        ``median_abs_dt_s``, ``p99_abs_dt_s``, ``max_abs_dt_s``, ``mean_dt_s``,
        ``median_abs_dv_kmps``, ``p99_abs_dv_kmps`` and the sampling settings.
    """
    device = torch.device(device)
    rng = np.random.default_rng(seed)
    r = rng.uniform(0.0, max_offset_km, n_pairs)
    zs = rng.uniform(*source_depth_km, n_pairs)
    zr = rng.uniform(*receiver_depth_km, n_pairs)
    exact_model = model if isinstance(model, Layered1D) else model.to_layered(0.05)
    t_exact = layered_travel_time(exact_model, phase, r, zs, zr)
    dt = _predict(net, r, zs, zr, device) - t_exact

    # velocity from |grad T| at a receiver anywhere in the source depth range
    zv = rng.uniform(*source_depth_km, n_pairs)
    jumps = model.depth_km if isinstance(model, Layered1D) else np.array([])
    far = (np.all(np.abs(zv[:, None] - jumps[None, :]) > 0.5, axis=1) if jumps.size
           else np.ones(n_pairs, bool))
    rr = torch.as_tensor(r[far] + 1.0, device=device).requires_grad_(True)
    zz = torch.as_tensor(zv[far], device=device).requires_grad_(True)
    t = net(rr, torch.as_tensor(zr[far], device=device), zz)
    g_r, g_z = torch.autograd.grad(t.sum(), (rr, zz))
    v_net = 1.0 / torch.sqrt(g_r**2 + g_z**2).double().cpu().numpy()
    dv = v_net - model.velocity(zv[far], phase)
    return {
        "median_abs_dt_s": float(np.median(np.abs(dt))),
        "p99_abs_dt_s": float(np.percentile(np.abs(dt), 99)),
        "max_abs_dt_s": float(np.abs(dt).max()),
        "mean_dt_s": float(dt.mean()),
        "median_abs_dv_kmps": float(np.median(np.abs(dv))),
        "p99_abs_dv_kmps": float(np.percentile(np.abs(dv), 99)),
        "n_pairs": n_pairs, "max_offset_km": max_offset_km,
        "source_depth_km": list(source_depth_km), "receiver_depth_km": list(receiver_depth_km),
    }


def train_eikonet_1d(model: VelocityModel1D, phase: str, config: TrainConfig, *,
                     device: str | torch.device = "cpu", state: dict | None = None,
                     on_checkpoint: Callable[[dict], None] | None = None,
                     checkpoint_every: int = 500,
                     progress: Callable[[int, float], None] | None = None,
                     init_weights: dict | None = None,
                     ) -> tuple[EikoNet1D, TrainingReport]:
    """Train a 1D EikoNet for one phase of a 1D velocity model.

    Parameters
    ----------
    model
        The velocity model (km below sea level, km/s).
    phase
        ``"P"`` or ``"S"``.
    config
        Domain, network shape and optimisation settings.
    device
        Torch device to train on.
    state
        A dict previously passed to ``on_checkpoint``: training resumes from it.
    on_checkpoint
        Called every ``checkpoint_every`` steps with a resumable state dict.
    checkpoint_every
        Steps between calls of ``on_checkpoint``.
    progress
        Called after every step with (step, loss).
    init_weights
        Network state dict to start from instead of random weights (fine-tuning a trained
        model of the same shape with a fresh schedule); ignored when ``state`` is given.

    Returns
    -------
    net : EikoNet1D
        Trained network (in evaluation mode, on ``device``).
    report : TrainingReport
        Losses, time, and :func:`validate_1d` figures.

    Raises
    ------
    TrainingDivergedError
        If the loss becomes non-finite.
    """
    device = torch.device(device)
    dtype = torch.float64 if config.dtype == "float64" else torch.float32
    torch_gen = torch.Generator().manual_seed(config.seed)
    with torch.random.fork_rng(devices=[]):  # seeded init without touching global RNG state
        torch.manual_seed(config.seed)
        net = EikoNet1D(**model_args_1d(model, phase, config))
        with torch.no_grad():
            net.net[0].weight[:, 0] *= config.offset_gain  # column 0 is the offset feature
        if init_weights is not None:
            net.load_state_dict(init_weights)
        net = net.to(device=device, dtype=dtype)
    velocity = _velocity_fn(model, phase)
    sampler = _Sampler(model, config, torch_gen)
    val_gen = torch.Generator().manual_seed(config.seed + 1)
    val_pairs = _Sampler(model, config, val_gen)(config.n_validation)

    def loss_of(r, za, zb, create_graph=True):
        res = eikonal_residual_1d(net, r.to(device, dtype), za.to(device, dtype),
                                  zb.to(device, dtype), velocity(za).to(device, dtype),
                                  velocity(zb).to(device, dtype), create_graph=create_graph)
        return res.abs().mean()

    v_top = velocity(torch.tensor([config.depth_min_km], dtype=torch.float64)).to(device, dtype)

    def outflow_loss() -> torch.Tensor:
        if config.outflow_weight == 0:
            return torch.zeros((), device=device, dtype=dtype)
        r, z = sampler.uniform(max(16, config.batch_size // 4))
        return config.outflow_weight * outflow_violation_1d(
            net, r.to(device, dtype), z.to(device, dtype), config.depth_min_km, v_top).mean()

    t0 = time.perf_counter()
    loss = run_adam(net, lambda: loss_of(*sampler(config.batch_size)) + outflow_loss(),
                    n_steps=config.n_steps, learning_rate=config.learning_rate,
                    generator=torch_gen, config=config.to_dict(), state=state,
                    on_checkpoint=on_checkpoint, checkpoint_every=checkpoint_every,
                    progress=progress)
    val_loss = float(loss_of(*val_pairs, create_graph=False).detach())
    # the validation set (offsets 0-250 km, sources 0-40 km), cut to the trained domain
    validation = validate_1d(net, model, phase, device=device,
                             max_offset_km=min(250.0, config.max_offset_km),
                             source_depth_km=(max(0.0, config.depth_min_km),
                                              min(40.0, config.depth_max_km)))
    report = TrainingReport(n_steps=config.n_steps, final_train_loss=loss, final_val_loss=val_loss,
                            seconds=time.perf_counter() - t0, device=str(device),
                            validation=validation)
    return net, report


def checkpoint_metadata(model: VelocityModel1D, phase: str, config: TrainConfig,
                        report: TrainingReport, *, package_version: str,
                        description: str = "") -> dict:
    """JSON-safe checkpoint metadata for a trained 1D network (see DESIGN.md section 4)."""
    return {
        "package_version": package_version,
        "min_package_version": "0.1.0",
        "weights_version": 1,
        "description": description or (
            f"EikoNet 1D {phase} model of {model.name}, trained by obspy_hyposvi on the factored "
            "eikonal residual (Smith et al. 2020, HypoSVI: Smith et al. 2022)"),
        "phase": phase,
        "geometry": "1d",
        "model_args": model_args_1d(model, phase, config),
        "velocity_model": model.to_dict(),
        "domain": {"max_offset_km": config.max_offset_km,
                   "depth_km": [config.depth_min_km, config.depth_max_km]},
        "normalisation": {"offset_scale_km": config.max_offset_km,
                          "depth_km": [config.depth_min_km, config.depth_max_km]},
        "training": {**config.to_dict(), "final_train_loss": report.final_train_loss,
                     "final_val_loss": report.final_val_loss, "seconds": report.seconds,
                     "device": report.device, "torch_version": str(torch.__version__)},
        "validation": report.validation,
    }
