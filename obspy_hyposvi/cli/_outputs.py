"""``hyposvi locate``'s output options: SeisComP provenance and version, validation, the
posterior samples file and the solution table.

Kept apart from :mod:`obspy_hyposvi.cli.locate` so that the options, their checks (all made
before any work) and the writers live together. ObsPy is imported only when a run needs it,
so that ``hyposvi --help`` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import UsageError

__all__ = ["add_output_options", "check_output_options", "output_settings",
           "print_solution_table", "write_extra_outputs"]

#: Default ``--agency``/``--author`` (:data:`obspy_hyposvi.bridge.provenance.DEFAULT_AGENCY`;
#: not imported, so that ``hyposvi --help`` does not load ObsPy).
DEFAULT_AGENCY = "obspy_hyposvi"


def _scml_version(text: str) -> str:
    """``--scml-version``: one the installed ObsPy writes, from 0.12 on."""
    from ..bridge.scml import check_scml_version
    from ..errors import InputError

    try:
        return check_scml_version(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """Register ``--agency``, ``--author``, ``--scml-version``, ``--no-validate``,
    ``--samples`` and ``--table``."""
    group = parser.add_argument_group("output (SeisComP XML, posterior samples, table)")
    group.add_argument("--agency", default=DEFAULT_AGENCY, metavar="ID",
                       help="agencyID of the new origins (creationInfo; at most 64 "
                            f"characters; default {DEFAULT_AGENCY})")
    group.add_argument("--author", default=DEFAULT_AGENCY, metavar="NAME",
                       help="author of the new origins (creationInfo; at most 128 "
                            f"characters; default {DEFAULT_AGENCY})")
    group.add_argument("--scml-version", type=_scml_version, default=None, metavar="VERSION",
                       help="SeisComP XML schema version with --format SCML/SC3ML: 0.12 "
                            "(default, SeisComP >= 5), 0.13 (SeisComP 6) or 0.14 (SeisComP "
                            "7), as far as the installed ObsPy writes them")
    group.add_argument("--no-validate", dest="validate", action="store_false",
                       help="write OUT without checking it against its schema (QuakeML 1.2 "
                            "or the SCML version; checked by default, and nothing is "
                            "written if it fails)")
    group.add_argument("--samples", type=Path, default=None, metavar="FILE",
                       help="write every located event's posterior particles (lon, lat, "
                            "depth, origin time, log-posterior, mode) to FILE, a compressed "
                            "NumPy .npz (obspy_hyposvi.bridge.samples.read_samples reads it)")
    group.add_argument("--table", type=Path, default=None, metavar="FILE",
                       help="write the solution table (one line per event) to FILE as CSV")


def check_output_options(args: argparse.Namespace) -> None:
    """Refuse, before any work, output options that do not fit together or cannot be written.

    Raises
    ------
    UsageError
        ``--scml-version`` without an SCML format.
    OutputError
        ``--samples`` or ``--table`` cannot be written, or would replace an input or OUT.
    """
    from ..safe_write import check_output_file

    if args.scml_version is not None and args.format not in ("SCML", "SC3ML"):
        raise UsageError(f"--scml-version applies to --format SCML, not {args.format}")
    inputs = (args.picks, args.inventory, args.output)
    for option, path in (("--samples", args.samples), ("--table", args.table)):
        if path is not None:
            check_output_file(path, inputs=inputs, option=option, overwrite_option=None)
    if args.samples is not None and args.table is not None:
        check_output_file(args.table, inputs=(args.samples,), option="--table",
                          overwrite_option=None)


def output_settings(args: argparse.Namespace) -> dict:
    """:class:`~obspy_hyposvi.locator.Locator` settings of ``--agency`` and ``--author``.

    Raises
    ------
    UsageError
        Either is empty or longer than QuakeML allows.
    """
    from ..bridge.provenance import check_agency, check_author
    from ..errors import InputError

    try:
        return {"agency_id": check_agency(args.agency), "author": check_author(args.author)}
    except InputError as exc:
        raise UsageError(f"--agency/--author: {exc}") from None


def print_solution_table(report) -> None:
    """Print the solution table of a run (:func:`~obspy_hyposvi.bridge.table.table_lines`)."""
    from ..bridge.table import solution_rows, table_lines

    for line in table_lines(solution_rows(report)):
        print(line)


def write_extra_outputs(report, args: argparse.Namespace) -> list[str]:
    """Write ``--samples`` and ``--table`` if asked for; one line per file written."""
    lines = []
    if args.samples is not None:
        from ..bridge.samples import write_samples

        n_events = write_samples(report, args.samples)
        lines.append(f"samples: {args.samples} ({n_events} located events)")
    if args.table is not None:
        from ..bridge.table import solution_rows, write_table

        rows = solution_rows(report)
        write_table(rows, args.table)
        lines.append(f"table: {args.table} ({len(rows)} events)")
    return lines
