"""Helpers shared by the subcommands: progress bars and building settings from arguments."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

__all__ = ["UsageError", "add_location_options", "location_settings", "event_progress",
           "check_device", "set_threads"]


class UsageError(Exception):
    """Arguments that parse but make no sense together (exit code 2, like argparse's errors)."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be an integer >= 1")
    return value


def add_location_options(parser: argparse.ArgumentParser) -> None:
    """Options of the locator's settings (SVGD, likelihood, error model, summary, picks)."""
    group = parser.add_argument_group("location settings")
    group.add_argument("--device", default="cpu", help="torch device: cpu or cuda (default cpu)")
    group.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                       help="torch threads (default: torch's own choice). Use 1 on a machine "
                            "whose cores are busy with other jobs")
    group.add_argument("--seed", type=int, default=0, help="seed of the initial particles")
    group.add_argument("--particles", type=_positive_int, default=None,
                       help="SVGD particles per event (default 150, the paper's)")
    group.add_argument("--epochs", type=_positive_int, default=None,
                       help="SVGD epochs (default 175, the paper's)")
    group.add_argument("--likelihood", choices=("edt", "gaussian"), default="edt",
                       help="equal-differential-time (default) or Gaussian L2 likelihood")
    group.add_argument("--edt-spread", type=float, default=None, metavar="C",
                       help="EDT pair terms with C times the pair variance, rescaled to keep "
                            "the posterior's width (default 1, the paper's EDT); 4 is closer "
                            "to least squares: 5-10 %% smaller errors on synthetic "
                            "catalogues, not yet tried on real data (LikelihoodConfig.spread)")
    group.add_argument("--error-model", choices=("auto", "fixed"), default=None,
                       help="auto (default): the forward-model error of each phase is "
                            "estimated from the catalogue's residuals, outliers left out; "
                            "fixed: the --error-* values (the paper's 10 %% of T, 0.1-2.0 s "
                            "where not given). Any --error-* value implies fixed")
    group.add_argument("--error-fraction", type=float, default=None,
                       help="fixed forward-model error as a fraction of the travel time "
                            "(default 0.1)")
    group.add_argument("--error-min", type=float, default=None,
                       help="lower bound of the fixed forward-model error, s (default 0.1)")
    group.add_argument("--error-max", type=float, default=None,
                       help="upper bound of the fixed forward-model error, s (default 2.0)")
    group.add_argument("--station-terms", type=Path, default=None, metavar="FILE",
                       help="subtract these station terms (CSV: station,phase,delay_s) from "
                            "the pick times")
    group.add_argument("--estimate-station-terms", type=Path, default=None, metavar="OUT",
                       help="estimate station terms from the catalogue (on top of "
                            "--station-terms), locate with them, and write them to OUT (CSV)")
    group.add_argument("--margin-km", type=float, default=None, metavar="KM",
                       help="the search box is the stations' bounding box widened by this "
                            "(default 30 km)")
    group.add_argument("--depth-km", type=float, nargs=2, default=None, metavar=("MIN", "MAX"),
                       help="depth range of the search, km below sea level (default: the "
                            "models' range)")
    group.add_argument("--max-distance-km", type=float, default=None, metavar="KM",
                       help="leave out picks at stations further than this from the located "
                            "epicentre (judged after the first pass; default: keep all)")
    group.add_argument("--pick-sigma", type=float, default=None,
                       help="uncertainty of picks that state none, s (default 0.1)")
    group.add_argument("--confidence", type=float, default=None,
                       help="confidence level of the errors written, percent (default 68.27)")
    group.add_argument("--force-models", action="store_true",
                       help="use P and S models trained from different velocity models "
                            "(refused otherwise)")


def location_settings(args: argparse.Namespace) -> dict:
    """Keyword arguments of :meth:`~obspy_hyposvi.locator.Locator.from_model` from the options.

    Raises
    ------
    UsageError
        A setting is out of range (the config classes' ``ValueError``, passed on).
    """
    from ..bridge.picks import PickConfig
    from ..locate.likelihood import LikelihoodConfig
    from ..locate.engine import SearchConfig
    from ..locate.summary import SummaryConfig
    from ..locate.svgd import SVGDConfig

    def given(**kwargs):
        return {k: v for k, v in kwargs.items() if v is not None}

    try:
        return {
            "device": args.device,
            "force": args.force_models,
            "svgd": SVGDConfig(**given(n_particles=args.particles, n_epochs=args.epochs,
                                       seed=args.seed)),
            "likelihood": LikelihoodConfig(kind=args.likelihood, error_model=_error_model(args),
                                           **given(spread=args.edt_spread)),
            "summary": SummaryConfig(**given(confidence_level=args.confidence)),
            "search": SearchConfig(**given(
                margin_km=getattr(args, "margin_km", None),
                max_distance_km=getattr(args, "max_distance_km", None),
                depth_km=tuple(args.depth_km) if getattr(args, "depth_km", None) else None)),
            "picks": PickConfig(**given(default_sigma_s=args.pick_sigma)),
            **_station_term_settings(args),
        }
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _station_term_settings(args: argparse.Namespace) -> dict:
    """Locator settings of ``--station-terms`` (read now: a bad file fails before any work)
    and ``--estimate-station-terms``."""
    from ..bridge.station_terms import read_station_terms

    out = {}
    if getattr(args, "station_terms", None) is not None:
        out["station_terms"] = read_station_terms(args.station_terms)
    if getattr(args, "estimate_station_terms", None) is not None:
        out["estimate_station_terms"] = True
    return out


def _error_model(args: argparse.Namespace):
    """``"auto"`` or the fixed :class:`ErrorModel` the arguments ask for."""
    from ..locate.likelihood import ErrorModel

    values = {k: v for k, v in (("fraction", args.error_fraction), ("min_s", args.error_min),
                                ("max_s", args.error_max)) if v is not None}
    if args.error_model == "auto" and values:
        raise UsageError("--error-model auto estimates the error model: drop the --error-* "
                         "values, or use --error-model fixed")
    if args.error_model == "fixed" or values:
        return ErrorModel(**values)
    return "auto"


def set_threads(threads: int | None) -> None:
    """Set torch's thread count (``torch.set_num_threads``); None leaves torch's default.

    Examples
    --------
    >>> set_threads(None)  # nothing changes
    """
    if threads is None:
        return
    import torch

    torch.set_num_threads(int(threads))


def check_device(device: str) -> None:
    """Refuse a device torch cannot use, before any model is loaded."""
    import torch

    from ..errors import InputError

    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise InputError(f"unknown device {device!r}: {exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device!r} requested but CUDA is not available; use --device cpu")
    n_gpus = torch.cuda.device_count() if dev.type == "cuda" else 0
    if dev.type == "cuda" and dev.index is not None and dev.index >= n_gpus:
        # else torch fails at the first model load, with its own traceback
        raise InputError(f"device {device!r} requested but only {n_gpus} CUDA device(s) are "
                         f"visible (cuda:0 to cuda:{n_gpus - 1}); use one of them or --device "
                         "cuda")


@contextmanager
def event_progress(total: int, desc: str) -> Iterator[Callable[[int], None]]:
    """A ``progress(done)`` callback: a tqdm bar on a terminal, else one line per call.

    When stderr is not a terminal (a log file, a batch job) each call, i.e. each finished
    SVGD batch, writes a line such as ``locating: pass 2: 32/100 events, 41 s``; a call with
    fewer or as many events as the last one starts the next pass of the catalogue.
    """
    from tqdm import tqdm

    if not _is_terminal(sys.stderr):
        yield progress_lines(total, desc, sys.stderr)
        return
    bar = tqdm(total=total, desc=desc, unit="event", file=sys.stderr, leave=False,
               disable=None)  # disable=None: no bar when stderr is not a terminal

    def progress(done: int) -> None:
        bar.update(done - bar.n)

    try:
        yield progress
    finally:
        bar.close()


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def progress_lines(total: int, desc: str, stream) -> Callable[[int], None]:
    """A ``progress(done)`` callback that writes one line per call to ``stream``.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> progress = progress_lines(20, "locating", out)
    >>> for done in (16, 20, 16, 20):
    ...     progress(done)
    >>> [line.split(",")[0] for line in out.getvalue().splitlines()]
    ['locating: pass 1: 16/20 events', 'locating: pass 1: 20/20 events', \
'locating: pass 2: 16/20 events', 'locating: pass 2: 20/20 events']
    """
    import time

    start = time.perf_counter()
    state = {"pass": 1, "last": -1}

    def progress(done: int) -> None:
        if done <= state["last"]:  # the count went back: the catalogue's next pass began
            state["pass"] += 1
        state["last"] = done
        elapsed_s = time.perf_counter() - start
        print(f"{desc}: pass {state['pass']}: {done}/{total} events, {elapsed_s:.0f} s",
              file=stream, flush=True)

    return progress
