"""The optimisation loop shared by the 1D and 3D trainers: Adam, one-cycle schedule, resume."""

from __future__ import annotations

import copy
from typing import Callable

import torch

from ..errors import TrainingDivergedError
from ..settings import InstanceOf, Interval, Options

__all__ = ["run_adam", "SHARED_CONSTRAINTS"]


#: Allowed values of the settings the 1D and 3D training configurations share (part of their
#: ``_constraints``, see :mod:`obspy_hyposvi.settings`).
SHARED_CONSTRAINTS = {
    "station_band_km": Interval(float, 0, None, closed="neither"),
    "width": Interval(int, 4, None),
    "n_layers": Interval(int, 1, None),
    "activation": InstanceOf(str),
    # the one-cycle schedule needs a few steps per phase
    "n_steps": Interval(int, 40, None),
    "batch_size": Interval(int, 16, None),
    "learning_rate": Interval(float, 0, None, closed="neither"),
    "n_validation": Interval(int, 100, None),
    "outflow_weight": Interval(float, 0, None),
    "seed": Interval(int, None, None),
    "dtype": Options({"float32", "float64"}),
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
