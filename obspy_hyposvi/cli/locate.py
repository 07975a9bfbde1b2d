"""``hyposvi locate``: locate the events of a pick file and write the catalogue with origins.

With ``--workers N`` or ``--scheduler ADDRESS`` the events are located over a Dask cluster
(:mod:`obspy_hyposvi.distributed`), with the same results as the serial run.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from ._common import (
    UsageError,
    _positive_int,
    add_location_options,
    check_device,
    event_progress,
    location_settings,
    set_threads,
)
from ._outputs import (
    add_output_options,
    check_output_options,
    output_settings,
    print_solution_table,
    write_extra_outputs,
)

__all__ = ["add_parser", "run"]

logger = logging.getLogger(__name__)

#: Default ``--station-rule`` (:data:`obspy_hyposvi.bridge.station_map.DEFAULT_RULE`; not
#: imported, so that ``hyposvi --help`` does not load ObsPy).
DEFAULT_RULE = "NET_STA_LOC"


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``locate`` subcommand."""
    parser = subparsers.add_parser(
        "locate", help="locate the events of a pick file",
        description="Locate every event of PICKS (QuakeML, SC3ML, NonLinLoc or HypoInverse "
                    "phase files, or any format ObsPy reads) "
                    "and write a copy where each located event gains a preferred origin. "
                    "Events that cannot be located are kept unchanged and listed.")
    parser.add_argument("picks", type=Path, metavar="PICKS", help="event file with picks")
    parser.add_argument("--inventory", "-i", type=Path, required=True, metavar="INV",
                        help="station file (StationXML, a NonLinLoc GTSRCE station list or "
                             "any format ObsPy reads)")
    parser.add_argument("--input-format", default=None, metavar="FORMAT",
                        help="format of PICKS: NLLOC_OBS (NonLinLoc phase file), HYPOINVERSE "
                             "(Y2000 archive/phase file) or an ObsPy format (QUAKEML, SC3ML, "
                             "...); default: NLLOC_OBS and HYPOINVERSE are detected, ObsPy "
                             "guesses the others")
    parser.add_argument("--station-map", type=Path, default=None, metavar="FILE",
                        help="station labels of PICKS to SEED ids: one 'label NET.STA.LOC.CHA' "
                             "per line (CHA may be empty: AK.RC01..)")
    parser.add_argument("--station-rule", type=_station_rule, default=DEFAULT_RULE,
                        metavar="RULE",
                        help="how labels without a network code split into SEED codes, e.g. "
                             f"NET_STA_LOC (default {DEFAULT_RULE}, NonLinLoc's labels) or "
                             "STA.NET; NONE to split nothing. Bare station codes take the "
                             "network of the inventory's only station of that code")
    parser.add_argument("--inventory-format", default=None, metavar="FORMAT",
                        help="format of INV: NLLOC_GTSRCE (NonLinLoc station list) or an "
                             "ObsPy format (STATIONXML, SC3ML, STATIONTXT, ...); default: "
                             "detected, or ObsPy guesses")
    models = parser.add_mutually_exclusive_group()
    models.add_argument("--model", "-m", default="socal-1d", metavar="NAME",
                        help="travel-time model: bundled/user name or path prefix of "
                             "NAME-P.pt/NAME-S.pt (default socal-1d)")
    models.add_argument("--velocity-model", type=Path, default=None, metavar="FILE",
                        help="locate on the exact first arrivals of this 1D layered velocity "
                             "model (NonLinLoc LAYER lines, CSV, ...), no network to train "
                             "(with Dask too); "
                             "its domain: --max-offset-km (default 400 km) and -3..60 km "
                             "depth, widened to hold --depth-km")
    parser.add_argument("--networks", action="store_true",
                        help="locate on the networks of --model even where its velocity model is "
                             "layered 1D (default: that model's exact first arrivals, which the "
                             "networks only approximate)")
    parser.add_argument("--max-offset-km", type=float, default=None, metavar="KM",
                        help="largest source-station offset of --velocity-model (default 400)")
    parser.add_argument("--vp-vs-ratio", type=float, default=None, metavar="R",
                        help="S velocities of a P-only --velocity-model (HypoInverse CRH/CRE) "
                             "as vp / R")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                        help="output event file (written when complete: an existing file is "
                             "replaced only then)")
    parser.add_argument("--overwrite", action="store_true",
                        help="allow OUT to be the PICKS or INV file itself (refused otherwise)")
    parser.add_argument("--format", type=str.upper, choices=("QUAKEML", "SC3ML", "SCML"),
                        default="QUAKEML", help="output format (default QUAKEML)")
    parser.add_argument("--plot", type=Path, metavar="DIR", default=None,
                        help="write a figure per located event and one of the catalogue in "
                             "this folder (created if its parent exists)")
    add_output_options(parser)
    add_location_options(parser)
    dask = parser.add_argument_group(
        "Dask (needs: pip install obspy_hyposvi[distributed]); same results as without")
    where = dask.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                       help="locate on a local Dask cluster of N worker processes")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="locate on the Dask cluster of this scheduler (tcp://host:8786)")
    dask.add_argument("--chunk-size", type=_positive_int, default=None, metavar="N",
                      help="events per Dask task, a multiple of the SVGD batch of 16 events "
                           "(default 16)")
    parser.set_defaults(run=run)
    return parser


@contextmanager
def dask_client(args: argparse.Namespace) -> Iterator[Any]:
    """A Dask client for ``--workers``/``--scheduler``; ``--threads`` is applied on each worker.

    Raises
    ------
    HypoSVIError
        Dask is not installed, or the scheduler cannot be reached.
    """
    from ..distributed import _import_distributed
    from ..errors import HypoSVIError

    try:
        distributed = _import_distributed()
    except ImportError as exc:
        raise HypoSVIError(str(exc)) from None
    if args.workers is not None:
        _warn_shared_gpus(args.workers, args.device)
        # one single-threaded process per worker (torch runs one thread each unless --threads)
        with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                      processes=True, dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            _set_worker_threads(client, args.threads)
            yield client
        return
    try:
        client = distributed.Client(args.scheduler, timeout="30s")
    except (OSError, TimeoutError) as exc:
        raise HypoSVIError(f"cannot reach the Dask scheduler {args.scheduler}: {exc}") from None
    with client:
        _set_worker_threads(client, args.threads)
        yield client


def _check_chunk_size(chunk_size: int, use_dask: bool) -> None:
    """Refuse ``--chunk-size`` without Dask or off the SVGD batches (before any work)."""
    from ..locate.engine import SearchConfig

    if not use_dask:
        raise UsageError("--chunk-size needs --workers or --scheduler")
    batch_size = SearchConfig().fixed_batch_size  # the command line keeps the default batches
    if chunk_size % batch_size:
        raise UsageError(f"--chunk-size {chunk_size} is not a multiple of the SVGD batch of "
                         f"{batch_size} events: the results would differ from a serial run "
                         f"at float round-off; use {batch_size}, {2 * batch_size}, ...")


def _warn_shared_gpus(n_workers: int, device: str) -> None:
    """Log a warning when ``--workers N`` puts several workers on one GPU.

    ``--device cuda`` gives worker ``k`` the GPU ``k % n_gpus``
    (:func:`obspy_hyposvi.distributed.worker_device`), counting the GPUs this process sees:
    more workers than GPUs share them. ``--device cuda:K`` puts every worker on GPU K. Sharing
    works, but the workers then compete for one GPU's memory and kernels.
    """
    import torch

    if torch.device(device).type != "cuda":
        return
    n_gpus = torch.cuda.device_count()
    if n_gpus < 1:
        return  # check_device has refused the run already
    if device == "cuda" and n_workers > n_gpus:
        logger.warning("--workers %d on %d visible GPU(s): several Dask workers share a GPU "
                       "(worker k uses cuda:k mod %d)", n_workers, n_gpus, n_gpus)
    elif device != "cuda" and n_workers > 1:
        logger.warning("--workers %d --device %s: every Dask worker uses that one GPU; "
                       "--device cuda spreads them over the %d visible GPU(s)",
                       n_workers, device, n_gpus)


def _set_worker_threads(client: Any, threads: int | None) -> None:
    if threads is not None:
        client.run(set_threads, threads)


def run(args: argparse.Namespace) -> int:
    """Locate, write, print the summary; 0 even when some events fail (they are reported)."""
    from ..bridge.origins import write_catalog
    from ..bridge.picks import read_catalog, read_inventory
    from ..errors import InputError
    from ..bridge.station_map import resolve_station_codes
    from ..locator import Locator
    from ..eikonet.layered import DEFAULT_DEPTH_KM, DEFAULT_MAX_OFFSET_KM, velocity_model_1d

    settings = {**location_settings(args), **output_settings(args)}
    check_device(args.device)
    use_dask = args.workers is not None or args.scheduler is not None
    if args.vp_vs_ratio is not None and args.velocity_model is None:
        raise UsageError("--vp-vs-ratio reads a P-only --velocity-model: give that too")
    if args.networks and args.velocity_model is not None:
        raise UsageError("--networks uses the trained networks of --model; --velocity-model "
                         "has none (its times are exact)")
    if args.max_offset_km is not None and args.velocity_model is None:
        raise UsageError("--max-offset-km sets the domain of --velocity-model: give that too "
                         "(a trained model's domain is its own)")
    if args.chunk_size is not None:
        _check_chunk_size(args.chunk_size, use_dask)
    check_outputs(args)
    set_threads(args.threads)
    catalog = read_catalog(args.picks, format=args.input_format)
    if len(catalog) == 0:
        raise InputError(f"{args.picks} holds no events: nothing to locate (is it the right "
                         "file?)")
    if args.validate:  # before any work: an output that cannot validate is not written
        _check_schema_gaps(catalog, args.picks)
    inventory = read_inventory(args.inventory, format=args.inventory_format)
    # labels such as AK_RC01_-- (NonLinLoc) or bare station codes -> SEED ids of the inventory
    catalog = resolve_station_codes(catalog, inventory, args.station_map, args.station_rule,
                                    inplace=True)
    velocity = domain = None
    if args.velocity_model is not None:
        velocity = velocity_model_1d(args.velocity_model, vp_vs_ratio=args.vp_vs_ratio)
        domain = {"max_offset_km": args.max_offset_km or DEFAULT_MAX_OFFSET_KM}
        if args.depth_km:
            # the search box's depths must lie in the model's domain, and the stations'
            # (above sea level) too: the default range widened to hold both
            domain["depth_km"] = (min(DEFAULT_DEPTH_KM[0], args.depth_km[0]),
                                  max(DEFAULT_DEPTH_KM[1], args.depth_km[1]))
    if use_dask:
        from ..distributed import exact_model_key, run_distributed

        model = args.model if velocity is None else exact_model_key(velocity, **domain)
        with dask_client(args) as client, event_progress(len(catalog), "locating") as progress:
            report = run_distributed(catalog, inventory, model=model, client=client,
                                     chunk_size=args.chunk_size, progress=progress,
                                     exact_layered=not args.networks, **settings)
    else:
        if velocity is not None:
            locator = Locator.from_velocity_model(velocity, **domain, **settings)
        else:
            locator = Locator.from_model(args.model, exact_layered=not args.networks,
                                         **settings)
        with event_progress(len(catalog), "locating") as progress:
            report = locator.run(catalog, inventory, progress=progress)
    write_catalog(report.catalog, args.output, format=args.format, validate=args.validate,
                  scml_version=args.scml_version)
    if args.estimate_station_terms is not None:
        from ..bridge.station_terms import write_station_terms

        write_station_terms(args.estimate_station_terms, report.station_terms,
                            report.station_term_counts)
        print(f"station terms: {args.estimate_station_terms} "
              f"({len(report.station_terms)} station-phases)")
    print_solution_table(report)
    for line in report.summary_lines():
        print(line)
    print(f"written: {args.output} ({args.format})")
    for line in write_extra_outputs(report, args):
        print(line)
    if args.plot is not None:
        for path in write_figures(report, args.plot):
            print(f"figure: {path}")
    if report.n_failed:
        print(f"{report.n_failed} events not located; they are in {args.output} unchanged",
              file=sys.stderr)
    return 0


def _check_schema_gaps(catalog, picks: Path) -> None:
    """Refuse a catalogue that lacks elements its schema requires (a pick without a time, an
    origin without coordinates, ...): the output keeps them all and could not validate.

    Raises
    ------
    InputError
        Naming the first gap and how many more, and the two ways out.
    """
    from ..bridge.schema_gaps import missing_required
    from ..errors import InputError

    gaps = missing_required(catalog)
    if gaps:
        more = f" (and {len(gaps) - 1} more)" if len(gaps) > 1 else ""
        raise InputError(f"{picks}: {gaps[0]}{more}; the output keeps every element of the "
                         "input and would not validate against its schema: complete the file, "
                         "or write the output unchecked with --no-validate")


def _station_rule(text: str) -> str | None:
    """``--station-rule``: a split rule (checked now, not after reading), or None for NONE."""
    from ..bridge.station_map import split_label

    if text.upper() == "NONE":
        return None
    try:
        split_label("", text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before any work, an output that cannot be written or would replace an input.

    Raises
    ------
    OutputError
        ``-o`` is in a missing or read-only folder, is a folder, or is PICKS or INV without
        ``--overwrite``; ``--plot`` is a file, or its parent folder is missing.
    """
    from ..safe_write import check_output_file, check_output_folder

    check_output_file(args.output, inputs=(args.picks, args.inventory),
                      overwrite=args.overwrite, option="-o")
    if args.plot is not None:
        check_output_folder(args.plot, option="--plot")
    if args.estimate_station_terms is not None:
        check_output_file(args.estimate_station_terms, inputs=(args.picks, args.inventory),
                          overwrite=args.overwrite, option="--estimate-station-terms")
    check_output_options(args)  # --samples, --table, --scml-version, --agency, --author


def write_figures(report, folder: Path, truth_xyz_km=None) -> list[Path]:
    """One figure per located event (``NNN.png``, in catalogue order) and ``catalog.png``.

    ``folder`` is created if its parent exists; each figure is written whole or not at all.
    """
    from ..locate.result import LocationResult
    from ..plot import plot_catalog, plot_event
    from ..safe_write import make_output_folder, write_atomically

    make_output_folder(folder, option="--plot")
    paths = []
    for k, (res, obs) in enumerate(zip(report.results, report.observations)):
        if isinstance(res, LocationResult):
            truth = None if truth_xyz_km is None else truth_xyz_km[k]
            path = folder / f"{k + 1:03d}.png"
            write_atomically(path, partial(plot_event, res, obs, _frame_of(report, k),
                                           truth_xyz_km=truth))
            paths.append(path)
    path = folder / "catalog.png"
    write_atomically(path, partial(plot_catalog, report.results, report.observations,
                                   getattr(report, "projections", None) or report.projection,
                                   truth_xyz_km=truth_xyz_km))
    return paths + [path]


def _frame_of(report, k: int):
    """The frame of event ``k`` (each event has its own), or the report's only one."""
    projections = getattr(report, "projections", None)
    return projections[k] if projections else report.projection
