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


def _span(offset_km, source_depth_km) -> str:
    """``0-400 km, -3..60 km``: offsets, then source depths."""
    (o0, o1), (z0, z1) = offset_km, source_depth_km
    return f"{o0:g}-{o1:g} km, {z0:g}..{z1:g} km"


def _accuracy(entry: dict) -> tuple[str, str, str, str]:
    """Median and 99th percentile |dT|, the ranges they hold over, and the worst band's p99.

    From ``validation["by_range"]`` when the checkpoint has it (its first band: every offset
    and source depth of the domain, receivers at station depths; the worst band of offset or
    of source depth by its p99); otherwise the figures training stored, over the part of the
    domain it drew (their ranges are printed unless they are the whole domain).
    """
    val = entry.get("validation") or {}
    domain = entry.get("domain") or {}
    whole = (0.0, domain.get("max_offset_km")), domain.get("depth_km")
    bands = val.get("by_range") or []
    if bands:
        head = bands[0]
        worst = max(bands[1:] or bands, key=lambda b: b["p99_abs_dt_s"])
        where = _span(head["offset_km"], head["source_depth_km"])
        where = "domain" if where == _span(*whole) else where
        worst_s = (f"{worst['p99_abs_dt_s']:.3f} s at "
                   f"{_span(worst['offset_km'], worst['source_depth_km'])}")
        return (f"{head['median_abs_dt_s']:.4f} s", f"{head['p99_abs_dt_s']:.3f} s", where,
                worst_s)
    med, p99 = val.get("median_abs_dt_s"), val.get("p99_abs_dt_s")
    if med is None or p99 is None or "max_offset_km" not in val or "source_depth_km" not in val:
        return "?", "?", "?", "-"
    where = _span((0.0, val["max_offset_km"]), val["source_depth_km"])
    where = "domain" if None not in whole and where == _span(*whole) else where
    return f"{med:.4f} s", f"{p99:.3f} s", where, "-"


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
    rows = [(e, *_accuracy(e)) for e in entries]
    where_width = max(12, *(len(r[3]) for r in rows))
    header = f"{'name':<16} {'phase':<5} {'source':<8} {'velocity model':<16} {'domain':<32} " \
             f"{'median |dT|':>11} {'p99 |dT|':>9} {'over':<{where_width}} worst band p99"
    print(header)
    print("-" * len(header))
    for e, med_s, p99_s, where, worst in rows:
        print(f"{e['name']:<16} {e['phase']:<5} {e['source']:<8} "
              f"{str(e.get('velocity_model') or '?'):<16} {_domain(e):<32} {med_s:>11} "
              f"{p99_s:>9} {where:<{where_width}} {worst}")
    print("|dT| against the exact layered solution, receivers at station depths; over: the "
          "offsets and source depths\nthe figures hold over (domain: all of the model's); worst "
          "band: of offset or of source depth (--json lists them)")
    print("hyposvi locate uses a layered velocity model's exact first arrivals instead of its "
          "networks (these errors\nare the networks', which --networks locates on)")
    print(f"(bundled: {bundled_model_dir()}; user: {user_model_dir()})")
    return 0
