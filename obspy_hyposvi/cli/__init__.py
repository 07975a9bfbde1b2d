"""The ``hyposvi`` command: ``main(argv=None) -> int``.

Each subcommand lives in its own module with ``add_parser(subparsers)`` and ``run(args) -> int``
(pyrocko's squirrel pattern). Exit codes: 0 success, 1 an
:class:`~obspy_hyposvi.errors.HypoSVIError` (one line on stderr; the traceback only with
``--debug``), 2 a usage error (argparse's convention).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import HypoSVIError
from . import demo, info, locate, models, okada, train
from ._common import UsageError

__all__ = ["main", "build_parser"]

_COMMANDS = (locate, demo, models, info, train, okada)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hyposvi`` command and all its subcommands."""
    parser = argparse.ArgumentParser(
        prog="hyposvi",
        description="Probabilistic earthquake location for ObsPy catalogues (SVGD + EikoNet).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks and debug logging")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _COMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hyposvi`` command line.

    Parameters
    ----------
    argv
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 on a :class:`~obspy_hyposvi.errors.HypoSVIError`, 2 on a usage error.

    Examples
    --------
    >>> main(["--version"])  # doctest: +ELLIPSIS
    hyposvi ...
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help/--version
        return int(exc.code or 0)
    level = logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args))
    except HypoSVIError as exc:
        if args.debug:
            raise
        print(f"hyposvi {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except UsageError as exc:
        print(f"hyposvi {args.command}: usage error: {exc}", file=sys.stderr)
        return 2
