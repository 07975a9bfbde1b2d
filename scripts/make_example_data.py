"""Write the bundled example data set of ``data/examples/``.

A synthetic Southern California catalogue: 6 events 1-25 km deep under 25 stations (elevations
0-2000 m) in a 60 km square centred on (-116.5, 33.5), P picks at every station and S picks at
most, from exact first arrivals in the socal-1d layered model plus 0.05 s Gaussian noise.
Deterministic: running it again rewrites identical files.

Files: ``picks.xml`` (QuakeML, picks only), ``stations.xml`` (StationXML), ``truth.csv`` (true
hypocentres: event_id, lon, lat, depth_km, time, x_km, y_km, z_km with x/y in the UTM zone 11
frame).

Usage: ``python scripts/make_example_data.py [OUTPUT_DIR]``
"""

from __future__ import annotations

import sys
from pathlib import Path

from obspy_hyposvi.bridge.examples import write_truth
from obspy_hyposvi.bridge.synthetic import synthetic_catalog

SEED = 2024
N_EVENTS = 6
N_STATIONS = 25
PICK_NOISE_S = 0.05
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "data" / "examples"


def main(out_dir: Path = DEFAULT_DIR) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    catalog, inventory, truth = synthetic_catalog(N_EVENTS, N_STATIONS, seed=SEED,
                                                  pick_noise_s=PICK_NOISE_S)
    catalog.write(str(out_dir / "picks.xml"), format="QUAKEML", validate=True)
    inventory.write(str(out_dir / "stations.xml"), format="STATIONXML", validate=True)
    # StationXML carries a creation date: pin it so the file does not change between runs
    text = (out_dir / "stations.xml").read_text()
    start = text.index("<Created>")
    end = text.index("</Created>") + len("</Created>")
    (out_dir / "stations.xml").write_text(
        text[:start] + "<Created>2024-01-01T00:00:00.000000Z</Created>" + text[end:])
    write_truth(out_dir / "truth.csv", truth)
    for name in ("picks.xml", "stations.xml", "truth.csv"):
        print(f"{out_dir / name}: {(out_dir / name).stat().st_size / 1e3:.1f} kB")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR)
