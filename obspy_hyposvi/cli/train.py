"""``hyposvi train``: train a 1D EikoNet travel-time model of one phase from a velocity file."""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

from ._common import UsageError, check_device

__all__ = ["add_parser", "run"]

#: Highest station on Earth is below 9 km: a domain reaching higher is a sign error.
_MIN_DEPTH_KM = -9.0
#: Fewest steps: the one-cycle schedule's 5 % warm-up needs at least two steps.
_MIN_STEPS = 50
#: Depth range of 1D models when --depth-km is not given, km below sea level.
_DEFAULT_DEPTH_KM = (-3.0, 60.0)
#: Beyond this offset a flat-Earth 1D model is a poor description of first arrivals.
_FLAT_EARTH_OFFSET_KM = 1000.0


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``train`` subcommand."""
    parser = subparsers.add_parser(
        "train", help="train a travel-time model from a 1D or 3D velocity model",
        description="Train an EikoNet model of one phase on a 1D velocity model (CSV "
                    "depth_km,vp,vs; NonLinLoc LAYER; HypoInverse CRH/CRE), validate it "
                    "against the exact layered solution and write a checkpoint; or a 3D "
                    "network on a gridded model (.npz), reporting its held-out eikonal "
                    "residual. Resumable state is saved every 500 steps to OUT.pt.state.")
    parser.add_argument("velocity", type=Path, metavar="VELOCITY_FILE",
                        help="1D velocity model, or a 3D grid (.npz) for a 3D network")
    parser.add_argument("--phase", choices=("P", "S"), required=True, help="phase to train")
    parser.add_argument("--max-offset-km", type=float, default=400.0,
                        help="largest source-receiver horizontal offset, km (default 400; 1D)")
    parser.add_argument("--depth-km", type=float, nargs=2, default=None,
                        metavar=("MIN", "MAX"),
                        help="valid depth range, km below sea level; MIN must be at or above "
                             "the highest station (default -3 60; 3D: the grid's)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.pt",
                        help="checkpoint to write")
    parser.add_argument("--steps", type=int, default=None, help="optimiser steps (default 8000)")
    parser.add_argument("--width", type=int, default=None, help="hidden width (default 128)")
    parser.add_argument("--layers", type=int, default=None, help="hidden layers (default 4)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="collocation pairs per step (default 2048)")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and sampling")
    parser.add_argument("--name", default=None,
                        help="name of the velocity model in the checkpoint and in `hyposvi "
                             "models` (default: the file's stem)")
    parser.add_argument("--device", default="cpu", help="torch device: cpu or cuda")
    parser.add_argument("--vp-vs-ratio", type=float, default=None,
                        help="Vs = Vp / ratio for files without S velocities")
    parser.add_argument("--inventory", type=Path, default=None, metavar="INV",
                        help="check that these stations fit in the requested domain")
    parser.add_argument("--resume", type=Path, default=None, metavar="STATE.pt",
                        help="resume from a saved training state (OUT.pt.state)")
    parser.set_defaults(run=run)
    return parser


def _shape_and_steps(args: argparse.Namespace) -> dict:
    """The network-shape and step settings given on the command line (1D and 3D alike)."""
    if args.steps is not None and args.steps < _MIN_STEPS:
        raise UsageError(f"--steps {args.steps}: at least {_MIN_STEPS} (the learning-rate "
                         "schedule warms up over the first 5 %)")
    return {k: v for k, v in {"n_steps": args.steps, "width": args.width,
                              "n_layers": args.layers,
                              "batch_size": args.batch_size}.items() if v is not None}


def _config(args: argparse.Namespace):
    from ..eikonet.train import TrainConfig

    depth_min, depth_max = args.depth_km
    if not depth_min < depth_max:
        raise UsageError(f"--depth-km {depth_min:g} {depth_max:g}: MIN must be below MAX")
    if depth_min > 0:
        raise UsageError(f"--depth-km {depth_min:g} {depth_max:g}: the domain must contain the "
                         "stations, which sit at or above sea level (negative depths): use MIN "
                         "<= -(highest station elevation in km), e.g. -3")
    if depth_min < _MIN_DEPTH_KM:
        raise UsageError(f"--depth-km MIN={depth_min:g} km is higher than any station on Earth "
                         f"(limit {_MIN_DEPTH_KM:g}); depths are km below sea level")
    if not args.max_offset_km > 0:
        raise UsageError(f"--max-offset-km {args.max_offset_km:g}: must be > 0")
    given = _shape_and_steps(args)
    try:
        return TrainConfig(max_offset_km=args.max_offset_km, depth_min_km=depth_min,
                           depth_max_km=depth_max, seed=args.seed, **given)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _check_stations(inventory_path: Path, config) -> None:
    """Stations must fit the domain that `hyposvi locate` will ask of the model."""
    from ..bridge.picks import read_inventory, station_positions
    from ..eikonet.domain import check_stations_in_domain
    from ..locate.engine import SearchConfig

    names, lon, lat, elevation = station_positions(read_inventory(inventory_path))
    check_stations_in_domain(names, lon, lat, elevation, config,
                             margin_km=SearchConfig().margin_km, source=str(inventory_path))


def _config_3d(args: argparse.Namespace, grid):
    from ..eikonet.train3d import Train3DConfig

    (x0, x1), (y0, y1), (z0, z1) = grid.bounds_km
    if args.depth_km is not None:  # a depth range cut out of the grid's
        z0, z1 = args.depth_km
    given = _shape_and_steps(args)
    try:
        return Train3DConfig(box_min_km=(x0, y0, z0), box_max_km=(x1, y1, z1), seed=args.seed,
                             **given)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _notes_1d(args: argparse.Namespace, model, config) -> None:
    if args.inventory is not None:
        _check_stations(args.inventory, config)
    if config.max_offset_km > _FLAT_EARTH_OFFSET_KM:
        print(f"note: offsets beyond {_FLAT_EARTH_OFFSET_KM:g} km are poorly described by a "
              "flat-Earth 1D model", file=sys.stderr)
    depths = model.depth_km
    if model.kind == "nodes_1d" and (depths[0] > config.depth_min_km
                                     or depths[-1] < config.depth_max_km):
        print(f"note: {args.velocity} has nodes from {depths[0]:g} to {depths[-1]:g} km; "
              "velocities are held constant outside them", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Train, validate, save; print the validation figures."""
    from tqdm import tqdm

    from .. import __version__
    from ..eikonet.checkpoint import revalidate_checkpoint, save_checkpoint
    from ..eikonet.resume import load_training_state, save_training_state, training_state_path
    from ..eikonet.train import checkpoint_metadata, train_eikonet_1d
    from ..eikonet.train3d import checkpoint_metadata_3d, train_eikonet_3d
    from ..errors import InputError
    from ..safe_write import check_output_file, make_output_folder
    from ..velocity import Grid3D, VelocityModel1D, read_velocity_model

    check_device(args.device)
    named = {"name": args.name} if args.name else {}
    model = read_velocity_model(args.velocity, vp_vs_ratio=args.vp_vs_ratio, **named)
    if isinstance(model, Grid3D):
        if args.inventory is not None:
            raise UsageError("--inventory checks the domain of 1D models; a 3D model's box is "
                             "its grid")
        config = _config_3d(args, model)
        train, metadata = train_eikonet_3d, checkpoint_metadata_3d
    elif isinstance(model, VelocityModel1D):
        if args.depth_km is None:
            args.depth_km = _DEFAULT_DEPTH_KM
        config = _config(args)
        _notes_1d(args, model, config)
        train, metadata = train_eikonet_1d, checkpoint_metadata
    else:
        raise InputError(f"{args.velocity}: a {type(model).__name__} model cannot be trained")
    state = None if args.resume is None else load_training_state(args.resume, config)
    state_path = training_state_path(args.output)
    # before training: a bad -o is reported now, not after hours of it
    make_output_folder(args.output.parent, parents=True, option="-o")
    check_output_file(args.output, inputs=(args.velocity,), option="-o", overwrite_option=None)

    start = 0 if state is None else int(state["step"])
    bar = tqdm(total=config.n_steps, initial=start, desc=f"training {args.phase}", unit="step",
               file=sys.stderr, leave=False, disable=None)

    def progress(step: int, loss: float) -> None:
        bar.update(step - bar.n)
        if step % 50 == 0:
            bar.set_postfix(loss=f"{loss:.3g}")

    try:
        net, report = train(model, args.phase, config, device=args.device, state=state,
                            on_checkpoint=partial(save_training_state, state_path),
                            checkpoint_every=500, progress=progress)
    except ValueError as exc:  # a box outside the grid, found once the grid is known
        raise UsageError(str(exc)) from None
    finally:
        bar.close()
    meta = metadata(model, args.phase, config, report, package_version=__version__)
    # a JSON round trip turns str subclasses (torch.__version__ is a TorchVersion) into plain
    # str: torch.load(weights_only=True) refuses anything else
    meta = json.loads(json.dumps(meta))
    save_checkpoint(args.output, net.state_dict(), meta)
    if not isinstance(model, Grid3D):
        # the figures over the whole domain the model advertises, as the bundled ones state
        # (the training's own figures cover offsets to 250 km and sources to 40 km)
        revalidate_checkpoint(args.output)
    if state_path.exists():
        state_path.unlink()  # the finished checkpoint supersedes the resumable state
    val = report.validation
    print(f"written: {args.output} ({args.phase}, {config.n_steps} steps, "
          f"{report.seconds:.0f} s on {report.device})")
    if isinstance(model, Grid3D):
        print(f"held-out eikonal residual |v |grad T| - 1| ({val['n_pairs']} pairs): median "
              f"{val['median_abs_residual']:.4f}, 99th percentile {val['p99_abs_residual']:.4f}")
        print("  a 3D model has no exact solution: compare with fast marching "
              "(obspy_hyposvi.reference.fmm, benchmarks/eikonet_3d.py)")
        print(f"  final loss: train {report.final_train_loss:.4g}")
        return 0
    print(f"validation against the exact layered solution ({val['n_pairs']} pairs, offsets "
          f"0-{val['max_offset_km']:g} km):")
    print(f"  median |dT| {val['median_abs_dt_s']:.4f} s, 99th percentile "
          f"{val['p99_abs_dt_s']:.4f} s, max {val['max_abs_dt_s']:.4f} s, "
          f"mean dT {val['mean_dt_s']:+.4f} s")
    print(f"  velocity from |grad T|: median |dv| {val['median_abs_dv_kmps']:.4f} km/s, "
          f"99th percentile {val['p99_abs_dv_kmps']:.4f} km/s")
    print(f"  final loss: train {report.final_train_loss:.4g}, validation "
          f"{report.final_val_loss:.4g}")
    return 0
