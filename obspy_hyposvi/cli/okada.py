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
import math
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from ._common import UsageError

if TYPE_CHECKING:  # numpy is imported where it is used: `hyposvi --help` stays quick
    import numpy as np

__all__ = ["add_parser", "run"]

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
        from ..bridge.okada import read_stations_csv

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

    from ..bridge.okada import write_displacement_csv
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
