"""The ``hyposvi`` command: ``main(argv=None) -> int``.

Each subcommand lives in its own module with ``add_parser(subparsers)`` and ``run(args) -> int``
(pyrocko's squirrel pattern). Exit codes: 0 success, 1 an
:class:`~obspy_hyposvi.errors.HypoSVIError` (one line on stderr; the traceback only with
``--debug``), 2 a usage error (argparse's convention), 130 Ctrl-C or SIGTERM (one line; no
partial output is left), 141 stdout closed by its reader (``hyposvi models | head``; quiet).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

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
        0 on success, 1 on a :class:`~obspy_hyposvi.errors.HypoSVIError`, 2 on a usage error,
        130 when interrupted (Ctrl-C, SIGTERM), 141 when stdout was closed by its reader.

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
        with _terminate_as_interrupt():
            code = int(args.run(args))
        sys.stdout.flush()  # a closed pipe shows here, in this handler, not at interpreter exit
        return code
    except HypoSVIError as exc:
        if args.debug:
            raise
        print(f"hyposvi {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except UsageError as exc:
        print(f"hyposvi {args.command}: usage error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.debug:
            raise
        # outputs are written through temporary files (safe_write): none is left partial
        print(f"hyposvi {args.command}: interrupted; no partial output was left", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader of stdout went away (hyposvi models | head): nothing left to say
        _silence_stdout()
        return EXIT_BROKEN_PIPE


#: Exit codes of an interrupted run and of a closed stdout (128 + SIGINT, 128 + SIGPIPE: what
#: a shell reports for a program the signal ended).
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Handle SIGTERM like Ctrl-C while the command runs, so that temporary files are removed.

    Only in the main thread (where Python allows signal handlers); the previous handler comes
    back afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's final flush raises no second BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):  # stdout is not a real file (tests, IDEs)
        pass
