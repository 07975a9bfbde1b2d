"""EikoNet accuracy benchmark: every bundled checkpoint against the exact layered solution.

For each bundled model, :func:`obspy_hyposvi.eikonet.train.validate_1d` on 20 000 random pairs
(offsets 0-250 km, sources 0-40 km deep, receivers -2..0 km): median, 99th percentile and
maximum |dT|, and the velocity recovered from |grad T| (median |dv| away from layer jumps).
Prints a table with issue 2's targets beside the measured numbers and writes
``benchmarks/results/eikonet_accuracy.json``.

Usage: ``python benchmarks/eikonet_accuracy.py [--quick]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from obspy_hyposvi import __version__
from obspy_hyposvi.eikonet.model import list_models, load_model
from obspy_hyposvi.eikonet.train import validate_1d
from obspy_hyposvi.velocity import model_from_dict

from _results import training_seconds, write_results  # benchmarks/_results.py

RESULTS = Path(__file__).resolve().parent / "results"
#: Issue 2's targets: (median |dT| s, 99th percentile |dT| s) per phase; velocity 0.05 km/s.
TARGETS = {"P": {"median_abs_dt_s": 0.02, "p99_abs_dt_s": 0.10, "median_abs_dv_kmps": 0.05},
           "S": {"median_abs_dt_s": 0.03, "p99_abs_dt_s": 0.15, "median_abs_dv_kmps": 0.05}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2000 pairs instead of 20 000")
    parser.add_argument("--pairs", type=int, default=None)
    parser.add_argument("--output", type=Path, default=RESULTS / "eikonet_accuracy.json")
    args = parser.parse_args(argv)
    n_pairs = args.pairs or (2000 if args.quick else 20000)
    out = {"package_version": __version__, "n_pairs": n_pairs, "quick": args.quick,
           "models": []}
    for entry in list_models():
        if entry["source"] != "bundled" or "error" in entry:
            continue
        model = load_model(entry["path"], entry["phase"])
        if model.geometry != "1d":
            continue
        velocity = model_from_dict(model.metadata["velocity_model"])
        t0 = time.perf_counter()
        val = validate_1d(model.net, velocity, model.phase, n_pairs=n_pairs, max_offset_km=250.0,
                          source_depth_km=(0.0, 40.0), receiver_depth_km=(-2.0, 0.0))
        target = TARGETS[model.phase]
        out["models"].append({
            "name": entry["name"], "phase": model.phase, "path": Path(entry["path"]).name,
            "n_parameters": sum(p.numel() for p in model.net.parameters()),
            "training_seconds": training_seconds(model.metadata.get("training", {})),
            "measured": val, "targets": target,
            "meets": {k: val[k] <= v for k, v in target.items()},
            "seconds": time.perf_counter() - t0})
    print(f"EikoNet accuracy against the exact layered solution: {n_pairs} pairs, offsets "
          "0-250 km, sources 0-40 km, receivers -2..0 km")
    print(f"{'model':<14} {'phase':<5} {'median |dT| s':>16} {'p99 |dT| s':>16} "
          f"{'max |dT| s':>10} {'median |dv| km/s':>18}")
    for m in out["models"]:
        v, t = m["measured"], m["targets"]
        print(f"{m['name']:<14} {m['phase']:<5} "
              f"{v['median_abs_dt_s']:>7.4f} (<={t['median_abs_dt_s']:.2f}) "
              f"{v['p99_abs_dt_s']:>7.4f} (<={t['p99_abs_dt_s']:.2f}) "
              f"{v['max_abs_dt_s']:>10.3f} "
              f"{v['median_abs_dv_kmps']:>8.4f} (<={t['median_abs_dv_kmps']:.2f})")
    if not out["models"]:
        print("no bundled 1D checkpoints found")
    write_results(args.output, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
