"""The optimisation loop shared by the 1D and 3D trainers: Adam, one-cycle schedule, resume."""

from __future__ import annotations

import copy
from typing import Callable

import torch

from ..errors import TrainingDivergedError

__all__ = ["run_adam", "shared_checks"]


def shared_checks(config) -> dict[str, bool]:
    """Range checks of the settings the 1D and 3D training configurations share
    (for :func:`~obspy_hyposvi._settings.check_ranges`)."""
    return {
        "station_band_km": config.station_band_km > 0,
        "width": config.width >= 4,
        "n_layers": config.n_layers >= 1,
        # the one-cycle schedule needs a few steps per phase
        "n_steps": config.n_steps >= 40,
        "batch_size": config.batch_size >= 16,
        "learning_rate": config.learning_rate > 0,
        "n_validation": config.n_validation >= 100,
        "dtype": config.dtype in ("float32", "float64"),
        "outflow_weight": config.outflow_weight >= 0,
    }


def run_adam(net: torch.nn.Module, batch_loss: Callable[[], torch.Tensor], *, n_steps: int,
             learning_rate: float, generator: torch.Generator, config: dict,
             state: dict | None = None, on_checkpoint: Callable[[dict], None] | None = None,
             checkpoint_every: int = 500,
             progress: Callable[[int, float], None] | None = None) -> float:
    """Minimise ``batch_loss()`` over the parameters of ``net``; returns the last loss.

    ``batch_loss`` draws its own collocation points from ``generator``, whose state is saved
    with the weights, optimiser and schedule so that a resumed run repeats the steps an
    uninterrupted one would take. ``config`` is stored in each state for the caller to check
    on resume.
    """
    opt = torch.optim.Adam(net.parameters(), lr=learning_rate)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=learning_rate, total_steps=n_steps,
                                                pct_start=0.05, final_div_factor=1e3)
    start = 0
    if state is not None:
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        start = int(state["step"])
    loss = float("nan")
    net.train()
    for step in range(start, n_steps):
        value = batch_loss()
        if not torch.isfinite(value):
            raise TrainingDivergedError(
                f"training loss became {value.item()} at step {step}; lower the learning "
                f"rate (now {learning_rate})", epoch=step)
        opt.zero_grad()
        value.backward()
        opt.step()
        sched.step()
        loss = value.detach().item()
        if progress is not None:
            progress(step + 1, loss)
        if on_checkpoint is not None and (step + 1) % checkpoint_every == 0:
            # deep copy: state_dict() holds live tensors that later steps would change
            on_checkpoint(copy.deepcopy({
                "net": net.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(), "generator": generator.get_state(),
                "step": step + 1, "config": config}))
    net.eval()
    return loss
