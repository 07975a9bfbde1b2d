"""Real-data comparison with NonLinLoc: the 2018-11-30 Mww 7.0 Anchorage earthquake and six
aftershocks (NonLinLoc's southern-Alaska sample, ``shared/realdata/nll_southern_alaska_2018``).

Done as a user would do it:

1. read NonLinLoc's regional 1D model straight from its control file (``raw/nlloc_sample.in``:
   only the ``LAYER`` lines are used) and locate on its exact first arrivals
   (:meth:`~obspy_hyposvi.locator.Locator.from_velocity_model`, what ``hyposvi locate
   --velocity-model`` does: nothing to train); with ``--train``, also train P and S EikoNet
   networks for it with the package's public training API (resumable, progress every 250
   steps) and locate on them (the ``networks`` runs);
2. locate the 7 events of ``obspy/catalog.xml`` against ``obspy/inventory.xml`` with
   :class:`~obspy_hyposvi.locator.Locator`;
3. compare each new origin with NonLinLoc's (the catalogue's reference origin): epicentral
   distance (km, WGS84 geodesic), depth and origin-time differences (ours minus NonLinLoc), and
   whether each solution lies inside the other's stated confidence ellipsoid.

The ellipsoid test uses squared Mahalanobis distances against the chi-square 3-dof quantile
at each solution's own stated level (NonLinLoc 68 %, ours 68.27 %). NonLinLoc's covariance is
parsed from its ``STATISTICS`` line in the origin comment (km^2, x east, y north, z down in its
``TRANS LAMBERT`` frame, centred on its expectation hypocentre ``ExpectX/Y/Z``); the origin's
``major_axis_rotation`` is not used (NonLinLoc computes it with a sign error). Offsets into
NonLinLoc's frame go through the same Lambert projection (pyproj reproduces NonLinLoc's
x/y to < 0.1 m). Ours is the posterior cluster's covariance (km^2, local UTM frame), centred on
the cluster mean. A covariance describes the spread about its mean, so each ellipsoid is
centred there, and each *solution* tested is the reported origin (NonLinLoc's maximum
likelihood point, our posterior mean).

The table marks (``!``) a posterior with several modes (its ellipsoid covers them all). For
each event it also records the stated 68 % depth half-width against the 16-84 % depth spread
of the particles that sample the posterior (issue 9: never below a quarter of it). The package
itself flags a location whose particles did not reach the posterior (``extra["converged"]``, a
rejected origin); the summary counts them. The ``defaults`` run uses the package's default
settings (error model estimated from these 7 events, outliers left out), on every pick;
``nll_picks_defaults`` the same defaults on the picks NonLinLoc used (weight > 0), the fair
comparison of the two methods on the same data (the same picks and velocity model as its
published solutions); ``station_terms`` adds estimated station terms to ``defaults``.

For each event, our own log-likelihood is also evaluated at NonLinLoc's hypocentre (its depth
clipped to our models' top): if it beats our solution's, the SVGD search missed that point.
``--grid-check`` adds, in the ``all_picks`` run, the maximum of our likelihood on a 4 x 4 x 5 km
grid over the search box.

Six more runs, the first four on the same exact times:

- ``default_svgd``: every pick, the package's default SVGD settings (what a user tries first),
  error model set to NonLinLoc's ``LOCGAU2 0.02 0.05 2.0`` (2 % of the travel time, clipped to
  0.05-2.0 s), so both locators assume the same forward-model error;
- ``all_picks``: the same with SVGD steps for a regional search box (``REGIONAL_SVGD``: the
  box spans the whole network, about 700 x 600 km, which default steps cannot cross);
- ``nll_picks``: as ``all_picks`` but only the picks NonLinLoc gave a weight > 0 (it ignores
  stations whose 400 km travel-time grid does not cover its whole search grid): separates the
  effect of the pick set from that of the method;
- ``default_error``: as ``all_picks`` with the package's default error model (10 %, 0.1-2.0 s);
- ``networks``, ``networks_nll_picks``: as ``defaults`` and ``nll_picks_defaults`` on the
  trained networks (``Locator.from_model(..., exact_layered=False)``) instead of the exact
  times they approximate: what the networks' errors change. Skipped when no networks are
  trained (``--train``).

With ``--nll-bin DIR`` (NonLinLoc's binaries, built separately) NonLinLoc itself is run again
with its sample's settings, on its own picks and on every pick (``_nll_rerun.py``), and every
event of each run is also set against the rerun on the same pick set (``vs_nll_same_picks``):
the comparison of the two methods on the same data, which the published solutions (fewer
picks) are not for our every-pick runs. It also sets each estimate against NonLinLoc's of the
same kind: our hypocentre (posterior mean) against NonLinLoc's expectation, our best particle
(MAP) against its maximum-likelihood hypocentre, and the means' depth difference in units of
the two depth standard deviations combined.

Five picked stations have no coordinates in the inventory: their picks must be reported and
skipped (weight-0 arrivals), never fatal; the script checks and records that.

The domain: offsets to ``MAX_OFFSET_KM`` and depths -3..100 km (NonLinLoc's grid: 400 km,
-5..100 km). The search box of the locator is the picked stations' bounding box plus a 30 km
margin, and every corner must be within the models' offset range of every station: for this
network that needs 791 km, hence 800 km rather than NonLinLoc's 400 km (checked at start).

Prints the settings, the per-event table of each run and a summary; writes
``benchmarks/results/alaska_nonlinloc.json`` (numbers, settings, load average).

Usage::

    python benchmarks/alaska_nonlinloc.py --train [--phases P S] [--steps 8000] [--threads 1]
    python benchmarks/alaska_nonlinloc.py --train --phases P --train-only --threads 1   # one phase
    python benchmarks/alaska_nonlinloc.py [--models DIR] [--threads 1] [--quick] [--nll-bin DIR]

The data are GPL-3 (NonLinLoc's sample): they are read from ``../shared/realdata`` next to the
repository and never copied into it.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from obspy import read_events, read_inventory
from pyproj import Geod, Transformer
from scipy.stats import chi2

from obspy_hyposvi import (
    ErrorModel,
    LikelihoodConfig,
    Locator,
    SearchConfig,
    SVGDConfig,
    __version__,
    load_model,
)
from obspy_hyposvi.eikonet.checkpoint import save_checkpoint
from obspy_hyposvi.eikonet.layered import layered_model
from obspy_hyposvi.eikonet.train import (
    TrainConfig,
    checkpoint_metadata,
    train_eikonet_1d,
    validate_1d,
)
from obspy_hyposvi.locate.result import LocationResult
from obspy_hyposvi.velocity import read_velocity_model

from _likelihood_grid import log_likelihood  # benchmarks/_likelihood_grid.py
from _nll_rerun import rerun_nonlinloc  # benchmarks/_nll_rerun.py
from _results import write_results  # benchmarks/_results.py

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
# the repository and shared/ are siblings (here and in CI)
DATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "nll_southern_alaska_2018"
CONTROL_FILE = DATA / "raw" / "nlloc_sample.in"
CATALOG_FILE = DATA / "obspy" / "catalog.xml"
INVENTORY_FILE = DATA / "obspy" / "inventory.xml"
DEFAULT_MODELS = ROOT / "benchmarks" / ".cache" / "alaska"
MODEL_NAME = "alaska-nll-1d"  # checkpoints MODEL_NAME-P.pt and MODEL_NAME-S.pt

#: Offset range, km: the locator's search box (picked stations' bounding box + 30 km margin)
#: needs 791 km from a box corner to the farthest station for this network.
MAX_OFFSET_KM = 800.0
#: Depth range, km below sea level: stations reach 2.28 km elevation; NonLinLoc's grid goes
#: to 100 km (its top, -5 km, is above every station).
DEPTH_KM = (-3.0, 100.0)
#: Steps between progress lines of training.
PROGRESS_EVERY = 250
#: NonLinLoc's forward-model error, LOCGAU2 0.02 0.05 2.0 in raw/nlloc_sample.in.
NLL_ERROR_MODEL = ErrorModel(fraction=0.02, min_s=0.05, max_s=2.0)
#: NonLinLoc's TRANS LAMBERT Clarke-1880 61.0 -150.0 60.0 62.0 0.0, in km.
NLL_FRAME = ("+proj=lcc +lat_1=60 +lat_2=62 +lat_0=61 +lon_0=-150 +ellps=clrk80 +units=km "
             "+no_defs")
#: NonLinLoc's search-grid top (LOCGRID z origin), km: its depths within 1.5 km are pinned.
NLL_GRID_TOP_KM = -5.0
PINNED_WITHIN_KM = 1.5
#: SVGD for a regional network. The search box spans the whole network (about 700 x 600 km
#: here), but Adam moves a particle at most about ``learning_rate`` km per epoch: with the
#: defaults (2 km, cosine decay to 0.02 km over 175 epochs, about 175 km in all) particles
#: that start far from the event never reach it. 10 km over 400 epochs lets them cross the box.
REGIONAL_SVGD = SVGDConfig(learning_rate=10.0, n_epochs=400)
QUICK_SVGD = SVGDConfig(n_particles=60, n_epochs=150, learning_rate=10.0)
#: Spacing of the optional likelihood grid search (--grid-check), km (x, y, z).
GRID_SPACING_KM = (4.0, 4.0, 5.0)
#: The accuracy check of the trained models over the offsets that matter here: the farthest
#: picked station is 356 km from NonLinLoc's hypocentres; sources down to the domain bottom.
CHECK_OFFSET_KM = 400.0
CHECK_SOURCE_DEPTH_KM = (0.0, 100.0)
CHECK_RECEIVER_DEPTH_KM = (-2.3, 0.0)

_GEOD = Geod(ellps="WGS84")
_TO_NLL = Transformer.from_crs("EPSG:4326", NLL_FRAME, always_xy=True)


# -- training ---------------------------------------------------------------------------------
def checkpoint_path(models: Path, phase: str) -> Path:
    return models / f"{MODEL_NAME}-{phase}.pt"


def train_config(steps: int, seed: int) -> TrainConfig:
    return TrainConfig(max_offset_km=MAX_OFFSET_KM, depth_min_km=DEPTH_KM[0],
                       depth_max_km=DEPTH_KM[1], n_steps=steps, seed=seed)


def _resumable_state(path: Path, config: TrainConfig) -> dict | None:
    """A saved training state of the same settings, or None."""
    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    saved = json.loads(json.dumps(state.get("config", {})))
    if saved != json.loads(json.dumps(config.to_dict())):
        print(f"ignoring {path}: it was trained with other settings", flush=True)
        return None
    return state


def train_phase(phase: str, models: Path, steps: int, seed: int, device: str) -> dict:
    """Train one phase for NonLinLoc's LAYER model; write its checkpoint; return the figures."""
    velocity = read_velocity_model(CONTROL_FILE, name=MODEL_NAME)  # the LAYER lines only
    config = train_config(steps, seed)
    out = checkpoint_path(models, phase)
    state_path = out.with_name(out.name + ".state")
    state = _resumable_state(state_path, config)
    start = 0 if state is None else int(state["step"])
    print(f"training {phase}: {type(velocity).__name__} {velocity.name} "
          f"({len(velocity.depth_km)} layers, tops {velocity.depth_km.tolist()} km), offsets "
          f"0-{config.max_offset_km:g} km, depths {config.depth_min_km:g}..{config.depth_max_km:g}"
          f" km, {config.n_steps} steps of {config.batch_size} pairs, {config.width}x"
          f"{config.n_layers} net, {torch.get_num_threads()} thread(s)"
          + (f", resuming at step {start}" if start else ""), flush=True)
    models.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    def progress(step: int, loss: float) -> None:
        if step % PROGRESS_EVERY == 0 or step == config.n_steps:
            print(f"{phase} step {step}/{config.n_steps} loss {loss:.3e} "
                  f"{time.perf_counter() - t0:.0f} s load {os.getloadavg()[0]:.2f}", flush=True)

    def save_state(training_state: dict) -> None:
        tmp = state_path.with_name(state_path.name + ".tmp")
        torch.save(training_state, tmp)
        os.replace(tmp, state_path)  # atomic: an interrupted save never leaves half a state

    net, report = train_eikonet_1d(velocity, phase, config, device=device, state=state,
                                   on_checkpoint=save_state, progress=progress)
    meta = checkpoint_metadata(velocity, phase, config, report, package_version=__version__,
                               description=f"EikoNet 1D {phase} model of NonLinLoc's southern "
                               "Alaska LAYER model (raw/nlloc_sample.in), trained by "
                               "benchmarks/alaska_nonlinloc.py")
    meta["training"]["resumed_from_step"] = start
    meta["training"]["threads"] = torch.get_num_threads()
    meta = json.loads(json.dumps(meta))  # plain str for torch.load(weights_only=True)
    save_checkpoint(out, net.state_dict(), meta)
    if state_path.exists():
        state_path.unlink()  # the finished checkpoint supersedes the resumable state
    val = report.validation
    print(f"written: {out} ({phase}, {config.n_steps} steps, {report.seconds:.0f} s)")
    print(f"  validation (offsets 0-{val['max_offset_km']:g} km, sources "
          f"{val['source_depth_km'][0]:g}-{val['source_depth_km'][1]:g} km): median |dT| "
          f"{val['median_abs_dt_s']:.4f} s, p99 {val['p99_abs_dt_s']:.4f} s, max "
          f"{val['max_abs_dt_s']:.4f} s; median |dv| {val['median_abs_dv_kmps']:.4f} km/s; final "
          f"loss train {report.final_train_loss:.4g}, validation {report.final_val_loss:.4g}",
          flush=True)
    return {"seconds": report.seconds, "validation": val}


#: Offset bands (km) of the networks' signed error against exact layered times.
OFFSET_BANDS_KM = (0.0, 25.0, 50.0, 100.0, 150.0, 250.0, 400.0)


def error_by_offset(model, velocity, phase: str, n_pairs: int = 40000, seed: int = 0) -> list:
    """The network's error against the exact first arrivals of the same layered model
    (:func:`~obspy_hyposvi.eikonet.layered.layered_model`), per offset band: mean (signed,
    > 0: the network is late) and median absolute, s. Sources and receivers as in the region's
    check (``CHECK_SOURCE_DEPTH_KM``, ``CHECK_RECEIVER_DEPTH_KM``)."""
    rng = np.random.default_rng(seed)
    exact = layered_model(velocity, phase, max_offset_km=MAX_OFFSET_KM, depth_km=DEPTH_KM)
    offset = rng.uniform(0.0, OFFSET_BANDS_KM[-1], n_pairs)
    azimuth = rng.uniform(0.0, 2 * np.pi, n_pairs)
    sources = np.stack([np.zeros(n_pairs), np.zeros(n_pairs),
                        rng.uniform(*CHECK_SOURCE_DEPTH_KM, n_pairs)], axis=1)
    receivers = np.stack([offset * np.cos(azimuth), offset * np.sin(azimuth),
                          rng.uniform(*CHECK_RECEIVER_DEPTH_KM, n_pairs)], axis=1)
    dt = (np.asarray(model.travel_time(sources, receivers))
          - np.asarray(exact.travel_time(sources, receivers)))
    bands = []
    for lo, hi in zip(OFFSET_BANDS_KM[:-1], OFFSET_BANDS_KM[1:]):
        inside = (offset >= lo) & (offset < hi)
        bands.append({"offset_km": [lo, hi], "mean_dt_s": float(dt[inside].mean()),
                      "median_abs_dt_s": float(np.median(np.abs(dt[inside])))})
    return bands


def model_figures(models: Path) -> dict:
    """Training settings and accuracy of both checkpoints (training's and this region's check)."""
    velocity = read_velocity_model(CONTROL_FILE, name=MODEL_NAME)
    out = {}
    for phase in "PS":
        model = load_model(checkpoint_path(models, phase), phase)
        meta = model.metadata
        check = validate_1d(model.net, velocity, phase, max_offset_km=CHECK_OFFSET_KM,
                            source_depth_km=CHECK_SOURCE_DEPTH_KM,
                            receiver_depth_km=CHECK_RECEIVER_DEPTH_KM)
        out[phase] = {"path": str(checkpoint_path(models, phase)),
                      "velocity_sha256": meta["velocity_model"]["sha256"],
                      "domain": meta["domain"], "training": meta["training"],
                      "validation_training": meta["validation"],
                      "validation_region": check,
                      "error_by_offset": error_by_offset(model, velocity, phase)}
    if out["P"]["velocity_sha256"] != out["S"]["velocity_sha256"]:
        raise SystemExit(f"{models}: the P and S checkpoints are of different velocity models")
    return out


# -- data -------------------------------------------------------------------------------------
def nll_statistics(origin) -> dict:
    """NonLinLoc's expectation (km, its Lambert frame) and covariance from the origin comment."""
    text = next((c.text for c in origin.comments if "STATISTICS" in c.text), None)
    if text is None:
        raise SystemExit(f"origin {origin.resource_id}: no NonLinLoc STATISTICS comment")
    line = re.search(r"STATISTICS.*", text).group(0).split()
    values = dict(zip(line[1::2], (float(v) for v in line[2::2])))
    # the line runs 'ExpectX x Y y Z z CovXX .. XY .. XZ .. YY .. YZ .. ZZ ..'
    expect = np.array([values["ExpectX"], values["Y"], values["Z"]])
    cov = np.array([[values["CovXX"], values["XY"], values["XZ"]],
                    [values["XY"], values["YY"], values["YZ"]],
                    [values["XZ"], values["YZ"], values["ZZ"]]])
    return {"expect_xyz_km": expect, "covariance_km2": cov}


def nll_xy_km(lon_deg: float, lat_deg: float) -> tuple[float, float]:
    x, y = _TO_NLL.transform(lon_deg, lat_deg)
    return float(x), float(y)


def mahalanobis2(d: np.ndarray, cov: np.ndarray) -> float | None:
    """Squared Mahalanobis distance, or None for a singular covariance (no ellipsoid)."""
    if np.linalg.matrix_rank(cov) < 3:
        return None
    return float(d @ np.linalg.solve(cov, d))


def nll_weighted_picks(event) -> set[str]:
    """Pick ids NonLinLoc used (arrival weight > 0) in its origin."""
    return {str(a.pick_id) for a in event.origins[0].arrivals if (a.time_weight or 0) > 0}


def subset_catalog(catalog, keep):
    """Copy of the catalogue whose events keep only the picks ``keep(event)`` names."""
    out = copy.deepcopy(catalog)
    for event, original in zip(out, catalog):
        ids = keep(original)
        event.picks = [p for p in event.picks if str(p.resource_id) in ids]
    return out


# -- our likelihood at given hypocentres (benchmarks/_likelihood_grid.py) -------------------
def grid_maximum(locator: Locator, obs, margin_km: float, error_models) -> dict:
    """Maximum of the likelihood on a grid over the locator's search box (a check of SVGD)."""
    xyz = obs.station_xyz_km
    axes = [np.arange(xyz[:, i].min() - margin_km, xyz[:, i].max() + margin_km + 1e-9, step)
            for i, step in zip((0, 1), GRID_SPACING_KM[:2])]
    axes.append(np.arange(DEPTH_KM[0] + 0.5, DEPTH_KM[1], GRID_SPACING_KM[2]))
    grid = np.stack([a.ravel() for a in np.meshgrid(*axes, indexing="ij")], axis=1)
    logl = log_likelihood(locator, obs, grid, error_models)
    best = int(np.argmax(logl))
    return {"xyz_km": grid[best].tolist(), "log_likelihood": float(logl[best]),
            "spacing_km": list(GRID_SPACING_KM), "n_points": len(grid)}


# -- comparison -------------------------------------------------------------------------------
def compare(report, catalog, locator: Locator, grid_check: bool = False) -> list[dict]:
    """One row per event: our new origin against NonLinLoc's.

    Besides the differences, our own log-likelihood at both hypocentres (NonLinLoc's depth
    clipped to the models' top): where NonLinLoc's point scores higher, SVGD missed the mode.
    """
    rows = []
    for k, (event, located, res, obs) in enumerate(zip(catalog, report.catalog, report.results,
                                                       report.observations)):
        ref = event.origins[0]  # NonLinLoc's origin, the input's only one
        stats = nll_statistics(ref)
        nll_level = float(ref.origin_uncertainty.confidence_level)
        row = {"event": k, "event_id": str(event.resource_id),
               "nll": {"time": str(ref.time), "lat_deg": ref.latitude, "lon_deg": ref.longitude,
                       "depth_km": ref.depth / 1e3,  # QuakeML depth is in m
                       "depth_pinned": ref.depth / 1e3 < NLL_GRID_TOP_KM + PINNED_WITHIN_KM,
                       "used_phases": ref.quality.used_phase_count,
                       # QuakeML ellipsoid lengths are in m
                       "semi_axes_km": [ref.origin_uncertainty.confidence_ellipsoid
                                        .semi_major_axis_length / 1e3,
                                        ref.origin_uncertainty.confidence_ellipsoid
                                        .semi_intermediate_axis_length / 1e3,
                                        ref.origin_uncertainty.confidence_ellipsoid
                                        .semi_minor_axis_length / 1e3],
                       "rms_s": ref.quality.standard_error,
                       "confidence_level": nll_level,
                       "expect_xyz_km": stats["expect_xyz_km"].tolist(),
                       "covariance_km2": stats["covariance_km2"].tolist()},
               "n_picks_in": len(event.picks)}
        if not isinstance(res, LocationResult):
            row["located"] = False
            row["reason"] = res.reason
            rows.append(row)
            continue
        origin = located.preferred_origin()
        depth_km = origin.depth / 1e3  # QuakeML depth is in m
        az, _, dist_m = _GEOD.inv(ref.longitude, ref.latitude, origin.longitude,
                                  origin.latitude)
        cov = np.asarray(res.covariance_km2)
        particles = np.asarray(res.particles_xyz_km)
        cluster = particles[np.asarray(res.cluster_mask)]
        mean_xyz = cluster.mean(axis=0)
        # several modes: the ellipsoid covers them all
        all_particles = res.extra.get("n_modes", 1) > 1
        # the stated 68 % depth half-width against the depth spread of the particles that
        # sample the posterior (issue 9: never below a quarter of it)
        placed = particles[res.placed_mask] if res.placed_mask is not None else particles
        stated_depth_km = (origin.depth_errors.uncertainty or 0.0) / 1e3
        depth_spread_km = float(np.percentile(placed[:, 2], 84) - np.percentile(placed[:, 2], 16))
        # ours inside NonLinLoc's ellipsoid: offsets in NonLinLoc's frame, from its expectation
        ox, oy = nll_xy_km(origin.longitude, origin.latitude)
        m2_in_nll = mahalanobis2(np.array([ox, oy, depth_km]) - stats["expect_xyz_km"],
                                 stats["covariance_km2"])
        # NonLinLoc's inside ours: offsets in our frame, from our cluster mean
        nx, ny, _ = report.projections[k].to_xyz_km(ref.longitude, ref.latitude)
        m2_in_ours = mahalanobis2(np.array([float(nx), float(ny), ref.depth / 1e3]) - mean_xyz,
                                  cov)
        nll_xyz = np.array([float(nx), float(ny), max(ref.depth / 1e3, DEPTH_KM[0])])
        error_models = tuple(e.model for e in report.error_models)
        logl = log_likelihood(locator, obs, error_models=error_models,
                              points_xyz_km=np.stack([np.asarray(res.hypocentre_xyz_km),
                                                      nll_xyz]))
        row["log_likelihood"] = {"ours": float(logl[0]), "nll": float(logl[1])}
        if grid_check:
            grid = grid_maximum(locator, obs, SearchConfig().margin_km, error_models)
            grid["epicentral_km_from_nll"] = float(np.hypot(*(np.array(grid["xyz_km"][:2])
                                                              - nll_xyz[:2])))
            row["log_likelihood"]["grid_max"] = grid
        limit_nll = float(chi2.ppf(nll_level / 100.0, 3))
        limit_ours = float(chi2.ppf(res.confidence_level / 100.0, 3))
        skipped = [a for a in origin.arrivals if a.time_weight == 0]
        # our best particle (the MAP stated in a comment): the counterpart of NonLinLoc's
        # maximum-likelihood hypocentre
        map_x_km, map_y_km, map_z_km = (float(v) for v in res.map_xyz_km)
        map_lon, map_lat, _ = report.projections[k].to_lonlat(map_x_km, map_y_km)
        row.update({
            "located": True,
            "ours": {"time": str(origin.time), "lat_deg": origin.latitude,
                     "lon_deg": origin.longitude, "depth_km": depth_km,
                     "depth_at_top": depth_km < DEPTH_KM[0] + 0.5,
                     "n_picks_used": int(obs.n_picks), "n_weight0_arrivals": len(skipped),
                     "rms_s": origin.quality.standard_error,
                     "confidence_level": res.confidence_level,
                     "covariance_km2": cov.tolist(),
                     "cluster_mean_xyz_km": mean_xyz.tolist(),
                     "hypocentre_xyz_km": np.asarray(res.hypocentre_xyz_km).tolist(),
                     "map": {"lat_deg": float(map_lat), "lon_deg": float(map_lon),
                             "depth_km": map_z_km},
                     "semi_axes_km": [res.ellipsoid.semi_major_km,
                                      res.ellipsoid.semi_intermediate_km,
                                      res.ellipsoid.semi_minor_km],
                     "origin_time_uncertainty_s": res.origin_time_uncertainty_s,
                     "cluster_fraction": res.extra.get("cluster_fraction"),
                     "several_modes": all_particles,
                     "mode_share": res.mode_share,
                     "stated_depth_half_width_km": stated_depth_km,
                     "placed_depth_spread_16_84_km": depth_spread_km,
                     "depth_width_honest": stated_depth_km >= 0.25 * depth_spread_km,
                     "error_model": res.extra.get("error_model", ""),
                     "n_outliers": res.extra.get("n_outliers", 0),
                     # the package's own flag (origin rejected, reason in quality_note)
                     "converged": bool(res.converged),
                     "quality_note": res.quality_note},
            "epicentral_km": dist_m / 1e3, "azimuth_from_nll_deg": az % 360.0,
            "depth_diff_km": depth_km - ref.depth / 1e3,
            "origin_time_diff_s": float(origin.time - ref.time),
            "ours_in_nll": {"mahalanobis": None if m2_in_nll is None else math.sqrt(m2_in_nll),
                            "limit": math.sqrt(limit_nll),
                            "inside": m2_in_nll is not None and m2_in_nll <= limit_nll},
            "nll_in_ours": {"mahalanobis": None if m2_in_ours is None else math.sqrt(m2_in_ours),
                            "limit": math.sqrt(limit_ours),
                            "inside": m2_in_ours is not None and m2_in_ours <= limit_ours},
        })
        rows.append(row)
    return rows


def summarise(rows: list[dict]) -> dict:
    """Medians and counts, over all located events and over the depth-resolved ones."""
    out = {}
    groups = {"all": [r for r in rows if r["located"]],
              "nll_depth_resolved": [r for r in rows if r["located"]
                                     and not r["nll"]["depth_pinned"]]}
    for name, group in groups.items():
        if not group:
            out[name] = {"n_events": 0}
            continue
        out[name] = {
            "n_events": len(group),
            "median_epicentral_km": float(np.median([r["epicentral_km"] for r in group])),
            "max_epicentral_km": float(np.max([r["epicentral_km"] for r in group])),
            "median_abs_depth_diff_km": float(np.median([abs(r["depth_diff_km"])
                                                         for r in group])),
            "median_abs_origin_time_diff_s": float(np.median([abs(r["origin_time_diff_s"])
                                                              for r in group])),
            "n_ours_in_nll": sum(r["ours_in_nll"]["inside"] for r in group),
            "n_nll_in_ours": sum(r["nll_in_ours"]["inside"] for r in group),
            # SVGD found a point at least as likely (under our likelihood) as NonLinLoc's
            "n_ours_at_least_as_likely": sum(r["log_likelihood"]["ours"]
                                             >= r["log_likelihood"]["nll"] for r in group),
            "n_flagged_unconverged": sum(not r["ours"]["converged"] for r in group),
            "n_several_modes": sum(r["ours"]["several_modes"] for r in group),
            "n_depth_width_honest": sum(r["ours"]["depth_width_honest"] for r in group)}
    return out


def _yes(test: dict) -> str:
    if test["mahalanobis"] is None:
        return "singular"
    return f"{'yes' if test['inside'] else 'no'} ({test['mahalanobis']:.1f})"


def print_table(name: str, run: dict) -> None:
    em, sv = run["error_model"], run["svgd"]
    em_text = ("; ".join(run["error_models_used"]) if isinstance(em, str)
               else f"{em['fraction']:g} x T, {em['min_s']:g}-{em['max_s']:g} s")
    print(f"\nrun {name}: {run['description']}; error model {em_text}; SVGD "
          f"{sv['n_particles']} particles x "
          f"{sv['n_epochs']} epochs, step {sv['learning_rate']:g} km; {run['seconds']:.0f} s")
    print(f"{'event':<9} {'picks':>7}  {'NonLinLoc lat lon depth':<27} "
          f"{'hyposvi lat lon depth':<27} {'epi km':>6} {'dz km':>6} {'dt s':>6}  "
          f"{'ours in NLL':<12} {'NLL in ours':<12} {'axis km':>11} {'rms s':>10} {'dlogL':>6}")
    for r in run["events"]:
        n, label = r["nll"], r["nll"]["time"][11:19]
        nll = (f"{n['lat_deg']:8.4f} {n['lon_deg']:9.4f} {n['depth_km']:6.1f}"
               + ("*" if n["depth_pinned"] else " "))
        if not r["located"]:
            print(f"{label:<9} {'':>7}  {nll:<27} not located: {r['reason']}")
            continue
        o = r["ours"]
        ours = (f"{o['lat_deg']:8.4f} {o['lon_deg']:9.4f} {o['depth_km']:6.1f}"
                + ("^" if o["depth_at_top"] else " "))
        print(f"{label:<9} {o['n_picks_used']:>3}/{n['used_phases']:<3}  {nll:<27} {ours:<27} "
              f"{r['epicentral_km']:6.2f} {r['depth_diff_km']:+6.1f} "
              f"{r['origin_time_diff_s']:+6.2f}  {_yes(r['ours_in_nll']):<12} "
              f"{_yes(r['nll_in_ours']):<12} "
              f"{o['semi_axes_km'][0]:5.1f}{'!' if o['several_modes'] else ' '}/"
              f"{n['semi_axes_km'][0]:<4.1f} {o['rms_s']:5.2f}/{n['rms_s']:<4.2f} "
              f"{r['log_likelihood']['ours'] - r['log_likelihood']['nll']:+6.1f}")
    for group, s in run["summary"].items():
        if s["n_events"]:
            print(f"  {group}: {s['n_events']} events, median epicentre "
                  f"{s['median_epicentral_km']:.2f} km (max {s['max_epicentral_km']:.2f}), "
                  f"median |dz| {s['median_abs_depth_diff_km']:.1f} km, median |dt| "
                  f"{s['median_abs_origin_time_diff_s']:.2f} s, ours in NLL "
                  f"{s['n_ours_in_nll']}/{s['n_events']}, NLL in ours "
                  f"{s['n_nll_in_ours']}/{s['n_events']}, ours at least as likely as NLL's "
                  f"{s['n_ours_at_least_as_likely']}/{s['n_events']}; several modes: "
                  f"{s['n_several_modes']}; depth half-width >= 1/4 of the particles' spread: "
                  f"{s['n_depth_width_honest']}/{s['n_events']}; flagged "
                  f"unconverged (origin rejected): {s['n_flagged_unconverged']}")


# -- NonLinLoc again, on the same picks as ours --------------------------------------------------
#: Which NonLinLoc rerun each of our runs is compared with: the one on the same pick set.
SAME_PICKS = {"nll_picks_defaults": "nll_picks", "nll_picks": "nll_picks",
              "networks_nll_picks": "nll_picks"}


def _offset(ours: dict, ref: dict) -> dict:
    _, _, dist_m = _GEOD.inv(ref["lon_deg"], ref["lat_deg"], ours["lon_deg"], ours["lat_deg"])
    return {"epicentral_km": dist_m / 1e3, "depth_diff_km": ours["depth_km"] - ref["depth_km"]}


def _like_for_like(ours: dict, ref: dict) -> dict:
    """Each estimate against NonLinLoc's of the same kind: our hypocentre (the posterior mean)
    against its expectation, our best particle (MAP) against its maximum-likelihood point; the
    means' depth difference also in units of the two depth standard deviations combined."""
    out = {"mean_vs_expectation": _offset(ours, ref["expectation"]),
           "map_vs_maximum_likelihood": _offset(ours["map"], ref)}
    sigma = math.hypot(math.sqrt(ours["covariance_km2"][2][2]), ref["sigma_z_km"])
    out["mean_vs_expectation"]["depth_diff_sigmas"] = (
        out["mean_vs_expectation"]["depth_diff_km"] / sigma)
    return out


def same_pick_comparison(runs: dict, catalog, nll_picks, inventory, nll_bin: str) -> dict:
    """NonLinLoc run again on its own picks and on every pick; each of our runs' events set
    against the rerun on its own pick set (``vs_nll_same_picks``). Prints a table."""
    import tempfile

    model = read_velocity_model(CONTROL_FILE, name=MODEL_NAME)
    reruns = {}
    for name, cat in (("nll_picks", nll_picks), ("every_pick", catalog)):
        with tempfile.TemporaryDirectory(prefix=f"nll_{name}_") as workdir:
            reruns[name] = rerun_nonlinloc(cat, inventory, model, NLL_FRAME, nll_bin,
                                           Path(workdir))
    published = [{"lat_deg": ev.origins[0].latitude, "lon_deg": ev.origins[0].longitude,
                  "depth_km": ev.origins[0].depth / 1e3} for ev in catalog]
    for rerun in reruns.values():
        rerun["vs_published"] = [None if r is None else _offset(r, p)
                                 for r, p in zip(rerun["events"], published)]
    for run_name, run in runs.items():
        rerun = reruns[SAME_PICKS.get(run_name, "every_pick")]
        for row in run["events"]:
            ref = rerun["events"][row["event"]]
            row["vs_nll_same_picks"] = (None if ref is None or not row["located"]
                                        else _offset(row["ours"], ref))
            if ref is not None and row["located"]:
                row["vs_nll_same_picks"].update(_like_for_like(row["ours"], ref))
    print("\nNonLinLoc run again with its sample's settings (epicentre km / depth km from its "
          "published solution), and each of our runs from the rerun on the same picks:")
    header = f"{'event':<9} {'NLL own picks':>14} {'NLL every pick':>15}"
    print(header + "".join(f" {name[:18]:>19}" for name in runs))
    for k, event in enumerate(catalog):
        offsets = [rerun["vs_published"][k] for rerun in (reruns["nll_picks"],
                                                          reruns["every_pick"])]
        offsets += [next((r.get("vs_nll_same_picks") for r in run["events"] if r["event"] == k),
                         None) for run in runs.values()]
        cells = ["-" if d is None else f"{d['epicentral_km']:.2f}/{d['depth_diff_km']:+.1f}"
                 for d in offsets]
        label = str(event.origins[0].time)[11:19]
        print(f"{label:<9} {cells[0]:>14} {cells[1]:>15}" + "".join(f" {c:>19}" for c in cells[2:]))
    print("\nLike for like, on the same picks (epicentre km / depth km): our posterior mean from "
          "NonLinLoc's expectation | our MAP from its maximum-likelihood point:")
    print(f"{'event':<9}" + "".join(f" {name[:27]:>28}" for name in runs))
    for k, event in enumerate(catalog):
        cells = []
        for run in runs.values():
            d = next((r.get("vs_nll_same_picks") for r in run["events"] if r["event"] == k), None)
            cells.append("-" if not d or "mean_vs_expectation" not in d else " | ".join(
                f"{d[key]['epicentral_km']:.2f}/{d[key]['depth_diff_km']:+.1f}"
                for key in ("mean_vs_expectation", "map_vs_maximum_likelihood")))
        print(f"{str(event.origins[0].time)[11:19]:<9}" + "".join(f" {c:>28}" for c in cells))
    return reruns


# -- main -------------------------------------------------------------------------------------
def _required_offset_km(locator_margin_km: float, catalog, inventory) -> float:
    """Largest box-corner-to-station distance the locator's search box will need, km."""
    from obspy_hyposvi.bridge.picks import observations_from_event, projection_for

    reach = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for event in catalog:
            # each event in its own frame, as the locator does
            projection = projection_for(event, inventory)
            xyz = observations_from_event(event, inventory, projection)[0].station_xyz_km
            lower = xyz[:, :2].min(axis=0) - locator_margin_km
            upper = xyz[:, :2].max(axis=0) + locator_margin_km
            corners = np.array([[x, y] for x in (lower[0], upper[0])
                                for y in (lower[1], upper[1])])
            reach = max(reach, float(np.max(np.hypot(
                *(corners[:, None, :] - xyz[None, :, :2]).transpose(2, 0, 1)))))
    return reach


def _progress(name: str, n_events: int):
    def progress(done: int) -> None:
        print(f"  {name}: {done}/{n_events} events", file=sys.stderr, flush=True)

    return progress


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS,
                        help=f"folder of the checkpoints {MODEL_NAME}-P.pt/-S.pt "
                             f"(default {DEFAULT_MODELS.relative_to(ROOT)}, git-ignored)")
    parser.add_argument("--train", action="store_true",
                        help="train the missing checkpoints first (resumes a saved state)")
    parser.add_argument("--train-only", action="store_true", help="stop after training")
    parser.add_argument("--phases", nargs="+", choices=("P", "S"), default=["P", "S"],
                        help="phases to train with --train (default P S)")
    parser.add_argument("--steps", type=int, default=TrainConfig.n_steps,
                        help=f"training steps (default {TrainConfig.n_steps})")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: best on a busy machine)")
    parser.add_argument("--device", default="cpu", help="torch device (cpu or cuda)")
    parser.add_argument("--quick", action="store_true",
                        help="60 particles x 150 epochs, the all-picks run only (a smoke run)")
    parser.add_argument("--grid-check", action="store_true",
                        help="in the all_picks run, also find the maximum of our likelihood on a "
                             "4 x 4 x 5 km grid over the search box (about a minute per event; "
                             "checks the SVGD search)")
    parser.add_argument("--runs", nargs="+", default=None,
                        choices=("defaults", "nll_picks_defaults", "station_terms",
                                 "default_svgd", "all_picks",
                                 "nll_picks", "default_error", "networks",
                                 "networks_nll_picks"),
                        help="runs to do (default: all)")
    parser.add_argument("--nll-bin", default=os.environ.get("NLL_BIN"),
                        help="folder of NonLinLoc's Vel2Grid, Grid2Time and NLLoc (default "
                             "$NLL_BIN): run it again on the same picks as ours "
                             "(benchmarks/_nll_rerun.py); skipped when not given")
    parser.add_argument("--output", type=Path, default=RESULTS / "alaska_nonlinloc.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    for path in (CONTROL_FILE, CATALOG_FILE, INVENTORY_FILE):
        if not path.is_file():
            print(f"error: {path} not found: this benchmark needs NonLinLoc's southern Alaska "
                  f"sample in {DATA} (a sibling of the repository, shared/realdata/...)",
                  file=sys.stderr)
            return 2
    catalog = read_events(str(CATALOG_FILE))
    inventory = read_inventory(str(INVENTORY_FILE))
    locator_margin_km = SearchConfig().margin_km  # the locator's default search box
    reach = _required_offset_km(locator_margin_km, catalog, inventory)
    if reach > MAX_OFFSET_KM:
        print(f"error: the search box needs {reach:.0f} km offsets, more than MAX_OFFSET_KM "
              f"{MAX_OFFSET_KM:g}", file=sys.stderr)
        return 2
    print(f"data: {DATA}; search box reach {reach:.0f} km (models' offset range "
          f"{MAX_OFFSET_KM:g} km)", flush=True)

    trained = {}
    if args.train:
        for phase in args.phases:
            if checkpoint_path(args.models, phase).is_file():
                print(f"{checkpoint_path(args.models, phase)} exists: not retrained")
                continue
            trained[phase] = train_phase(phase, args.models, args.steps, args.seed, args.device)
    if args.train_only:
        return 0
    missing = [str(checkpoint_path(args.models, ph)) for ph in "PS"
               if not checkpoint_path(args.models, ph).is_file()]
    if missing and args.runs and any(r.startswith("networks") for r in args.runs):
        print(f"error: no checkpoints {', '.join(missing)} for the networks runs; train them "
              f"with --train (about 20 min per phase on one CPU thread)", file=sys.stderr)
        return 2
    if missing:
        print(f"no checkpoints {', '.join(missing)}: the networks runs are skipped (--train "
              "trains them, about 20 min per phase on one CPU thread)", flush=True)

    load_start = os.getloadavg()
    models = {} if missing else model_figures(args.models)
    for phase, m in models.items():
        v, c = m["validation_training"], m["validation_region"]
        print(f"model {phase}: {m['training']['n_steps']} steps, {m['training']['seconds']:.0f} s;"
              f" vs exact, offsets 0-{v['max_offset_km']:g} km, sources "
              f"{v['source_depth_km'][0]:g}-{v['source_depth_km'][1]:g} km: median |dT| "
              f"{v['median_abs_dt_s']:.3f} s, p99 {v['p99_abs_dt_s']:.3f} s; offsets "
              f"0-{c['max_offset_km']:g} km, sources {c['source_depth_km'][0]:g}-"
              f"{c['source_depth_km'][1]:g} km: median {c['median_abs_dt_s']:.3f} s, p99 "
              f"{c['p99_abs_dt_s']:.3f} s, max {c['max_abs_dt_s']:.3f} s", flush=True)
        print("  mean error (s, > 0 late) by offset: " + ", ".join(
            f"{b['offset_km'][0]:g}-{b['offset_km'][1]:g} km {b['mean_dt_s']:+.3f}"
            for b in m["error_by_offset"]), flush=True)

    model_prefix = str(args.models.resolve() / MODEL_NAME)
    nll_picks = subset_catalog(catalog, nll_weighted_picks)
    # name: (description, error model, SVGD settings, catalogue); the runs named networks*
    # locate on the trained networks, the others on the exact times (the package's default)
    runs = {
        "defaults": ("every pick, the package's defaults (error model estimated from the "
                     "catalogue, outliers left out)", "auto", SVGDConfig(), catalog),
        "nll_picks_defaults": ("NonLinLoc's picks (weight > 0), the package's defaults: the "
                               "same data as NonLinLoc", "auto", SVGDConfig(), nll_picks),
        "station_terms": ("every pick, the package's defaults with station terms estimated",
                          "auto+terms", SVGDConfig(), catalog),
        "default_svgd": ("every pick, NonLinLoc's error model, the package's default SVGD",
                         NLL_ERROR_MODEL, SVGDConfig(), catalog),
        "all_picks": ("every pick, NonLinLoc's error model (LOCGAU2), regional SVGD",
                      NLL_ERROR_MODEL, REGIONAL_SVGD, catalog),
        "nll_picks": ("NonLinLoc's picks (weight > 0), its error model, regional SVGD",
                      NLL_ERROR_MODEL, REGIONAL_SVGD, nll_picks),
        "default_error": ("every pick, the package's default error model, regional SVGD",
                          ErrorModel(), REGIONAL_SVGD, catalog),
        "networks": ("every pick, the package's defaults on the trained networks instead of "
                     "the exact times", "auto", SVGDConfig(), catalog),
        "networks_nll_picks": ("NonLinLoc's picks (weight > 0), the package's defaults on the "
                               "trained networks", "auto", SVGDConfig(), nll_picks),
    }
    if missing:
        runs = {k: v for k, v in runs.items() if not k.startswith("networks")}
    if args.runs:
        runs = {k: v for k, v in runs.items() if k in args.runs}
    if args.quick:
        runs = {"all_picks": ("every pick, NonLinLoc's error model, quick SVGD",
                              NLL_ERROR_MODEL, QUICK_SVGD, catalog)}
    out = {"package_version": __version__, "git_commit": _git("rev-parse", "HEAD"),
           # uncommitted package changes at run time (a shared working tree)
           "package_changes": (_git("status", "--porcelain", "obspy_hyposvi") or "").splitlines(),
           "torch_version": str(torch.__version__), "data": str(DATA.relative_to(DATA.parents[2])),
           "velocity_model": {"source": "raw/nlloc_sample.in LAYER lines",
                              **read_velocity_model(CONTROL_FILE, name=MODEL_NAME).to_dict()},
           "models": models, "trained_now": trained,
           "search_margin_km": locator_margin_km, "search_box_reach_km": reach,
           "threads": args.threads, "device": args.device, "cpu_count": os.cpu_count(),
           "quick": args.quick, "runs": {}}
    for name, (description, error_model, svgd, cat) in runs.items():
        terms = error_model == "auto+terms"
        error_model = "auto" if terms else error_model
        settings = dict(device=args.device, svgd=svgd, estimate_station_terms=terms,
                        likelihood=LikelihoodConfig(error_model=error_model))
        if name.startswith("networks"):
            locator = Locator.from_model(model_prefix, exact_layered=False, **settings)
        else:  # the same domain as the networks'
            locator = Locator.from_velocity_model(
                read_velocity_model(CONTROL_FILE, name=MODEL_NAME), max_offset_km=MAX_OFFSET_KM,
                depth_km=DEPTH_KM, **settings)
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = locator.run(cat, inventory, progress=_progress(name, len(cat)))
        seconds = time.perf_counter() - t0
        # the stations picked but absent from the inventory: reported, skipped, never fatal
        skipped = [{"pick_id": s.pick_id, "seed_id": s.station, "reason": s.reason}
                   for s in report.skipped_picks]
        no_coords = sorted({s["seed_id"].split(".")[1] for s in skipped
                            if "not in the inventory" in s["reason"]})
        rows = compare(report, cat, locator, grid_check=args.grid_check and name == "all_picks")
        out["runs"][name] = {
            "description": description,
            "error_model": error_model if isinstance(error_model, str) else error_model.to_dict(),
            "error_models_used": [e.describe() for e in report.error_models],
            "station_terms": {f"{k[0]} {k[1]}": v for k, v in report.station_terms.items()},
            "svgd": svgd.to_dict(), "likelihood": locator.likelihood.to_dict(),
            "seconds": seconds, "seconds_per_event": seconds / len(cat),
            "load_average_1min_at_start": round(load, 2),
            "n_events": len(cat), "n_located": report.n_located, "failures": report.failures,
            "summary_lines": report.summary_lines(),
            "skipped_picks": skipped, "stations_without_coordinates": no_coords,
            "warnings": sorted({str(w.message) for w in caught}),
            "summary": summarise(rows), "events": rows}
        print_table(name, out["runs"][name])
        print(f"  {report.n_located}/{len(cat)} located; {len(skipped)} picks skipped; stations "
              f"without coordinates: {', '.join(no_coords) or 'none'}")
    if args.nll_bin:
        out["nonlinloc_reruns"] = same_pick_comparison(out["runs"], catalog, nll_picks,
                                                       inventory, args.nll_bin)
    out["load_average_start"] = [round(v, 2) for v in load_start]
    out["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    print("\n* NonLinLoc depth within 1.5 km of its grid top (-5 km): unconstrained; "
          f"^ ours within 0.5 km of the models' top ({DEPTH_KM[0]:g} km). 'in' columns: "
          "Mahalanobis distance, inside when <= ~1.88 (68 %, 3 dof). picks: ours/NonLinLoc's used."
          " axis: 68 % semi-major axis, ours/NonLinLoc's; ! several modes (the ellipsoid "
          "covers them all). rms: ours/NonLinLoc's. "
          "dlogL: our log-likelihood at our hypocentre minus at "
          "NonLinLoc's (< 0: SVGD missed a better point).")
    write_results(args.output, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
