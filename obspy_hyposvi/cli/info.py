"""``hyposvi info``: print a checkpoint's metadata as JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``info`` subcommand."""
    parser = subparsers.add_parser(
        "info", help="print a checkpoint's metadata",
        description="Print the metadata of an EikoNet checkpoint (phase, network, velocity "
                    "model, valid domain, training settings, validation errors) as JSON. "
                    "MODEL is a checkpoint file, or a model name or path prefix as for "
                    "'hyposvi locate --model' (then both phases, keyed P and S).")
    parser.add_argument("checkpoint", metavar="MODEL",
                        help="checkpoint file (NAME-P.pt), or a bundled/user model name or "
                             "path prefix (socal-1d, models/mine)")
    parser.set_defaults(run=run)
    return parser


def _is_checkpoint_file(text: str) -> bool:
    """A single file: it exists, or its name says so (a missing one is then reported)."""
    return text.endswith(".pt") or Path(text).is_file()


def run(args: argparse.Namespace) -> int:
    """Load (and check) the checkpoint(s), print the metadata."""
    from .. import __version__
    from ..eikonet.checkpoint import load_checkpoint
    from ..eikonet.model import load_model
    from ..eikonet.pairing import model_sources

    if _is_checkpoint_file(args.checkpoint):
        meta = load_checkpoint(args.checkpoint, __version__)["metadata"]
    else:  # a model name, like --model: both phases
        sources = dict(zip(("P", "S"), model_sources(args.checkpoint)))
        meta = {phase: load_model(source, phase).metadata for phase, source in sources.items()}
    print(json.dumps(meta, indent=2, sort_keys=True))
    return 0
