"""The bundled example catalogue: where its files are, its truth, and a run's errors against it.

The example (``data/examples/`` in the source tree, described in ``data/README.md``) is a
synthetic catalogue with known hypocentres: ``picks.xml`` (QuakeML), ``stations.xml``
(StationXML) and ``truth.csv``, the true hypocentres, one row per event with the columns
:data:`TRUTH_COLUMNS` (``x_km``, ``y_km``, ``z_km`` in the UTM frame of the stations).
``hyposvi demo`` locates it and prints :func:`errors_against_truth`;
``scripts/make_example_data.py`` writes it with :func:`write_truth`.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from obspy import UTCDateTime

from ..errors import InputError
from ..locate.result import LocationResult

__all__ = ["TRUTH_COLUMNS", "example_dir", "read_truth", "write_truth", "errors_against_truth",
           "mean_abs_errors", "truth_xyz_km"]

#: Columns of ``truth.csv``: lon/lat deg, depth km below sea level, time ISO 8601 UTC, and the
#: position in the stations' UTM frame, km.
TRUTH_COLUMNS = ("event_id", "lon", "lat", "depth_km", "time", "x_km", "y_km", "z_km")


def example_dir() -> Path:
    """Folder of the bundled example data (picks.xml, stations.xml, truth.csv).

    Examples
    --------
    >>> sorted(p.name for p in example_dir().iterdir())
    ['picks.xml', 'stations.xml', 'truth.csv']
    """
    return Path(str(resources.files("obspy_hyposvi.data") / "examples"))


def read_truth(path: str | Path) -> dict[str, dict]:
    """True hypocentres of a ``truth.csv`` keyed by event id (lon/lat deg, depth km, time).

    Examples
    --------
    >>> truth = read_truth(example_dir() / "truth.csv")
    >>> row = truth["smi:local/obspy_hyposvi/synthetic/2024/event/001"]
    >>> row["depth_km"], str(row["time"])
    (17.8694, '2020-01-01T00:01:58.174000Z')
    """
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
        return {r["event_id"]: {"lon": float(r["lon"]), "lat": float(r["lat"]),
                                "depth_km": float(r["depth_km"]), "time": UTCDateTime(r["time"])}
                for r in rows}
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(f"cannot read truth file {path}: {type(exc).__name__}: {exc}") from None


def write_truth(path: str | Path, truth: Sequence[dict[str, Any]]) -> None:
    """Write true hypocentres (as :func:`~obspy_hyposvi.bridge.synthetic.synthetic_catalog`
    returns them) as ``truth.csv``: degrees to 6 decimals, km to 4.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "truth.csv"
    >>> write_truth(path, [{"event_id": "e1", "lon": -116.5, "lat": 33.5, "depth_km": 5.0,
    ...                     "time": UTCDateTime(2020, 1, 1), "x_km": 546.5, "y_km": 3706.7,
    ...                     "z_km": 5.0}])
    >>> read_truth(path)["e1"]["depth_km"]
    5.0
    """
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(TRUTH_COLUMNS)
        for row in truth:
            writer.writerow([row["event_id"], f"{row['lon']:.6f}", f"{row['lat']:.6f}",
                             f"{row['depth_km']:.4f}", str(row["time"]), f"{row['x_km']:.4f}",
                             f"{row['y_km']:.4f}", f"{row['z_km']:.4f}"])


def errors_against_truth(report, truth: dict[str, dict]) -> list[dict]:
    """Per located event with a known truth: epicentral, depth and origin-time errors.

    Parameters
    ----------
    report
        A :class:`~obspy_hyposvi.locator.LocateReport` (its ``results``, ``observations`` and
        ``projections``).
    truth
        Output of :func:`read_truth`.

    Returns
    -------
    list of dict
        ``event_id``, ``epicentral_km``, ``depth_km`` (located minus true, km, + deeper),
        ``origin_time_s`` (located minus true, s) and ``truth_xyz_km`` in the event's frame.
    """
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


def mean_abs_errors(errors: Sequence[dict]) -> dict[str, float] | None:
    """Mean absolute ``epicentral_km``, ``depth_km`` and ``origin_time_s`` of
    :func:`errors_against_truth`'s rows; None for no rows.

    Examples
    --------
    >>> mean_abs_errors([{"epicentral_km": 0.1, "depth_km": -0.2, "origin_time_s": 0.01},
    ...                  {"epicentral_km": 0.3, "depth_km": 0.4, "origin_time_s": -0.03}])
    {'epicentral_km': 0.2, 'depth_km': 0.30000000000000004, 'origin_time_s': 0.02}
    """
    if not errors:
        return None
    return {key: float(np.mean([abs(e[key]) for e in errors]))
            for key in ("epicentral_km", "depth_km", "origin_time_s")}


def truth_xyz_km(report, errors: Sequence[dict]) -> np.ndarray:
    """``(n_results, 3)`` true hypocentres in the order of ``report.results``, each in its
    event's frame (as :func:`~obspy_hyposvi.plot.plot_catalog` takes them); NaN rows for
    events without a truth in ``errors``."""
    by_id = {e["event_id"]: e["truth_xyz_km"] for e in errors}
    return np.array([by_id.get(str(r.event_id), np.full(3, np.nan)) for r in report.results])
