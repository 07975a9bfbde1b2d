"""Synthetic recovery benchmark: locate a synthetic catalogue with the bundled socal-1d model.

Picks are exact first arrivals in the layered socal-1d model plus 0.05 s Gaussian noise
(:func:`obspy_hyposvi.bridge.synthetic.synthetic_catalog`); the catalogue is located twice:

- ``matched``: the error model matched to the data: pick sigma 0.05 s and a constant
  forward-model term equal to the EikoNet validation median error (read from the checkpoints'
  metadata, the larger of P and S);
- ``paper``: the paper's defaults (10 % of the travel time, clipped to 0.1-2.0 s).

For each: mean epicentral, depth and origin-time errors, the fraction of true hypocentres
inside the stated 68.27 % confidence ellipsoid (squared Mahalanobis distance with the
posterior covariance below the chi-square 3-dof quantile), events in = events out, and
whether the QuakeML written validates. Prints a table and writes
``benchmarks/results/synthetic_recovery.json``. Targets (issue 4): epicentre <= 0.5 km, depth
<= 1.0 km, origin time <= 0.15 s, matched coverage 55-80 %.

Usage: ``python benchmarks/synthetic_recovery.py [--quick] [--events N] [--seed S]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.stats import chi2

from obspy_hyposvi import __version__
from obspy_hyposvi.bridge.origins import write_catalog
from obspy_hyposvi.bridge.picks import PickConfig
from obspy_hyposvi.bridge.synthetic import synthetic_catalog
from obspy_hyposvi.eikonet.model import load_model
from obspy_hyposvi.errors import InputError
from obspy_hyposvi.locate.likelihood import ErrorModel, LikelihoodConfig
from obspy_hyposvi.locate.result import LocationResult
from obspy_hyposvi.locate.summary import SummaryConfig
from obspy_hyposvi.locate.svgd import SVGDConfig
from obspy_hyposvi.locator import Locator

from _results import write_results  # benchmarks/_results.py

RESULTS = Path(__file__).resolve().parent / "results"
PICK_NOISE_S = 0.05
CONFIDENCE = 68.27
TARGETS = {"mean_epicentral_km": 0.5, "mean_depth_km": 1.0, "mean_origin_time_s": 0.15,
           "coverage_matched": [0.55, 0.80]}


def score(report, truth: list[dict]) -> dict:
    """Errors and ellipsoid coverage of one run against the truth (same event order)."""
    limit = chi2.ppf(CONFIDENCE / 100.0, 3)
    epi, dep, ot, inside = [], [], [], []
    degenerate = 0
    per_event = []
    for res, obs, t, frame in zip(report.results, report.observations, truth,
                                  report.projections):
        if not isinstance(res, LocationResult):
            continue
        x, y, _ = frame.to_xyz_km(t["lon"], t["lat"])  # each event has its own frame
        true_xyz = np.array([float(x), float(y), t["depth_km"]])
        d = np.asarray(res.hypocentre_xyz_km) - true_xyz
        epi.append(float(np.hypot(d[0], d[1])))
        dep.append(float(abs(d[2])))
        ot.append(float(abs((obs.reference_time + res.origin_time_s) - t["time"])))
        # a collapsed cluster (e.g. particles pinned to the search box) has a singular
        # covariance: its flat ellipsoid cannot contain the truth; count such events apart
        cov = np.asarray(res.covariance_km2)
        if np.linalg.matrix_rank(cov) < 3:
            degenerate += 1
            inside.append(False)
            continue
        m2 = float(d @ np.linalg.solve(cov, d))
        inside.append(m2 <= limit)
        per_event.append({"event_id": res.event_id, "epicentral_km": epi[-1],
                          "depth_error_km": float(d[2]), "origin_time_s": ot[-1],
                          "mahalanobis2": m2,
                          "cluster_fraction": res.extra.get("cluster_fraction")})
    return {"n_located": len(epi),
            "mean_epicentral_km": float(np.mean(epi)) if epi else float("nan"),
            "median_epicentral_km": float(np.median(epi)) if epi else float("nan"),
            "mean_depth_km": float(np.mean(dep)) if dep else float("nan"),
            "median_depth_km": float(np.median(dep)) if dep else float("nan"),
            "mean_origin_time_s": float(np.mean(ot)) if ot else float("nan"),
            "coverage_68": float(np.mean(inside)) if inside else float("nan"),
            "n_singular_covariance": degenerate, "per_event": per_event}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="8 events, 60 particles, 80 epochs (a smoke run, not the figures)")
    parser.add_argument("--events", type=int, default=None, help="number of events (default 30)")
    parser.add_argument("--stations", type=int, default=25)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model", default="socal-1d")
    parser.add_argument("--particles", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--device", default="cpu", help="torch device (cpu or cuda)")
    parser.add_argument("--output", type=Path, default=RESULTS / "synthetic_recovery.json")
    args = parser.parse_args(argv)
    n_events = args.events or (8 if args.quick else 30)
    svgd = SVGDConfig(n_particles=args.particles or (60 if args.quick else 150),
                      n_epochs=args.epochs or (80 if args.quick else 175), seed=args.seed)

    catalog, inventory, truth = synthetic_catalog(n_events, args.stations, seed=args.seed,
                                                  pick_noise_s=PICK_NOISE_S)
    p_model, s_model = (load_model(args.model, ph, device=args.device) for ph in "PS")
    # the forward-model term matched to the network's accuracy: its validation median error
    model_error_s = max(m.metadata["validation"]["median_abs_dt_s"] for m in (p_model, s_model))
    runs = {
        "matched": ErrorModel(fraction=0.0, min_s=model_error_s, max_s=model_error_s),
        "paper": ErrorModel(fraction=0.1, min_s=0.1, max_s=2.0),
    }
    out = {"package_version": __version__, "model": args.model, "n_events": n_events,
           "n_stations": args.stations, "seed": args.seed, "pick_noise_s": PICK_NOISE_S,
           "svgd": svgd.to_dict(), "confidence_level": CONFIDENCE, "quick": args.quick,
           "targets": TARGETS, "runs": {}}
    for name, error_model in runs.items():
        locator = Locator(p_model, s_model, svgd=svgd, device=args.device,
                          likelihood=LikelihoodConfig(error_model=error_model),
                          summary=SummaryConfig(confidence_level=CONFIDENCE),
                          picks=PickConfig(default_sigma_s=PICK_NOISE_S))
        t0 = time.perf_counter()
        report = locator.run(catalog, inventory)
        seconds = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as tmp:
            try:
                write_catalog(report.catalog, Path(tmp) / "located.xml", validate=True)
                valid = True
            except InputError:
                valid = False
        figures = score(report, truth)
        figures.update({"error_model": error_model.to_dict(), "seconds": seconds,
                        "events_in": len(catalog), "events_out": len(report.catalog),
                        "n_failed": report.n_failed, "failures": report.failures,
                        "quakeml_valid": valid})
        out["runs"][name] = figures

    rows = [("mean epicentral error (km)", "mean_epicentral_km", "{:.3f}", "<= 0.5"),
            ("mean depth error (km)", "mean_depth_km", "{:.3f}", "<= 1.0"),
            ("mean origin-time error (s)", "mean_origin_time_s", "{:.3f}", "<= 0.15"),
            ("inside 68 % ellipsoid", "coverage_68", "{:.0%}", "55-80 % (matched)"),
            ("events in / out", None, None, "equal"),
            ("located / failed", None, None, ""),
            ("QuakeML valid", "quakeml_valid", "{}", "True"),
            ("seconds", "seconds", "{:.0f}", "")]
    print(f"synthetic recovery: {n_events} events, {args.stations} stations, seed {args.seed}, "
          f"{svgd.n_particles} particles x {svgd.n_epochs} epochs, model {args.model}; matched "
          f"forward-model error {model_error_s:.3f} s")
    print(f"{'':<28} {'matched':>12} {'paper':>12}   target")
    rows.insert(4, ("singular covariances", "n_singular_covariance", "{}", "0"))
    for label, key, fmt, target in rows:
        cells = []
        for name in runs:
            r = out["runs"][name]
            if label.startswith("events"):
                cells.append(f"{r['events_in']} / {r['events_out']}")
            elif label.startswith("located"):
                cells.append(f"{r['n_located']} / {r['n_failed']}")
            else:
                cells.append(fmt.format(r[key]))
        print(f"{label:<28} {cells[0]:>12} {cells[1]:>12}   {target}")
    write_results(args.output, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
