"""Speed of the batched Okada DC3D (and DC3D0): forward and forward+gradient, CPU (and CUDA).

Cases: 1e5 stations x 1 fault, and 1e3 faults x 1e3 stations (one broadcast call, chunked over
faults so the autograd graph fits in memory), stations at the surface (z = 0); plus 1e5
stations x 1 point source (DC3D0). Prints a table and writes
``benchmarks/results/okada_speed.json`` with the wall-clock and the process CPU time of the
best repeat (the CPU time is the steadier figure on a shared machine; the load average is
recorded too). OkadaTorch's reference point is ~0.5 s for 1e5 stations on one core (forward,
one fault per call).

Usage: ``python benchmarks/okada_speed.py [--repeats 3] [--threads N] [--small]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import torch

from obspy_hyposvi.okada import dc3d, dc3d0

from _results import write_results  # benchmarks/_results.py

RESULTS = Path(__file__).resolve().parent / "results" / "okada_speed.json"


def _inputs(n_faults: int, n_stations: int, device: str, requires_grad: bool):
    g = torch.Generator().manual_seed(0)

    def rand(shape, lo, hi):
        return (lo + (hi - lo) * torch.rand(shape, generator=g, dtype=torch.float64)).to(device)

    xyz = [rand((1, n_stations), -50, 50), rand((1, n_stations), -50, 50),
           torch.zeros((1, n_stations), dtype=torch.float64, device=device)]
    fault = [rand((n_faults, 1), 5, 20), rand((n_faults, 1), 10, 89),
             rand((n_faults, 1), -20, -5), rand((n_faults, 1), 5, 20),
             rand((n_faults, 1), -10, -2), rand((n_faults, 1), 2, 10),
             rand((n_faults, 1), -1, 1), rand((n_faults, 1), -1, 1), rand((n_faults, 1), 0, 0.1)]
    if requires_grad:
        for t in xyz[:2] + fault:
            t.requires_grad_(True)
    return xyz, fault


def _point_source(fault):
    """DC3D0 arguments from the random faults: depth, dip and four potencies."""
    depth, dip, *_, disl1, disl2, disl3 = fault
    return [depth, dip, disl1, disl2, disl3, disl3]


def _run(n_faults, n_stations, device, gradient, chunk, kernel="dc3d"):
    """Wall-clock and process CPU seconds of one pass over all faults."""
    xyz, fault = _inputs(n_faults, n_stations, device, gradient)
    leaves = [t for t in xyz + fault if t.requires_grad]
    func = dc3d if kernel == "dc3d" else dc3d0
    t0, c0 = time.perf_counter(), time.process_time()
    for start in range(0, n_faults, chunk):
        part = [f[start:start + chunk] for f in fault]
        if kernel == "dc3d0":
            part = _point_source(part)
        with torch.set_grad_enabled(gradient):
            u, du, _ = func(2 / 3, *xyz, *part)
            if gradient:
                # a scalar misfit, as in an inversion: one backward pass
                torch.autograd.grad((u * u).sum() + (du * du).sum(), leaves, allow_unused=True)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0, time.process_time() - c0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1: the one-core figure OkadaTorch quotes)")
    parser.add_argument("--small", action="store_true", help="1e4 and 1e2 x 1e3 (smoke test)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    n_big = 10_000 if args.small else 100_000
    cases = [("dc3d", 1, n_big, 1), ("dc3d", 100 if args.small else 1000, 1000, 50),
             ("dc3d0", 1, n_big, 1)]
    load_before = os.getloadavg()
    rows = []
    for device in devices:
        for kernel, n_faults, n_stations, chunk in cases:
            for gradient in (False, True):
                _run(min(n_faults, chunk), min(n_stations, 1000), device, gradient, chunk,
                     kernel)  # warm-up
                wall, cpu = min(_run(n_faults, n_stations, device, gradient, chunk, kernel)
                                for _ in range(args.repeats))
                rows.append({"kernel": kernel, "device": device, "n_faults": n_faults,
                             "n_stations": n_stations,
                             "mode": "forward+gradient" if gradient else "forward",
                             "seconds": round(wall, 4), "cpu_seconds": round(cpu, 4),
                             "us_per_pair": round(1e6 * wall / (n_faults * n_stations), 3)})
                r = rows[-1]
                print(f"{r['kernel']:5s} {r['device']:5s} {r['n_faults']:6d} x "
                      f"{r['n_stations']:7d}  {r['mode']:17s} {r['seconds']:8.3f} s "
                      f"(cpu {r['cpu_seconds']:7.3f} s)  {r['us_per_pair']:7.3f} us/pair",
                      flush=True)
    meta = {"torch": torch.__version__, "threads": torch.get_num_threads(),
            "machine": platform.machine(), "processor": platform.processor(),
            "cpu_count": os.cpu_count(), "load_average_1_5_15_min_before": load_before,
            "load_average_1_5_15_min_after": os.getloadavg(),
            "dtype": "float64", "repeats": args.repeats, "small": args.small}
    write_results(RESULTS, {"meta": meta, "results": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
