"""``hyposvi demo``: locate the bundled example catalogue and compare with the true hypocentres."""

from __future__ import annotations

import argparse
import csv
from functools import partial
from importlib import resources
from pathlib import Path

from ._common import (
    add_location_options,
    check_device,
    event_progress,
    location_settings,
    set_threads,
)

__all__ = ["add_parser", "run", "example_dir", "read_truth", "errors_against_truth"]


def example_dir() -> Path:
    """Folder of the bundled example data (picks.xml, stations.xml, truth.csv)."""
    return Path(str(resources.files("obspy_hyposvi.data") / "examples"))


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
    add_location_options(parser)
    parser.set_defaults(run=run)
    return parser


def read_truth(path: Path) -> dict[str, dict]:
    """True hypocentres of a ``truth.csv`` keyed by event id (lon/lat deg, depth km, time)."""
    from obspy import UTCDateTime

    from ..errors import InputError

    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
        return {r["event_id"]: {"lon": float(r["lon"]), "lat": float(r["lat"]),
                                "depth_km": float(r["depth_km"]), "time": UTCDateTime(r["time"])}
                for r in rows}
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(f"cannot read truth file {path}: {type(exc).__name__}: {exc}") from None


def errors_against_truth(report, truth: dict[str, dict]) -> list[dict]:
    """Per located event with a known truth: epicentral, depth and origin-time errors.

    Returns
    -------
    list of dict
        ``event_id``, ``epicentral_km``, ``depth_km`` (located minus true, km, + deeper),
        ``origin_time_s`` (located minus true, s) and ``truth_xyz_km`` in the event's frame.
    """
    import numpy as np

    from ..locate.result import LocationResult

    out = []
    for res, obs, frame in zip(report.results, report.observations, report.projections):
        if not isinstance(res, LocationResult) or res.event_id not in truth:
            continue
        t = truth[res.event_id]
        x, y, _ = frame.to_xyz_km(t["lon"], t["lat"])  # the event's own frame
        true_xyz = np.array([float(x), float(y), t["depth_km"]])
        hypo = np.asarray(res.hypocentre_xyz_km, dtype=float)
        origin_time = obs.reference_time + res.origin_time_s
        out.append({"event_id": res.event_id,
                    "epicentral_km": float(np.hypot(*(hypo[:2] - true_xyz[:2]))),
                    "depth_km": float(hypo[2] - true_xyz[2]),
                    "origin_time_s": float(origin_time - t["time"]),
                    "truth_xyz_km": true_xyz})
    return out


def run(args: argparse.Namespace) -> int:
    """Locate the example, write QuakeML and a figure, print the errors."""
    import numpy as np

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
    locator = Locator.from_model(args.model, **settings)
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
    if errors:
        print(f"{'mean |error|':<52} {np.mean([e['epicentral_km'] for e in errors]):>14.2f} "
              f"{np.mean([abs(e['depth_km']) for e in errors]):>10.2f} "
              f"{np.mean([abs(e['origin_time_s']) for e in errors]):>9.3f}")
    by_id = {e["event_id"]: e["truth_xyz_km"] for e in errors}
    truth_xyz = np.array([by_id.get(str(r.event_id), np.full(3, np.nan)) for r in report.results])
    figure = args.output / "located.png"
    write_atomically(figure, partial(
        plot_catalog, report.results, report.observations, report.projections,
        truth_xyz_km=truth_xyz, title="hyposvi demo: bundled synthetic catalogue (stars: truth)"))
    print(f"written: {out_xml}, {figure}")
    return 0
