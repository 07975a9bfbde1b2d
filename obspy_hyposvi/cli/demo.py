"""``hyposvi demo``: locate the bundled example catalogue and compare with the true hypocentres."""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

from ._common import (
    add_location_options,
    check_device,
    event_progress,
    location_settings,
    set_threads,
)

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo", help="locate the bundled example catalogue",
        description="Locate the bundled synthetic Southern California catalogue with the "
                    "bundled socal-1d model, write DIR/located.xml (QuakeML) and "
                    "DIR/located.png, and print the errors against the true hypocentres.")
    parser.add_argument("-o", "--output", type=Path, default=Path("hyposvi-demo"), metavar="DIR",
                        help="output folder (default ./hyposvi-demo)")
    parser.add_argument("--model", "-m", default="socal-1d", metavar="NAME",
                        help="travel-time model (default: the bundled socal-1d)")
    parser.add_argument("--networks", action="store_true",
                        help="locate on the networks of --model even where its velocity model is "
                             "layered 1D (default: that model's exact first arrivals, which the "
                             "networks only approximate)")
    add_location_options(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Locate the example, write QuakeML and a figure, print the errors."""
    from ..bridge.examples import (
        errors_against_truth,
        example_dir,
        mean_abs_errors,
        read_truth,
        truth_xyz_km,
    )
    from ..bridge.origins import write_catalog
    from ..bridge.picks import read_catalog, read_inventory
    from ..locator import Locator
    from ..plot import plot_catalog
    from ..safe_write import check_output_folder, make_output_folder, write_atomically

    settings = location_settings(args)
    check_device(args.device)
    check_output_folder(args.output, parents=True, option="-o")  # before any work
    set_threads(args.threads)
    folder = example_dir()
    catalog = read_catalog(folder / "picks.xml")
    inventory = read_inventory(folder / "stations.xml")
    truth = read_truth(folder / "truth.csv")
    locator = Locator.from_model(args.model, exact_layered=not args.networks, **settings)
    with event_progress(len(catalog), "locating") as progress:
        report = locator.run(catalog, inventory, progress=progress)
    make_output_folder(args.output, parents=True, option="-o")
    out_xml = args.output / "located.xml"
    write_catalog(report.catalog, out_xml, format="QUAKEML", validate=True)
    for line in report.summary_lines():
        print(line)
    errors = errors_against_truth(report, truth)
    print(f"{'event':<52} {'epicentre (km)':>14} {'depth (km)':>10} {'time (s)':>9}")
    for e in errors:
        print(f"{e['event_id']:<52} {e['epicentral_km']:>14.2f} {e['depth_km']:>+10.2f} "
              f"{e['origin_time_s']:>+9.3f}")
    mean = mean_abs_errors(errors)
    if mean is not None:
        print(f"{'mean |error|':<52} {mean['epicentral_km']:>14.2f} {mean['depth_km']:>10.2f} "
              f"{mean['origin_time_s']:>9.3f}")
    figure = args.output / "located.png"
    write_atomically(figure, partial(
        plot_catalog, report.results, report.observations, report.projections,
        truth_xyz_km=truth_xyz_km(report, errors),
        title="hyposvi demo: bundled synthetic catalogue (stars: truth)"))
    print(f"written: {out_xml}, {figure}")
    return 0
