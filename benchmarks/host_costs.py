"""The host's share of a catalogue run: what stays per event once the SVGD epochs are cheap.

On a GPU the epochs of a large catalogue take little time per event; what the host does for
each event (reading its picks, summarising its posterior after every pass, flagging outliers,
fitting the error model, writing its origin as ObsPy objects) then sets how many events a
minute are possible (issue 11: 10 000 events in 60 s). This script measures those steps on the
CPU it runs on: :meth:`~obspy_hyposvi.locator.Locator.run`'s three steps on synthetic ~30-pick
events (:func:`~obspy_hyposvi.bridge.synthetic.synthetic_catalog`, 17 stations, the default
socal-1d model: its exact first arrivals; ``--networks``: the bundled networks) with two-epoch
SVGD runs, so that the epochs cost next to nothing, and the
summary functions timed by wrapping them. The error model's fits, capped at
``catalogue.MAX_RESIDUALS`` residuals per phase, cost the same for any larger catalogue: once
both phases reach the cap they are counted once per catalogue, not per event. The locations
are meaningless; the costs per event are those of a real run (the same functions on the same
shapes; four passes, where a converged run takes three or four).

Prints a table (ms per event, and seconds per 10 000 events) and writes JSON
(``benchmarks/results/host_costs[_networks].json``, or in ``$OUT`` when ``OUT`` is set).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/host_costs.py --events 1024 --threads 1
    python benchmarks/host_costs.py --events 1024 --device cuda     # a GPU machine's host
"""

from __future__ import annotations

import argparse
import datetime
import functools
import os
import platform
import time
from pathlib import Path

import torch

from obspy_hyposvi import Locator, SVGDConfig, __version__
from obspy_hyposvi.bridge.synthetic import synthetic_catalog
from obspy_hyposvi.locate import catalogue, engine
from obspy_hyposvi.locate.catalogue import EstimationConfig

from _results import write_results  # benchmarks/_results.py

ROOT = Path(__file__).resolve().parents[1]

#: The functions timed inside the passes, by module.
TIMED = {engine: ("summarise_posteriors", "kde_maps", "confidence_ellipsoids",
                  "horizontal_ellipses", "_times_and_takeoff", "_summarise"),
         catalogue: ("estimate_error_model", "_reflag")}


def _wrap(spent: dict, module, name: str) -> None:
    """Replace ``module.name`` by a version that adds its wall time to ``spent[name]``."""
    original = getattr(module, name)

    @functools.wraps(original)
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - start

    setattr(module, name, timed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu",
                        help="where the (two-epoch) SVGD runs; the host steps run on the CPU")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--networks", action="store_true",
                        help="the bundled networks instead of the exact first arrivals they "
                             "approximate (the default)")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    catalog, inventory, _ = synthetic_catalog(args.events, 17, seed=args.seed,
                                              pick_noise_s=0.05)
    n = len(catalog)
    picks = sum(len(e.picks) for e in catalog) / n
    locator = Locator.from_model("socal-1d", device=args.device, svgd=SVGDConfig(n_epochs=2),
                                 estimation=EstimationConfig(prior_epochs=2),
                                 exact_layered=not args.networks)
    warm, _, _ = synthetic_catalog(4, 17, seed=args.seed + 1, pick_noise_s=0.05)
    locator.run(warm, inventory)  # tables built, libraries loaded
    spent: dict = {}
    for module, names in TIMED.items():
        for name in names:
            _wrap(spent, module, name)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    prepared = locator.prepare(catalog, inventory)
    t1 = time.perf_counter()
    run = locator.run_passes(prepared)
    t2 = time.perf_counter()
    locator.report(catalog, prepared, run)
    t3 = time.perf_counter()
    # the error model's fits see at most MAX_RESIDUALS per phase: past that a fixed cost per
    # catalogue (four fits), not one per event
    capped = all(e.n_residuals >= catalogue.MAX_RESIDUALS for e in run.error_models)
    fits = spent.pop("estimate_error_model", 0.0)
    rows = [("read picks (prepare)", t1 - t0)]
    rows += [(f"  {name}", spent.get(name, 0.0)) for names in TIMED.values() for name in names
             if name in spent]
    rows += [("write origins (report)", t3 - t2)]
    per_event = sum(seconds for _, seconds in rows)
    host_10k = 1e4 * per_event / n + (fits if capped else 1e4 * fits / n)
    print(f"{n} events, {picks:.1f} picks each, {run.n_passes} passes, one thread "
          f"(load {load:.2f}); SVGD passes in all {t2 - t1:.1f} s")
    print(f"{'step':<28} {'ms/event':>9} {'s per 10 000 events':>20}")
    for name, seconds in rows + [("per-event total", per_event)]:
        print(f"{name:<28} {1e3 * seconds / n:9.2f} {1e4 * seconds / n:20.1f}")
    print(f"{'  estimate_error_model':<28} {fits:8.2f}s {'(per catalogue)' if capped else '':>20}")
    print(f"{'host total':<28} {'':>9} {host_10k:20.1f}")
    out = {"package_version": __version__, "date": datetime.date.today().isoformat(),
           "torch": str(torch.__version__), "processor": platform.processor(),
           "cpu_count": os.cpu_count(), "threads": args.threads, "device": args.device,
           "travel_times": "networks" if args.networks else "exact",
           "load_average_1min": load,
           "n_events": n, "picks_per_event": picks, "n_passes": run.n_passes,
           "svgd_passes_s": t2 - t1,
           "ms_per_event": {name.strip(): 1e3 * seconds / n for name, seconds in rows},
           "per_event_ms": 1e3 * per_event / n,
           "error_model_fits_s": fits, "error_model_fits_capped": capped,
           "error_model_residuals": [e.n_residuals for e in run.error_models],
           "host_s_per_10000_events": host_10k}
    default = (Path(os.environ["OUT"]) if os.environ.get("OUT")
               else ROOT / "benchmarks" / "results") / (
        "host_costs_networks.json" if args.networks else "host_costs.json")
    write_results(args.output or default, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
