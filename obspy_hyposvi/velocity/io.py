"""Readers of 1D velocity-model files: the formats users of other locators already have.

This module owns turning files into the models of :mod:`obspy_hyposvi.velocity.model1d`
(and, for ``.npz`` grids, :mod:`obspy_hyposvi.velocity.grid3d`). Every problem in a file raises one
:class:`~obspy_hyposvi.errors.VelocityModelError` (or
:class:`~obspy_hyposvi.errors.InputError` for a file that cannot be read at all) whose message
starts with ``"<file>, line <n>:"`` and says what is wrong.

Supported formats (depths in km below sea level, positive down; velocities in km/s):

``csv``
    A header line naming the columns ``depth_km``, ``vp`` and ``vs`` (``vp_kmps``/``vs_kmps``
    and ``depth`` are accepted too; other columns are ignored), then one row per depth.
    ``#`` starts a comment line; ``# kind: layered`` or ``# kind: nodes`` chooses the model
    type (default ``nodes``: linear interpolation between rows). Without a ``vs`` column,
    ``vp_vs_ratio`` must be given.
``nlloc``
    NonLinLoc control file: only the ``LAYER depth VpTop VpGrad VsTop VsGrad rhoTop rhoGrad``
    lines are read (density is ignored; ``INCLUDE`` d files are not followed). Zero gradients
    give a :class:`~obspy_hyposvi.velocity.Layered1D`. Any nonzero gradient gives a
    :class:`~obspy_hyposvi.velocity.Nodes1D` that reproduces the layers exactly: a node at each
    layer top and one just above the next top (``_JUMP_KM`` higher), so linear interpolation
    follows the gradient and the jump is a ramp ``_JUMP_KM`` thick. A gradient in the last
    layer needs a bottom depth: ``bottom_depth_km``, or the bottom of the file's ``VGGRID``.
``crh`` / ``cre``
    HypoInverse constant-layer P models (read by its ``CRH`` and ``CRE`` commands): a title
    line (its first 3 characters are HypoInverse's model code), then one ``velocity depth``
    line per layer top (Fortran ``2F5.2``: whitespace-separated values and fixed 5-column
    fields without spaces are both accepted). In HypoInverse, depth 0 of a CRH model is the
    top of the model, and the ``CRE`` command line (not the file) gives the model's
    reference elevation and whether station elevations are used; CRE depths may be negative
    (above the reference). Pass ``reference_elevation_km`` (the elevation of depth 0, km
    above sea level) to convert to depths below sea level: ``z = depth - reference``.
    These models are P only: give ``vp_vs_ratio`` (HypoInverse's ``POS`` command) or the
    matching S model file as ``s_path``. Velocity decreasing with depth is accepted here even
    though HypoInverse's ``CRH`` rejects it.
``npz``
    3D grids, see :meth:`obspy_hyposvi.velocity.grid3d.Grid3D.from_npz`.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np

from ..errors import InputError, VelocityModelError
from .model1d import Layered1D, Nodes1D, VelocityModel1D

__all__ = ["read_velocity_model", "read_csv_model", "read_nlloc_layers", "read_hypoinverse_model",
           "FORMATS"]

FORMATS = ("csv", "nlloc", "crh", "cre", "npz")
# thickness of the ramp that stands for a velocity jump when gradient layers become nodes, km
_JUMP_KM = 1e-3
_KINDS = {"layered": Layered1D, "layered_1d": Layered1D, "nodes": Nodes1D, "nodes_1d": Nodes1D}
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _read_lines(path: Path) -> list[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().splitlines()
    except FileNotFoundError:
        raise InputError(f"{path}: velocity model file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a velocity model file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a text file ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read velocity model ({exc.strerror})") from None


def _number(text: str, what: str, path: Path, lineno: int) -> float:
    try:
        return float(text)
    except ValueError:
        raise VelocityModelError(
            f"{path}, line {lineno}: {what} {text.strip()!r} is not a number") from None


def _check_rows(rows: list[tuple], path: Path) -> None:
    """Check (lineno, depth_km, vp_kmps, vs_kmps) rows, naming the line of the first problem."""
    if not rows:
        raise VelocityModelError(f"{path}: no velocity rows found")
    previous = None
    for lineno, depth, vp, vs in rows:
        for what, value in (("depth", depth), ("vp", vp), ("vs", vs)):
            if not math.isfinite(value):
                raise VelocityModelError(f"{path}, line {lineno}: {what} is {value}, not a finite "
                                         f"number")
        for what, value in (("vp", vp), ("vs", vs)):
            if value <= 0:
                raise VelocityModelError(
                    f"{path}, line {lineno}: {what} must be positive, got {value} km/s")
        if previous is not None and depth <= previous[1]:
            raise VelocityModelError(
                f"{path}, line {lineno}: depths must increase strictly, got {depth} km after "
                f"{previous[1]} km on line {previous[0]}")
        previous = (lineno, depth)


def _build(cls, rows: list[tuple], path: Path, name: str | None, source: str) -> VelocityModel1D:
    _check_rows(rows, path)
    _, depth, vp, vs = (np.array(col, dtype=np.float64) for col in zip(*rows))
    try:
        return cls(depth_km=depth, vp_kmps=vp, vs_kmps=vs, name=name or path.stem, source=source)
    except VelocityModelError as exc:  # the rows were checked; keep the file in any message
        raise VelocityModelError(f"{path}: {exc}") from None


# -- CSV ----------------------------------------------------------------------------------
def read_csv_model(path, kind: str | None = None, vp_vs_ratio: float | None = None,
                   name: str | None = None) -> VelocityModel1D:
    """Read a ``depth_km,vp,vs`` CSV file (format in the module docstring).

    Parameters
    ----------
    path
        The file.
    kind
        ``"nodes"`` (linear interpolation) or ``"layered"`` (constant layers, rows are layer
        tops). Default: the file's ``# kind:`` comment, else ``"nodes"``. Must agree with the
        comment when both are given.
    vp_vs_ratio
        Vs = Vp / ratio, only for files without a ``vs`` column.
    name
        Model name; default: the file stem.

    Returns
    -------
    Nodes1D or Layered1D

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "demo.csv")
    >>> _ = Path(path).write_text("# kind: layered\\ndepth_km,vp,vs\\n0,5.5,3.18\\n5.5,6.3,3.64\\n")
    >>> m = read_csv_model(path)
    >>> type(m).__name__, m.velocity([5.0, 6.0], "P").tolist()
    ('Layered1D', [5.5, 6.3])
    """
    path = Path(path)
    lines = _read_lines(path)
    comment_kind, comment_line = None, None
    header, header_line, data = None, None, []
    for lineno, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            match = re.match(r"#\s*kind\s*[:=]\s*(\S+)", stripped, flags=re.IGNORECASE)
            if match:
                comment_kind, comment_line = match.group(1).lower(), lineno
            continue
        if header is None:
            header, header_line = [h.strip().lower() for h in next(csv.reader([line]))], lineno
        else:
            data.append((lineno, next(csv.reader([line]))))
    if header is None:
        raise VelocityModelError(f"{path}: empty file, expected a header line 'depth_km,vp,vs'")
    if comment_kind is not None and comment_kind not in _KINDS:
        raise VelocityModelError(
            f"{path}, line {comment_line}: unknown kind {comment_kind!r}; use 'layered' or 'nodes'")
    if kind is not None:
        if kind not in _KINDS:
            raise InputError(f"kind must be 'layered' or 'nodes', got {kind!r}")
        if comment_kind is not None and _KINDS[kind] is not _KINDS[comment_kind]:
            raise InputError(f"{path}, line {comment_line}: the file says kind {comment_kind!r} "
                             f"but kind={kind!r} was passed")
    cls = _KINDS[kind or comment_kind or "nodes"]

    def column(*names):
        for key in names:
            if key in header:
                return header.index(key)
        return None

    if all(_FLOAT.match(h) for h in header if h):
        raise VelocityModelError(
            f"{path}, line {header_line}: no header line; the first line must name the columns, "
            f"e.g. 'depth_km,vp,vs'")
    i_depth = column("depth_km", "depth")
    i_vp = column("vp", "vp_kmps")
    i_vs = column("vs", "vs_kmps")
    missing = [n for n, i in (("depth_km", i_depth), ("vp", i_vp)) if i is None]
    if i_vs is None and vp_vs_ratio is None:
        missing.append("vs")
    if missing:
        raise VelocityModelError(
            f"{path}, line {header_line}: missing column(s) {', '.join(missing)} in header "
            f"{header}; expected depth_km,vp,vs" + (" (or pass vp_vs_ratio)" if missing == ["vs"]
                                                    else ""))
    if i_vs is not None and vp_vs_ratio is not None:
        raise InputError(f"{path}: the file has a vs column, so vp_vs_ratio must not be given")
    if vp_vs_ratio is not None and not vp_vs_ratio > 0:
        raise InputError(f"vp_vs_ratio must be positive, got {vp_vs_ratio}")
    needed = max(i for i in (i_depth, i_vp, i_vs) if i is not None) + 1
    rows = []
    for lineno, fields in data:
        if len(fields) < needed:
            raise VelocityModelError(
                f"{path}, line {lineno}: missing column(s): {len(fields)} values, the header "
                f"needs {needed}")
        depth = _number(fields[i_depth], "depth", path, lineno)
        vp = _number(fields[i_vp], "vp", path, lineno)
        vs = _number(fields[i_vs], "vs", path, lineno) if i_vs is not None else vp / vp_vs_ratio
        rows.append((lineno, depth, vp, vs))
    return _build(cls, rows, path, name, source=str(path))


# -- NonLinLoc ----------------------------------------------------------------------------
def read_nlloc_layers(path, bottom_depth_km: float | None = None,
                      name: str | None = None) -> VelocityModel1D:
    """Read the ``LAYER`` lines of a NonLinLoc control file.

    Parameters
    ----------
    path
        The control file.
    bottom_depth_km
        Depth (km) down to which a gradient in the last layer holds; default: the bottom of
        the file's ``VGGRID``. Not needed when the last layer has no gradient.
    name
        Model name; default: the file stem.

    Returns
    -------
    Layered1D
        When all gradients are zero.
    Nodes1D
        Otherwise: nodes at each layer top and ``_JUMP_KM`` above the next top (see the
        module docstring).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "grad.in")
    >>> _ = Path(path).write_text("LAYER 0.0 5.0 0.1 2.9 0.05 2.7 0\\n"
    ...                             "LAYER 10.0 7.0 0.0 4.0 0.0 3.0 0\\n")
    >>> m = read_nlloc_layers(path)
    >>> type(m).__name__, m.velocity([5.0, 10.0], "P").round(3).tolist()
    ('Nodes1D', [5.5, 7.0])
    """
    path = Path(path)
    layers, grid_bottom = [], None
    for lineno, line in enumerate(_read_lines(path), start=1):
        tokens = line.split("#")[0].split()
        if not tokens:
            continue
        if tokens[0] == "VGGRID" and len(tokens) >= 10:
            try:
                n_z, z_orig, dz = int(tokens[3]), float(tokens[6]), float(tokens[9])
                grid_bottom = (z_orig + (n_z - 1) * dz, lineno)
            except ValueError:
                pass  # a malformed VGGRID only matters if a bottom is needed; reported there
        if tokens[0] != "LAYER":
            continue
        if len(tokens) < 6:
            raise VelocityModelError(
                f"{path}, line {lineno}: missing column(s): LAYER needs depth VpTop VpGrad VsTop "
                f"VsGrad [rhoTop rhoGrad], got {len(tokens) - 1} values")
        names = ("depth", "VpTop", "VpGrad", "VsTop", "VsGrad")
        values = [_number(t, n, path, lineno) for t, n in zip(tokens[1:6], names)]
        for n, v in zip(names, values):
            if not math.isfinite(v):
                raise VelocityModelError(f"{path}, line {lineno}: {n} is {v}, not a finite number")
        layers.append((lineno, *values))
    if not layers:
        raise VelocityModelError(f"{path}: no LAYER lines found (NonLinLoc velocity model)")
    _check_rows([(ln, d, vp, vs) for ln, d, vp, _, vs, _ in layers], path)
    source = f"{path} (NonLinLoc LAYER)"
    if all(layer[3] == 0 and layer[5] == 0 for layer in layers):
        rows = [(ln, d, vp, vs) for ln, d, vp, _, vs, _ in layers]
        return _build(Layered1D, rows, path, name, source)

    rows = []
    for idx, (lineno, depth, vp, vp_grad, vs, vs_grad) in enumerate(layers):
        rows.append((lineno, depth, vp, vs))
        if idx + 1 < len(layers):
            _, next_depth, next_vp, _, next_vs, _ = layers[idx + 1]
            thickness = next_depth - depth
            bottom_vp, bottom_vs = vp + vp_grad * thickness, vs + vs_grad * thickness
            if math.isclose(bottom_vp, next_vp, abs_tol=1e-9) and \
                    math.isclose(bottom_vs, next_vs, abs_tol=1e-9):
                continue  # continuous: interpolating to the next top is already exact
            bottom = next_depth - min(_JUMP_KM, 0.01 * thickness)
        elif vp_grad == 0 and vs_grad == 0:
            continue  # Nodes1D is constant below its last node
        else:
            if bottom_depth_km is None and grid_bottom is None:
                raise VelocityModelError(
                    f"{path}, line {lineno}: the last LAYER has a gradient but no bottom is "
                    f"known; pass bottom_depth_km or add a VGGRID line")
            bottom = bottom_depth_km if bottom_depth_km is not None else grid_bottom[0]
            if not bottom > depth:
                raise VelocityModelError(
                    f"{path}, line {lineno}: bottom depth {bottom} km is not below the last "
                    f"layer top {depth} km")
        rows.append((lineno, bottom, vp + vp_grad * (bottom - depth),
                     vs + vs_grad * (bottom - depth)))
    return _build(Nodes1D, rows, path, name, source + ", gradients as nodes")


# -- HypoInverse --------------------------------------------------------------------------
def _parse_hypoinverse(path: Path, allow_negative_depth: bool) -> tuple[str, list[tuple]]:
    """Title and (lineno, depth_km, velocity_kmps) rows of a CRH/CRE file."""
    lines = _read_lines(path)
    if not lines or not lines[0].strip():
        raise VelocityModelError(f"{path}, line 1: expected a title line (the model name)")
    title = lines[0].strip()
    rows = []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        tokens = line.split()
        if len(tokens) >= 2 and _FLOAT.match(tokens[0]) and _FLOAT.match(tokens[1]):
            velocity, depth = float(tokens[0]), float(tokens[1])
        elif len(tokens) == 1 and len(line) > 5 and _FLOAT.match(line[:5].strip() or "x"):
            # fixed 2F5.2 fields written without a separating blank, e.g. ' 6.3016.00'
            velocity = _fixed_f52(line[:5], path, lineno)
            depth = _fixed_f52(line[5:10], path, lineno)
        elif len(tokens) == 1:
            raise VelocityModelError(
                f"{path}, line {lineno}: missing column: expected 'velocity depth', got "
                f"{line.strip()!r}")
        else:
            raise VelocityModelError(
                f"{path}, line {lineno}: expected 'velocity depth' numbers, got {line.strip()!r}")
        for what, value in (("velocity", velocity), ("depth", depth)):
            if not math.isfinite(value):
                raise VelocityModelError(f"{path}, line {lineno}: {what} is {value}")
        if depth < 0 and not allow_negative_depth:
            raise VelocityModelError(
                f"{path}, line {lineno}: negative depth {depth} km in a CRH model (depth 0 is "
                f"the model top); use the CRE format for layers above the reference")
        rows.append((lineno, depth, velocity))
    if not rows:
        raise VelocityModelError(f"{path}: no 'velocity depth' lines after the title")
    return title, rows


def _fixed_f52(text: str, path: Path, lineno: int) -> float:
    text = text.strip()
    if not text:
        raise VelocityModelError(f"{path}, line {lineno}: missing column in fixed-format line")
    value = _number(text, "value", path, lineno)
    return value if "." in text else value / 100.0  # Fortran F5.2 implies 2 decimals


def read_hypoinverse_model(path, vp_vs_ratio: float | None = None, s_path=None,
                           reference_elevation_km: float = 0.0, variant: str | None = None,
                           name: str | None = None) -> Layered1D:
    """Read a HypoInverse CRH or CRE constant-layer model (format in the module docstring).

    Parameters
    ----------
    path
        The P model file.
    vp_vs_ratio
        Vs = Vp / ratio (HypoInverse's ``POS``; its default is 1.78). Give this or ``s_path``.
    s_path
        A matching S model file with the same layer depths.
    reference_elevation_km
        Elevation of the model's depth 0, km above sea level (0: depths are below sea level).
    variant
        ``"crh"`` or ``"cre"``; default from the file extension (``cre`` allows negative
        depths, ``crh`` does not).
    name
        Model name; default: the title line.

    Returns
    -------
    Layered1D

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "socal.crh")
    >>> _ = Path(path).write_text("SOC Hadley-Kanamori\\n 5.50 0.00\\n 6.30 5.50\\n")
    >>> m = read_hypoinverse_model(path, vp_vs_ratio=1.73, reference_elevation_km=1.0)
    >>> m.depth_km.tolist(), m.name
    ([-1.0, 4.5], 'SOC Hadley-Kanamori')
    """
    path = Path(path)
    variant = (variant or path.suffix.lstrip(".")).lower()
    if variant not in ("crh", "cre"):
        raise InputError(f"{path}: variant must be 'crh' or 'cre', got {variant!r}; pass variant=")
    if (vp_vs_ratio is None) == (s_path is None):
        raise InputError(
            f"{path}: HypoInverse models hold P velocities only; pass exactly one of "
            f"vp_vs_ratio (HypoInverse's POS, e.g. 1.78) or s_path (the S model file)")
    if vp_vs_ratio is not None and not vp_vs_ratio > 0:
        raise InputError(f"vp_vs_ratio must be positive, got {vp_vs_ratio}")
    if not math.isfinite(reference_elevation_km):
        raise InputError(f"reference_elevation_km must be finite, got {reference_elevation_km}")
    title, p_rows = _parse_hypoinverse(path, allow_negative_depth=variant == "cre")
    if s_path is not None:
        s_path = Path(s_path)
        _, s_rows = _parse_hypoinverse(s_path, allow_negative_depth=variant == "cre")
        if [r[1] for r in s_rows] != [r[1] for r in p_rows]:
            raise VelocityModelError(
                f"{s_path}: S layer depths {[r[1] for r in s_rows]} differ from the P model's "
                f"{[r[1] for r in p_rows]} in {path}")
        vs = [r[2] for r in s_rows]
    else:
        vs = [r[2] / vp_vs_ratio for r in p_rows]
    rows = [(ln, depth - reference_elevation_km, vp, s)
            for (ln, depth, vp), s in zip(p_rows, vs)]
    source = f"{path} (HypoInverse {variant.upper()}, depth 0 at {reference_elevation_km:g} km " \
             f"elevation)"
    return _build(Layered1D, rows, path, name or title, source)


# -- dispatch -----------------------------------------------------------------------------
def _guess_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    lines = _read_lines(path)
    if any(line.lstrip().startswith("LAYER") for line in lines):
        return "nlloc"
    content = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if content and "," in content[0] and "depth" in content[0].lower():
        return "csv"
    raise InputError(f"{path}: cannot tell the velocity model format; pass format= one of "
                     f"{FORMATS}")


def read_velocity_model(path, format: str | None = None, vp_vs_ratio: float | None = None,
                        **kwargs):
    """Read a velocity model file of any supported format.

    Parameters
    ----------
    path
        The file.
    format
        One of :data:`FORMATS`; default: from the extension (``.csv``, ``.crh``, ``.cre``,
        ``.npz``), else from the content (``LAYER`` lines: NonLinLoc; a header with ``depth``
        and commas: CSV).
    vp_vs_ratio
        Vs = Vp / ratio for files without S velocities (CSV without ``vs``, HypoInverse,
        ``.npz`` without ``vs``); an error for files that have them.
    **kwargs
        Passed to the format's reader: :func:`read_csv_model` (``kind``, ``name``),
        :func:`read_nlloc_layers` (``bottom_depth_km``, ``name``),
        :func:`read_hypoinverse_model` (``s_path``, ``reference_elevation_km``, ``name``),
        :meth:`~obspy_hyposvi.velocity.grid3d.Grid3D.from_npz` (``projection``, ``spacing_km``,
        ``name``).

    Returns
    -------
    Layered1D, Nodes1D or Grid3D

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "model.txt")
    >>> _ = Path(path).write_text("depth_km,vp,vs\\n0,5.0,2.9\\n10,6.0,3.5\\n")
    >>> read_velocity_model(path).velocity([5.0], "P").tolist()
    [5.5]
    """
    path = Path(path)
    fmt = (format or _guess_format(path)).lower()
    if fmt == "csv":
        return read_csv_model(path, vp_vs_ratio=vp_vs_ratio, **kwargs)
    if fmt == "nlloc":
        if vp_vs_ratio is not None:
            raise InputError(f"{path}: NonLinLoc LAYER lines give Vs, so vp_vs_ratio must not be "
                             f"given")
        return read_nlloc_layers(path, **kwargs)
    if fmt in ("crh", "cre"):
        return read_hypoinverse_model(path, vp_vs_ratio=vp_vs_ratio, variant=fmt, **kwargs)
    if fmt == "npz":
        from .grid3d import Grid3D

        return Grid3D.from_npz(path, vp_vs_ratio=vp_vs_ratio, **kwargs)
    raise InputError(f"{path}: unknown velocity model format {format!r}; known: {FORMATS}")
