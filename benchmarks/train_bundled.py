"""Train the bundled socal-1d P and S checkpoints (writes obspy_hyposvi/data/models/).

Usage: python benchmarks/train_bundled.py [--steps N] [--phase P|S] [--device cpu|cuda]
       [--init DIR] [--lr LR]
``--init DIR`` fine-tunes the checkpoints found in DIR (same shape) with a fresh schedule.
Progress goes to stdout; the final validation figures are written into each checkpoint and to
benchmarks/results/train_bundled.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from obspy_hyposvi import __version__
from obspy_hyposvi.eikonet.checkpoint import load_checkpoint, save_checkpoint
from obspy_hyposvi.eikonet.train import TrainConfig, checkpoint_metadata, train_eikonet_1d
from obspy_hyposvi.velocity import socal_1d

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=TrainConfig.n_steps)
    parser.add_argument("--phase", choices=["P", "S"], nargs="*", default=["P", "S"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--lr", type=float, default=TrainConfig.learning_rate)
    parser.add_argument("--init", type=Path, default=None,
                        help="directory with socal-1d-{P,S}.pt to fine-tune")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results",
                        help="directory of the results JSON")
    parser.add_argument("--out", type=Path, default=ROOT / "obspy_hyposvi" / "data" / "models")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = socal_1d()
    config = TrainConfig(n_steps=args.steps, learning_rate=args.lr)
    results = {}
    for phase in args.phase:
        t0 = time.perf_counter()

        def progress(step, loss, phase=phase):
            if step % 250 == 0:
                print(f"{phase} step {step}/{config.n_steps} loss {loss:.3e} "
                      f"{time.perf_counter() - t0:.0f} s", flush=True)

        init = prior = None
        if args.init is not None:
            loaded = load_checkpoint(args.init / f"socal-1d-{phase}.pt")
            init, prior = loaded["state_dict"], loaded["metadata"]
        net, report = train_eikonet_1d(model, phase, config, device=args.device, progress=progress,
                                       init_weights=init)
        meta = checkpoint_metadata(model, phase, config, report, package_version=__version__)
        if prior is not None:
            # a fine-tuned model's history: the earlier runs' settings and time
            meta["training"]["fine_tuned_from"] = prior["training"]
        meta = json.loads(json.dumps(meta))
        path = save_checkpoint(args.out / f"socal-1d-{phase}.pt", net.state_dict(), meta)
        results[phase] = {"path": path.name, "seconds": report.seconds,
                          "device": report.device, "threads": args.threads, **report.validation}
        print(phase, json.dumps(results[phase], indent=1), flush=True)
    out = args.results / f"train_bundled_{''.join(args.phase)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
