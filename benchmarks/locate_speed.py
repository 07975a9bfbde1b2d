"""Location speed: seconds per event to locate the bundled example and a synthetic catalogue.

Cases (bundled socal-1d P and S checkpoints, the paper's 150 particles x 175 epochs unless
``--particles``/``--epochs`` say otherwise):

- ``example``: the bundled example catalogue of ``hyposvi demo`` (6 events, 43-46 picks each);
- ``synthetic``: :func:`obspy_hyposvi.bridge.synthetic.synthetic_catalog` with 32 events and
  25 stations (seed 7).

Each case runs the whole :meth:`obspy_hyposvi.locator.Locator.run` (picks -> SVGD -> summary
-> ObsPy origins) once per torch thread count (``--threads`` for the example,
``--synthetic-threads`` for the synthetic catalogue), after a short warm-up. Wall-clock and
process CPU seconds are both recorded, with the load average at the start: on a shared machine
the wall clock of one run moves with the other jobs. There, several torch threads can be many
times slower than one: every parallel operation waits for a thread that another job has
descheduled (CPU seconds then include the spinning). Prints a table and writes
``benchmarks/results/locate_speed.json``.

Usage: ``python benchmarks/locate_speed.py [--quick] [--threads 1 2] [--synthetic-threads 1]
[--events 32]``
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import torch

from obspy_hyposvi import __version__
from obspy_hyposvi.bridge.examples import example_dir
from obspy_hyposvi.bridge.picks import read_catalog, read_inventory
from obspy_hyposvi.bridge.synthetic import synthetic_catalog
from obspy_hyposvi.eikonet.model import load_model
from obspy_hyposvi.locate.svgd import SVGDConfig
from obspy_hyposvi.locator import Locator

from _results import write_results  # benchmarks/_results.py

RESULTS = Path(__file__).resolve().parent / "results" / "locate_speed.json"
SYNTHETIC_STATIONS = 25
SYNTHETIC_SEED = 7


def _cases(n_synthetic: int) -> dict:
    """``{name: (catalog, inventory)}`` of the catalogues timed."""
    folder = example_dir()
    example = (read_catalog(folder / "picks.xml"), read_inventory(folder / "stations.xml"))
    catalog, inventory, _ = synthetic_catalog(n_synthetic, SYNTHETIC_STATIONS,
                                              seed=SYNTHETIC_SEED)
    return {"example": example, "synthetic": (catalog, inventory)}


def _time_run(locator: Locator, catalog, inventory) -> dict:
    """Wall-clock and CPU seconds of one :meth:`Locator.run`."""
    load_1min = os.getloadavg()[0]
    wall0, cpu0 = time.perf_counter(), time.process_time()
    report = locator.run(catalog, inventory)
    wall_s, cpu_s = time.perf_counter() - wall0, time.process_time() - cpu0
    n_events = len(catalog)
    return {"n_events": n_events, "n_located": report.n_located,
            "n_picks": sum(len(e.picks) for e in catalog),
            "wall_s": round(wall_s, 3), "cpu_s": round(cpu_s, 3),
            "wall_s_per_event": round(wall_s / n_events, 4),
            "cpu_s_per_event": round(cpu_s / n_events, 4),
            "load_average_1min_at_start": round(load_1min, 2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="8 synthetic events, 60 particles x 40 epochs (a smoke run)")
    parser.add_argument("--events", type=int, default=None,
                        help="synthetic events (default 32)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="torch CPU thread counts for the example (default 1 2)")
    parser.add_argument("--synthetic-threads", type=int, nargs="+", default=[1],
                        help="torch CPU thread counts for the synthetic catalogue (default 1)")
    parser.add_argument("--particles", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--model", default="socal-1d")
    parser.add_argument("--device", default="cpu", help="torch device (cpu or cuda)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    n_synthetic = args.events or (8 if args.quick else 32)
    svgd = SVGDConfig(n_particles=args.particles or (60 if args.quick else 150),
                      n_epochs=args.epochs or (40 if args.quick else 175))

    p_model, s_model = (load_model(args.model, ph, device=args.device) for ph in "PS")
    locator = Locator(p_model, s_model, svgd=svgd, device=args.device)
    cases = _cases(n_synthetic)
    # warm-up: first calls pay for lazy imports and allocator growth
    warm = Locator(p_model, s_model, device=args.device,
                   svgd=SVGDConfig(n_particles=svgd.n_particles, n_epochs=2))
    warm.run(*cases["example"])

    rows = []
    default_threads = torch.get_num_threads()
    plan = [("example", t) for t in args.threads] + [("synthetic", t)
                                                     for t in args.synthetic_threads]
    for name, threads in plan:
        torch.set_num_threads(threads)
        row = {"case": name, "threads": threads, **_time_run(locator, *cases[name])}
        rows.append(row)
        print(f"  {name} x {threads} thread(s): {row['wall_s']:.1f} s", file=sys.stderr)
    torch.set_num_threads(default_threads)

    print(f"locate speed: {svgd.n_particles} particles x {svgd.n_epochs} epochs, model "
          f"{args.model}, device {args.device}, {os.cpu_count()} CPUs (shared: see load)")
    header = (f"{'case':<10} {'threads':>7} {'events':>6} {'picks':>6} {'wall s':>8} "
              f"{'cpu s':>8} {'wall s/event':>12} {'cpu s/event':>11} {'load':>5}")
    print(header)
    for r in rows:
        print(f"{r['case']:<10} {r['threads']:>7} {r['n_events']:>6} {r['n_picks']:>6} "
              f"{r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} {r['wall_s_per_event']:>12.2f} "
              f"{r['cpu_s_per_event']:>11.2f} {r['load_average_1min_at_start']:>5.1f}")
    out = {"package_version": __version__, "model": args.model, "device": args.device,
           "svgd": svgd.to_dict(), "quick": args.quick, "n_synthetic_events": n_synthetic,
           "synthetic_stations": SYNTHETIC_STATIONS, "synthetic_seed": SYNTHETIC_SEED,
           "torch": torch.__version__, "python": platform.python_version(),
           "processor": platform.processor() or platform.machine(),
           "cpu_count": os.cpu_count(), "torch_default_threads": default_threads,
           "rows": rows}
    write_results(args.output, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
