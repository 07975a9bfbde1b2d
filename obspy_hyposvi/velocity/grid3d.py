"""3D velocity models on a regular grid in the projected frame.

This module owns :class:`Grid3D`: P and S velocities (km/s) on a regular grid whose axes are
``x`` east, ``y`` north and ``z`` down (km below sea level) in a projected CRS (see
:mod:`obspy_hyposvi.geo`), with trilinear interpolation in numpy and in torch. Reading
``.npz`` files (and resampling lon/lat grids onto the projected frame) is here too because the
array layout is part of the model's definition; other formats live in
:mod:`obspy_hyposvi.velocity.io`, and the demo basin model in
:mod:`obspy_hyposvi.velocity.basin`.

The ``.npz`` layout accepted by :meth:`Grid3D.from_npz`:

- projected: ``x_km`` (nx,), ``y_km`` (ny,), ``z_km`` (nz,), a string ``crs`` (e.g.
  ``"EPSG:32611"``), ``vp`` (or ``vp_kmps``) and ``vs`` (or ``vs_kmps``) shaped (nx, ny, nz);
- geographic: ``lon_deg``, ``lat_deg``, ``depth_km`` (short names ``lon``, ``lat``, ``depth``
  are accepted) plus ``vp``/``vs`` shaped (nlon, nlat, ndepth); a
  :class:`~obspy_hyposvi.geo.Projection` is then required and the model is resampled onto a
  regular projected grid inside the lon/lat box (bilinear in lon/lat, so features smaller
  than a grid cell are smoothed).

Axes must be strictly increasing and evenly spaced (one spacing per axis).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, OutsideModelDomainError, VelocityModelError
from ..geo import Projection
from .model1d import VelocityModel1D, _check_phase

__all__ = ["Grid3D", "grid3d_from_dict"]

_AXIS_NAMES = ("x_km", "y_km", "z_km")
# relative tolerance on even spacing: axes written with np.linspace in float32 still pass
_SPACING_RTOL = 1e-5
# points this far (in cells) outside the grid count as on its edge (round-off in callers)
_EDGE_TOLERANCE_CELLS = 1e-6


def _regular_axis(values, name: str, where: str) -> np.ndarray:
    try:
        axis = np.array(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise VelocityModelError(f"{where}: axis {name} is not numeric") from None
    if axis.size < 2:
        raise VelocityModelError(f"{where}: axis {name} needs at least 2 nodes, got {axis.size}")
    bad = np.flatnonzero(~np.isfinite(axis))
    if bad.size:
        raise VelocityModelError(f"{where}: axis {name} is not finite at index {bad[0]}")
    step = np.diff(axis)
    bad = np.flatnonzero(step <= 0)
    if bad.size:
        raise VelocityModelError(
            f"{where}: axis {name} must increase strictly, got {axis[bad[0]]} then "
            f"{axis[bad[0] + 1]} at indices {bad[0]}-{bad[0] + 1}")
    mean_step = (axis[-1] - axis[0]) / (axis.size - 1)
    bad = np.flatnonzero(np.abs(step - mean_step) > _SPACING_RTOL * mean_step)
    if bad.size:
        raise VelocityModelError(
            f"{where}: axis {name} must be evenly spaced (a regular grid); spacing "
            f"{step[bad[0]]} at index {bad[0]} differs from the mean {mean_step}")
    axis.setflags(write=False)
    return axis


def _same_crs(a: str, b: str) -> bool:
    from pyproj import CRS

    return CRS.from_user_input(a) == CRS.from_user_input(b)


def _blend(values, idx, w):
    """Trilinear blend of the 8 cell corners; works on numpy arrays and torch tensors alike."""
    i, j, k = idx[:, 0], idx[:, 1], idx[:, 2]
    wx, wy, wz = w[:, 0], w[:, 1], w[:, 2]
    c00 = values[i, j, k] * (1 - wx) + values[i + 1, j, k] * wx
    c10 = values[i, j + 1, k] * (1 - wx) + values[i + 1, j + 1, k] * wx
    c01 = values[i, j, k + 1] * (1 - wx) + values[i + 1, j, k + 1] * wx
    c11 = values[i, j + 1, k + 1] * (1 - wx) + values[i + 1, j + 1, k + 1] * wx
    c0 = c00 * (1 - wy) + c10 * wy
    c1 = c01 * (1 - wy) + c11 * wy
    return c0 * (1 - wz) + c1 * wz


def _trilinear_numpy(values: np.ndarray, origin: np.ndarray, spacing: np.ndarray,
                     xyz: np.ndarray) -> np.ndarray:
    """Trilinear interpolation of ``values`` (nx, ny, nz) at ``xyz`` (n, 3); no bounds check."""
    shape = np.array(values.shape)
    frac = (xyz - origin) / spacing
    idx = np.clip(np.floor(frac).astype(np.int64), 0, shape - 2)
    w = np.clip(frac - idx, 0.0, 1.0)
    return _blend(values, idx, w)


def _trilinear_torch(values, origin, spacing, xyz):
    """Torch twin of :func:`_trilinear_numpy`; all arguments tensors on one device."""
    import torch

    shape = torch.tensor(values.shape, device=xyz.device)
    frac = (xyz - origin) / spacing
    idx = torch.minimum(torch.clamp(torch.floor(frac).long(), min=0), shape - 2)
    w = torch.clamp(frac - idx.to(frac.dtype), 0.0, 1.0)
    return _blend(values, idx, w)


class RegularAxes:
    """Origin, spacing and bounds of a grid with evenly spaced axes ``x_km``, ``y_km``,
    ``z_km`` (attributes of the subclass)."""

    @property
    def origin_km(self) -> np.ndarray:
        """First node (x, y, z), km."""
        return np.array([self.x_km[0], self.y_km[0], self.z_km[0]])

    @property
    def spacing_km(self) -> np.ndarray:
        """Node spacing along x, y, z, km."""
        return np.array([(a[-1] - a[0]) / (a.size - 1) for a in (self.x_km, self.y_km, self.z_km)])

    @property
    def bounds_km(self) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
        """Bounding box ((xmin, xmax), (ymin, ymax), (zmin, zmax)), km."""
        return tuple((float(a[0]), float(a[-1])) for a in (self.x_km, self.y_km, self.z_km))


@dataclass(frozen=True, eq=False)
class Grid3D(RegularAxes):
    """P and S velocities on a regular 3D grid in a projected frame.

    Parameters
    ----------
    x_km, y_km, z_km
        Evenly spaced, strictly increasing axes: x east, y north (km in ``crs``), z down
        (km below sea level). At least 2 nodes each.
    vp_kmps, vs_kmps
        Velocities (km/s) shaped (nx, ny, nz), finite and positive.
    crs
        Projected CRS of x and y, e.g. ``"EPSG:32611"``.
    name
        Short name used in messages and metadata.
    source
        Where the model came from (file, reference).
    file_name
        Name of the ``.npz`` file holding the arrays, recorded by :meth:`to_dict` because the
        arrays themselves are too large for JSON metadata.

    Examples
    --------
    >>> import numpy as np
    >>> axis = np.array([0.0, 1.0])
    >>> vp = np.full((2, 2, 2), 6.0)
    >>> vp[:, :, 1] = 7.0
    >>> grid = Grid3D(x_km=axis, y_km=axis, z_km=axis, vp_kmps=vp, vs_kmps=vp / 1.73,
    ...               crs="EPSG:32611")
    >>> grid.velocity([[0.5, 0.5, 0.25]], "P").tolist()
    [6.25]
    """

    x_km: np.ndarray
    y_km: np.ndarray
    z_km: np.ndarray
    vp_kmps: np.ndarray
    vs_kmps: np.ndarray
    crs: str
    name: str = "unnamed"
    source: str = ""
    file_name: str = ""
    kind: str = field(default="grid_3d", init=False)
    _torch_cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = f"3D velocity model {self.name!r}" + (f" ({self.source})" if self.source else "")
        axes = [_regular_axis(getattr(self, key), key, where) for key in _AXIS_NAMES]
        for key, axis in zip(_AXIS_NAMES, axes):
            object.__setattr__(self, key, axis)
        shape = tuple(a.size for a in axes)
        for key in ("vp_kmps", "vs_kmps"):
            try:
                value = np.array(getattr(self, key), dtype=np.float64)
            except (TypeError, ValueError):
                raise VelocityModelError(f"{where}: {key} is not numeric") from None
            if value.shape != shape:
                raise VelocityModelError(
                    f"{where}: {key} has shape {value.shape}, the axes need (nx, ny, nz) = {shape}")
            bad = np.argwhere(~np.isfinite(value))
            if bad.size:
                i, j, k = bad[0]
                raise VelocityModelError(
                    f"{where}: {key} is not finite at index ({i}, {j}, {k}), "
                    f"x/y/z = ({axes[0][i]}, {axes[1][j]}, {axes[2][k]}) km")
            bad = np.argwhere(value <= 0)
            if bad.size:
                i, j, k = bad[0]
                raise VelocityModelError(
                    f"{where}: {key} must be positive, got {value[i, j, k]} at index "
                    f"({i}, {j}, {k}), x/y/z = ({axes[0][i]}, {axes[1][j]}, {axes[2][k]}) km")
            value = np.ascontiguousarray(value)
            value.setflags(write=False)
            object.__setattr__(self, key, value)
        try:
            Projection(str(self.crs))
        except InputError as exc:
            raise VelocityModelError(f"{where}: {exc}") from None
        object.__setattr__(self, "crs", str(self.crs))

    # -- geometry ---------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        """Number of nodes (nx, ny, nz)."""
        return self.vp_kmps.shape

    def contains(self, xyz_km) -> np.ndarray:
        """Whether each point (n, 3), km, lies inside the bounding box (edges included)."""
        xyz = np.atleast_2d(np.asarray(xyz_km, dtype=np.float64))
        tol = _EDGE_TOLERANCE_CELLS * self.spacing_km
        lo = self.origin_km - tol
        hi = np.array([b[1] for b in self.bounds_km]) + tol
        return np.all((xyz >= lo) & (xyz <= hi), axis=1)

    def _check_inside(self, xyz: np.ndarray, outside: str) -> None:
        if outside == "clamp":
            return
        if outside != "raise":
            raise ValueError(f"outside must be 'raise' or 'clamp', got {outside!r}")
        inside = self.contains(xyz)
        if not inside.all():
            first = int(np.flatnonzero(~inside)[0])
            raise OutsideModelDomainError(
                f"point {xyz[first].tolist()} km (row {first}) lies outside the 3D velocity "
                f"model {self.name!r}, box {self.bounds_km} km; pass outside='clamp' to use the "
                f"edge values instead")

    # -- evaluation -------------------------------------------------------------------
    def velocities(self, phase: str) -> np.ndarray:
        """The P or S velocity grid (nx, ny, nz), km/s."""
        return self.vp_kmps if _check_phase(phase) == "P" else self.vs_kmps

    def velocity_range(self, phase: str) -> tuple[float, float]:
        """Smallest and largest velocity anywhere in the model, km/s."""
        v = self.velocities(phase)
        return float(v.min()), float(v.max())

    def velocity(self, xyz_km, phase: str, outside: str = "raise") -> np.ndarray:
        """Trilinearly interpolated velocity (km/s) at points ``xyz_km`` (n, 3), km.

        Parameters
        ----------
        xyz_km
            Points (n, 3): x east, y north, z down, km in :attr:`crs`.
        phase
            ``"P"`` or ``"S"``.
        outside
            ``"raise"`` (default: never extrapolate silently) raises
            :class:`~obspy_hyposvi.errors.OutsideModelDomainError` for points outside the box;
            ``"clamp"`` uses the nearest edge value.

        Returns
        -------
        ndarray
            (n,) velocities, km/s.

        Examples
        --------
        >>> from obspy_hyposvi.velocity import basin_demo_model
        >>> grid = basin_demo_model(spacing_km=4.0)
        >>> grid.velocity([[60.0, 60.0, 20.0]], "P").round(3).tolist()
        [6.7]
        """
        xyz = np.atleast_2d(np.asarray(xyz_km, dtype=np.float64))
        if xyz.ndim != 2 or xyz.shape[1] != 3:
            raise ValueError(f"xyz_km must have shape (n, 3), got {xyz.shape}")
        self._check_inside(xyz, outside)
        return _trilinear_numpy(self.velocities(phase), self.origin_km, self.spacing_km, xyz)

    def velocity_torch(self, xyz_km, phase: str, outside: str = "raise"):
        """Torch version of :meth:`velocity`, vectorised, on the device/dtype of ``xyz_km``.

        The result is piecewise linear in ``xyz_km`` and autograd flows through it, but
        gradients are discontinuous across cell faces; it is not meant for gradient checks.

        Parameters
        ----------
        xyz_km
            Tensor (n, 3), km.
        phase
            ``"P"`` or ``"S"``.
        outside
            As in :meth:`velocity`; ``"raise"`` costs one device synchronisation.

        Returns
        -------
        torch.Tensor
            (n,) velocities, km/s.

        Examples
        --------
        >>> import torch
        >>> from obspy_hyposvi.velocity import basin_demo_model
        >>> grid = basin_demo_model(spacing_km=4.0)
        >>> grid.velocity_torch(torch.tensor([[60.0, 60.0, 20.0]]), "P").round(decimals=3)
        tensor([6.7000])
        """
        import torch

        if xyz_km.ndim != 2 or xyz_km.shape[1] != 3:
            raise ValueError(f"xyz_km must have shape (n, 3), got {tuple(xyz_km.shape)}")
        dtype, device = xyz_km.dtype, xyz_km.device
        key = (phase, dtype, str(device))
        cached = self._torch_cache.get(key)
        if cached is None:
            # converted once per (phase, dtype, device): the grid can be large
            cached = tuple(torch.tensor(np.array(a), dtype=dtype, device=device) for a in
                           (self.velocities(phase), self.origin_km, self.spacing_km,
                            [b[1] for b in self.bounds_km]))
            self._torch_cache[key] = cached
        values, origin, spacing, upper = cached
        if outside == "raise":
            tol = _EDGE_TOLERANCE_CELLS * spacing
            bad = ((xyz_km < origin - tol) | (xyz_km > upper + tol)).any(dim=1)
            if bool(bad.any()):
                self._check_inside(xyz_km.detach().cpu().double().numpy(), "raise")
        elif outside != "clamp":
            raise ValueError(f"outside must be 'raise' or 'clamp', got {outside!r}")
        return _trilinear_torch(values, origin, spacing, xyz_km)

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_1d(cls, model: VelocityModel1D, x_km, y_km, z_km, crs: str,
                name: str | None = None) -> "Grid3D":
        """Broadcast a 1D model onto a grid (velocities sampled at the nodes).

        Layer jumps between two nodes become linear ramps under trilinear interpolation:
        choose a ``z_km`` spacing fine enough for the purpose.

        Examples
        --------
        >>> from obspy_hyposvi.velocity import socal_1d
        >>> g = Grid3D.from_1d(socal_1d(), [0, 10], [0, 10], [0, 5, 10], "EPSG:32611")
        >>> g.velocity([[5.0, 5.0, 7.5]], "P").round(3).tolist()  # 5.5 at z=5, 6.3 at z=10
        [5.9]
        """
        z = np.asarray(z_km, dtype=np.float64)
        nx, ny = np.size(x_km), np.size(y_km)
        vp = np.broadcast_to(model.velocity(z, "P"), (nx, ny, z.size))
        vs = np.broadcast_to(model.velocity(z, "S"), (nx, ny, z.size))
        return cls(x_km=x_km, y_km=y_km, z_km=z, vp_kmps=vp, vs_kmps=vs, crs=crs,
                   name=name or model.name, source=f"1D model {model.name!r} on a grid")

    @classmethod
    def from_npz(cls, path, projection: Projection | None = None,
                 vp_vs_ratio: float | None = None, spacing_km: float | None = None,
                 name: str | None = None) -> "Grid3D":
        """Read a grid from an ``.npz`` file (layout in the module docstring).

        Parameters
        ----------
        path
            The ``.npz`` file.
        projection
            Needed for lon/lat/depth axes: the grid is resampled into this projection.
            Ignored, except for a consistency check, for projected axes.
        vp_vs_ratio
            Builds Vs = Vp / ratio when the file has no ``vs`` array; an error if it has one.
        spacing_km
            Horizontal spacing of the resampled grid for lon/lat axes; default: the smaller
            native spacing at the centre of the box.
        name
            Model name; default: the file stem.

        Examples
        --------
        >>> import tempfile, os
        >>> from obspy_hyposvi.velocity import basin_demo_model
        >>> grid = basin_demo_model(spacing_km=10.0)
        >>> path = os.path.join(tempfile.mkdtemp(), "basin.npz")
        >>> grid.save_npz(path)
        >>> Grid3D.from_npz(path).sha256() == grid.sha256()
        True
        """
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
        except FileNotFoundError:
            raise InputError(f"{path}: velocity grid file not found") from None
        except Exception as exc:  # np.load raises OSError, ValueError, BadZipFile...
            raise InputError(f"{path}: cannot read as an .npz velocity grid ({exc})") from None

        def pick(*names):
            for key in names:
                if key in arrays:
                    return arrays[key]
            return None

        where = f"{path}"
        vp = pick("vp", "vp_kmps")
        vs = pick("vs", "vs_kmps")
        if vp is None:
            raise VelocityModelError(
                f"{where}: no 'vp' (or 'vp_kmps') array; found {sorted(arrays)}")
        if vs is None and vp_vs_ratio is None:
            raise VelocityModelError(
                f"{where}: no 'vs' (or 'vs_kmps') array; found {sorted(arrays)}; add one or "
                f"pass vp_vs_ratio")
        if vs is not None and vp_vs_ratio is not None:
            raise InputError(f"{where}: the file has a vs array, so vp_vs_ratio must not be given")
        if vs is None:
            if not vp_vs_ratio > 0:
                raise InputError(f"vp_vs_ratio must be positive, got {vp_vs_ratio}")
            vs = np.asarray(vp, dtype=np.float64) / vp_vs_ratio
        name = name or path.stem
        projected = [pick(k, k[0]) for k in _AXIS_NAMES]
        geographic = [pick("lon_deg", "lon"), pick("lat_deg", "lat"), pick("depth_km", "depth")]
        if all(a is not None for a in projected):
            crs = pick("crs")
            if crs is None:
                raise VelocityModelError(
                    f"{where}: projected axes x/y/z need a 'crs' string entry, e.g. 'EPSG:32611'")
            crs = str(crs)
            if projection is not None and not _same_crs(projection.crs, crs):
                raise InputError(
                    f"{where}: the grid is in {crs}, but projection {projection.crs} was given")
            return cls(x_km=projected[0], y_km=projected[1], z_km=projected[2], vp_kmps=vp,
                       vs_kmps=vs, crs=crs, name=name, source=str(path), file_name=path.name)
        if all(a is not None for a in geographic):
            if projection is None:
                raise InputError(
                    f"{where}: the grid has lon/lat axes; pass a Projection (e.g. "
                    f"Projection.for_points(lons, lats)) to resample it to x/y km")
            return _resample_geographic(*geographic, vp, vs, projection, spacing_km, name, path)
        raise VelocityModelError(
            f"{where}: need axes x_km/y_km/z_km (+ crs) or lon_deg/lat_deg/depth_km; found "
            f"{sorted(arrays)}")

    def save_npz(self, path) -> None:
        """Write the grid as a projected-axes ``.npz`` readable by :meth:`from_npz`."""
        np.savez_compressed(path, x_km=self.x_km, y_km=self.y_km, z_km=self.z_km,
                            vp=self.vp_kmps, vs=self.vs_kmps, crs=np.array(self.crs))

    # -- metadata ---------------------------------------------------------------------
    def sha256(self) -> str:
        """Hash of the axes, CRS and velocity values (not the name or file)."""
        digest = hashlib.sha256()
        header = [self.kind, self.crs, self.x_km.tolist(), self.y_km.tolist(), self.z_km.tolist()]
        digest.update(json.dumps(header).encode())
        for values in (self.vp_kmps, self.vs_kmps):
            digest.update(np.ascontiguousarray(values, dtype="<f8").tobytes())
        return digest.hexdigest()

    def to_dict(self) -> dict:
        """JSON-safe description: shape, axes, CRS, velocity ranges, file name and sha256.

        The velocity arrays are not included; :func:`grid3d_from_dict` reloads them from
        ``file`` and checks the hash.
        """
        axes = {}
        for key, axis, step in zip(_AXIS_NAMES, (self.x_km, self.y_km, self.z_km),
                                   self.spacing_km):
            axes[key] = {"min": float(axis[0]), "max": float(axis[-1]), "n": int(axis.size),
                         "spacing": float(step)}
        return {
            "kind": self.kind,
            "name": self.name,
            "source": self.source,
            "crs": self.crs,
            "shape": list(self.shape),
            "axes": axes,
            "vp_kmps_range": list(self.velocity_range("P")),
            "vs_kmps_range": list(self.velocity_range("S")),
            "file": self.file_name,
            "sha256": self.sha256(),
        }


def grid3d_from_dict(data: dict, directory=".") -> Grid3D:
    """Reload a :class:`Grid3D` described by :meth:`Grid3D.to_dict` from its ``.npz`` file.

    Parameters
    ----------
    data
        Output of :meth:`Grid3D.to_dict`.
    directory
        Where to look for ``data["file"]``.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> from obspy_hyposvi.velocity import basin_demo_model
    >>> grid = basin_demo_model(spacing_km=10.0)
    >>> grid.save_npz(os.path.join(folder, "basin.npz"))
    >>> meta = Grid3D.from_npz(os.path.join(folder, "basin.npz")).to_dict()
    >>> grid3d_from_dict(meta, folder).sha256() == meta["sha256"]
    True
    """
    if data.get("kind") != "grid_3d":
        raise VelocityModelError(f"not a 3D grid description: kind {data.get('kind')!r}")
    if not data.get("file"):
        raise VelocityModelError(
            f"3D velocity model {data.get('name')!r}: the description names no file")
    path = Path(directory) / data["file"]
    grid = Grid3D.from_npz(path, name=data.get("name"))
    if "sha256" in data and grid.sha256() != data["sha256"]:
        raise VelocityModelError(
            f"{path}: the grid's sha256 does not match the stored one; the file changed")
    return grid


def _resample_geographic(lon, lat, depth, vp, vs, projection: Projection,
                         spacing_km: float | None, name: str, path: Path) -> Grid3D:
    """Resample a lon/lat/depth grid onto the largest projected box inside it."""
    where = f"{path}"
    lon = _regular_axis(lon, "lon_deg", where)
    lat = _regular_axis(lat, "lat_deg", where)
    depth = _regular_axis(depth, "depth_km", where)
    shape = (lon.size, lat.size, depth.size)
    vp = np.asarray(vp, dtype=np.float64)
    vs = np.asarray(vs, dtype=np.float64)
    for key, value in (("vp", vp), ("vs", vs)):
        if value.shape != shape:
            raise VelocityModelError(
                f"{where}: {key} has shape {value.shape}, the lon/lat/depth axes need {shape}")
    # validate the raw values before resampling, so that messages give the file's indices
    Grid3D(x_km=lon, y_km=lat, z_km=depth, vp_kmps=vp, vs_kmps=vs, crs=projection.crs,
           name=name, source=str(path))
    edge = np.linspace(0.0, 1.0, 64)
    lon_edge = lon[0] + edge * (lon[-1] - lon[0])
    lat_edge = lat[0] + edge * (lat[-1] - lat[0])
    x_west = projection.to_xyz_km(np.full_like(lat_edge, lon[0]), lat_edge)[0]
    x_east = projection.to_xyz_km(np.full_like(lat_edge, lon[-1]), lat_edge)[0]
    y_south = projection.to_xyz_km(lon_edge, np.full_like(lon_edge, lat[0]))[1]
    y_north = projection.to_xyz_km(lon_edge, np.full_like(lon_edge, lat[-1]))[1]
    x_lo, x_hi = float(np.max(x_west)), float(np.min(x_east))
    y_lo, y_hi = float(np.max(y_south)), float(np.min(y_north))
    if spacing_km is None:
        lon_c, lat_c = 0.5 * (lon[0] + lon[-1]), 0.5 * (lat[0] + lat[-1])
        x0, y0, _ = projection.to_xyz_km([lon_c, lon_c + lon[1] - lon[0], lon_c],
                                         [lat_c, lat_c, lat_c + lat[1] - lat[0]])
        spacing_km = float(min(np.hypot(x0[1] - x0[0], y0[1] - y0[0]),
                               np.hypot(x0[2] - x0[0], y0[2] - y0[0])))
    if not spacing_km > 0:
        raise InputError(f"spacing_km must be positive, got {spacing_km}")
    nx = int(np.floor((x_hi - x_lo) / spacing_km)) + 1
    ny = int(np.floor((y_hi - y_lo) / spacing_km)) + 1
    if nx < 2 or ny < 2:
        raise VelocityModelError(
            f"{where}: the lon/lat box is too small for a {spacing_km} km projected grid")
    x = x_lo + spacing_km * np.arange(nx)
    y = y_lo + spacing_km * np.arange(ny)
    xx, yy = np.meshgrid(x, y, indexing="ij")
    node_lon, node_lat, _ = projection.to_lonlat(xx.ravel(), yy.ravel())
    # bilinear weights in lon/lat, applied to whole depth columns at once
    fl = (node_lon - lon[0]) / (lon[1] - lon[0])
    ft = (node_lat - lat[0]) / (lat[1] - lat[0])
    slack = 1e-6  # cells; round-off of the edge search above
    if fl.min() < -slack or ft.min() < -slack or fl.max() > lon.size - 1 + slack \
            or ft.max() > lat.size - 1 + slack:
        raise VelocityModelError(
            f"{where}: internal error, resampled nodes fall outside the lon/lat box")
    i = np.clip(np.floor(fl).astype(int), 0, lon.size - 2)
    j = np.clip(np.floor(ft).astype(int), 0, lat.size - 2)
    wx = np.clip(fl - i, 0, 1)[:, None]
    wy = np.clip(ft - j, 0, 1)[:, None]

    def resample(values):
        out = (values[i, j] * (1 - wx) * (1 - wy) + values[i + 1, j] * wx * (1 - wy)
               + values[i, j + 1] * (1 - wx) * wy + values[i + 1, j + 1] * wx * wy)
        return out.reshape(nx, ny, depth.size)

    return Grid3D(x_km=x, y_km=y, z_km=depth, vp_kmps=resample(vp), vs_kmps=resample(vs),
                  crs=projection.crs, name=name,
                  source=f"{path} (lon/lat grid resampled to {spacing_km:.3g} km)",
                  file_name=path.name)
