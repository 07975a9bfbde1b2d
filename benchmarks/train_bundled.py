"""Train the bundled socal-1d P and S checkpoints (writes data/models/).

Each phase is trained in stages: a first run from random weights, then fine-tuning runs that
start from the previous stage's weights with a fresh one-cycle schedule at a lower peak
learning rate. ``STAGES`` is the recipe of the bundled checkpoints (the S recipe differs from
P's because it came from a separate trial; both meet issue 2's figures).

Usage: python benchmarks/train_bundled.py [--phase P S] [--stages 8000:3e-3,3000:1e-3]
       [--init DIR] [--threads N] [--device cpu|cuda] [--out DIR]
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
    load_checkpoint,
    revalidate_checkpoint,
    save_checkpoint,
)
from obspy_hyposvi.eikonet.train import TrainConfig, checkpoint_metadata, train_eikonet_1d
from obspy_hyposvi.velocity import socal_1d

from _results import training_seconds, write_results  # benchmarks/_results.py

ROOT = Path(__file__).resolve().parents[1]
#: (optimiser steps, peak learning rate) per stage, as used for the bundled checkpoints
STAGES = {"P": [(8000, 3e-3), (3000, 1e-3), (3000, 5e-4)],
          "S": [(8000, 3e-3), (6000, 1e-3)]}


def _stages(text: str) -> list[tuple[int, float]]:
    try:
        return [(int(steps), float(lr)) for steps, lr in
                (item.split(":") for item in text.split(",") if item.strip())]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--stages wants STEPS:LR[,STEPS:LR...], e.g. 8000:3e-3,3000:1e-3; got {text!r}"
        ) from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phase", choices=["P", "S"], nargs="*", default=["P", "S"])
    parser.add_argument("--stages", type=_stages, default=None,
                        help="STEPS:LR,... (default: the bundled recipe of each phase)")
    parser.add_argument("--init", type=Path, default=None,
                        help="directory with socal-1d-{P,S}.pt to fine-tune")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "models")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results",
                        help="directory of the results JSON")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = socal_1d()
    results = {}
    for phase in args.phase:
        stages = args.stages or STAGES[phase]
        weights = history = None
        if args.init is not None:
            loaded = load_checkpoint(args.init / f"socal-1d-{phase}.pt")
            weights, history = loaded["state_dict"], loaded["metadata"]["training"]
        for i, (steps, lr) in enumerate(stages):
            config = TrainConfig(n_steps=steps, learning_rate=lr)
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
        path = save_checkpoint(args.out / f"socal-1d-{phase}.pt", weights, meta)
        # training validated offsets 0-250 km and sources 0-40 km: add the whole domain
        revalidate_checkpoint(path)
        results[phase] = {"path": path.name, "stages": [list(s) for s in stages],
                          "seconds_all_stages": training_seconds(meta["training"]),
                          "device": report.device,
                          "threads": args.threads, "load_average": list(os.getloadavg()),
                          **report.validation}
        print(phase, json.dumps(results[phase], indent=1), flush=True)
    out = args.results / f"train_bundled_{''.join(args.phase)}.json"
    write_results(out, results)


if __name__ == "__main__":
    main()
