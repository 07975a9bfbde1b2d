"""Travel times of a 1D model tabulated from its network, for fast location.

In a 1D model the factored slowness ``tau`` depends on three numbers only: the horizontal
offset and the two depths (:class:`~obspy_hyposvi.eikonet.network.EikoNet1D`). Locating a
catalogue asks the network for ``events x particles x picks x epochs`` travel times, ~90 % of
the CPU time of a run (profiled: 8 events of 37 picks, one pass, 150 x 175). A
:class:`TravelTimeTable` evaluates the network once on a regular grid over the offsets and
depths a run needs, and interpolates it: NonLinLoc does the same with its 2D grids for layered
models. The network stays the model; the table is a cache of it, checked against it in the
tests.

Interpolation is trilinear in ``tau``, and ``T = distance * tau`` with the exact distance, so
the cone of ``T`` at the source is not interpolated. Linear, not cubic: the network's ``tau``
has kinks at the model's interfaces by construction (and where its branches cross), and a
cubic stencil across a kink overshoots. The gradient is the interpolant's own (piecewise
constant per cell), computed analytically.

The default spacing (:data:`DEFAULT_SPACING_KM`: 2 km in offset, 0.25 km in source depth,
0.5 km in receiver depth) was chosen on the bundled socal-1d models (offsets 0-150 km, sources
-3..40 km, receivers 0-2.5 km above sea level, 40 000 random points, one CPU thread):

============================  ===========================  ===========================  =======
spacing (offset, zs, zr), km  P: RMS / 99 % / max vs net   S: RMS / 99 % / max vs net   build
============================  ===========================  ===========================  =======
1.0, 0.25, 0.25               0.07 / 0.34 / 0.7 ms         0.12 / 0.62 / 1.3 ms         8.2 s
1.0, 0.25, 0.5                0.11 / 0.51 / 1.2 ms         0.19 / 0.91 / 2.2 ms         5.1 s
2.0, 0.25, 0.5 (default)      0.15 / 0.75 / 1.7 ms         0.27 / 1.32 / 3.1 ms         2.3 s
1.0, 0.25, 1.0                0.31 / 1.28 / 4.2 ms         0.54 / 2.25 / 7.4 ms         3.5 s
============================  ===========================  ===========================  =======

The gradient's error against the network's is the same at the first three (median 0.1-0.2
ms/km, 99 % 3-5 ms/km: it is set by the cells in source depth). The network itself is 14-22
ms from the exact layered times (median) and 86-133 ms at the 99th percentile, and picks err
by 10 ms or more: the default's tenths of a millisecond change no location, and its build, a
fixed cost of every run that dominated a one-event run on a CPU, takes a quarter of the time.
Catmull-Rom cubics at 0.5 km spacing differed from the P network by up to 3.9 ms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["TableExtent", "TravelTimeTable", "TableCache", "PhaseTables", "DEFAULT_SPACING_KM"]

#: Network evaluations per call while building a table (bounds the memory of a build).
_BUILD_CHUNK = 1 << 18
#: Default grid steps ``(offset, source depth, receiver depth)``, km (module docstring).
DEFAULT_SPACING_KM = (2.0, 0.25, 0.5)


@dataclass(frozen=True)
class TableExtent:
    """What a table must cover, km.

    Attributes
    ----------
    max_offset_km
        Largest horizontal source-receiver offset.
    source_depth_km, receiver_depth_km
        ``(min, max)`` depths (km below sea level) of sources and of receivers.
    """

    max_offset_km: float
    source_depth_km: tuple[float, float]
    receiver_depth_km: tuple[float, float]

    def __post_init__(self) -> None:
        values = (self.max_offset_km, *self.source_depth_km, *self.receiver_depth_km)
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"TableExtent: non-finite bound in {self}")
        if self.max_offset_km < 0 or self.source_depth_km[0] > self.source_depth_km[1] \
                or self.receiver_depth_km[0] > self.receiver_depth_km[1]:
            raise ValueError(f"TableExtent: empty or negative range in {self}")

    def covers(self, other: "TableExtent") -> bool:
        """Whether this extent holds all of ``other``."""
        return (self.max_offset_km >= other.max_offset_km
                and self.source_depth_km[0] <= other.source_depth_km[0]
                and self.source_depth_km[1] >= other.source_depth_km[1]
                and self.receiver_depth_km[0] <= other.receiver_depth_km[0]
                and self.receiver_depth_km[1] >= other.receiver_depth_km[1])

    def union(self, other: "TableExtent") -> "TableExtent":
        """The smallest extent that covers both."""
        return TableExtent(
            max(self.max_offset_km, other.max_offset_km),
            (min(self.source_depth_km[0], other.source_depth_km[0]),
             max(self.source_depth_km[1], other.source_depth_km[1])),
            (min(self.receiver_depth_km[0], other.receiver_depth_km[0]),
             max(self.receiver_depth_km[1], other.receiver_depth_km[1])))

    def rounded(self, offset_step_km: float = 25.0, depth_step_km: float = 1.0) -> "TableExtent":
        """Widened outward to whole steps, so that a later, slightly larger request (another
        pass, another batch of events) is still covered."""
        def down(v: float) -> float:
            return math.floor(v / depth_step_km) * depth_step_km

        def up(v: float) -> float:
            return math.ceil(v / depth_step_km) * depth_step_km

        return TableExtent(math.ceil(self.max_offset_km / offset_step_km) * offset_step_km,
                           (down(self.source_depth_km[0]), up(self.source_depth_km[1])),
                           (down(self.receiver_depth_km[0]), up(self.receiver_depth_km[1])))


def _axis(lo: float, hi: float, step: float) -> np.ndarray:
    """Grid nodes from one step below ``lo`` to at least one step above ``hi``: every point of
    ``[lo, hi]`` has a whole cell around it."""
    n = int(math.ceil((hi - lo) / step - 1e-9)) + 3
    return lo - step + step * np.arange(n)


def _table_coordinates(sources_km: torch.Tensor, receivers_km: torch.Tensor,
                       dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Horizontal offset, source depth and receiver depth (km) of broadcastable ``(..., 3)``
    positions, in a table's ``dtype`` and broadcast to one shape. The offset is formed in the
    inputs' precision before the cast: UTM coordinates of ~1000 km in float32 would lose
    metres."""
    delta = receivers_km[..., :2] - sources_km[..., :2]
    offset = torch.sqrt((delta * delta).sum(-1) + 1e-12).to(dtype)
    z_s, z_r = sources_km[..., 2].to(dtype), receivers_km[..., 2].to(dtype)
    return torch.broadcast_tensors(offset, z_s, z_r)


class _TrilinearTau(torch.autograd.Function):
    """Trilinear interpolation of a ``(n_offset, n_zs, n_zr)`` grid, flattened, at query points,
    with the gradient of the interpolant (piecewise constant) saved in the forward pass."""

    @staticmethod
    def forward(ctx, offset: torch.Tensor, z_s: torch.Tensor,  # type: ignore[override]
                z_r: torch.Tensor, grid: torch.Tensor, origin: tuple, inv_step: tuple,
                shape: tuple) -> torch.Tensor:
        fracs, base = [], None
        strides = (shape[1] * shape[2], shape[2], 1)
        for q, x0, inv, n, stride in zip((offset, z_s, z_r), origin, inv_step, shape, strides):
            u = (q - x0) * inv
            # cells clamped to the grid; a point beyond its edge is extrapolated linearly
            i = u.floor().clamp_(0, n - 2)
            fracs.append(u - i)
            index = i.to(torch.int64) * stride
            base = index if base is None else base + index
        f_o, f_z, f_r = fracs
        s_o, s_z, _ = strides
        corner = {(a, b, c): grid.take(base + (a * s_o + b * s_z + c))
                  for a in (0, 1) for b in (0, 1) for c in (0, 1)}
        # differences along the offset axis, then lerps in source depth, then receiver depth
        d = {(b, c): corner[1, b, c] - corner[0, b, c] for b in (0, 1) for c in (0, 1)}
        a = {(b, c): corner[0, b, c] + f_o * d[b, c] for b in (0, 1) for c in (0, 1)}
        e = [d[0, c] + f_z * (d[1, c] - d[0, c]) for c in (0, 1)]
        dz = [a[1, c] - a[0, c] for c in (0, 1)]
        lerp_z = [a[0, c] + f_z * dz[c] for c in (0, 1)]
        value = lerp_z[0] + f_r * (lerp_z[1] - lerp_z[0])
        grads = [None, None, None]
        if ctx.needs_input_grad[0]:
            grads[0] = (e[0] + f_r * (e[1] - e[0])) * inv_step[0]
        if ctx.needs_input_grad[1]:
            grads[1] = (dz[0] + f_r * (dz[1] - dz[0])) * inv_step[1]
        if ctx.needs_input_grad[2]:
            grads[2] = (lerp_z[1] - lerp_z[0]) * inv_step[2]
        ctx.save_for_backward(*[g if g is not None else torch.empty(0) for g in grads])
        ctx.has = [g is not None for g in grads]
        return value

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):  # type: ignore[override]
        saved = ctx.saved_tensors
        out = [grad_out * g if has else None for g, has in zip(saved, ctx.has)]
        return out[0], out[1], out[2], None, None, None, None


class TravelTimeTable:
    """A 1D travel-time model's network tabulated over an extent, used like the model.

    Parameters
    ----------
    model
        A :class:`~obspy_hyposvi.eikonet.model.TravelTimeModel` of 1D geometry.
    extent
        Offsets and depths to cover (see :class:`TableExtent`); queries beyond it are
        extrapolated linearly from the edge cells.
    spacing_km
        Grid steps ``(offset, source depth, receiver depth)``, km.
    dtype
        The grid's dtype; None (default): the model's.

    Attributes
    ----------
    model
        The tabulated model; name, phase, domain and the numpy :meth:`travel_time` are its.

    Examples
    --------
    >>> from obspy_hyposvi.eikonet.model import load_model
    >>> model = load_model("socal-1d", "P")
    >>> table = TravelTimeTable(model, TableExtent(60.0, (0.0, 20.0), (-1.0, 0.0)))
    >>> src = torch.tensor([[3.0, 4.0, 10.0]], dtype=torch.float64)
    >>> rcv = torch.tensor([[30.0, 40.0, -0.5]], dtype=torch.float64)
    >>> diff = table.travel_time_torch(src, rcv) - model.travel_time_torch(src, rcv)
    >>> bool(diff.abs().item() < 1e-3)   # s
    True
    """

    def __init__(self, model, extent: TableExtent,
                 spacing_km: tuple[float, float, float] = DEFAULT_SPACING_KM,
                 dtype: torch.dtype | None = None) -> None:
        if getattr(model, "geometry", None) != "1d":
            raise ValueError(f"{getattr(model, 'name', 'model')}: only 1D models can be "
                             "tabulated (their travel time depends on offset and two depths)")
        if len(spacing_km) != 3 or not all(s > 0 for s in spacing_km):
            raise ValueError(f"spacing_km must be three positive steps, got {spacing_km}")
        self.model = model
        self.extent = extent
        self.spacing_km = tuple(float(s) for s in spacing_km)
        axes = (_axis(0.0, extent.max_offset_km, self.spacing_km[0]),
                _axis(*extent.source_depth_km, self.spacing_km[1]),
                _axis(*extent.receiver_depth_km, self.spacing_km[2]))
        self.shape = tuple(len(a) for a in axes)
        self._origin = tuple(float(a[0]) for a in axes)
        self._inv_step = tuple(1.0 / s for s in self.spacing_km)
        device, dtype = model.device, model.dtype if dtype is None else dtype
        self._dtype = dtype
        nodes = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
        nodes[:, 0] = np.abs(nodes[:, 0])  # the node below offset 0 mirrors the first one
        values = []
        with torch.no_grad():
            for k in range(0, len(nodes), _BUILD_CHUNK):
                part = torch.as_tensor(nodes[k:k + _BUILD_CHUNK], dtype=model.dtype,
                                       device=device)
                values.append(model.net.tau(part[:, 0], part[:, 1], part[:, 2]).to(dtype))
        self.grid = torch.cat(values).contiguous()

    # the model's description, unchanged
    @property
    def name(self) -> str:
        return self.model.name

    @property
    def phase(self) -> str:
        return self.model.phase

    @property
    def geometry(self) -> str:
        return self.model.geometry

    @property
    def device(self) -> torch.device:
        return self.model.device

    @property
    def dtype(self) -> torch.dtype:
        """The grid's dtype."""
        return self._dtype

    @property
    def metadata(self) -> dict:
        return self.model.metadata

    @property
    def depth_range_km(self) -> tuple[float, float]:
        return self.model.depth_range_km

    @property
    def max_offset_km(self) -> float:
        return self.model.max_offset_km

    def covers(self, extent: TableExtent) -> bool:
        """Whether ``extent`` lies inside this table's."""
        return self.extent.covers(extent)

    def travel_time(self, sources_km, receivers_km) -> np.ndarray:
        """The model's own numpy evaluation (the network, with its domain check)."""
        return self.model.travel_time(sources_km, receivers_km)

    def travel_time_torch(self, sources_km: torch.Tensor,
                          receivers_km: torch.Tensor) -> torch.Tensor:
        """Differentiable travel times (s) for broadcastable ``(..., 3)`` tensors in km, as
        :meth:`~obspy_hyposvi.eikonet.model.TravelTimeModel.travel_time_torch` (same
        precision rules), from the table."""
        out_dtype = sources_km.dtype
        offset, z_s, z_r = _table_coordinates(sources_km, receivers_km, self.dtype)
        tau = _TrilinearTau.apply(offset, z_s, z_r, self.grid, self._origin, self._inv_step,
                                  self.shape)
        distance = torch.sqrt(offset * offset + (z_s - z_r) ** 2)
        return (distance * tau).to(out_dtype)

    def __repr__(self) -> str:
        return (f"TravelTimeTable({self.name!r}, {self.extent}, spacing_km={self.spacing_km}, "
                f"{int(np.prod(self.shape))} nodes)")


class PhaseTables:
    """The tables of several phases on one grid, interpolated together.

    :class:`TravelTimeTable` gathers the eight corners of each cell and blends them with a few
    dozen elementwise operations: on a CPU that is the fastest way, but on a GPU each
    operation is a kernel launch, and for small batches the launches, not the arithmetic, set
    the time of an SVGD epoch. Here the phases' grids are the channels of one volume and
    :func:`torch.nn.functional.grid_sample` interpolates every pick of every phase in one
    kernel (and its gradient in one more); each point then takes its own phase's channel.
    Same trilinear interpolant, same numbers (to float32 round-off); beyond the grid's
    outermost nodes (one cell past the extent) values are held at the edge, not extrapolated.

    Parameters
    ----------
    tables
        Tables of the same extent, spacing, dtype and device (:meth:`compatible`), in the
        order of the phase indices used in :meth:`travel_time_torch`.
    """

    def __init__(self, tables: Sequence[TravelTimeTable]) -> None:
        if not self.compatible(tables):
            raise ValueError("PhaseTables needs tables of one extent, spacing, dtype and device")
        first = tables[0]
        self.tables = tuple(tables)
        self.dtype, self.device = first.dtype, first.device
        # (1, n_phases, n_offset, n_zs, n_zr): grid_sample's depth/height/width axes
        self.volume = torch.stack([t.grid.view(t.shape) for t in tables])[None]
        # grid_sample's last coordinate axis is (width, height, depth) = (z_r, z_s, offset),
        # each mapped linearly so that the first node is -1 and the last +1
        origin = np.array(first._origin[::-1])
        span = (np.array(first.shape[::-1]) - 1) * np.array(first.spacing_km[::-1])
        self._scale = torch.as_tensor(2.0 / span, dtype=self.dtype, device=self.device)
        self._shift = torch.as_tensor(-1.0 - 2.0 * origin / span, dtype=self.dtype,
                                      device=self.device)

    @staticmethod
    def compatible(tables: Sequence) -> bool:
        """Whether ``tables`` (two or more :class:`TravelTimeTable`) share one grid."""
        if len(tables) < 2 or not all(isinstance(t, TravelTimeTable) for t in tables):
            return False
        first = tables[0]
        return all(t.shape == first.shape and t._origin == first._origin
                   and t.spacing_km == first.spacing_km and t.dtype == first.dtype
                   and t.device == first.device for t in tables[1:])

    def travel_time_torch(self, sources_km: torch.Tensor, receivers_km: torch.Tensor,
                          phase_index: torch.Tensor) -> torch.Tensor:
        """Differentiable travel times (s), each point from its own phase's table.

        Parameters
        ----------
        sources_km, receivers_km
            Broadcastable ``(..., 3)`` positions, km.
        phase_index
            int64 index of each point's table (position in ``tables``), broadcastable to
            the points' shape (e.g. one per pick slot).

        Returns
        -------
        Tensor
            The points' travel times, s, in the dtype of ``sources_km``.
        """
        out_dtype = sources_km.dtype
        offset, z_s, z_r = _table_coordinates(sources_km, receivers_km, self.dtype)
        shape = offset.shape
        coords = torch.addcmul(self._shift, torch.stack((z_r, z_s, offset), dim=-1),
                               self._scale)
        values = F.grid_sample(self.volume, coords.view(1, 1, 1, -1, 3), mode="bilinear",
                               padding_mode="border", align_corners=True)
        phase = phase_index.expand(shape).reshape(1, -1)
        tau = values.view(len(self.tables), -1).gather(0, phase).view(shape)
        return (torch.hypot(offset, z_s - z_r) * tau).to(out_dtype)


class TableCache:
    """Tables of several models, each rebuilt only when a run asks for more than it covers.

    Parameters
    ----------
    spacing_km
        Grid steps of the tables built, km (see :class:`TravelTimeTable`).
    """

    def __init__(self, spacing_km: tuple[float, float, float] = DEFAULT_SPACING_KM) -> None:
        self.spacing_km = tuple(float(s) for s in spacing_km)
        self._tables: dict[int, TravelTimeTable] = {}

    def table(self, model, extent: TableExtent) -> TravelTimeTable:
        """A table of ``model`` that covers ``extent`` (built, or grown to the union of the
        old and new extents, when needed)."""
        old = self._tables.get(id(model))
        if old is not None and old.model is not model:  # an id reused by a new object
            old = None
        if old is not None and old.covers(extent):
            return old
        if old is not None:
            extent = old.extent.union(extent)
        # at most float32, a network's precision: the interpolation error (~1 ms) is far above
        # float32's (~5 us at 60 s), and the EDT pair terms take the tables' dtype (float64
        # tables of exact layered times made a catalogue run 1.7x slower on a CPU)
        dtype = min(model.dtype, torch.float32, key=lambda d: d.itemsize)
        new = TravelTimeTable(model, extent.rounded(), self.spacing_km, dtype=dtype)
        self._tables[id(model)] = new
        return new
