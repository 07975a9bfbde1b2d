"""``hyposvi models``: bundled and user travel-time checkpoints, their region and accuracy."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``models`` subcommand."""
    parser = subparsers.add_parser(
        "models", help="list bundled and user travel-time models",
        description="List the bundled checkpoints and those in the user folder "
                    "($HYPOSVI_MODEL_DIR or ~/.local/share/obspy_hyposvi/models) with their "
                    "valid domain and validation errors against the exact solution.")
    parser.add_argument("--json", action="store_true", help="print the list as JSON")
    parser.set_defaults(run=run)
    return parser


def _domain(entry: dict) -> str:
    domain = entry.get("domain") or {}
    parts = []
    if "max_offset_km" in domain:
        parts.append(f"offset <= {domain['max_offset_km']:g} km")
    if "depth_km" in domain:
        lo, hi = domain["depth_km"]
        parts.append(f"depth {lo:g}..{hi:g} km")
    return ", ".join(parts) or "?"


def _readable(entries: list[dict]) -> list[dict]:
    """The entries whose checkpoint could be read; one warning on stderr for each other one.

    A damaged file in a model folder must not hide the good ones, nor break the listing.
    """
    for e in entries:
        if "error" in e:
            print(f"hyposvi models: warning: skipped: {e['error']}", file=sys.stderr)
    return [e for e in entries if "error" not in e]


def run(args: argparse.Namespace) -> int:
    """Print one line per readable checkpoint (or JSON); warn about the others on stderr."""
    from ..eikonet.model import bundled_model_dir, list_models, user_model_dir

    entries = _readable(list_models())
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    if not entries:
        print(f"no models found in {bundled_model_dir()} or {user_model_dir()}")
        return 0
    header = f"{'name':<16} {'phase':<5} {'source':<8} {'velocity model':<16} {'domain':<32} " \
             f"{'median |dT|':>11} {'p99 |dT|':>9}"
    print(header)
    print("-" * len(header))
    for e in entries:
        val = e.get("validation") or {}
        med = val.get("median_abs_dt_s")
        p99 = val.get("p99_abs_dt_s")
        med_s = f"{med:.4f} s" if med is not None else "?"
        p99_s = f"{p99:.3f} s" if p99 is not None else "?"
        print(f"{e['name']:<16} {e['phase']:<5} {e['source']:<8} "
              f"{str(e.get('velocity_model') or '?'):<16} {_domain(e):<32} {med_s:>11} "
              f"{p99_s:>9}")
    print(f"(bundled: {bundled_model_dir()}; user: {user_model_dir()})")
    return 0
