"""Accuracy at default settings: clean picks, 10 % outlier picks, and station delays.

Synthetic catalogues of the kind NonLinLoc was compared on (issue 9): exact layered first
arrivals in socal-1d, 30 stations at 0-2 km elevation, picks stating 0.05 s with N(0, 0.05 s)
noise, events 1-25 km deep. Three cases, each located with the package's *default* settings
(error model estimated from the catalogue, outliers left out) and model
(``Locator.from_model("socal-1d")``: socal-1d is layered, so its exact first arrivals):

- ``clean``: as above;
- ``outliers``: 10 % of the picks moved by 1-3 s (either sign), as automatic pickers do;
- ``delays``: every station's P and S picks delayed by a fixed U(-0.2, 0.2) s each, located
  with ``estimate_station_terms=True`` (and, for reference, without).

For each: mean / median / 90th percentile epicentral error, mean depth and origin-time error,
the share of true hypocentres inside the stated 68 % and 90 % ellipsoids (and of true origin
times within one stated sigma), the estimators side
by side (the posterior mean reported, the kernel-density mode of the paper, the best
particle), the outlier flags (share of moved picks flagged, share of good picks flagged), the
estimated error model, and seconds; for the delays, the mean delay of all stations and phases
(which no data can tell from a later origin time) and the origin-time error less it. Prints a
table and writes
``benchmarks/results/accuracy.json``.

With ``--nll-bin DIR`` (or ``NLL_BIN``; NonLinLoc's binaries, built separately) NonLinLoc is
run on each case's catalogue too, with the settings issue 9 quoted it with
(``benchmarks/_nll_synthetic.py``), and scored against the same truth: the side-by-side
figures of the same data in the same run (``nonlinloc_same_run`` in the JSON; the delays case
without station terms, which NonLinLoc does not estimate here).

``--edt-spread C`` sets the EDT spread (:class:`~obspy_hyposvi.locate.likelihood.LikelihoodConfig`;
``benchmarks/results/accuracy_spread4.json`` and ``accuracy_exact_spread4.json`` are runs with
4). ``--networks`` locates on the bundled socal-1d networks instead (``exact_layered=False``):
what the networks' errors cost (``accuracy_networks.json``).

``--above-stations-km KM`` sets how far above the highest station the search box reaches
(:class:`~obspy_hyposvi.locate.engine.SearchConfig`).

Usage: ``python benchmarks/accuracy.py [--events 60] [--cases clean outliers delays]
[--networks] [--edt-spread C] [--above-stations-km KM] [--nll-bin DIR]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.stats import chi2

from obspy_hyposvi import __version__
from obspy_hyposvi.bridge.synthetic import synthetic_catalog
from obspy_hyposvi.locate.engine import SearchConfig
from obspy_hyposvi.locate.likelihood import LikelihoodConfig
from obspy_hyposvi.locate.result import LocationResult
from obspy_hyposvi.locate.svgd import SVGDConfig
from obspy_hyposvi.locator import Locator
from obspy_hyposvi.velocity import socal_1d

from _results import write_results  # benchmarks/_results.py

RESULTS = Path(__file__).resolve().parent / "results"
PICK_NOISE_S = 0.05
#: NonLinLoc 7.1 on the same kind of catalogue, same run (issue 9), LOCGAU2 0.01 0.05 2.0
NONLINLOC = {"mean_epicentral_km": 0.11, "median_epicentral_km": 0.09, "mean_depth_km": 0.19,
             "mean_origin_time_s": 0.016, "coverage_68": 1.0}
TARGETS = {"clean": {"mean_epicentral_km": 0.12, "mean_depth_km": 0.20,
                     "mean_origin_time_s": 0.02, "coverage_68": [0.60, 0.76],
                     "coverage_90": [0.85, 0.95]},
           "outliers": {"mean_epicentral_km": 0.25, "mean_depth_km": 0.40,
                        "coverage_68": [0.55, 0.80], "moved_flagged": 0.90,
                        "good_flagged": 0.02},
           "delays": "within 30 % of the clean figures, station terms on"}


def perturb(catalog, rng, *, outlier_share: float = 0.0, delays: dict | None = None):
    """Copy of ``catalog`` with picks moved; the ids of the moved (outlier) picks."""
    out = catalog.copy()
    moved = set()
    for event in out:
        for pick in event.picks:
            if delays is not None:
                pick.time += delays[(pick.waveform_id.station_code, pick.phase_hint)]
            if outlier_share and rng.random() < outlier_share:
                pick.time += float(rng.choice([-1, 1]) * rng.uniform(1.0, 3.0))
                moved.add(str(pick.resource_id))
    return out, moved


def located_with_truth(report, truth):
    """``(result, observations, truth row, true hypocentre)`` of each located event of a run,
    the true hypocentre (km) in that event's own frame."""
    for res, obs, t, frame in zip(report.results, report.observations, truth,
                                  report.projections):
        if not isinstance(res, LocationResult):
            continue
        x, y, _ = frame.to_xyz_km(t["lon"], t["lat"])  # each event has its own frame
        yield res, obs, t, np.array([float(x), float(y), t["depth_km"]])


def score(report, truth, moved: set) -> dict:
    """Errors, coverage, estimators and outlier flags of one run against the truth."""
    k68, k90 = chi2.ppf(0.6827, 3), chi2.ppf(0.90, 3)
    rows = []
    flagged_moved = flagged_good = n_moved = n_good = 0
    for res, obs, t, true in located_with_truth(report, truth):
        d = np.asarray(res.hypocentre_xyz_km) - true
        try:  # a covariance collapsed on a wall of the box cannot contain the truth
            m2 = float(d @ np.linalg.solve(res.covariance_km2, d))
        except np.linalg.LinAlgError:
            m2 = float("inf")
        dt = float(obs.reference_time + res.origin_time_s - t["time"])  # > 0: late
        row = {"epicentral_km": float(np.hypot(d[0], d[1])), "depth_km": float(abs(d[2])),
               "depth_signed_km": float(d[2]),
               "mahalanobis_sq": m2 if np.isfinite(m2) else None,  # None: collapsed
               "origin_time_s": abs(dt), "origin_time_signed_s": dt,
               "origin_time_inside_68": bool(abs(dt) <= res.origin_time_uncertainty_s),
               "inside_68": bool(m2 <= k68), "inside_90": bool(m2 <= k90),
               "semi_major_km": res.ellipsoid.semi_major_km,
               "mode_share": res.mode_share,
               "converged": bool(res.converged),
               "quality_note": res.quality_note,
               "station_term_sd_km": res.extra.get("station_term_sd_km"),
               "station_term_sd_s": res.extra.get("station_term_sd_s")}
        for name, point in (("kde_mode", res.kde_mode_xyz_km), ("map", res.map_xyz_km)):
            e = np.asarray(point) - true
            row[f"{name}_epicentral_km"] = float(np.hypot(e[0], e[1]))
            row[f"{name}_depth_km"] = float(abs(e[2]))
        rows.append(row)
        for i, pid in enumerate(obs.pick_ids):
            is_flagged = not obs.used[i]
            if pid in moved:
                n_moved += 1
                flagged_moved += is_flagged
            else:
                n_good += 1
                flagged_good += is_flagged

    def col(key):
        return np.array([r[key] for r in rows], dtype=float)

    epi = col("epicentral_km")
    return {
        "n_located": len(rows),
        "mean_epicentral_km": float(epi.mean()), "median_epicentral_km": float(np.median(epi)),
        "p90_epicentral_km": float(np.percentile(epi, 90)),
        "mean_depth_km": float(col("depth_km").mean()),
        "mean_origin_time_s": float(col("origin_time_s").mean()),
        "coverage_68": float(col("inside_68").mean()),
        "coverage_90": float(col("inside_90").mean()),
        "origin_time_coverage_68": float(col("origin_time_inside_68").mean()),
        "median_semi_major_km": float(np.median(col("semi_major_km"))),
        "kde_mode_mean_epicentral_km": float(col("kde_mode_epicentral_km").mean()),
        "kde_mode_mean_depth_km": float(col("kde_mode_depth_km").mean()),
        "map_mean_epicentral_km": float(col("map_epicentral_km").mean()),
        "map_mean_depth_km": float(col("map_depth_km").mean()),
        "n_unconverged": int(sum(not r["converged"] for r in rows)),
        "moved_flagged": flagged_moved / n_moved if n_moved else None,
        "good_flagged": flagged_good / n_good if n_good else None,
        "n_moved": n_moved, "per_event": rows}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=60)
    parser.add_argument("--stations", type=int, default=30)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--cases", nargs="+", default=["clean", "outliers", "delays"],
                        choices=["clean", "outliers", "delays"])
    parser.add_argument("--particles", type=int, default=None, help="default: the package's")
    parser.add_argument("--epochs", type=int, default=None, help="default: the package's")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--edt-spread", type=float, default=None,
                        help="LikelihoodConfig.spread (default: the package's, 1)")
    parser.add_argument("--above-stations-km", type=float, default=None,
                        help="SearchConfig.above_stations_km: how far above the highest station "
                             "the search box reaches (default: the package's, 0.5)")
    parser.add_argument("--networks", action="store_true",
                        help="locate on the bundled socal-1d networks instead of the exact "
                             "first arrivals they approximate (the default)")
    parser.add_argument("--nll-bin", default=os.environ.get("NLL_BIN"),
                        help="folder of NonLinLoc's Vel2Grid, Grid2Time and NLLoc (default "
                             "$NLL_BIN): locate each case with it too; skipped when not given")
    parser.add_argument("--output", type=Path, default=None,
                        help="default benchmarks/results/accuracy.json, or accuracy_networks.json "
                             "with --networks")
    args = parser.parse_args(argv)
    if args.output is None:
        args.output = RESULTS / ("accuracy_networks.json" if args.networks else "accuracy.json")
    settings = {}
    if args.particles or args.epochs:
        base = SVGDConfig()
        settings["svgd"] = SVGDConfig(n_particles=args.particles or base.n_particles,
                                      n_epochs=args.epochs or base.n_epochs)
    if args.edt_spread is not None:
        settings["likelihood"] = LikelihoodConfig(spread=args.edt_spread)
    if args.above_stations_km is not None:
        settings["search"] = SearchConfig(above_stations_km=args.above_stations_km)
    catalog, inventory, truth = synthetic_catalog(args.events, args.stations, seed=args.seed,
                                                  pick_noise_s=PICK_NOISE_S)
    models = Locator.from_model("socal-1d", device=args.device,
                                exact_layered=not args.networks).models
    rng = np.random.default_rng(args.seed + 1)
    stations = [s.code for s in inventory[0]]
    delays = {(code, ph): float(rng.uniform(-0.2, 0.2)) for code in stations for ph in "PS"}
    runs = {"clean": (catalog, set(), {}),
            "outliers": perturb(catalog, rng, outlier_share=0.10) + ({},),
            "delays": perturb(catalog, rng, delays=delays) + ({"estimate_station_terms": True},)}
    out = {"package_version": __version__, "n_events": args.events, "n_stations": args.stations,
           "edt_spread": settings.get("likelihood", LikelihoodConfig()).spread,
           "above_stations_km": settings.get("search", SearchConfig()).above_stations_km,
           "travel_times": ("the bundled socal-1d networks" if args.networks
                            else "exact first arrivals of socal-1d (the default)"),
           "seed": args.seed, "pick_noise_s": PICK_NOISE_S, "nonlinloc": NONLINLOC,
           "targets": TARGETS, "runs": {}}
    todo = [(c, runs[c]) for c in args.cases]
    if "delays" in args.cases:  # the same catalogue without station terms, for reference
        todo.append(("delays_no_terms", (runs["delays"][0], set(), {})))
    for name, (cat, moved, extra) in todo:
        locator = Locator(*models, device=args.device, **settings, **extra)
        t0 = time.perf_counter()
        report = locator.run(cat, inventory)
        figures = score(report, truth, moved)
        figures["seconds"] = time.perf_counter() - t0
        figures["error_models"] = [e.describe() for e in report.error_models]
        figures["n_passes"] = report.n_passes
        figures["events_in_out"] = [len(cat), len(report.catalog)]
        if name.startswith("delays"):
            # a delay common to every station and phase is a later origin time in every event:
            # no data tell them apart, so it stays in the origin times
            common = float(np.mean(list(delays.values())))
            signed = np.array([r["origin_time_signed_s"] for r in figures["per_event"]])
            figures["mean_delay_s"] = common
            figures["mean_origin_time_less_mean_delay_s"] = float(np.mean(np.abs(signed
                                                                                 - common)))
        if report.station_terms:
            est = np.array([report.station_terms.get((f"SY.{c}", ph), 0.0) for c, ph in delays])
            true = np.array(list(delays.values()))
            figures["station_term_rms_error_s"] = float(np.sqrt(np.mean(
                (est - true - np.mean(est - true)) ** 2)))
            figures["station_term_mean_error_s"] = float(np.mean(est - true))
            sd = [r["station_term_sd_km"] for r in figures["per_event"]
                  if r["station_term_sd_km"] is not None]
            figures["median_station_term_sd_km"] = float(np.median(sd)) if sd else None
        out["runs"][name] = figures
        write_results(args.output, out)  # after each case: a long run keeps what it did
        print(f"{name}: {figures['mean_epicentral_km']:.3f} km / {figures['mean_depth_km']:.3f} km"
              f" / {figures['mean_origin_time_s']:.3f} s, {figures['seconds']:.0f} s",
              flush=True)
        if args.nll_bin and name in runs:
            from _nll_synthetic import locate_synthetic, score_nll

            with tempfile.TemporaryDirectory(prefix=f"nll_{name}_") as workdir:
                nll = score_nll(locate_synthetic(cat, inventory, socal_1d(), args.nll_bin,
                                                 Path(workdir)), truth)
            out.setdefault("nonlinloc_same_run", {})[name] = nll
            write_results(args.output, out)
            print(f"{name}, NonLinLoc: {nll['mean_epicentral_km']:.3f} km / "
                  f"{nll['mean_depth_km']:.3f} km / {nll['mean_origin_time_s']:.3f} s, "
                  f"{nll['seconds']:.0f} s", flush=True)

    keys = [("mean epicentre (km)", "mean_epicentral_km", "{:.3f}"),
            ("median epicentre (km)", "median_epicentral_km", "{:.3f}"),
            ("90th pct epicentre (km)", "p90_epicentral_km", "{:.3f}"),
            ("mean depth (km)", "mean_depth_km", "{:.3f}"),
            ("mean origin time (s)", "mean_origin_time_s", "{:.3f}"),
            ("inside 68 % ellipsoid", "coverage_68", "{:.0%}"),
            ("inside 90 % ellipsoid", "coverage_90", "{:.0%}"),
            ("origin time within 1 sigma", "origin_time_coverage_68", "{:.0%}"),
            ("median semi-major (km)", "median_semi_major_km", "{:.2f}"),
            ("KDE mode: epi / depth (km)", ("kde_mode_mean_epicentral_km",
                                            "kde_mode_mean_depth_km"), "{:.3f}/{:.3f}"),
            ("best particle: epi / depth", ("map_mean_epicentral_km", "map_mean_depth_km"),
             "{:.3f}/{:.3f}"),
            ("moved picks flagged", "moved_flagged", "{:.1%}"),
            ("good picks flagged", "good_flagged", "{:.2%}"),
            ("unconverged", "n_unconverged", "{}"),
            ("seconds", "seconds", "{:.0f}")]
    names = list(out["runs"])
    print(f"\naccuracy at default settings: {args.events} events, {args.stations} stations, "
          f"seed {args.seed}")
    print(f"{'':<28}" + "".join(f"{n:>17}" for n in names) + f"{'NonLinLoc':>12}")
    for label, key, fmt in keys:
        cells = []
        for n in names:
            r = out["runs"][n]
            value = tuple(r[k] for k in key) if isinstance(key, tuple) else r[key]
            cells.append("-" if value is None else fmt.format(*value) if isinstance(value, tuple)
                         else fmt.format(value))
        nll = NONLINLOC.get(key) if isinstance(key, str) else None
        print(f"{label:<28}" + "".join(f"{c:>17}" for c in cells)
              + (f"{fmt.format(nll):>12}" if nll is not None else ""))
    same_run = out.get("nonlinloc_same_run", {})
    if same_run:
        first = next(iter(same_run.values()))
        print(f"\nNonLinLoc, same catalogues, same run (LOCGAU2 "
              f"{' '.join(map(str, first['gau2']))}, EDT, 0.25 km grids):")
        print(f"{'':<28}" + "".join(f"{n:>17}" for n in same_run))
        for label, key, fmt in keys:
            if isinstance(key, tuple) or key not in first:
                continue
            print(f"{label:<28}" + "".join(
                f"{'-' if r[key] is None else fmt.format(r[key]):>17}" for r in same_run.values()))
    for n in names:
        print(f"{n}: error model {'; '.join(out['runs'][n]['error_models'])}")
    write_results(args.output, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
