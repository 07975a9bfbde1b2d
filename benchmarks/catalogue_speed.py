"""End-to-end catalogue throughput at default settings, on a CPU or a GPU (issue 11).

Times :meth:`obspy_hyposvi.locator.Locator.run` from an ObsPy ``Catalog`` in memory to the
located catalogue (picks read, three SVGD passes with the error model estimated from the
catalogue, outliers, origins written into the events) for synthetic ~30-pick events
(:func:`~obspy_hyposvi.bridge.synthetic.synthetic_catalog`: 17 stations, P at each, S at
~80 % of them; exact layered arrivals, 0.05 s noise), with the package's default settings
and model (``Locator.from_model("socal-1d")``: the exact first arrivals of socal-1d;
``--networks``: the bundled networks). The catalogue is built before the clock starts, in worker
processes (``event_seed`` chunks sharing one inventory), since building ObsPy objects for
10 000 events takes minutes on one core.

Each size runs once (after a 16-event warm-up that builds the travel-time tables): seconds,
events per second, the split into preparation (picks to observations), location passes and
report (origins into the events), mean errors against the truth, and peak GPU memory.
Prints a table and writes JSON (``$OUT/catalogue_speed.json`` when ``OUT`` is set, else
``benchmarks/results/catalogue_speed_<device>.json``).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/catalogue_speed.py --device cpu --events 64 --threads 1
    python benchmarks/catalogue_speed.py --device cuda --events 1000 10000
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from obspy_hyposvi import __version__
from obspy_hyposvi.bridge.synthetic import synthetic_catalog
from obspy_hyposvi.locate.result import LocationResult
from obspy_hyposvi.locator import Locator

from _results import write_results  # benchmarks/_results.py

RESULTS = Path(__file__).resolve().parent / "results"
STATIONS = 17
SEED = 11
#: Events per worker task while building the catalogue.
CHUNK = 500


def _chunk(args: tuple[int, int]):
    n_events, event_seed = args
    return synthetic_catalog(n_events, STATIONS, seed=SEED, event_seed=event_seed)


def build_catalogue(n_events: int, workers: int):
    """``(catalog, inventory, truth)`` of ``n_events`` events, built in worker processes."""
    from obspy import Catalog

    sizes = [min(CHUNK, n_events - k) for k in range(0, n_events, CHUNK)]
    jobs = list(zip(sizes, range(len(sizes))))
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(min(workers, len(jobs))) as pool:
            parts = list(pool.map(_chunk, jobs))
    else:
        parts = [_chunk(job) for job in jobs]
    catalog = Catalog(events=[e for part in parts for e in part[0]])
    truth = [t for part in parts for t in part[2]]
    return catalog, parts[0][1], truth


def _errors(report, truth) -> dict:
    by_id = {t["event_id"]: t for t in truth}
    epi, depth = [], []
    for event, res in zip(report.catalog, report.results):
        if not isinstance(res, LocationResult):
            continue
        t = by_id[str(event.resource_id)]
        x, y, z = res.hypocentre_xyz_km
        epi.append(math.hypot(x - t["x_km"], y - t["y_km"]))
        depth.append(abs(z - t["z_km"]))
    return {"mean_epicentre_error_km": round(float(np.mean(epi)), 3) if epi else None,
            "mean_depth_error_km": round(float(np.mean(depth)), 3) if depth else None}


def time_run(locator: Locator, catalog, inventory, device: torch.device) -> dict:
    """One timed ``Locator.run`` with its parts (the same steps ``run`` takes)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        torch.cuda.synchronize(device)
    cpu0, t0 = time.process_time(), time.perf_counter()
    prepared = locator.prepare(catalog, inventory)
    t1 = time.perf_counter()
    run = locator.run_passes(prepared)
    t2 = time.perf_counter()
    report = locator.report(catalog, prepared, run)
    t3 = time.perf_counter()
    n = len(catalog)
    located = [r for r in report.results if isinstance(r, LocationResult)]
    return {"n_events": n, "n_located": len(located),
            "n_unconverged": sum(not r.converged for r in located),
            "mean_picks": round(float(np.mean([len(e.picks) for e in catalog])), 1),
            "seconds": round(t3 - t0, 2), "events_per_s": round(n / (t3 - t0), 2),
            "cpu_seconds": round(time.process_time() - cpu0, 2),
            "prepare_s": round(t1 - t0, 2), "locate_s": round(t2 - t1, 2),
            "report_s": round(t3 - t2, 2), "n_passes": run.n_passes,
            "epochs_final": sorted({r.extra.get("n_epochs") for r in located}),
            "peak_gib": (round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
                         if device.type == "cuda" else None),
            "error_models": [e.describe() for e in report.error_models],
            "report": report}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--events", type=int, nargs="+", default=[64])
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's own choice)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes building the catalogue")
    parser.add_argument("--budget-s", type=float, default=None,
                        help="skip a size whose predicted time (linear) would overrun this")
    parser.add_argument("--networks", action="store_true",
                        help="locate on the bundled networks instead of the exact first "
                             "arrivals they approximate (the default)")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    start = time.perf_counter()
    out = args.output or (Path(os.environ["OUT"]) / "catalogue_speed.json" if "OUT" in os.environ
                          else RESULTS / f"catalogue_speed_{device.type}"
                          f"{'_networks' if args.networks else ''}.json")
    payload = {"package_version": __version__, "device": str(device),
               "device_name": (torch.cuda.get_device_name(device) if device.type == "cuda"
                               else "cpu"),
               "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "torch": torch.__version__, "threads": torch.get_num_threads(),
               "stations": STATIONS, "seed": SEED, "settings": "package defaults",
               "travel_times": "networks" if args.networks else "exact", "rows": []}
    # every catalogue first, in forked workers, before torch starts any thread of its own
    catalogues = {}
    for n in sorted(set(args.events)):
        t0 = time.perf_counter()
        catalogues[n] = (*build_catalogue(n, args.workers), time.perf_counter() - t0)
    locator = Locator.from_model("socal-1d", device=args.device, exact_layered=not args.networks)
    warm, warm_inventory, _ = build_catalogue(16, 1)
    locator.run(warm, warm_inventory)  # warm-up: tables, allocator, lazy imports
    per_event = None
    for n, (catalog, inventory, truth, build_s) in catalogues.items():
        if args.budget_s is not None and per_event is not None:
            left = args.budget_s - (time.perf_counter() - start)
            if per_event * n > left:
                payload["rows"].append({"n_events": n, "skipped": f"predicted "
                                        f"{per_event * n:.0f} s, {left:.0f} s left"})
                continue
        row = time_run(locator, catalog, inventory, device)
        row.update(_errors(row.pop("report"), truth), build_catalogue_s=round(build_s, 1))
        per_event = row["seconds"] / n
        payload["rows"].append(row)
        print(f"  {n} events: {row['seconds']:.1f} s", file=sys.stderr, flush=True)
        write_results(out, payload)
    print(f"catalogue speed: Locator.run at default settings, {payload['device_name']}, "
          f"{payload['threads']} torch threads")
    print(f"{'events':>7} {'seconds':>8} {'ev/s':>8} {'prepare':>8} {'locate':>8} "
          f"{'report':>8} {'epi km':>7} {'depth km':>8} {'peak GiB':>8}")
    for r in payload["rows"]:
        if "skipped" in r:
            print(f"{r['n_events']:>7} skipped: {r['skipped']}")
            continue
        print(f"{r['n_events']:>7} {r['seconds']:>8.1f} {r['events_per_s']:>8.2f} "
              f"{r['prepare_s']:>8.1f} {r['locate_s']:>8.1f} {r['report_s']:>8.1f} "
              f"{r['mean_epicentre_error_km']!s:>7} {r['mean_depth_error_km']!s:>8} "
              f"{r['peak_gib']!s:>8}")
    write_results(out, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
