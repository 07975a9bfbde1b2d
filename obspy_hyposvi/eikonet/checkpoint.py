"""EikoNet checkpoint files: one file, readable with ``torch.load(path, weights_only=True)``.

Layout (a plain dict)::

    {"format": "obspy_hyposvi.eikonet", "format_version": 1,
     "metadata": {...JSON-safe...}, "state_dict": {...tensors...}}

The metadata holds everything needed to rebuild and trust the network: package versions,
phase, geometry, network arguments, the velocity model with its sha256, the valid domain,
training settings and the validation errors.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import pickle
from pathlib import Path

import torch

from ..errors import CheckpointError
from ..safe_write import write_atomically

__all__ = ["FORMAT", "FORMAT_VERSION", "save_checkpoint", "load_checkpoint"]

FORMAT = "obspy_hyposvi.eikonet"
FORMAT_VERSION = 1
_REQUIRED = ("phase", "geometry", "model_args", "velocity_model", "domain", "package_version")


def _version_tuple(version: str) -> tuple[int, ...]:
    out = []
    for part in version.split("+")[0].split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


def save_checkpoint(path: str | os.PathLike, state_dict: dict, metadata: dict) -> Path:
    """Write a checkpoint atomically (temporary file, then rename).

    Parameters
    ----------
    path
        Destination file (``.pt``).
    state_dict
        The network's ``state_dict()``.
    metadata
        JSON-serialisable metadata; must contain the keys in ``_REQUIRED``.
    """
    missing = [k for k in _REQUIRED if k not in metadata]
    if missing:
        raise CheckpointError(f"checkpoint metadata lacks {missing}")
    json.dumps(metadata)  # fail here, not at load time, if something is not JSON-safe
    meta = dict(metadata)
    meta.setdefault("created_utc", _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "metadata": meta,
               "state_dict": {k: v.detach().cpu() for k, v in state_dict.items()}}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the temporary file is removed on any failure or Ctrl-C: no half-written checkpoints
    write_atomically(path, lambda tmp: torch.save(payload, tmp))
    return path


def load_checkpoint(path: str | os.PathLike, package_version: str | None = None) -> dict:
    """Read and check a checkpoint.

    Parameters
    ----------
    path
        Checkpoint file.
    package_version
        Version of the running package, compared with the file's ``min_package_version``.

    Returns
    -------
    dict
        ``{"metadata": ..., "state_dict": ...}``.

    Raises
    ------
    CheckpointError
        The file is missing, empty, unreadable, not an obspy_hyposvi EikoNet checkpoint, of
        an unknown format version, needs a newer package, or holds NaN or infinite weights.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: the checkpoint file is empty (0 bytes; an interrupted "
                              "copy or download?); copy it again or re-train it")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupted or foreign files
        raise CheckpointError(f"{path}: not a readable checkpoint ({_load_failure(exc)}); "
                              "copy it again or re-train it") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"{path}: not an obspy_hyposvi EikoNet checkpoint (format "
                              f"{found!r})")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {version!r} is not supported "
                              f"(this package reads version {FORMAT_VERSION})")
    meta = payload.get("metadata")
    if not isinstance(meta, dict) or any(k not in meta for k in _REQUIRED):
        raise CheckpointError(f"{path}: checkpoint metadata is incomplete "
                              f"(needs {list(_REQUIRED)})")
    needed = meta.get("min_package_version")
    if package_version and needed and _version_tuple(package_version) < _version_tuple(needed):
        raise CheckpointError(f"{path}: needs obspy_hyposvi >= {needed}, this is "
                              f"{package_version}; upgrade the package")
    if not isinstance(payload.get("state_dict"), dict):
        raise CheckpointError(f"{path}: checkpoint has no state_dict")
    _check_finite(path, payload["state_dict"])
    return {"metadata": meta, "state_dict": payload["state_dict"]}


def _load_failure(exc: BaseException) -> str:
    """Why ``torch.load`` failed, in a few words.

    torch's own message for a file that ``weights_only`` refuses advises loading it with
    ``weights_only=False``, which would run whatever code the file holds: not repeated here.
    """
    if isinstance(exc, pickle.UnpicklingError) or "Weights only load failed" in str(exc):
        return (f"{type(exc).__name__}: not a torch file of tensors only (damaged, or foreign "
                "content refused without being run)")
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    """``Type: first line of the message`` (200 characters at most; the type alone if none)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__


def _check_finite(path: Path, state_dict: dict) -> None:
    """Refuse weights with NaN or infinity: such a network returns NaN travel times, and the
    location would fail much later with an unrelated message."""
    for key, value in state_dict.items():
        if isinstance(value, torch.Tensor) and value.is_floating_point() \
                and not bool(torch.isfinite(value).all()):
            n_bad = int((~torch.isfinite(value)).sum())
            raise CheckpointError(f"{path}: weights {key!r} hold {n_bad} NaN or infinite "
                                  "values (training diverged, or the file is damaged); "
                                  "re-train the model")
