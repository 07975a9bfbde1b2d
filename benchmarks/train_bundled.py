"""Train the bundled socal-1d P and S checkpoints (writes data/models/).

Each phase is trained in stages: a first run from random weights, then fine-tuning runs that
start from the previous stage's weights with a fresh one-cycle schedule at a lower peak
learning rate. ``STAGES`` is the recipe of the bundled checkpoints (the S recipe differs from
P's because it came from a separate trial; both meet issue 2's figures).

``--recipe gpu`` selects ``STAGES_GPU`` at ``GPU_BATCH_SIZE`` pairs per step instead: fewer,
larger steps for a GPU, where a step costs about the same at 2048 and 32 768 pairs (issue 11;
validated for P only). It never writes data/models (``--out`` is required) and compares the new
checkpoint with the bundled one through the same validation functions, writing both side by
side, with the projected H200 time, to benchmarks/results/train_recipe_gpu_<phases>.json.

Usage: python benchmarks/train_bundled.py [--phase P S] [--stages 8000:3e-3,3000:1e-3]
       [--recipe bundled|gpu] [--batch-size N] [--init DIR] [--threads N]
       [--device cpu|cuda] [--out DIR]
``--init DIR`` starts from the checkpoints in DIR instead of random weights (then ``--stages``
lists only the fine-tuning stages). Progress goes to stdout; the validation figures of the
last stage go into each checkpoint and to benchmarks/results/train_bundled_<phases>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

from obspy_hyposvi import __version__
from obspy_hyposvi.eikonet.checkpoint import (
    domain_validation,
    load_checkpoint,
    revalidate_checkpoint,
    save_checkpoint,
)
from obspy_hyposvi.eikonet.model import bundled_model_dir
from obspy_hyposvi.eikonet.network import EikoNet1D
from obspy_hyposvi.eikonet.train import (
    TrainConfig,
    checkpoint_metadata,
    train_eikonet_1d,
    validate_1d,
)
from obspy_hyposvi.velocity import model_from_dict, socal_1d

from _results import training_seconds, write_results  # benchmarks/_results.py

ROOT = Path(__file__).resolve().parents[1]
#: (optimiser steps, peak learning rate) per stage, as used for the bundled checkpoints
STAGES = {"P": [(8000, 3e-3), (3000, 1e-3), (3000, 5e-4)],
          "S": [(8000, 3e-3), (6000, 1e-3)]}
#: The GPU recipe (``--recipe gpu``): 6000 steps of 8192 pairs, the first stage at twice the
#: bundled peak learning rate (3e-3 there gave a 56 % larger whole-domain p99). Validated for P
#: on the CPU against the bundled checkpoint (benchmarks/results/train_recipe_gpu_P.json):
#: whole-domain median 0.90x, p99 1.04x the bundled model's, but on training's validation set
#: p99 0.104 s (bundled 0.093 s, issue 2's target 0.10 s). No S recipe is validated.
STAGES_GPU = {"P": [(4500, 6e-3), (1500, 1e-3)]}
GPU_BATCH_SIZE = 8192
#: Seconds per training step on one H200 by batch size (benchmarks/results/gpu_scaling_cuda.json)
GPU_SCALING = ROOT / "benchmarks" / "results" / "gpu_scaling_cuda.json"


def _stages(text: str) -> list[tuple[int, float]]:
    try:
        return [(int(steps), float(lr)) for steps, lr in
                (item.split(":") for item in text.split(",") if item.strip())]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--stages wants STEPS:LR[,STEPS:LR...], e.g. 8000:3e-3,3000:1e-3; got {text!r}"
        ) from None


def _validation(path: Path) -> dict:
    """A 1D checkpoint's errors on training's validation set (:func:`validate_1d`'s defaults:
    offsets 0-250 km, sources 0-40 km, receivers -2..0 km) and over its whole domain
    (:func:`domain_validation`), computed now; the file is not changed."""
    checkpoint = load_checkpoint(path)
    meta = checkpoint["metadata"]
    net = EikoNet1D(**meta["model_args"])
    net.load_state_dict(checkpoint["state_dict"])
    training_set = validate_1d(net.eval(), model_from_dict(meta["velocity_model"]),
                               meta["phase"])
    training = meta["training"]
    stages = []
    while training:
        stages.insert(0, [training["n_steps"], training["learning_rate"],
                          training["batch_size"]])
        training = training.get("fine_tuned_from")
    return {"path": str(path), "stages_steps_lr_batch": stages,
            "n_steps": sum(s[0] for s in stages),
            "pairs_seen": sum(s[0] * s[2] for s in stages),
            "training_seconds": training_seconds(meta["training"]),
            "training_device": meta["training"]["device"],
            "training_validation_set": training_set, **domain_validation(checkpoint)}


def _h200_seconds_per_step(batch_size: int) -> dict | None:
    """The H200's measured seconds per step at ``batch_size`` (gpu_scaling_cuda.json)."""
    try:
        scaling = json.loads(GPU_SCALING.read_text())
    except (OSError, ValueError):
        return None
    for row in scaling.get("parts", {}).get("training", {}).get("rows", []):
        if row.get("batch_size") == batch_size and "s_per_step" in row:
            return {"s_per_step": row["s_per_step"], "device_name": scaling.get("device_name"),
                    "date_utc": scaling.get("date_utc"), "git_commit": scaling.get("git_commit"),
                    "source": str(GPU_SCALING.relative_to(ROOT))}
    return None


def compare_with_bundled(path: Path, phase: str, batch_size: int) -> dict:
    """The new checkpoint beside the bundled one (same functions, same pairs), with both
    recipes' projected H200 times."""
    new, bundled = _validation(path), _validation(bundled_model_dir() / path.name)
    ratios = {}
    for key in ("median_abs_dt_s", "p99_abs_dt_s"):
        ratios[f"training_set_{key}"] = (new["training_validation_set"][key]
                                         / bundled["training_validation_set"][key])
        ratios[f"whole_domain_{key}"] = (new["whole_domain"][key]
                                         / bundled["whole_domain"][key])
        ratios[f"stations_all_bands_{key}"] = (new["by_range"][0][key]
                                               / bundled["by_range"][0][key])
    ratios["worst_band_p99_abs_dt_s"] = (max(b["p99_abs_dt_s"] for b in new["by_range"])
                                         / max(b["p99_abs_dt_s"] for b in bundled["by_range"]))
    projection = {}
    for name, model, batch in (("recipe", new, batch_size),
                               ("bundled", bundled, TrainConfig().batch_size)):
        gpu = _h200_seconds_per_step(batch)
        if gpu is not None:
            projection[name] = {
                "batch_size": batch, "n_steps": model["n_steps"], **gpu,
                "seconds_projected": round(model["n_steps"] * gpu["s_per_step"], 1)}
    return {"phase": phase, "recipe": new, "bundled": bundled,
            "ratio_recipe_to_bundled": {k: round(v, 3) for k, v in ratios.items()},
            "h200_training_seconds_projected": {
                "what": "PROJECTION, not a GPU run: steps x the H200's measured seconds per "
                        "step at that batch (40-step timing, setup and validation excluded)",
                **projection}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phase", choices=["P", "S"], nargs="*", default=["P", "S"])
    parser.add_argument("--stages", type=_stages, default=None,
                        help="STEPS:LR,... (default: the recipe's stages of each phase)")
    parser.add_argument("--recipe", choices=["bundled", "gpu"], default="bundled",
                        help="bundled: STAGES at 2048 pairs per step (default); gpu: "
                             f"STAGES_GPU at {GPU_BATCH_SIZE} pairs")
    parser.add_argument("--init", type=Path, default=None,
                        help="directory with socal-1d-{P,S}.pt to fine-tune")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="collocation pairs per step (default: the recipe's; bundled: "
                             "TrainConfig's, 2048)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None,
                        help="checkpoint directory (default data/models; required by --recipe"
                             " gpu, which never replaces the bundled checkpoints)")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results",
                        help="directory of the results JSON")
    args = parser.parse_args()
    gpu = args.recipe == "gpu"
    if gpu and args.out is None:
        parser.error("--recipe gpu needs --out DIR (it does not replace data/models)")
    if gpu and args.stages is None and not set(args.phase) <= set(STAGES_GPU):
        parser.error(f"--recipe gpu has stages for {sorted(STAGES_GPU)} only; give --phase P"
                     " or --stages")
    out_dir = args.out or ROOT / "data" / "models"
    if gpu and out_dir.resolve() == bundled_model_dir().resolve():
        parser.error("--recipe gpu is compared with the bundled checkpoints: --out must be "
                     "another directory")
    batch_size = args.batch_size or (GPU_BATCH_SIZE if gpu else None)
    torch.set_num_threads(args.threads)
    model = socal_1d()
    results = {}
    for phase in args.phase:
        stages = args.stages or (STAGES_GPU if gpu else STAGES)[phase]
        weights = history = None
        if args.init is not None:
            loaded = load_checkpoint(args.init / f"socal-1d-{phase}.pt")
            weights, history = loaded["state_dict"], loaded["metadata"]["training"]
        for i, (steps, lr) in enumerate(stages):
            config = TrainConfig(n_steps=steps, learning_rate=lr,
                                 **({} if batch_size is None else {"batch_size": batch_size}))
            t0 = time.perf_counter()

            def progress(step, loss, phase=phase, config=config, t0=t0, i=i):
                if step % 250 == 0:
                    print(f"{phase} stage {i + 1}/{len(stages)} step {step}/{config.n_steps} "
                          f"loss {loss:.3e} {time.perf_counter() - t0:.0f} s", flush=True)

            net, report = train_eikonet_1d(model, phase, config, device=args.device,
                                           progress=progress, init_weights=weights)
            meta = checkpoint_metadata(model, phase, config, report, package_version=__version__)
            if history is not None:
                # a fine-tuned model keeps the settings and time of the runs before it
                meta["training"]["fine_tuned_from"] = history
            meta = json.loads(json.dumps(meta))  # plain str for weights_only loading
            weights, history = net.state_dict(), meta["training"]
            print(f"{phase} stage {i + 1}: median {report.validation['median_abs_dt_s']:.4f} s, "
                  f"p99 {report.validation['p99_abs_dt_s']:.4f} s", flush=True)
        path = save_checkpoint(out_dir / f"socal-1d-{phase}.pt", weights, meta)
        # training validated offsets 0-250 km and sources 0-40 km: add the whole domain
        revalidate_checkpoint(path)
        results[phase] = {"path": path.name, "stages": [list(s) for s in stages],
                          "seconds_all_stages": training_seconds(meta["training"]),
                          "batch_size": config.batch_size, "device": report.device,
                          "threads": args.threads, "load_average": list(os.getloadavg()),
                          **report.validation}
        print(phase, json.dumps(results[phase], indent=1), flush=True)
        if gpu:
            results[phase] = {"this_run": results[phase],
                              **compare_with_bundled(path, phase, config.batch_size)}
            print(phase, "recipe / bundled:",
                  json.dumps(results[phase]["ratio_recipe_to_bundled"], indent=1), flush=True)
    name = "train_recipe_gpu" if gpu else "train_bundled"
    write_results(args.results / f"{name}_{''.join(args.phase)}.json", results)


if __name__ == "__main__":
    main()
