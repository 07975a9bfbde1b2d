"""ObsPy side of a run: milliseconds per event to read the picks and to write the origins.

Times what :meth:`obspy_hyposvi.locator.Locator.run` does around the location passes, on one
thread, for a synthetic catalogue (:func:`~obspy_hyposvi.bridge.synthetic.synthetic_catalog`,
300 events, 30 stations, seed 3: ~54 picks an event):

- ``prepare``: ``Locator.prepare``, the picks and stations to observations (frames, station
  look-ups, pick checks);
- ``report``: ``Locator.report``, each event copied with a new origin and its arrivals;

and the parts of the report, each over the whole catalogue: ``copy_event`` (the event's copy),
``origin_from_result`` (the origin alone), ``located_event`` (copy and origin, as the report
builds them), ``add_origin`` of an ``origin_from_result`` (the public two-step path: the
origin is copied too), ``circular_uncertainty_km``, and ``copy.deepcopy`` of an event (over
the first 50 events) for comparison. The location results are made by hand around the true
hypocentres (the bridge's cost does not depend on their values), so no SVGD runs.

Each figure is the best of ``--repeats`` runs, wall clock and process CPU time, with the load
average at the start: on a shared machine the wall clock moves with the other jobs. Prints a
table and writes ``benchmarks/results/bridge_speed.json``.

Usage: ``OMP_NUM_THREADS=1 python benchmarks/bridge_speed.py [--events 300] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import obspy
import torch

from obspy_hyposvi import __version__
from obspy_hyposvi.bridge._objects import copy_event, paused_gc
from obspy_hyposvi.bridge.origins import add_origin, located_event, origin_from_result
from obspy_hyposvi.bridge.synthetic import synthetic_catalog
from obspy_hyposvi.locate.catalogue import CatalogueRun
from obspy_hyposvi.locate.horizontal import circular_uncertainty_km
from obspy_hyposvi.locate.result import ConfidenceEllipsoid, LocationResult
from obspy_hyposvi.locator import Locator

from _results import write_results  # benchmarks/_results.py

RESULTS = Path(__file__).resolve().parent / "results" / "bridge_speed.json"
STATIONS = 30
SEED = 3
#: Events copied with copy.deepcopy for comparison (it is slow).
DEEPCOPY_EVENTS = 50


def _result(obs, frame, truth: dict, rng: np.random.Generator) -> LocationResult:
    """A location result like a run's, around the true hypocentre."""
    n = obs.n_picks
    x, y, _ = frame.to_xyz_km(truth["lon"], truth["lat"])
    angle = rng.uniform(0.0, np.pi)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    covariance = np.diag([0.16, 0.09, 0.64])
    covariance[:2, :2] = rotation @ np.diag([0.16, 0.05]) @ rotation.T
    residual = rng.normal(0.0, 0.05, n)
    return LocationResult(
        event_id=obs.event_id,
        hypocentre_xyz_km=np.array([float(x), float(y), truth["depth_km"]]),
        covariance_km2=covariance, origin_time_s=-2.0, origin_time_uncertainty_s=0.03,
        ellipsoid=ConfidenceEllipsoid(0.9, 0.25, 0.45, 35.0, 70.0, 20.0, 68.27),
        horizontal_uncertainty_km=(0.45, 0.25, 35.0), confidence_level=68.27,
        travel_time_s=obs.arrival_s + 2.0, residual_s=residual, weight=np.ones(n),
        takeoff_deg=rng.uniform(60.0, 170.0, n), particles_xyz_km=np.zeros((150, 3)),
        cluster_mask=np.ones(150, bool), sigma_s=np.full(n, 0.05),
        map_xyz_km=np.array([float(x), float(y), truth["depth_km"]]),
        extra={"n_particles": 150, "n_epochs": 175, "cluster_fraction": 1.0,
               "mode_share": 1.0, "n_modes": 1, "placed_fraction": 1.0, "converged": True,
               "quality_note": "", "n_used_picks": n, "likelihood": "edt",
               "hypocentre_estimator": "posterior mean of the dominant mode",
               "edt_power": "calibrated", "kde_bandwidth_km": 0.29,
               "error_model": "P: max(0.05 s, 1.0 % of T) (estimated from 9000 residuals)",
               "n_outliers": 0, "n_station_terms": 0})


def _best(function, repeats: int) -> tuple[float, float]:
    """Best wall-clock and CPU seconds of ``function()`` over ``repeats`` runs."""
    wall, cpu = [], []
    for _ in range(repeats):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - wall0)
        cpu.append(time.process_time() - cpu0)
    return min(wall), min(cpu)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")

    catalog, inventory, truth = synthetic_catalog(args.events, STATIONS, seed=SEED)
    locator = Locator.from_model("socal-1d")
    prepared = locator.prepare(catalog, inventory)  # warm-up: imports, pyproj transformers
    rng = np.random.default_rng(SEED)
    usable = prepared.usable
    results = [_result(prepared.observations[i], prepared.projections[i], truth[i], rng)
               for i in usable]
    run = CatalogueRun(results=results, error_models=(), n_passes=1,
                       observations=[prepared.observations[i] for i in usable])
    items = [(catalog[i], res, prepared.observations[i], prepared.skipped_per_event[i],
              prepared.projections[i]) for i, res in zip(usable, results)]
    options = dict(model_info=locator.model_info, version=__version__)
    n_events, n_located = len(catalog), len(items)
    n_picks = sum(len(event.picks) for event in catalog)

    def in_report(function):
        """As the report runs: the cyclic garbage collector paused (see paused_gc)."""
        def run_paused():
            with paused_gc():
                function()
        return run_paused

    load_1min = os.getloadavg()[0]
    rows = []

    def measure(name: str, function, per: int) -> None:
        wall, cpu = _best(function, args.repeats)
        rows.append({"step": name, "events": per, "wall_ms_per_event": round(wall / per * 1e3, 3),
                     "cpu_ms_per_event": round(cpu / per * 1e3, 3)})
        print(f"  {name}: {wall / per * 1e3:.2f} ms/event", file=sys.stderr)

    measure("prepare", lambda: locator.prepare(catalog, inventory), n_events)
    measure("report", lambda: locator.report(catalog, prepared, run), n_events)
    measure("copy_event", in_report(lambda: [copy_event(e) for e, *_ in items]), n_located)
    measure("origin_from_result", in_report(lambda: [
        origin_from_result(r, o, p, skipped=s, **options) for e, r, o, s, p in items]),
        n_located)
    measure("located_event", in_report(lambda: [
        located_event(e, r, o, p, skipped=s, **options) for e, r, o, s, p in items]),
        n_located)
    measure("add_origin(origin_from_result)", in_report(lambda: [
        add_origin(e, origin_from_result(r, o, p, skipped=s, **options))
        for e, r, o, s, p in items]), n_located)
    measure("circular_uncertainty_km", lambda: [
        circular_uncertainty_km(r.covariance_km2[:2, :2], 68.27) for _, r, *_ in items],
        n_located)
    subset = [event for event, *_ in items[:DEEPCOPY_EVENTS]]
    measure("copy.deepcopy (reference)", in_report(lambda: [copy.deepcopy(e) for e in subset]),
            len(subset))

    print(f"bridge speed: {n_events} events, {n_picks / n_events:.1f} picks an event, "
          f"1 torch thread, best of {args.repeats}, load {load_1min:.1f} at the start")
    print(f"{'step':<32} {'wall ms/event':>13} {'cpu ms/event':>12}")
    for row in rows:
        print(f"{row['step']:<32} {row['wall_ms_per_event']:>13.2f} "
              f"{row['cpu_ms_per_event']:>12.2f}")
    out = {"package_version": __version__, "n_events": n_events, "n_located": n_located,
           "stations": STATIONS, "seed": SEED, "picks_per_event": round(n_picks / n_events, 2),
           "repeats": args.repeats, "load_average_1min_at_start": round(load_1min, 2),
           "obspy": obspy.__version__, "numpy": np.__version__, "torch": torch.__version__,
           "python": platform.python_version(),
           "processor": platform.processor() or platform.machine(),
           "cpu_count": os.cpu_count(), "rows": rows}
    write_results(args.output, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
