"""Trained travel-time models: loading, domain checks, evaluation, and the model registry.

A :class:`TravelTimeModel` is built only from a checkpoint. It evaluates travel times in the
local frame (x east, y north, z down, km) for numpy arrays (:meth:`travel_time`) or torch
tensors with gradients (:meth:`travel_time_torch`), and refuses points outside the domain the
network was trained on rather than extrapolating silently.
"""

from __future__ import annotations

import os
import warnings
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from ..errors import CheckpointError, HypoSVIWarning, OutsideModelDomainError
from .checkpoint import load_checkpoint
from .network import EikoNet1D, EikoNet3D

__all__ = ["TravelTimeModel", "load_model", "list_models", "bundled_model_dir", "user_model_dir"]

_ON_OUTSIDE = ("raise", "warn")
_TOLERANCE_KM = 1e-6  # points this close to the boundary count as inside (float round-off)


def bundled_model_dir() -> Path:
    """Folder of the checkpoints shipped with the package."""
    return Path(str(resources.files("obspy_hyposvi.data") / "models"))


def user_model_dir() -> Path:
    """Folder searched for user checkpoints: ``$HYPOSVI_MODEL_DIR`` or
    ``~/.local/share/obspy_hyposvi/models``."""
    env = os.environ.get("HYPOSVI_MODEL_DIR")
    return Path(env) if env else Path.home() / ".local" / "share" / "obspy_hyposvi" / "models"


class TravelTimeModel:
    """Travel times of one phase from a trained EikoNet checkpoint.

    Parameters
    ----------
    checkpoint
        Output of :func:`~obspy_hyposvi.eikonet.checkpoint.load_checkpoint`.
    device
        Torch device to evaluate on.
    on_outside
        ``"raise"`` (default): points outside the valid domain raise
        :class:`~obspy_hyposvi.errors.OutsideModelDomainError`; ``"warn"``: they are evaluated
        anyway (extrapolated) with a :class:`~obspy_hyposvi.errors.HypoSVIWarning`.
    name
        Name used in messages (the file name by default).
    """

    def __init__(self, checkpoint: dict, *, device: str | torch.device = "cpu",
                 on_outside: str = "raise", name: str = "model") -> None:
        metadata = checkpoint["metadata"]
        args = dict(metadata["model_args"])
        try:
            net = EikoNet1D(**args) if metadata["geometry"] == "1d" else EikoNet3D(**args)
            net.load_state_dict(checkpoint["state_dict"])
        except (TypeError, RuntimeError, ValueError) as exc:
            raise CheckpointError(f"{name}: network arguments do not match the weights "
                                  f"({str(exc).splitlines()[0][:200]})") from None
        dtype = next(net.parameters()).dtype
        net = net.to(torch.device(device)).eval()
        for p in net.parameters():
            p.requires_grad_(False)
        self._set_up(metadata, net, dtype, device=device, on_outside=on_outside, name=name)

    def _set_up(self, metadata: dict, net, dtype: torch.dtype, *, device: str | torch.device,
                on_outside: str, name: str) -> None:
        """Every attribute of a model, from its metadata (``phase``, ``geometry``, ``domain``)
        and the callable ``net`` it evaluates: shared by :meth:`__init__` and models that are
        not checkpoints (:func:`~obspy_hyposvi.eikonet.layered.layered_model`)."""
        if on_outside not in _ON_OUTSIDE:
            raise ValueError(f"on_outside must be one of {_ON_OUTSIDE}, got {on_outside!r}")
        self.metadata = metadata
        self.name = name
        self.on_outside = on_outside
        self.device = torch.device(device)
        self.phase = metadata["phase"]
        self.geometry = metadata["geometry"]
        self.dtype = dtype
        self.net = net
        self.domain = metadata["domain"]

    # -- domain -----------------------------------------------------------------------
    @property
    def depth_range_km(self) -> tuple[float, float]:
        """Valid depths (km below sea level) of both ends."""
        lo, hi = self.domain["depth_km"]
        return float(lo), float(hi)

    @property
    def max_offset_km(self) -> float:
        """Largest valid horizontal offset (1D models), km."""
        return float(self.domain.get("max_offset_km", np.inf))

    def outside(self, sources_km: np.ndarray, receivers_km: np.ndarray) -> np.ndarray:
        """Boolean mask of pairs outside the valid domain."""
        s = np.asarray(sources_km, dtype=float).reshape(-1, 3)
        r = np.asarray(receivers_km, dtype=float).reshape(-1, 3)
        lo, hi = self.depth_range_km
        bad = np.zeros(np.broadcast_shapes(s.shape, r.shape)[0], dtype=bool)
        for p in (s, r):
            bad |= (p[:, 2] < lo - _TOLERANCE_KM) | (p[:, 2] > hi + _TOLERANCE_KM)
            bad |= ~np.all(np.isfinite(p), axis=1)
        if self.geometry == "1d":
            bad |= np.hypot(*(r[:, :2] - s[:, :2]).T) > self.max_offset_km + _TOLERANCE_KM
        else:
            box_lo = np.asarray(self.domain["box_min_km"])
            box_hi = np.asarray(self.domain["box_max_km"])
            for p in (s, r):
                bad |= np.any((p < box_lo - _TOLERANCE_KM) | (p > box_hi + _TOLERANCE_KM), axis=1)
        return bad

    def check_domain(self, sources_km, receivers_km, what: str = "point") -> None:
        """Raise (or warn, per ``on_outside``) if any pair lies outside the valid domain."""
        bad = self.outside(sources_km, receivers_km)
        if not bad.any():
            return
        i = int(np.flatnonzero(bad)[0])
        s = np.broadcast_to(np.asarray(sources_km, float).reshape(-1, 3), (bad.size, 3))[i]
        r = np.broadcast_to(np.asarray(receivers_km, float).reshape(-1, 3), (bad.size, 3))[i]
        lo, hi = self.depth_range_km
        limits = f"depths {lo:g}..{hi:g} km"
        if self.geometry == "1d":
            limits += f", offsets up to {self.max_offset_km:g} km"
        msg = (f"{bad.sum()} {what}(s) outside the valid domain of {self.name} ({limits}); "
               f"first: source {np.round(s, 3).tolist()} km, receiver {np.round(r, 3).tolist()} km")
        if self.on_outside == "raise":
            raise OutsideModelDomainError(msg)
        warnings.warn(msg + " (extrapolated)", HypoSVIWarning, stacklevel=3)

    # -- evaluation -------------------------------------------------------------------
    def travel_time_torch(self, sources_km: torch.Tensor,
                          receivers_km: torch.Tensor) -> torch.Tensor:
        """Differentiable travel times (s) for broadcastable ``(..., 3)`` tensors in km.

        No domain check (callers keep points inside, e.g. the SVGD prior box). The network
        runs in its own dtype (float32 for the bundled models); the result comes back in the
        dtype of ``sources_km``.

        Examples
        --------
        >>> model = load_model("socal-1d", "P")
        >>> src = torch.tensor([[0.0, 0.0, 10.0]], dtype=torch.float64, requires_grad=True)
        >>> rcv = torch.tensor([[30.0, 40.0, 0.0]], dtype=torch.float64)
        >>> t = model.travel_time_torch(src, rcv)
        >>> (grad,) = torch.autograd.grad(t.sum(), src)
        >>> # moving the source east, towards the receiver, shortens the time
        >>> t.dtype, bool(8.0 < t.item() < 10.0), bool(grad[0, 0] < 0)
        (torch.float64, True, True)
        """
        out_dtype = sources_km.dtype
        if self.geometry == "1d":
            # the horizontal offset is taken in the inputs' precision before the cast: UTM
            # coordinates of a few thousand km keep only ~0.2 m in float32
            delta = receivers_km[..., :2] - sources_km[..., :2]
            offset = torch.sqrt((delta * delta).sum(-1) + 1e-12).to(self.dtype)
            # depths are cast before broadcasting, so the cast touches the small tensors only
            z_s, z_r = torch.broadcast_tensors(sources_km[..., 2].to(self.dtype),
                                               receivers_km[..., 2].to(self.dtype))
            return self.net(offset, z_s, z_r).to(out_dtype)
        s, r = torch.broadcast_tensors(sources_km, receivers_km)
        shape = s.shape[:-1]
        return self.net(s.reshape(-1, 3), r.reshape(-1, 3)).reshape(shape).to(out_dtype)

    def travel_time(self, sources_km, receivers_km) -> np.ndarray:
        """Travel times (s) for ``(N, 3)`` numpy arrays of sources and receivers in km.

        Examples
        --------
        >>> model = load_model("socal-1d", "P")
        >>> t = model.travel_time([[0.0, 0.0, 10.0]], [[30.0, 40.0, 0.0]])
        >>> bool(8.0 < t[0] < 10.0)
        True
        """
        # copies: torch warns on read-only arrays (np.broadcast_to views, memory maps)
        s = np.array(sources_km, dtype=np.float64).reshape(-1, 3)
        r = np.array(receivers_km, dtype=np.float64).reshape(-1, 3)
        self.check_domain(s, r)
        with torch.no_grad():
            t = self.travel_time_torch(torch.as_tensor(s, device=self.device, dtype=self.dtype),
                                       torch.as_tensor(r, device=self.device, dtype=self.dtype))
        return t.double().cpu().numpy()

    def __repr__(self) -> str:
        return f"TravelTimeModel({self.name!r}, phase={self.phase!r}, geometry={self.geometry!r})"


def _resolve(name_or_path: str | os.PathLike, phase: str) -> tuple[Path, str]:
    path = Path(name_or_path)
    if path.suffix == ".pt" or path.is_file():
        return path, path.name
    name = str(name_or_path)
    for folder in (bundled_model_dir(), user_model_dir()):
        candidate = folder / f"{name}-{phase}.pt"
        if candidate.is_file():
            return candidate, f"{name} ({phase})"
    known = sorted({m["name"] for m in list_models()})
    raise CheckpointError(f"no model {name!r} for phase {phase}: not a file, and not among the "
                          f"bundled or user models {known} (user folder: {user_model_dir()})")


def load_model(name_or_path: str | os.PathLike, phase: str, *, device: str | torch.device = "cpu",
               on_outside: str = "raise") -> TravelTimeModel:
    """Load a travel-time model by bundled/user name (e.g. ``"socal-1d"``) or checkpoint path.

    Parameters
    ----------
    name_or_path
        A model name (files ``NAME-P.pt``/``NAME-S.pt`` in the bundled or user folder) or the
        path of a checkpoint.
    phase
        ``"P"`` or ``"S"``; must match the checkpoint's phase.
    device, on_outside
        See :class:`TravelTimeModel`.
    """
    if phase not in ("P", "S"):
        raise ValueError(f"phase must be 'P' or 'S', got {phase!r}")
    path, label = _resolve(name_or_path, phase)
    model = TravelTimeModel(load_checkpoint(path, __version__), device=device,
                            on_outside=on_outside, name=label)
    if model.phase != phase:
        raise CheckpointError(f"{path}: this checkpoint is for phase {model.phase}, not {phase}")
    return model


def list_models() -> list[dict]:
    """Bundled and user checkpoints with their region and validation figures."""
    out = []
    for source, folder in (("bundled", bundled_model_dir()), ("user", user_model_dir())):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*-[PS].pt")):
            entry = {"name": path.stem[:-2], "phase": path.stem[-1], "source": source,
                     "path": str(path)}
            try:
                meta = load_checkpoint(path)["metadata"]
            except CheckpointError as exc:
                entry["error"] = str(exc)
            else:
                entry.update({"domain": meta["domain"],
                              "velocity_model": meta["velocity_model"].get("name"),
                              "validation": meta.get("validation", {}),
                              "description": meta.get("description", "")})
            out.append(entry)
    return out
