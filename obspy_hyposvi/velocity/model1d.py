"""Velocity models: what the travel-time networks are trained to reproduce.

Depths are km below sea level (positive down), velocities km/s. Two 1D kinds:

- :class:`Layered1D`: constant-velocity layers; each value holds from its top down to the
  next top (HypoInverse, NonLinLoc ``LAYER`` and the socal-1d model are of this kind);
- :class:`Nodes1D`: velocities at nodes, linearly interpolated between them.

Both extend upwards from their first depth to any station elevation and downwards below the
last. 3D grids live in :mod:`obspy_hyposvi.velocity.grid3d`. File readers live in
:mod:`obspy_hyposvi.velocity.io`; this module does no I/O.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from ..errors import VelocityModelError

__all__ = ["VelocityModel1D", "Layered1D", "Nodes1D", "socal_1d", "PHASES", "model_from_dict"]

PHASES = ("P", "S")


def _check_phase(phase: str) -> str:
    if phase not in PHASES:
        raise ValueError(f"phase must be 'P' or 'S', got {phase!r}")
    return phase


@dataclass(frozen=True, eq=False)
class VelocityModel1D:
    """Base of the 1D models: depths (km below sea level) with P and S velocities (km/s).

    Parameters
    ----------
    depth_km
        Strictly increasing depths, km below sea level.
    vp_kmps, vs_kmps
        P and S velocities at those depths, km/s, finite and positive.
    name
        Short name used in messages and metadata.
    source
        Where the model came from (file name, reference).
    """

    depth_km: np.ndarray
    vp_kmps: np.ndarray
    vs_kmps: np.ndarray
    name: str = "unnamed"
    source: str = ""
    kind: str = field(default="", init=False)

    def __post_init__(self) -> None:
        arrays = {}
        for key in ("depth_km", "vp_kmps", "vs_kmps"):
            try:
                value = np.array(getattr(self, key), dtype=np.float64).reshape(-1)
            except (TypeError, ValueError):
                raise VelocityModelError(
                    f"velocity model {self.name!r}: {key} is not numeric") from None
            value.setflags(write=False)
            arrays[key] = value
            object.__setattr__(self, key, value)
        where = f"velocity model {self.name!r}" + (f" ({self.source})" if self.source else "")
        depth, vp, vs = arrays["depth_km"], arrays["vp_kmps"], arrays["vs_kmps"]
        if depth.size == 0:
            raise VelocityModelError(f"{where}: no depths given")
        if not (depth.size == vp.size == vs.size):
            raise VelocityModelError(
                f"{where}: depth, vp and vs have different lengths "
                f"({depth.size}, {vp.size}, {vs.size})")
        for key, value in arrays.items():
            bad = np.flatnonzero(~np.isfinite(value))
            if bad.size:
                raise VelocityModelError(f"{where}: {key} is not finite at row {bad[0] + 1}")
        for key in ("vp_kmps", "vs_kmps"):
            bad = np.flatnonzero(arrays[key] <= 0)
            if bad.size:
                raise VelocityModelError(
                    f"{where}: {key} must be positive, got {arrays[key][bad[0]]} "
                    f"at row {bad[0] + 1}")
        bad = np.flatnonzero(np.diff(depth) <= 0)
        if bad.size:
            raise VelocityModelError(
                f"{where}: depths must increase strictly, got {depth[bad[0]]} then "
                f"{depth[bad[0] + 1]} km at rows {bad[0] + 1}-{bad[0] + 2}")

    # -- evaluation -------------------------------------------------------------------
    def velocity(self, z_km, phase: str) -> np.ndarray:
        """Velocity (km/s) at depths ``z_km`` (km below sea level)."""
        raise NotImplementedError

    def velocities(self, phase: str) -> np.ndarray:
        """The P or S velocity values of the model, km/s."""
        return self.vp_kmps if _check_phase(phase) == "P" else self.vs_kmps

    def velocity_range(self, phase: str) -> tuple[float, float]:
        """Smallest and largest velocity anywhere in the model, km/s."""
        v = self.velocities(phase)
        return float(v.min()), float(v.max())

    # -- metadata ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-safe description, including a sha256 of the values."""
        out = {
            "kind": self.kind,
            "name": self.name,
            "source": self.source,
            "depth_km": self.depth_km.tolist(),
            "vp_kmps": self.vp_kmps.tolist(),
            "vs_kmps": self.vs_kmps.tolist(),
        }
        out["sha256"] = self.sha256()
        return out

    def sha256(self) -> str:
        """Hash of the kind and values (not the name), to identify the model in outputs."""
        payload = json.dumps(
            [self.kind, self.depth_km.tolist(), self.vp_kmps.tolist(), self.vs_kmps.tolist()])
        return hashlib.sha256(payload.encode()).hexdigest()


class Layered1D(VelocityModel1D):
    """Constant-velocity layers; ``depth_km`` are the layer tops.

    The first layer extends upwards to any height, the last downwards to any depth.

    Examples
    --------
    >>> m = Layered1D(depth_km=[0, 5.5], vp_kmps=[5.5, 6.3], vs_kmps=[3.18, 3.64])
    >>> m.velocity([-1.0, 5.49, 5.5, 10.0], "P").tolist()
    [5.5, 5.5, 6.3, 6.3]
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "kind", "layered_1d")

    def velocity(self, z_km, phase: str) -> np.ndarray:
        v = self.velocities(phase)
        idx = np.searchsorted(self.depth_km, np.asarray(z_km, dtype=np.float64), side="right") - 1
        return v[np.clip(idx, 0, v.size - 1)]


class Nodes1D(VelocityModel1D):
    """Velocities at depth nodes, linearly interpolated; constant beyond the end nodes.

    Examples
    --------
    >>> m = Nodes1D(depth_km=[0, 10], vp_kmps=[5.0, 6.0], vs_kmps=[3.0, 3.5])
    >>> m.velocity([-2.0, 5.0, 20.0], "P").tolist()
    [5.0, 5.5, 6.0]
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "kind", "nodes_1d")

    def velocity(self, z_km, phase: str) -> np.ndarray:
        return np.interp(np.asarray(z_km, dtype=np.float64), self.depth_km, self.velocities(phase))

    def to_layered(self, step_km: float = 0.05) -> Layered1D:
        """Approximate by thin constant layers (mid-point velocities), for the exact solver."""
        if step_km <= 0:
            raise ValueError(f"step_km must be positive, got {step_km}")
        tops = [self.depth_km[0]]
        for a, b in zip(self.depth_km[:-1], self.depth_km[1:]):
            n = max(1, int(np.ceil((b - a) / step_km)))
            tops.extend(np.linspace(a, b, n + 1)[1:])
        tops = np.asarray(tops)
        mids = np.append(0.5 * (tops[:-1] + tops[1:]), tops[-1])
        return Layered1D(depth_km=tops, vp_kmps=self.velocity(mids, "P"),
                         vs_kmps=self.velocity(mids, "S"), name=self.name + "-layered",
                         source=self.source)


def model_from_dict(data: dict) -> VelocityModel1D:
    """Rebuild a 1D model from :meth:`VelocityModel1D.to_dict` output (checks the sha256)."""
    kinds = {"layered_1d": Layered1D, "nodes_1d": Nodes1D}
    if data.get("kind") not in kinds:
        raise VelocityModelError(
            f"unknown velocity model kind {data.get('kind')!r}; known: {sorted(kinds)}")
    model = kinds[data["kind"]](depth_km=data["depth_km"], vp_kmps=data["vp_kmps"],
                                vs_kmps=data["vs_kmps"], name=data.get("name", "unnamed"),
                                source=data.get("source", ""))
    if "sha256" in data and data["sha256"] != model.sha256():
        raise VelocityModelError(
            f"velocity model {model.name!r}: stored sha256 does not match its values")
    return model


def socal_1d() -> Layered1D:
    """The Southern California model of Hadley and Kanamori (1977), Vs = Vp / 1.73.

    References
    ----------
    Hadley, D. and Kanamori, H. (1977). Seismic structure of the Transverse Ranges,
    California. GSA Bulletin 88, 1469-1478.
    """
    vp = np.array([5.5, 6.3, 6.7, 7.8])
    return Layered1D(depth_km=[0.0, 5.5, 16.0, 32.0], vp_kmps=vp, vs_kmps=vp / 1.73,
                     name="socal-1d", source="Hadley and Kanamori (1977)")
