"""GPU scaling of location and training (issue 11), on whatever device it is given.

Four parts, each with its own time limit (shares of ``--budget-s``; the time a part leaves
unused passes to the later ones), each timing its sizes in increasing order and skipping a
size whose predicted time (extrapolated from the sizes already timed, at least linearly) would
overrun the part's limit, or whose predicted peak memory would not fit on the GPU:

``throughput``
    :func:`~obspy_hyposvi.locate.engine.locate_events` (one pass, the paper's fixed error
    model) on synthetic ~30-pick events, one batch of ``SearchConfig.batch_size`` events per
    size: events/s, peak GPU memory, and the mean error against the synthetic truth.
``locator_run``
    :meth:`obspy_hyposvi.locator.Locator.run` at default settings (three passes, the error
    model estimated from the catalogue), from the ObsPy catalogue in memory to the located
    catalogue: events/s; then, as time allows, the same with one batch per pass.
``table3``
    The paper's Table 3 sweep: one event with 32 / 128 / 512 / 1024 / 2048 observations (P and
    S picks at synthetic stations), seconds beside the paper's V100 figures and issue 11's
    H200 figures.
``training``
    :func:`~obspy_hyposvi.eikonet.train.train_eikonet_1d` (socal-1d P, the bundled 128x4
    network) for a few dozen steps at batch 2048 and larger: seconds per step (the median
    step after the first few), and what the bundled P recipe (14 000 steps of 2048 pairs) and
    the GPU recipe (``--recipe gpu`` of benchmarks/train_bundled.py: 6000 steps of 8192 pairs)
    would take.

The run records the device name, torch and CUDA versions and the date with the figures. SVGD
uses the paper's 150 particles x 175 epochs (``--quick``: 40 x 48, tiny sizes, for a smoke run
on a CPU in about a minute). Prints one table per part as it finishes and rewrites the JSON
after each part (a run stopped by a time-out keeps the parts already done): to
``$OUT/gpu_scaling.json`` when ``OUT`` is set (the device machine's output folder), else to
``benchmarks/results/gpu_scaling_<device>.json``; ``--output`` overrides both.

Usage: ``python benchmarks/gpu_scaling.py --device cuda [--budget-s 270]``;
``python benchmarks/gpu_scaling.py --device cpu --quick --threads 1`` (smoke run).
``scripts/gpu_check.sh`` runs it on a lent GPU machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import logging
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from obspy_hyposvi import __version__
from obspy_hyposvi.bridge.picks import event_projections, observations_from_event
from obspy_hyposvi.bridge.synthetic import synthetic_catalog
from obspy_hyposvi.eikonet.model import load_model
from obspy_hyposvi.eikonet.train import TrainConfig, train_eikonet_1d
from obspy_hyposvi.locate.likelihood import ErrorModel, LikelihoodConfig
from obspy_hyposvi.locate.engine import SearchConfig, locate_events
from obspy_hyposvi.locate.result import LocationResult
from obspy_hyposvi.locate.svgd import SVGDConfig
from obspy_hyposvi.locator import Locator
from obspy_hyposvi.velocity import socal_1d

from _results import write_results  # benchmarks/_results.py
from train_bundled import GPU_BATCH_SIZE, STAGES, STAGES_GPU  # benchmarks/train_bundled.py

ROOT = Path(__file__).resolve().parents[1]
MODEL = "socal-1d"

#: Table 3 of Smith et al. (2022, HypoSVI): seconds for one event on a V100.
PAPER_V100_S = {32: 6.0, 128: 17.0, 512: 64.0, 1024: 155.0, 2048: 439.0}
#: Issue 11's measurements on one H200 (torch 2.11, CUDA 13), before its changes.
ISSUE_H200_TABLE3_S = {32: 3.2, 128: 5.6, 512: 16.0, 1024: 29.0, 2048: 51.0}
#: Issue 11, same machine: seconds per event at batch 16 / 64 (60 events), 256 (960 events).
ISSUE_H200_S_PER_EVENT = {16: 0.29, 64: 0.10, 256: 53.0 / 960}
#: Issue 11, same machine: EikoNet training seconds per step at batch 2048.
ISSUE_H200_TRAIN_S_PER_STEP = {2048: 0.029}
#: Steps of the bundled P recipe (``STAGES["P"]`` of benchmarks/train_bundled.py).
BUNDLED_P_STEPS = sum(steps for steps, _ in STAGES["P"])
#: Steps of the GPU recipe for P (``STAGES_GPU["P"]``, at ``GPU_BATCH_SIZE`` pairs per step).
GPU_P_STEPS = sum(steps for steps, _ in STAGES_GPU["P"])

#: Share of the budget of each part, in running order.
SHARES = {"throughput": 0.25, "locator_run": 0.20, "table3": 0.45, "training": 0.10}
#: Seconds of the budget kept back for the last printing and writing.
RESERVE_S = 5.0
#: A size whose predicted peak memory exceeds this share of the GPU's memory is skipped.
MEMORY_SHARE = 0.85
#: ~30 picks per event: 17 stations, P at each, S at 80 % of them (bridge.synthetic).
STATIONS_30_PICKS = 17
#: The fixed error model of the low-level parts: the paper's (10 % of T, 0.1-2.0 s), which is
#: also what ``locate_events`` uses for ``error_model="auto"``.
FIXED_LIKELIHOOD = LikelihoodConfig(error_model=ErrorModel())


@dataclass(frozen=True)
class Plan:
    """Sizes of one mode of the benchmark."""

    svgd: SVGDConfig
    batch_sizes: tuple[int, ...]       # throughput: events per batch (one batch each)
    pool_events: int                   # distinct synthetic events (copies fill larger batches)
    run_events: tuple[int, ...]        # locator_run at default settings
    run_one_batch: tuple[int, ...]     # locator_run with batch_size = number of events
    table3_picks: tuple[int, ...]
    train_batches: tuple[int, ...]
    train_steps: int                   # TrainConfig allows no fewer than 40
    budget_s: float


FULL = Plan(svgd=SVGDConfig(), batch_sizes=(16, 64, 256, 1024, 4096, 10000), pool_events=64,
            run_events=(16, 64, 256, 1024), run_one_batch=(),
            table3_picks=(32, 128, 512, 1024, 2048), train_batches=(2048, 8192, 32768),
            train_steps=40, budget_s=270.0)
QUICK = Plan(svgd=SVGDConfig(n_particles=40, n_epochs=48), batch_sizes=(2, 4), pool_events=4,
             run_events=(4,), run_one_batch=(), table3_picks=(32, 128),
             train_batches=(512, 2048), train_steps=40, budget_s=90.0)


class Clock:
    """The run's budget: seconds left, and each part's limit with the unused time rolled on."""

    def __init__(self, budget_s: float, parts: Sequence[str]) -> None:
        self.start = time.perf_counter()
        self.budget_s = budget_s
        self.parts = [name for name in SHARES if name in parts]  # in running order

    def left(self) -> float:
        """Seconds of the budget left (reserve excluded)."""
        return self.budget_s - RESERVE_S - (time.perf_counter() - self.start)

    def part_limit(self, part: str) -> float:
        """This part's share of what is left, among the parts still to run."""
        later = sum(SHARES[n] for n in self.parts[self.parts.index(part):])
        return max(0.0, self.left() * SHARES[part] / later)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def _peak_gib(device: torch.device) -> float | None:
    """Peak allocated GPU memory since the last reset, GiB (None on a CPU)."""
    if device.type != "cuda":
        return None
    return round(torch.cuda.max_memory_allocated(device) / 2**30, 3)


def _predict(done: Sequence[tuple[float, float]], size: float, min_exponent: float) -> float:
    """Extrapolate a cost to ``size`` from ``(size, cost)`` pairs already measured.

    A power law through the last two points, its exponent at least ``min_exponent`` (a GPU
    that is not yet full grows slower than linearly, then linearly: assuming less would
    underestimate the first full sizes).
    """
    (s1, c1) = done[-1]
    exponent = min_exponent
    if len(done) >= 2:
        s0, c0 = done[-2]
        if c0 > 0 and c1 > 0 and s1 != s0:
            exponent = max(min_exponent, math.log(c1 / c0) / math.log(s1 / s0))
    return c1 * (size / s1) ** exponent


def _sweep(sizes: Sequence[int], limit_s: float, measure: Callable[[int], dict], *,
           device: torch.device, time_exponent: float = 1.0, memory_exponent: float = 1.0,
           first_guess_s: float | None = None) -> list[dict]:
    """Measure ``measure(size)`` for each size that fits in ``limit_s``.

    The first size runs when ``first_guess_s`` (None: any time left) fits; later ones when
    the extrapolated wall time of ``measure`` fits in what is left, and on a GPU when the
    extrapolated peak memory fits too. Skipped sizes get a row saying why; a size that runs
    out of GPU memory ends the sweep.
    """
    start = time.perf_counter()
    times: list[tuple[float, float]] = []
    peaks: list[tuple[float, float]] = []
    total_gib = (torch.cuda.get_device_properties(device).total_memory / 2**30
                 if device.type == "cuda" else None)
    rows: list[dict] = []
    for size in sizes:
        left = limit_s - (time.perf_counter() - start)
        guess = (_predict(times, size, time_exponent) if times
                 else (first_guess_s if first_guess_s is not None else 0.0))
        if left <= 0 or guess > left:
            rows.append({"size": size, "skipped": f"predicted {guess:.0f} s, {left:.0f} s of "
                                                  "the part's limit left"})
            continue
        if total_gib is not None and peaks:
            memory = _predict(peaks, size, memory_exponent)
            if memory > MEMORY_SHARE * total_gib:
                rows.append({"size": size, "skipped": f"predicted peak {memory:.0f} GiB of "
                                                      f"{total_gib:.0f} GiB"})
                continue
        wall0 = time.perf_counter()
        try:
            row = measure(size)
        except torch.cuda.OutOfMemoryError as exc:
            torch.cuda.empty_cache()
            rows.append({"size": size, "skipped": f"out of GPU memory: {str(exc)[:120]}"})
            break
        times.append((size, time.perf_counter() - wall0))
        if row.get("peak_gib"):
            peaks.append((size, row["peak_gib"]))
        rows.append({"size": size, **row})
        print(f"  {size}: {row.get('seconds', float('nan')):.2f} s", file=sys.stderr, flush=True)
    return rows


# ----------------------------------------------------------------------------- synthetic input


def _observations(catalog, inventory) -> list:
    """The observations of each event, each in its own stations' frame (as Locator.run does)."""
    frames = event_projections(catalog, inventory)
    return [observations_from_event(event, inventory, frame)[0]
            for event, frame in zip(catalog, frames)]


def _errors(results: Sequence, observations: Sequence, truth: Sequence[dict]) -> dict:
    """Mean epicentre / depth / origin-time error of the located events against the truth.

    ``truth[i % len(truth)]`` belongs to ``observations[i]`` (copies repeat the pool). The
    synthetic truth is in the UTM frame of the network's centre, the zone of its stations.
    """
    epi, depth, origin = [], [], []
    for i, (res, obs) in enumerate(zip(results, observations)):
        if not isinstance(res, LocationResult):
            continue
        true = truth[i % len(truth)]
        x, y, z = res.hypocentre_xyz_km
        epi.append(math.hypot(x - true["x_km"], y - true["y_km"]))
        depth.append(abs(z - true["z_km"]))
        origin.append(abs(res.origin_time_s - (true["time"] - obs.reference_time)))
    if not epi:
        return {}
    return {"mean_epicentre_error_km": round(float(np.mean(epi)), 3),
            "mean_depth_error_km": round(float(np.mean(depth)), 3),
            "mean_time_error_s": round(float(np.mean(origin)), 4)}


def _fill(pool: Sequence, n_events: int) -> list:
    """``n_events`` observations: the pool, then copies of it under new ids (a new id draws
    new initial particles; the work per event is the same)."""
    return [pool[i] if i < len(pool) else
            dataclasses.replace(pool[i % len(pool)],
                                event_id=f"{pool[i % len(pool)].event_id}/copy{i // len(pool)}")
            for i in range(n_events)]


def _counts(results: Sequence) -> dict:
    """Events located, and those whose particles did not reach the posterior (rejected)."""
    located = [r for r in results if isinstance(r, LocationResult)]
    return {"n_located": len(located),
            "n_unconverged": sum(not r.converged for r in located)}


# ------------------------------------------------------------------------------------- parts


def part_throughput(plan: Plan, models, device: torch.device, limit_s: float,
                    pool: Sequence, truth: Sequence[dict]) -> dict:
    """(a) ``locate_events`` at each batch size, one batch of copies of the pool."""

    def measure(batch: int) -> dict:
        observations = _fill(pool, batch)
        _reset_peak(device)
        _sync(device)
        t0 = time.perf_counter()
        results = locate_events(observations, models, svgd=plan.svgd,
                                likelihood=FIXED_LIKELIHOOD,
                                search=SearchConfig(batch_size=batch), device=device)
        _sync(device)
        seconds = time.perf_counter() - t0
        return {"n_events": batch, **_counts(results),
                "mean_picks": round(float(np.mean([len(o.arrival_s) for o in observations])), 1),
                "seconds": round(seconds, 3), "events_per_s": round(batch / seconds, 3),
                "s_per_event": round(seconds / batch, 4), "peak_gib": _peak_gib(device),
                "issue_h200_s_per_event": ISSUE_H200_S_PER_EVENT.get(batch),
                **_errors(results, observations, truth)}

    rows = _sweep(plan.batch_sizes, limit_s, measure, device=device)
    return {"limit_s": round(limit_s, 1), "what": "locate_events, one pass, fixed error model "
            "(paper's), one batch of batch_size events", "rows": rows}


def part_locator_run(plan: Plan, models, device: torch.device, limit_s: float,
                     seconds_per_batch: dict[int, float]) -> dict:
    """(b) ``Locator.run`` from the ObsPy catalogue, at default settings, then one batch."""
    catalogs: dict[int, tuple] = {}

    def catalog_of(n_events: int):
        if n_events not in catalogs:
            catalogs[n_events] = synthetic_catalog(n_events, STATIONS_30_PICKS, seed=11)
        return catalogs[n_events]

    def measure_with(batch_of: Callable[[int], int]) -> Callable[[int], dict]:
        def measure(n_events: int) -> dict:
            catalog, inventory, _ = catalog_of(n_events)
            search = SearchConfig(batch_size=batch_of(n_events))
            locator = Locator(*models, device=str(device), svgd=plan.svgd, search=search)
            _reset_peak(device)
            _sync(device)
            t0 = time.perf_counter()
            report = locator.run(catalog, inventory)
            _sync(device)
            seconds = time.perf_counter() - t0
            return {"n_events": n_events, "batch_size": search.batch_size,
                    **_counts(report.results), "n_passes": report.n_passes,
                    "seconds": round(seconds, 3), "events_per_s": round(n_events / seconds, 3),
                    "s_per_event": round(seconds / n_events, 4), "peak_gib": _peak_gib(device),
                    "error_models": [e.describe() for e in report.error_models]}
        return measure

    default_batch = SearchConfig().batch_size
    t0 = time.perf_counter()
    rows = _sweep(plan.run_events, limit_s, measure_with(lambda n: default_batch),
                  device=device)
    for row in rows:
        row["settings"] = "default"
    left = limit_s - (time.perf_counter() - t0)
    if plan.run_one_batch:
        # first guess: three passes of the throughput part's time at that batch size
        first = plan.run_one_batch[0]
        guess = 3 * seconds_per_batch[first] if first in seconds_per_batch else None
        one = _sweep(plan.run_one_batch, left, measure_with(lambda n: n), device=device,
                     first_guess_s=guess)
        for row in one:
            row["settings"] = "batch_size = events"
        rows += one
    return {"limit_s": round(limit_s, 1), "what": "Locator.run, ObsPy catalogue in memory to "
            "located catalogue, error model 'auto' (3 passes)", "rows": rows}


def _one_event(n_picks: int, seed: int):
    """A synthetic event with exactly ``n_picks`` picks (P and S at the first stations)."""
    n_stations = max(4, math.ceil(n_picks / 1.6) + 4)  # S at ~80 % of stations: ~1.8 per station
    while True:
        catalog, inventory, truth = synthetic_catalog(1, n_stations, seed=seed)
        if len(catalog[0].picks) >= n_picks:
            break
        n_stations += max(4, n_stations // 10)
    catalog[0].picks = catalog[0].picks[:n_picks]  # picks come station by station, P then S
    return catalog, inventory, truth


def part_table3(plan: Plan, models, device: torch.device, limit_s: float) -> dict:
    """(c) One event with 32 ... 2048 observations, the paper's figures beside."""

    def measure(n_picks: int) -> dict:
        catalog, inventory, truth = _one_event(n_picks, seed=20 + n_picks)
        observations = _observations(catalog, inventory)
        _reset_peak(device)
        _sync(device)
        t0 = time.perf_counter()
        results = locate_events(observations, models, svgd=plan.svgd,
                                likelihood=FIXED_LIKELIHOOD, search=SearchConfig(batch_size=1),
                                device=device)
        _sync(device)
        seconds = time.perf_counter() - t0
        # the event stops on its own (per-event early stop): its epochs, not the plan's
        epochs = max([r.extra.get("n_epochs", plan.svgd.n_epochs) for r in results
                      if isinstance(r, LocationResult)], default=plan.svgd.n_epochs)
        return {"n_picks": len(observations[0].arrival_s), **_counts(results),
                "seconds": round(seconds, 3), "epochs": int(epochs),
                "ms_per_epoch": round(1e3 * seconds / epochs, 2),
                "peak_gib": _peak_gib(device), "paper_v100_s": PAPER_V100_S.get(n_picks),
                "issue_h200_s": ISSUE_H200_TABLE3_S.get(n_picks),
                **_errors(results, observations, truth)}

    # the EDT pair terms grow as n^2: extrapolate at least linearly, memory quadratically
    rows = _sweep(plan.table3_picks, limit_s, measure, device=device, memory_exponent=2.0)
    return {"limit_s": round(limit_s, 1), "what": "locate_events, one event, batch 1, "
            "fixed error model (paper's); ms/epoch = seconds / the epochs the event ran, table "
            "build and summary included",
            "rows": rows}


def part_training(plan: Plan, device: torch.device, limit_s: float) -> dict:
    """(d) EikoNet training seconds per step at each batch size."""
    velocity = socal_1d()

    def measure(batch: int) -> dict:
        stamps: list[float] = []
        config = TrainConfig(n_steps=plan.train_steps, batch_size=batch, n_validation=100)
        _reset_peak(device)
        t0 = time.perf_counter()
        # run_adam reads each step's loss (.item()), so a step's time stamp follows its work
        _, report = train_eikonet_1d(velocity, "P", config, device=device,
                                     progress=lambda step, loss: stamps.append(
                                         time.perf_counter()))
        seconds = time.perf_counter() - t0
        steps = np.diff(stamps[4:])  # the first steps pay for allocator growth and warm-up
        per_step = float(np.median(steps))
        row = {"batch_size": batch, "n_steps": config.n_steps, "width": config.width,
               "n_layers": config.n_layers, "dtype": config.dtype,
               "s_per_step": round(per_step, 5), "pairs_per_s": round(batch / per_step),
               "seconds_with_setup_and_validation": round(seconds, 2),
               "seconds": round(stamps[-1] - t0, 3), "peak_gib": _peak_gib(device),
               "issue_h200_s_per_step": ISSUE_H200_TRAIN_S_PER_STEP.get(batch),
               "final_train_loss": round(report.final_train_loss, 5)}
        if batch == TrainConfig().batch_size:
            row["bundled_P_recipe_s_projected"] = round(BUNDLED_P_STEPS * per_step, 1)
        if batch == GPU_BATCH_SIZE:
            row["gpu_P_recipe_s_projected"] = round(GPU_P_STEPS * per_step, 1)
        return row

    rows = _sweep(plan.train_batches, limit_s, measure, device=device)
    return {"limit_s": round(limit_s, 1), "what": "train_eikonet_1d, socal-1d P, bundled "
            f"network shape, {plan.train_steps} steps per batch size", "rows": rows}


# ------------------------------------------------------------------------------ run and report


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit() -> str | None:
    """``$GIT_COMMIT`` when set (the device machine may run a copy of a commit inside another
    checkout), else HEAD of the checkout."""
    if os.environ.get("GIT_COMMIT"):
        return os.environ["GIT_COMMIT"]
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=False,
                             capture_output=True, text=True, timeout=10)
        commit = out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return commit or None


def _default_output(device: torch.device) -> Path:
    out = os.environ.get("OUT")
    if out:
        return Path(out) / "gpu_scaling.json"
    return ROOT / "benchmarks" / "results" / f"gpu_scaling_{device.type}.json"


def _fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_part(name: str, part: dict) -> None:
    """One table per part; skipped sizes say why."""
    print(f"\n{name}: {part['what']} (limit {part['limit_s']:.0f} s)")
    for row in part["rows"]:
        if "skipped" in row:
            print(f"  {row['size']:>6}  skipped: {row['skipped']}")
        elif name == "throughput":
            print(f"  batch {row['size']:>5}: {row['seconds']:8.2f} s  {row['events_per_s']:8.2f} "
                  f"events/s  {row['s_per_event']:7.3f} s/event (issue H200 "
                  f"{_fmt(row['issue_h200_s_per_event'], '.3f')})  peak "
                  f"{_fmt(row['peak_gib'], '.2f')} GiB  epicentre "
                  f"{_fmt(row.get('mean_epicentre_error_km'), '.2f')} km  unconverged "
                  f"{row['n_unconverged']}/{row['n_located']}")
        elif name == "locator_run":
            print(f"  {row['n_events']:>5} events, batch {row['batch_size']:>5}: "
                  f"{row['seconds']:8.2f} s  {row['events_per_s']:8.2f} events/s  "
                  f"{row['n_located']} located ({row['n_unconverged']} unconverged), "
                  f"{row['n_passes']} passes  peak "
                  f"{_fmt(row['peak_gib'], '.2f')} GiB")
        elif name == "table3":
            print(f"  {row['n_picks']:>5} picks: {row['seconds']:8.2f} s  "
                  f"({row['ms_per_epoch']:.1f} ms/epoch)  paper V100 "
                  f"{_fmt(row['paper_v100_s'], '.0f')} s  issue H200 "
                  f"{_fmt(row['issue_h200_s'], '.1f')} s  peak {_fmt(row['peak_gib'], '.2f')} GiB"
                  f"  epicentre {_fmt(row.get('mean_epicentre_error_km'), '.2f')} km")
        else:
            extra = (f"  bundled P recipe ~{row['bundled_P_recipe_s_projected']:.0f} s"
                     if "bundled_P_recipe_s_projected" in row else "")
            extra += (f"  GPU P recipe ~{row['gpu_P_recipe_s_projected']:.0f} s"
                      if "gpu_P_recipe_s_projected" in row else "")
            print(f"  batch {row['batch_size']:>6}: {row['s_per_step']:.4f} s/step (issue H200 "
                  f"{_fmt(row['issue_h200_s_per_step'], '.3f')})  {row['pairs_per_s']:,} "
                  f"pairs/s  peak {_fmt(row['peak_gib'], '.2f')} GiB{extra}")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="torch device: cuda (default) or cpu")
    parser.add_argument("--budget-s", type=float, default=None,
                        help=f"wall-clock budget of the whole run, s (default {FULL.budget_s:g}; "
                             f"--quick {QUICK.budget_s:g})")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and 40 particles x 48 epochs: a smoke run")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's own choice)")
    parser.add_argument("--parts", nargs="+", choices=list(SHARES), default=list(SHARES),
                        help="parts to run (default all)")
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON path (default $OUT/gpu_scaling.json, else "
                             "benchmarks/results/gpu_scaling_<device>.json)")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available here (use --device cpu)")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    # one warning per unconverged event would bury the tables: the rows count them instead
    logging.getLogger("obspy_hyposvi").setLevel(logging.ERROR)
    plan = QUICK if args.quick else FULL
    clock = Clock(args.budget_s if args.budget_s is not None else plan.budget_s, args.parts)
    output = args.output or _default_output(device)

    models = tuple(load_model(MODEL, phase, device=device) for phase in "PS")
    catalog, inventory, truth = synthetic_catalog(plan.pool_events, STATIONS_30_PICKS, seed=7)
    pool = _observations(catalog, inventory)
    # warm-up: CUDA context, kernels and the allocator's first blocks, lazy imports
    t0 = time.perf_counter()
    locate_events(pool[:2], models, svgd=dataclasses.replace(plan.svgd, n_epochs=3),
                  likelihood=FIXED_LIKELIHOOD, device=device)
    _sync(device)
    warmup_s = time.perf_counter() - t0

    out = {
        "benchmark": "gpu_scaling", "date_utc": datetime.datetime.now(datetime.timezone.utc)
        .isoformat(timespec="seconds"), "device": device.type,
        "device_name": _device_name(device), "torch": torch.__version__,
        "cuda": torch.version.cuda if device.type == "cuda" else None,
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32 if device.type == "cuda" else None,
        "python": platform.python_version(), "package_version": __version__,
        "git_commit": _git_commit(), "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(), "quick": args.quick,
        "budget_s": clock.budget_s, "model": MODEL, "svgd": plan.svgd.to_dict(),
        "particle_dtype": "float64 (locate_events default)",
        "fixed_error_model": ErrorModel().to_dict(), "warmup_s": round(warmup_s, 2),
        "setup_s": round(time.perf_counter() - clock.start, 2), "parts": {}, "complete": False,
    }
    print(f"gpu_scaling: {out['device_name']} ({device}), torch {out['torch']}, "
          f"{out['date_utc']}, budget {clock.budget_s:g} s, SVGD {plan.svgd.n_particles} "
          f"particles x {plan.svgd.n_epochs} epochs; setup {out['setup_s']:.1f} s")
    seconds_per_batch: dict[int, float] = {}
    for name in clock.parts:
        limit = clock.part_limit(name)
        if name == "throughput":
            part = part_throughput(plan, models, device, limit, pool, truth)
            seconds_per_batch = {r["size"]: r["seconds"] for r in part["rows"]
                                 if "seconds" in r}
        elif name == "locator_run":
            part = part_locator_run(plan, models, device, limit, seconds_per_batch)
        elif name == "table3":
            part = part_table3(plan, models, device, limit)
        else:
            part = part_training(plan, device, limit)
        out["parts"][name] = part
        out["total_s"] = round(time.perf_counter() - clock.start, 1)
        print_part(name, part)
        write_results(output, out)  # after every part: a run cut short keeps what it did
    out["complete"] = True
    out["total_s"] = round(time.perf_counter() - clock.start, 1)
    print(f"\ntotal {out['total_s']:.0f} s of a {clock.budget_s:g} s budget")
    write_results(output, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
