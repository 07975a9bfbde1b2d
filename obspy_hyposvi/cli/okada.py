"""``hyposvi okada``: surface displacement (and strain) of a rectangular fault at stations.

Stations come from a CSV file (``station,lon,lat`` and optionally ``elevation_m``) or a
StationXML inventory; the fault from its parameters on the command line or from a QuakeML event
with a focal mechanism and a magnitude (:func:`obspy_hyposvi.bridge.okada.fault_from_event`).
The result is a CSV file with one row per station: ``station, lon, lat, east_m, north_m, up_m``
and, with ``--strain``, the six strain components. The half-space surface is z = 0: station
elevations are read (and checked) but not used, as in Okada's model.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from ..safe_write import write_atomically
from ._common import UsageError

if TYPE_CHECKING:  # numpy is imported where it is used: `hyposvi --help` stays quick
    import numpy as np

__all__ = ["add_parser", "read_stations_csv", "run", "write_displacement_csv"]

#: fault options (destination, flag, help) when the fault is not taken from an event
_FAULT_OPTIONS = (
    ("lon_deg", "--lon", "centroid longitude, deg"),
    ("lat_deg", "--lat", "centroid latitude, deg"),
    ("depth_km", "--depth-km", "centroid depth below the surface, km"),
    ("strike_deg", "--strike", "strike, deg clockwise from north (fault dips to its right)"),
    ("dip_deg", "--dip", "dip, deg in [0, 90]"),
    ("rake_deg", "--rake", "rake, deg (0 left-lateral, 90 reverse, -90 normal)"),
    ("slip_m", "--slip-m", "slip, m (>= 0)"),
    ("length_km", "--length-km", "length along strike, km"),
    ("width_km", "--width-km", "width down dip, km"),
)
#: output columns of the strain tensor (symmetric; e east, n north, u up)
_STRAIN_COLUMNS = (("strain_ee", 0, 0), ("strain_en", 0, 1), ("strain_eu", 0, 2),
                   ("strain_nn", 1, 1), ("strain_nu", 1, 2), ("strain_uu", 2, 2))


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text}: must be a finite number")
    return value


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``okada`` subcommand."""
    parser = subparsers.add_parser(
        "okada", help="surface displacement of a rectangular fault (Okada 1992)",
        description="Compute the east/north/up displacement (m) and optionally the strain of a "
                    "uniform-slip rectangular fault in an elastic half-space (Poisson solid) "
                    "at stations, and write them as CSV. The fault is given by its parameters "
                    "or by a QuakeML event with a focal mechanism and a magnitude (rupture "
                    "size from Wells & Coppersmith 1994, slip from the moment).")
    stations = parser.add_mutually_exclusive_group(required=True)
    stations.add_argument("--stations", type=Path, metavar="CSV",
                          help="station CSV with columns station, lon, lat (deg) and "
                               "optionally elevation_m (not used: the surface is z = 0)")
    stations.add_argument("--inventory", "-i", type=Path, metavar="INV",
                          help="station file (StationXML or any format ObsPy reads)")
    source = parser.add_argument_group(
        "fault", "either --event, or all of --lon --lat --depth-km --strike --dip --rake "
                 "--slip-m --length-km --width-km")
    source.add_argument("--event", type=Path, metavar="FILE",
                        help="QuakeML (or any format ObsPy reads) with a focal mechanism and "
                             "a magnitude (taken as Mw)")
    source.add_argument("--event-index", type=int, default=0, metavar="N",
                        help="which event of FILE, counted from 0 (default 0)")
    source.add_argument("--nodal-plane", type=int, choices=(1, 2), default=1,
                        help="the nodal plane that is the fault (default 1)")
    source.add_argument("--shear-modulus-pa", type=_finite_float, default=None, metavar="MU",
                        help="shear modulus for the slip from the moment, Pa (default 3e10)")
    for dest, flag, text in _FAULT_OPTIONS:
        source.add_argument(flag, dest=dest, type=_finite_float, default=None, help=text)
    source.add_argument("--opening-m", type=_finite_float, default=0.0,
                        help="tensile opening, m (default 0)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.csv",
                        help="output CSV file")
    parser.add_argument("--strain", action="store_true",
                        help="add the strain columns strain_ee, strain_en, strain_eu, "
                             "strain_nn, strain_nu, strain_uu (dimensionless)")
    parser.set_defaults(run=run)
    return parser


def read_stations_csv(path: str | Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Station names and lon/lat (deg) from a CSV file with a header line.

    Parameters
    ----------
    path
        CSV with the columns ``station``, ``lon``, ``lat`` (degrees) and optionally
        ``elevation_m``; other columns are ignored, blank lines skipped.

    Returns
    -------
    names : list of str
    lon_deg, lat_deg : numpy.ndarray
        ``(n_stations,)`` float64.

    Raises
    ------
    InputError
        The file cannot be read, a column is missing, or a value is empty, not a finite
        number or out of range; the message names the file and the line.

    Examples
    --------
    >>> read_stations_csv("/nonexistent/st.csv")
    Traceback (most recent call last):
    ...
    obspy_hyposvi.errors.InputError: cannot read stations file /nonexistent/st.csv: file not found
    """
    import numpy as np

    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = [h.strip() for h in next(reader, [])]
            missing = [c for c in ("station", "lon", "lat") if c not in header]
            if missing:
                raise InputError(f"stations file {path}: missing column(s) "
                                 f"{', '.join(missing)}; the header line has: "
                                 f"{', '.join(header) or '(nothing)'}")
            rows = [(reader.line_num, row) for row in reader if any(v.strip() for v in row)]
    except FileNotFoundError:
        raise InputError(f"cannot read stations file {path}: file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read stations file {path}: {exc}") from None
    column = {name: header.index(name) for name in ("station", "lon", "lat", "elevation_m")
              if name in header}
    names, lon, lat, first_line = [], [], [], {}
    for line, row in rows:
        where = f"stations file {path}, line {line}"
        if len(row) != len(header):
            raise InputError(f"{where}: {len(row)} fields, the header has {len(header)}")
        name = row[column["station"]].strip()
        if not name:
            raise InputError(f"{where}: the station name is empty")
        where = f"{where} (station {name})"
        if name in first_line:
            raise InputError(f"{where}: the station is already on line {first_line[name]}")
        first_line[name] = line
        # elevation_m may be left empty; it is checked, not used (the surface is z = 0)
        values = {key: _number(row[column[key]], key, where) for key in column
                  if key != "station" and (key != "elevation_m" or row[column[key]].strip())}
        if not -180.0 <= values["lon"] <= 360.0:
            raise InputError(f"{where}: lon = {values['lon']} is outside [-180, 360]")
        if not -90.0 <= values["lat"] <= 90.0:
            raise InputError(f"{where}: lat = {values['lat']} is outside [-90, 90]")
        names.append(name)
        lon.append(values["lon"])
        lat.append(values["lat"])
    if not names:
        raise InputError(f"stations file {path} has no stations")
    return names, np.asarray(lon, float), np.asarray(lat, float)


def _number(text: str, column: str, where: str) -> float:
    """A finite float from a CSV field, or an InputError naming the field."""
    text = text.strip()
    if not text:
        raise InputError(f"{where}: {column} is empty")
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: {column} = {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{where}: {column} = {text} is not a finite number")
    return value


def write_displacement_csv(
    path: str | Path,
    names: list[str],
    lon_deg: np.ndarray,
    lat_deg: np.ndarray,
    displacement_enu_m: np.ndarray,
    strain: np.ndarray | None = None,
) -> None:
    """Write one row per station: name, lon, lat, east_m, north_m, up_m [, strain columns].

    Parameters
    ----------
    path
        Output file (overwritten).
    names, lon_deg, lat_deg
        Stations, ``(n_stations,)``.
    displacement_enu_m
        ``(n_stations, 3)`` east, north, up, m.
    strain
        ``(n_stations, 3, 3)`` in the east/north/up frame, or None for no strain columns.

    Raises
    ------
    InputError
        The file cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> out = Path(tempfile.mkdtemp()) / "d.csv"
    >>> write_displacement_csv(out, ["A"], np.array([10.0]), np.array([45.0]),
    ...                        np.array([[0.001, -0.002, 0.0005]]))
    >>> print(out.read_text().strip())
    station,lon,lat,east_m,north_m,up_m
    A,10.0,45.0,0.001,-0.002,0.0005
    """
    header = ["station", "lon", "lat", "east_m", "north_m", "up_m"]
    if strain is not None:
        header += [name for name, _, _ in _STRAIN_COLUMNS]

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(header)
            for k, name in enumerate(names):
                # float(): the shortest repr that reads back to the same float64
                row = [name, float(lon_deg[k]), float(lat_deg[k])]
                row += [float(v) for v in displacement_enu_m[k]]
                if strain is not None:
                    row += [float(strain[k, i, j]) for _, i, j in _STRAIN_COLUMNS]
                writer.writerow(row)

    try:
        write_atomically(path, write)  # never a partial CSV
    except OSError as exc:  # strerror: the message without the temporary file's name
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None


def _fault_from_args(args: argparse.Namespace):
    """The fault: from ``--event`` or from the parameter options (exactly one of the two)."""
    from ..okada.fault import RectangularFault

    given = [flag for dest, flag, _ in _FAULT_OPTIONS if getattr(args, dest) is not None]
    if args.event is not None:
        if given or args.opening_m:
            raise UsageError(f"--event and fault parameters exclude each other (given: "
                             f"{', '.join(given + (['--opening-m'] if args.opening_m else []))})")
        return _fault_from_event_file(args)
    if args.shear_modulus_pa is not None:
        raise UsageError("--shear-modulus-pa is only used with --event")
    missing = [flag for dest, flag, _ in _FAULT_OPTIONS if getattr(args, dest) is None]
    if missing:
        raise UsageError("give --event, or all fault parameters; missing: " + " ".join(missing))
    return RectangularFault(**{dest: getattr(args, dest) for dest, _, _ in _FAULT_OPTIONS},
                            opening_m=args.opening_m)


def _fault_from_event_file(args: argparse.Namespace):
    from ..bridge.okada import DEFAULT_SHEAR_MODULUS_PA, fault_from_event
    from ..bridge.picks import read_catalog

    catalog = read_catalog(args.event)
    if not 0 <= args.event_index < len(catalog):
        raise InputError(f"event file {args.event} has {len(catalog)} event(s); "
                         f"--event-index {args.event_index} is out of range")
    mu = DEFAULT_SHEAR_MODULUS_PA if args.shear_modulus_pa is None else args.shear_modulus_pa
    try:
        return fault_from_event(catalog[args.event_index], nodal_plane=args.nodal_plane,
                                shear_modulus_pa=mu)
    except InputError as exc:
        raise InputError(f"event file {args.event}, event {args.event_index}: {exc}") from None


def _stations_from_args(args: argparse.Namespace) -> tuple[list[str], np.ndarray, np.ndarray]:
    if args.stations is not None:
        return read_stations_csv(args.stations)
    from ..bridge.okada import stations_from_inventory
    from ..bridge.picks import read_inventory

    try:
        return stations_from_inventory(read_inventory(args.inventory))
    except InputError as exc:
        if str(args.inventory) in str(exc):
            raise
        raise InputError(f"inventory {args.inventory}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    """Read stations and fault, compute, write the CSV, print the fault and a summary."""
    import numpy as np

    from ..okada.fault import fault_displacement

    fault = _fault_from_args(args)
    names, lon, lat = _stations_from_args(args)
    out = fault_displacement(fault, lon, lat)
    disp = out["displacement_enu_m"]
    write_displacement_csv(args.output, names, lon, lat, disp,
                           out["strain"] if args.strain else None)
    print(f"fault: lon {fault.lon_deg:.4f} lat {fault.lat_deg:.4f} depth {fault.depth_km:.2f} km"
          f" strike {fault.strike_deg:.1f} dip {fault.dip_deg:.1f} rake {fault.rake_deg:.1f} "
          f"slip {fault.slip_m:.3f} m length {fault.length_km:.2f} km "
          f"width {fault.width_km:.2f} km")
    largest = int(np.argmax(np.linalg.norm(disp, axis=1)))
    print(f"largest displacement: {np.linalg.norm(disp[largest]):.4g} m at {names[largest]}")
    print(f"written: {args.output} ({len(names)} stations)")
    return 0
