"""EikoNet checkpoint files: one file, readable with ``torch.load(path, weights_only=True)``.

Layout (a plain dict)::

    {"format": "obspy_hyposvi.eikonet", "format_version": 1,
     "metadata": {...JSON-safe...}, "state_dict": {...tensors...}}

The metadata holds everything needed to rebuild and trust the network: package versions,
phase, geometry, network arguments, the velocity model with its sha256, the valid domain,
training settings and the validation errors.

``metadata["validation"]`` of a 1D model holds the errors against the exact layered solution
on the pairs that training drew (their ``max_offset_km``, ``source_depth_km`` and
``receiver_depth_km`` say where) and, from :func:`domain_validation`, ``whole_domain`` (the
same figures over the whole advertised ``domain``: every offset, both ends at any depth in it)
and ``by_range`` (per band of offset and of source depth, receivers at station depths), so
that no figure is read as holding further than it was measured.
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

__all__ = ["FORMAT", "FORMAT_VERSION", "save_checkpoint", "load_checkpoint", "domain_validation",
           "revalidate_checkpoint"]

FORMAT = "obspy_hyposvi.eikonet"
FORMAT_VERSION = 1
_REQUIRED = ("phase", "geometry", "model_args", "velocity_model", "domain", "package_version")
#: Offsets (km) and source depths (km below sea level) that cut a 1D model's domain into the
#: bands reported by :func:`domain_validation` (the edges inside the domain are used).
VALIDATION_OFFSET_EDGES_KM = (100.0, 250.0, 400.0, 600.0, 800.0)
VALIDATION_DEPTH_EDGES_KM = (0.0, 20.0, 40.0)
#: Receivers of the bands: the top of the domain down to this depth below sea level (or the
#: top 3 km of a domain that starts lower), where stations are.
STATION_DEPTH_KM = 0.0


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


def _bands(lo: float, hi: float, edges: tuple[float, ...]) -> list[list[float]]:
    """``[lo, e1], [e1, e2], ..., [ek, hi]`` for the edges strictly inside ``(lo, hi)``."""
    cuts = [lo, *[e for e in edges if lo < e < hi], hi]
    return [[float(a), float(b)] for a, b in zip(cuts[:-1], cuts[1:])]


def domain_validation(checkpoint: dict, *, n_pairs: int = 20000, n_pairs_band: int = 5000,
                      seed: int = 12345, device: str | torch.device = "cpu") -> dict:
    """Errors of a 1D checkpoint against the exact layered solution over its whole domain.

    Parameters
    ----------
    checkpoint
        ``{"metadata": ..., "state_dict": ...}`` as :func:`load_checkpoint` returns it (a 1D
        network; its velocity model, domain and weights are taken from it).
    n_pairs
        Random pairs over the whole domain: offsets uniform in ``[0, max_offset_km]``, sources
        and receivers uniform in ``depth_km``. The velocity errors (``1 / |grad T|`` against
        the model, away from layer jumps) are measured on these too.
    n_pairs_band
        Random pairs per band.
    seed
        Seed of the pairs (a fixed default: the figures are reproducible).
    device
        Where the network runs.

    Returns
    -------
    dict
        ``whole_domain``: :func:`~obspy_hyposvi.eikonet.train.validate_1d`'s figures
        (``median_abs_dt_s``, ``p99_abs_dt_s``, ``max_abs_dt_s``, ``mean_dt_s``,
        ``median_abs_dv_kmps``, ``p99_abs_dv_kmps``) and the ranges they hold over.
        ``by_range``: a list of bands, each with ``offset_km``, ``source_depth_km``,
        ``receiver_depth_km`` (``[min, max]``, km), ``n_pairs`` and the four ``dt`` figures:
        first all offsets and source depths, then per band of offset
        (:data:`VALIDATION_OFFSET_EDGES_KM`) and per band of source depth
        (:data:`VALIDATION_DEPTH_EDGES_KM`), receivers always at station depths (from the top
        of the domain to :data:`STATION_DEPTH_KM`, or its top 3 km).

    Raises
    ------
    CheckpointError
        The checkpoint is not a 1D model (a 3D model has no exact solution: compare it with
        fast marching, ``benchmarks/eikonet_3d.py``).

    Examples
    --------
    >>> from obspy_hyposvi.eikonet.model import bundled_model_dir
    >>> bundled = load_checkpoint(bundled_model_dir() / "socal-1d-P.pt")
    >>> val = domain_validation(bundled, n_pairs=500, n_pairs_band=200)
    >>> val["whole_domain"]["max_offset_km"], val["whole_domain"]["source_depth_km"]
    (400.0, [-3.0, 60.0])
    >>> for band in val["by_range"]:
    ...     print(band["offset_km"], band["source_depth_km"], band["receiver_depth_km"])
    [0.0, 400.0] [-3.0, 60.0] [-3.0, 0.0]
    [0.0, 100.0] [-3.0, 60.0] [-3.0, 0.0]
    [100.0, 250.0] [-3.0, 60.0] [-3.0, 0.0]
    [250.0, 400.0] [-3.0, 60.0] [-3.0, 0.0]
    [0.0, 400.0] [-3.0, 0.0] [-3.0, 0.0]
    [0.0, 400.0] [0.0, 20.0] [-3.0, 0.0]
    [0.0, 400.0] [20.0, 40.0] [-3.0, 0.0]
    [0.0, 400.0] [40.0, 60.0] [-3.0, 0.0]
    """
    import numpy as np

    from ..reference.layered_exact import layered_travel_time
    from ..velocity import Layered1D, model_from_dict
    from .network import EikoNet1D
    from .train import validate_1d

    meta = checkpoint["metadata"]
    if meta.get("geometry") != "1d":
        raise CheckpointError(f"domain validation needs a 1D model, not {meta.get('geometry')!r}"
                              " (compare a 3D model with fast marching: benchmarks/eikonet_3d.py)")
    device = torch.device(device)
    net = EikoNet1D(**meta["model_args"])
    net.load_state_dict(checkpoint["state_dict"])
    net = net.to(device).eval()
    phase = meta["phase"]
    model = model_from_dict(meta["velocity_model"])
    max_offset = float(meta["domain"]["max_offset_km"])
    depth = tuple(float(d) for d in meta["domain"]["depth_km"])
    whole = validate_1d(net, model, phase, n_pairs=n_pairs, max_offset_km=max_offset,
                        source_depth_km=depth, receiver_depth_km=depth, seed=seed,
                        device=device)
    stations = [depth[0], STATION_DEPTH_KM if depth[0] < STATION_DEPTH_KM < depth[1]
                else min(depth[0] + 3.0, depth[1])]
    exact_model = model if isinstance(model, Layered1D) else model.to_layered(0.05)
    rng = np.random.default_rng(seed + 1)
    bands = [([0.0, max_offset], list(depth))]
    bands += [(o, list(depth)) for o in _bands(0.0, max_offset, VALIDATION_OFFSET_EDGES_KM)]
    bands += [([0.0, max_offset], z) for z in _bands(*depth, VALIDATION_DEPTH_EDGES_KM)]
    by_range = []
    for offset, source in bands:
        r = rng.uniform(*offset, n_pairs_band)
        zs = rng.uniform(*source, n_pairs_band)
        zr = rng.uniform(*stations, n_pairs_band)
        with torch.no_grad():
            t_net = torch.cat([net(torch.as_tensor(r[i:i + 65536], device=device),
                                   torch.as_tensor(zs[i:i + 65536], device=device),
                                   torch.as_tensor(zr[i:i + 65536], device=device))
                               for i in range(0, n_pairs_band, 65536)])
        dt = t_net.double().cpu().numpy() - layered_travel_time(exact_model, phase, r, zs, zr)
        by_range.append({
            "offset_km": offset, "source_depth_km": source, "receiver_depth_km": stations,
            "n_pairs": n_pairs_band, "median_abs_dt_s": float(np.median(np.abs(dt))),
            "p99_abs_dt_s": float(np.percentile(np.abs(dt), 99)),
            "max_abs_dt_s": float(np.abs(dt).max()), "mean_dt_s": float(dt.mean())})
    return {"whole_domain": whole, "by_range": by_range}


def revalidate_checkpoint(path: str | os.PathLike, **kwargs) -> dict:
    """Add :func:`domain_validation`'s figures to a 1D checkpoint file, weights unchanged.

    The file's ``metadata["validation"]`` keeps its figures and gains ``whole_domain`` and
    ``by_range`` (replaced if present); the file is rewritten atomically. ``kwargs`` go to
    :func:`domain_validation`.

    Returns
    -------
    dict
        The new ``metadata["validation"]``.
    """
    checkpoint = load_checkpoint(path)
    meta = dict(checkpoint["metadata"])
    meta["validation"] = {**meta.get("validation", {}), **domain_validation(checkpoint, **kwargs)}
    save_checkpoint(path, checkpoint["state_dict"], json.loads(json.dumps(meta)))
    return meta["validation"]
