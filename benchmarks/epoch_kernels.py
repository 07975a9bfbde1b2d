"""Operations per SVGD epoch of one small event, on the CPU and the GPU code paths (issue 11).

A single 32-pick event on a GPU is bound by kernel launches, not arithmetic (an H200 spent
~7 ms per epoch on it, far more than its few hundred thousand flops need). Every ATen operation
that is not a view is one kernel launch on a GPU, so the count of such operations per epoch,
taken on any device, tracks what an epoch costs there. This script counts them with a
``TorchDispatchMode`` while :func:`~obspy_hyposvi.locate.engine.locate_events` locates one
synthetic event (paper's error model, 150 particles, default epochs and early stop), for:

``cpu``
    the CPU path: EDT pairs diagonal by diagonal, per-phase table gathers;
``gpu``
    the GPU path forced on this device: dense EDT pairs, all phases' tables in one
    ``grid_sample`` (:class:`~obspy_hyposvi.eikonet.table.PhaseTables`).

Only operations inside :func:`~obspy_hyposvi.locate.svgd.run_svgd` count (the table build,
the screening and the summary run once per batch). Counts do not depend on the machine's load.
Writes ``benchmarks/results/epoch_kernels.json``.

Usage: ``python benchmarks/epoch_kernels.py [--picks 32] [--threads 1]``
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import functools
from contextlib import contextmanager
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

import obspy_hyposvi.locate.engine as engine
from obspy_hyposvi import __version__
from obspy_hyposvi.eikonet.model import load_model
from obspy_hyposvi.eikonet.table import PhaseTables
from obspy_hyposvi.locate import likelihood
from obspy_hyposvi.locate.engine import SearchConfig, locate_events
from obspy_hyposvi.locate.svgd import SVGDConfig

from _results import write_results  # benchmarks/_results.py
from gpu_scaling import FIXED_LIKELIHOOD, _observations, _one_event

ROOT = Path(__file__).resolve().parents[1]
#: Operations that only make a new view of a tensor's memory: no kernel on a GPU.
_VIEWS = ("view", "unsqueeze", "expand", "detach", "select.int", "slice.Tensor", "squeeze",
          "_unsafe_view", "aten.t.default", "alias", "as_strided")
#: Kernels per epoch of the GPU path before PhaseTables (commit 22dd8b8, same event and count),
#: and the H200's milliseconds per epoch then (1.26 s / 175 epochs at commit a3cba92).
GPU_KERNELS_BEFORE = 369.1
H200_MS_PER_EPOCH_BEFORE = 7.2


class _Counter(TorchDispatchMode):
    """Counts the ATen operations dispatched while active, by name."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: collections.Counter = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.counts[str(func)] += 1
        return func(*args, **(kwargs or {}))


@contextmanager
def _gpu_path():
    """The GPU code path on this device: dense pairs and one table call for all phases."""
    saved = engine.edt_log_likelihood, engine._stacked_tables
    engine.edt_log_likelihood = functools.partial(likelihood.edt_log_likelihood,
                                                  pair_layout="dense")
    engine._stacked_tables = lambda models, device: (
        PhaseTables(models) if PhaseTables.compatible(models) else None)
    try:
        yield
    finally:
        engine.edt_log_likelihood, engine._stacked_tables = saved


def count(path: str, observations, models) -> dict:
    """Operations per epoch of one location on ``path`` ("cpu" or "gpu")."""
    counter, epochs = _Counter(), []
    run_svgd = engine.run_svgd

    def counted(*args, **kwargs):
        with counter:
            out = run_svgd(*args, **kwargs)
        epochs.append(out[1]["n_epochs"])
        return out

    settings = {"svgd": SVGDConfig(), "likelihood": FIXED_LIKELIHOOD,
                "search": SearchConfig(batch_size=1), "device": torch.device("cpu")}
    with (_gpu_path() if path == "gpu" else contextlib.nullcontext()):
        engine.run_svgd = counted
        try:
            results = locate_events(observations, models, **settings)
        finally:
            engine.run_svgd = run_svgd
    n_epochs = sum(epochs)
    total = sum(counter.counts.values())
    kernels = sum(n for name, n in counter.counts.items() if not any(v in name for v in _VIEWS))
    top = counter.counts.most_common(12)
    return {"path": path, "epochs": n_epochs, "ops_per_epoch": round(total / n_epochs, 1),
            "kernels_per_epoch": round(kernels / n_epochs, 1),
            "hypocentre_xyz_km": [round(float(v), 4) for v in results[0].hypocentre_xyz_km],
            "most_common": [[name, round(n / n_epochs, 1)] for name, n in top]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--picks", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path,
                        default=ROOT / "benchmarks" / "results" / "epoch_kernels.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    models = tuple(load_model("socal-1d", phase) for phase in "PS")
    catalog, inventory, _ = _one_event(args.picks, seed=20 + args.picks)
    observations = _observations(catalog, inventory)
    rows = [count(path, observations, models) for path in ("cpu", "gpu")]
    print(f"one event, {len(observations[0].arrival_s)} picks, 150 particles; operations "
          "inside run_svgd per epoch (kernels: not views)")
    print(f"{'path':<6}{'epochs':>8}{'ops':>8}{'kernels':>9}")
    for row in rows:
        print(f"{row['path']:<6}{row['epochs']:>8}{row['ops_per_epoch']:>8}"
              f"{row['kernels_per_epoch']:>9}")
    print(f"gpu path before PhaseTables: {GPU_KERNELS_BEFORE} kernels per epoch (H200: "
          f"{H200_MS_PER_EPOCH_BEFORE} ms per epoch)")
    write_results(args.output, {"package_version": __version__,
                                "torch_version": str(torch.__version__),
                                "n_picks": len(observations[0].arrival_s),
                                "gpu_kernels_per_epoch_before": GPU_KERNELS_BEFORE,
                                "h200_ms_per_epoch_before": H200_MS_PER_EPOCH_BEFORE,
                                "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
