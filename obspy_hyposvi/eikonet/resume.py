"""Resumable training: the state file saved during a training run, and its checks on resume.

The trainers (:func:`~obspy_hyposvi.eikonet.train.train_eikonet_1d`,
:func:`~obspy_hyposvi.eikonet.train3d.train_eikonet_3d`) hand a state dict to their
``on_checkpoint`` callback every ``checkpoint_every`` steps and take one back as ``state``.
This module owns that dict on disk: where it goes (:func:`training_state_path`, beside the
checkpoint), how it is written (:func:`save_training_state`, atomically) and read back
(:func:`load_training_state`, refusing a file that is not a state or that was trained with
other settings).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from ..errors import InputError

__all__ = ["training_state_path", "save_training_state", "load_training_state"]

#: Keys every training state holds (``eikonet._optimise.run_adam`` writes them).
_STATE_KEYS = frozenset({"net", "optimizer", "step", "config"})


def training_state_path(checkpoint_path: str | Path) -> Path:
    """Where a run writing ``checkpoint_path`` keeps its resumable state: ``<name>.state``.

    Examples
    --------
    >>> training_state_path("models/mine-P.pt").as_posix()
    'models/mine-P.pt.state'
    """
    checkpoint_path = Path(checkpoint_path)
    return checkpoint_path.with_name(checkpoint_path.name + ".state")


def save_training_state(path: str | Path, state: dict) -> None:
    """Write ``state`` to ``path`` atomically: an interrupted save never leaves half a state.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "m.pt.state"
    >>> save_training_state(path, {"net": {}, "optimizer": {}, "step": 500, "config": {}})
    >>> sorted(p.name for p in path.parent.iterdir())
    ['m.pt.state']
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_training_state(path: str | Path, config) -> dict:
    """Read a state saved by :func:`save_training_state` to resume training with ``config``.

    Parameters
    ----------
    path
        The state file.
    config
        The settings of the resumed run (a ``TrainConfig`` or ``Train3DConfig``): they must be
        those the state was trained with, compared through their ``to_dict()``.

    Returns
    -------
    dict
        The state, to pass as ``state`` to the trainer.

    Raises
    ------
    InputError
        No such file, not a training state, or trained with other settings (each one named
        with both values).

    Examples
    --------
    >>> load_training_state("/nonexistent/m.pt.state", None)
    Traceback (most recent call last):
    ...
    obspy_hyposvi.errors.InputError: cannot resume: /nonexistent/m.pt.state: no such file
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"cannot resume: {path}: no such file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupted or foreign files
        raise InputError(f"cannot resume from {path}: not a training state "
                         f"({type(exc).__name__})") from None
    if not isinstance(state, dict) or not _STATE_KEYS <= set(state):
        raise InputError(f"cannot resume from {path}: not a hyposvi training state")
    saved = json.loads(json.dumps(state["config"]))
    wanted = json.loads(json.dumps(config.to_dict()))
    differ = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
    if differ:
        raise InputError(f"cannot resume from {path}: it was trained with other settings ("
                         + ", ".join(f"{k}={saved.get(k)!r} here {wanted.get(k)!r}"
                                     for k in differ) + "); use the same arguments")
    return state
