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
from pathlib import Path

import torch

from ..errors import CheckpointError

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
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
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
        The file is missing, unreadable, not an obspy_hyposvi EikoNet checkpoint, of an unknown
        format version, or needs a newer package.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupted or foreign files
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:200]})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an obspy_hyposvi EikoNet checkpoint (format "
                              f"{payload.get('format') if isinstance(payload, dict) else type(payload).__name__!r})")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {version!r} is not supported "
                              f"(this package reads version {FORMAT_VERSION})")
    meta = payload.get("metadata")
    if not isinstance(meta, dict) or any(k not in meta for k in _REQUIRED):
        raise CheckpointError(f"{path}: checkpoint metadata is incomplete (needs {list(_REQUIRED)})")
    needed = meta.get("min_package_version")
    if package_version and needed and _version_tuple(package_version) < _version_tuple(needed):
        raise CheckpointError(f"{path}: needs obspy_hyposvi >= {needed}, this is {package_version}; "
                              "upgrade the package")
    if not isinstance(payload.get("state_dict"), dict):
        raise CheckpointError(f"{path}: checkpoint has no state_dict")
    return {"metadata": meta, "state_dict": payload["state_dict"]}
