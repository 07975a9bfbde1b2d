"""``hyposvi locate``: locate the events of a pick file and write the catalogue with origins."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._common import add_location_options, check_device, event_progress, location_settings

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``locate`` subcommand."""
    parser = subparsers.add_parser(
        "locate", help="locate the events of a pick file",
        description="Locate every event of PICKS (QuakeML, SC3ML or any format ObsPy reads) "
                    "and write a copy where each located event gains a preferred origin. "
                    "Events that cannot be located are kept unchanged and listed.")
    parser.add_argument("picks", type=Path, metavar="PICKS", help="event file with picks")
    parser.add_argument("--inventory", "-i", type=Path, required=True, metavar="INV",
                        help="station file (StationXML or any format ObsPy reads)")
    parser.add_argument("--model", "-m", default="socal-1d", metavar="NAME",
                        help="travel-time model: bundled/user name or path prefix of "
                             "NAME-P.pt/NAME-S.pt (default socal-1d)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                        help="output event file")
    parser.add_argument("--format", type=str.upper, choices=("QUAKEML", "SC3ML", "SCML"),
                        default="QUAKEML", help="output format (default QUAKEML)")
    parser.add_argument("--plot", type=Path, metavar="DIR", default=None,
                        help="write a figure per located event and one of the catalogue here")
    add_location_options(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Locate, write, print the summary; 0 even when some events fail (they are reported)."""
    from ..bridge.origins import write_catalog
    from ..bridge.picks import read_catalog, read_inventory
    from ..locator import Locator

    settings = location_settings(args)
    check_device(args.device)
    catalog = read_catalog(args.picks)
    inventory = read_inventory(args.inventory)
    locator = Locator.from_model(args.model, **settings)
    with event_progress(len(catalog), "locating") as progress:
        report = locator.run(catalog, inventory, progress=progress)
    write_catalog(report.catalog, args.output, format=args.format)
    for line in report.summary_lines():
        print(line)
    print(f"written: {args.output} ({args.format})")
    if args.plot is not None:
        for path in write_figures(report, args.plot):
            print(f"figure: {path}")
    if report.n_failed:
        print(f"{report.n_failed} events not located; they are in {args.output} unchanged",
              file=sys.stderr)
    return 0


def write_figures(report, folder: Path, truth_xyz_km=None) -> list[Path]:
    """One figure per located event (``NNN.png``, in catalogue order) and ``catalog.png``."""
    from ..locate.result import LocationResult
    from ..plot import plot_catalog, plot_event

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, (res, obs) in enumerate(zip(report.results, report.observations)):
        if isinstance(res, LocationResult):
            truth = None if truth_xyz_km is None else truth_xyz_km[k]
            paths.append(plot_event(res, obs, report.projection, folder / f"{k + 1:03d}.png",
                                    truth_xyz_km=truth))
    paths.append(plot_catalog(report.results, report.observations, report.projection,
                              folder / "catalog.png", truth_xyz_km=truth_xyz_km))
    return paths
