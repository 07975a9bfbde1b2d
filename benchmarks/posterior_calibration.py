"""Do the SVGD particles have the posterior's spread? A grid check, event by event (issue 9).

The confidence ellipsoids of an origin are the covariance of its final particles. Whether they
are honest has two parts: is the likelihood's posterior itself calibrated, and do the
particles sample it? This script separates them. It locates the synthetic catalogue of
``benchmarks/accuracy.py`` (clean picks, same seed) with the package's defaults, then, for
each event, evaluates the very log-likelihood the run used (its final error models, power,
spread and used picks; flat prior) on a 31^3 grid spanning +-4.5 of the particles' standard
deviations about the hypocentre, and computes the grid posterior's mean and covariance.

Per event and summarised: the ratio of the particles' standard deviation to the grid's on
each axis (1: the particles have the posterior's spread), and the share of truths inside the
68 % and 90 % ellipsoids of (a) the reported origin, (b) the grid posterior: (b) is what an
exact sampler of our likelihood would give, (a) - (b) what SVGD adds.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/posterior_calibration.py [--events 60] [--networks]
        [--kernel-width adaptive|median|15] [--output FILE]

Writes ``benchmarks/results/posterior_calibration[_networks].json`` by default (the package's
default travel times: socal-1d's exact first arrivals; ``--networks``: the bundled networks).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import chi2

from obspy_hyposvi import Locator, SVGDConfig, __version__
from obspy_hyposvi.bridge.synthetic import synthetic_catalog

from _likelihood_grid import log_likelihood  # benchmarks/_likelihood_grid.py
from _results import write_results  # benchmarks/_results.py
# benchmarks/accuracy.py: the same catalogue, scored the same way
from accuracy import PICK_NOISE_S, located_with_truth

RESULTS = Path(__file__).resolve().parent / "results"
#: Grid nodes per axis and its half-width in the particles' standard deviations.
GRID_NODES = 31
GRID_HALF_WIDTH_SD = 4.5


def grid_posterior(locator, obs, centre_km, sd_km, error_models):
    """Mean, covariance (km, km^2) and the probability on the grid's faces."""
    axes = [np.linspace(c - GRID_HALF_WIDTH_SD * s, c + GRID_HALF_WIDTH_SD * s, GRID_NODES)
            for c, s in zip(centre_km, sd_km)]
    grid = np.stack([a.ravel() for a in np.meshgrid(*axes, indexing="ij")], axis=1)
    logl = log_likelihood(locator, obs, grid, error_models)
    w = np.exp(logl - logl.max())
    w /= w.sum()
    mean = w @ grid
    d = grid - mean
    cube = w.reshape((GRID_NODES,) * 3)
    faces = sum(float(np.take(cube, [0, -1], axis=k).sum()) for k in range(3))
    return mean, (d * w[:, None]).T @ d, faces


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=60)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--networks", action="store_true",
                        help="the bundled socal-1d networks instead of the exact first arrivals "
                             "they approximate (the default)")
    parser.add_argument("--kernel-width", default=None,
                        help="SVGDConfig.kernel_width: 'adaptive', 'median' (None) or km^2 "
                             "(default: the package's)")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    settings = {}
    if args.kernel_width is not None:
        kw = args.kernel_width
        width = None if kw == "median" else kw if kw == "adaptive" else float(kw)
        settings["svgd"] = SVGDConfig(kernel_width=width)
    # accuracy.py's catalogue (its default 30 stations) for the same --events and --seed
    catalog, inventory, truth = synthetic_catalog(args.events, 30, seed=args.seed,
                                                  pick_noise_s=PICK_NOISE_S)
    locator = Locator.from_model("socal-1d", exact_layered=not args.networks, **settings)
    t0 = time.perf_counter()
    report = locator.run(catalog, inventory)
    seconds = time.perf_counter() - t0
    error_models = tuple(e.model for e in report.error_models)
    k68, k90 = chi2.ppf(0.6827, 3), chi2.ppf(0.90, 3)
    rows = []
    for res, obs, _, true in located_with_truth(report, truth):
        cov = np.asarray(res.covariance_km2)
        hypo = np.asarray(res.hypocentre_xyz_km)
        sd = np.sqrt(np.diag(cov))
        mean_g, cov_g, faces = grid_posterior(locator, obs, hypo, sd, error_models)
        e, e_g = hypo - true, mean_g - true
        rows.append({"sd_ratio": (sd / np.sqrt(np.diag(cov_g))).tolist(),
                     "mahalanobis_sq": float(e @ np.linalg.solve(cov, e)),
                     "grid_mahalanobis_sq": float(e_g @ np.linalg.solve(cov_g, e_g)),
                     "mean_minus_grid_mean_km": (hypo - mean_g).tolist(),
                     "grid_mass_on_faces": faces})
        print(f"{obs.event_id}: sd ratio x/y/z {np.round(rows[-1]['sd_ratio'], 2).tolist()}, "
              f"m2 {rows[-1]['mahalanobis_sq']:.2f} (grid {rows[-1]['grid_mahalanobis_sq']:.2f})",
              flush=True)
    ratio = np.array([r["sd_ratio"] for r in rows])
    m2 = np.array([r["mahalanobis_sq"] for r in rows])
    m2_g = np.array([r["grid_mahalanobis_sq"] for r in rows])
    summary = {
        "sd_ratio_median_xyz": np.median(ratio, 0).tolist(),
        "sd_ratio_p10_xyz": np.percentile(ratio, 10, 0).tolist(),
        "sd_ratio_p90_xyz": np.percentile(ratio, 90, 0).tolist(),
        "coverage_68": float((m2 <= k68).mean()), "coverage_90": float((m2 <= k90).mean()),
        "grid_coverage_68": float((m2_g <= k68).mean()),
        "grid_coverage_90": float((m2_g <= k90).mean()),
    }
    print(f"\n{len(rows)} events ({'networks' if args.networks else 'exact times'}), kernel width "
          f"{locator.svgd.kernel_width}: particle / grid sd, median x/y/z "
          f"{np.round(summary['sd_ratio_median_xyz'], 3).tolist()} (10-90 %: "
          f"{np.round(summary['sd_ratio_p10_xyz'], 2).tolist()} - "
          f"{np.round(summary['sd_ratio_p90_xyz'], 2).tolist()})")
    print(f"truths inside 68 / 90 %: reported {summary['coverage_68']:.0%} / "
          f"{summary['coverage_90']:.0%}; grid posterior {summary['grid_coverage_68']:.0%} / "
          f"{summary['grid_coverage_90']:.0%}")
    out = args.output or RESULTS / ("posterior_calibration"
                                    + ("_networks" if args.networks else "") + ".json")
    write_results(out, {"package_version": __version__, "n_events": len(rows),
                        "seed": args.seed, "exact": not args.networks,
                        "kernel_width": locator.svgd.kernel_width, "seconds_locate": seconds,
                        "grid": {"nodes": GRID_NODES, "half_width_sd": GRID_HALF_WIDTH_SD},
                        "summary": summary, "per_event": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
