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
                    "model, valid domain, training settings, validation errors) as JSON.")
    parser.add_argument("checkpoint", type=Path, metavar="MODEL.pt", help="checkpoint file")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Load (and check) the checkpoint, print its metadata."""
    from .. import __version__
    from ..eikonet.checkpoint import load_checkpoint

    meta = load_checkpoint(args.checkpoint, __version__)["metadata"]
    print(json.dumps(meta, indent=2, sort_keys=True))
    return 0
