"""Rebuild the README's figures from the bundled example (a few minutes on one core).

Usage: ``OMP_NUM_THREADS=1 python docs/make_figures.py [--event N]``

Locates the bundled synthetic catalogue with the bundled socal-1d models at the default
settings (as ``hyposvi demo`` does) and writes ``docs/event.png`` (event N, default 4, as
``hyposvi locate --plot DIR`` draws it, with the true hypocentre) and ``docs/catalog.png`` (the
catalogue, ellipses 20 times their size so that they show at network scale). Both are reduced
to a 256-colour palette to keep the repository small.
"""

from __future__ import annotations

import argparse
import csv
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

from obspy_hyposvi.bridge.picks import read_catalog, read_inventory
from obspy_hyposvi.locator import Locator
from obspy_hyposvi.plot import plot_catalog, plot_event

DOCS = Path(__file__).resolve().parent
#: Catalogue ellipses are ~0.1-0.3 km in a ~70 km network: drawn 20 times larger (the legend
#: says so); the event figure shows them at true size.
CATALOG_ELLIPSE_SCALE = 20.0


def _truth_xyz_km(report, path: Path) -> np.ndarray:
    """Per event of the report, its true hypocentre in its own frame (km), NaN if unknown."""
    with open(path, newline="") as fh:
        rows = {r["event_id"]: r for r in csv.DictReader(fh)}
    out = np.full((len(report.results), 3), np.nan)
    for k, (result, frame) in enumerate(zip(report.results, report.projections)):
        row = rows.get(str(result.event_id))
        if row is not None and frame is not None:
            x, y, _ = frame.to_xyz_km(float(row["lon"]), float(row["lat"]))
            out[k] = float(x), float(y), float(row["depth_km"])
    return out


def _palette(path: Path) -> None:
    Image.open(path).convert("RGB").quantize(colors=256).save(path, optimize=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--event", type=int, default=4, help="catalogue number (1-based)")
    args = parser.parse_args(argv)
    folder = Path(str(resources.files("obspy_hyposvi.data") / "examples"))
    report = Locator.from_model("socal-1d").run(read_catalog(folder / "picks.xml"),
                                                read_inventory(folder / "stations.xml"))
    truth = _truth_xyz_km(report, folder / "truth.csv")
    k = args.event - 1
    event = plot_event(report.results[k], report.observations[k], report.projections[k],
                       DOCS / "event.png", truth_xyz_km=truth[k],
                       title=f"hyposvi demo, event {args.event:03d} (star: true hypocentre)")
    catalog = plot_catalog(report.results, report.observations, report.projections,
                           DOCS / "catalog.png", truth_xyz_km=truth,
                           ellipse_scale=CATALOG_ELLIPSE_SCALE,
                           title="hyposvi demo: bundled synthetic catalogue (open stars: truth)")
    for path in (event, catalog):
        _palette(path)
        print(f"written: {path} ({path.stat().st_size // 1024} kB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
