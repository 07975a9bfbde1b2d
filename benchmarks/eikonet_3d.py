"""3D EikoNet demonstration: socal-1d with a sedimentary basin, against fast marching.

Trains an :class:`~obspy_hyposvi.eikonet.network.EikoNet3D` on
:func:`~obspy_hyposvi.velocity.basin_demo_model` (socal-1d plus a 40 x 25 km, 5 km deep
basin with Vp 2.5-4.5 km/s, 1 km nodes) by the eikonal residual alone, then compares it with
second-order fast marching (scikit-fmm, 0.5 km grid, refined around the source) from several
sources, at receivers in the station band (z -2..0 km) and throughout the box. For scale it
reports the same comparison for the bundled 1D socal-1d network, which does not know the
basin, and the reference's own resolution (|T(1 km grid) - T(0.5 km grid)|).

Usage: ``python benchmarks/eikonet_3d.py [--steps N] [--phase P] [--threads N] [--retrain]``
The checkpoint is cached in ``benchmarks/.cache/eikonet_3d/``; results go to
``benchmarks/results/eikonet_3d.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from obspy_hyposvi import __version__, load_model
from obspy_hyposvi.eikonet.checkpoint import save_checkpoint
from obspy_hyposvi.eikonet.train3d import (Train3DConfig, checkpoint_metadata_3d,
                                           train_eikonet_3d)
from obspy_hyposvi.reference.fmm import fmm_travel_times
from obspy_hyposvi.velocity import basin_demo_model

from _results import write_results  # benchmarks/_results.py

HERE = Path(__file__).resolve().parent
#: sources (x, y, z km): in, under and beside the basin, shallow to lower crust
SOURCES_KM = [(60.0, 60.0, 3.0), (60.0, 60.0, 12.0), (35.0, 45.0, 8.0), (95.0, 80.0, 20.0),
              (15.0, 105.0, 30.0)]


def _receivers(rng: np.random.Generator, box: np.ndarray, n: int) -> dict[str, np.ndarray]:
    band = np.c_[rng.uniform(box[0, 0], box[0, 1], n), rng.uniform(box[1, 0], box[1, 1], n),
                 rng.uniform(-2.0, 0.0, n)]
    volume = np.c_[[rng.uniform(lo, hi, n) for lo, hi in box]].T
    return {"station band (z -2..0 km)": band, "whole box": volume}


def _stats(dt: np.ndarray) -> dict:
    dt = np.abs(np.concatenate(dt))
    return {"median_abs_dt_s": float(np.median(dt)), "p99_abs_dt_s": float(np.percentile(dt, 99)),
            "max_abs_dt_s": float(dt.max()), "n": int(dt.size)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phase", choices=["P", "S"], default="P")
    parser.add_argument("--steps", type=int, default=Train3DConfig.n_steps)
    parser.add_argument("--batch-size", type=int, default=Train3DConfig.batch_size)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--retrain", action="store_true", help="ignore a cached checkpoint")
    parser.add_argument("--receivers", type=int, default=4000, help="per source and set")
    parser.add_argument("--fmm-spacing", type=float, default=0.5, help="reference grid, km")
    parser.add_argument("--cache", type=Path, default=HERE / ".cache" / "eikonet_3d")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "eikonet_3d.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    grid = basin_demo_model(spacing_km=1.0)
    config = Train3DConfig(n_steps=args.steps, batch_size=args.batch_size)
    args.cache.mkdir(parents=True, exist_ok=True)
    grid_file = args.cache / "socal-1d-basin.npz"
    grid.save_npz(grid_file)
    grid = type(grid).from_npz(grid_file, name=grid.name)
    ckpt = args.cache / f"socal-1d-basin-{args.phase}.pt"
    if args.retrain or not ckpt.exists():
        t0 = time.perf_counter()

        def progress(step: int, loss: float) -> None:
            if step % 250 == 0:
                print(f"step {step}/{config.n_steps} loss {loss:.3e} "
                      f"{time.perf_counter() - t0:.0f} s", flush=True)

        net, report = train_eikonet_3d(grid, args.phase, config, device=args.device,
                                       progress=progress)
        meta = json.loads(json.dumps(checkpoint_metadata_3d(grid, args.phase, config, report,
                                                            package_version=__version__)))
        save_checkpoint(ckpt, net.state_dict(), meta)
        print(f"trained in {report.seconds:.0f} s; held-out residual {report.validation}")
    net3d = load_model(ckpt, args.phase)
    net1d = load_model("socal-1d", args.phase)
    box = np.asarray(grid.bounds_km)
    rng = np.random.default_rng(2026)
    errors: dict[str, dict[str, list]] = {}
    resolution = []
    per_source = []
    t_fmm = 0.0
    for source in SOURCES_KM:
        t0 = time.perf_counter()
        reference = fmm_travel_times(grid, source, args.phase, spacing_km=args.fmm_spacing)
        coarse = fmm_travel_times(grid, source, args.phase, spacing_km=2 * args.fmm_spacing)
        t_fmm += time.perf_counter() - t0
        row = {"source_km": list(source)}
        for label, receivers in _receivers(rng, box, args.receivers).items():
            t_ref = reference.travel_time(receivers)
            src = np.tile(np.asarray(source), (len(receivers), 1))
            dt3 = net3d.travel_time(src, receivers) - t_ref
            dt1 = net1d.travel_time(src, receivers) - t_ref
            errors.setdefault(label, {"3d": [], "1d": []})
            errors[label]["3d"].append(dt3)
            errors[label]["1d"].append(dt1)
            resolution.append(coarse.travel_time(receivers) - t_ref)
            row[label] = {"eikonet_3d_median_abs_dt_s": float(np.median(np.abs(dt3))),
                          "socal_1d_median_abs_dt_s": float(np.median(np.abs(dt1)))}
        per_source.append(row)
    results = {label: {"eikonet_3d": _stats(e["3d"]), "socal_1d_network": _stats(e["1d"])}
               for label, e in errors.items()}
    meta = net3d.metadata
    out = {"package_version": __version__, "phase": args.phase,
           "velocity_model": meta["velocity_model"]["source"],
           "network": meta["model_args"],
           "n_parameters": sum(p.numel() for p in net3d.net.parameters()),
           "training": {k: meta["training"][k] for k in ("n_steps", "batch_size", "seconds",
                                                         "device", "learning_rate")},
           "threads": args.threads, "load_average": list(os.getloadavg()),
           "fmm_spacing_km": args.fmm_spacing, "fmm_seconds": t_fmm,
           "reference_resolution": _stats(resolution), "results": results,
           "per_source": per_source}
    print(f"3D EikoNet ({out['n_parameters']} parameters, {meta['training']['n_steps']} steps, "
          f"{meta['training']['seconds']:.0f} s) against fast marching at "
          f"{args.fmm_spacing} km, {len(SOURCES_KM)} sources, phase {args.phase}")
    print(f"{'receivers':<28} {'network':<26} {'median |dT| s':>14} {'p99 |dT| s':>11} "
          f"{'max |dT| s':>11}")
    for label, r in results.items():
        for name, key in (("3D EikoNet (basin model)", "eikonet_3d"),
                          ("1D socal-1d (no basin)", "socal_1d_network")):
            s = r[key]
            print(f"{label:<28} {name:<26} {s['median_abs_dt_s']:>14.4f} "
                  f"{s['p99_abs_dt_s']:>11.4f} {s['max_abs_dt_s']:>11.3f}")
    res = out["reference_resolution"]
    print(f"reference resolution |T({2 * args.fmm_spacing:g} km) - T({args.fmm_spacing:g} km)|: "
          f"median {res['median_abs_dt_s']:.4f} s, p99 {res['p99_abs_dt_s']:.4f} s")
    write_results(args.output, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
