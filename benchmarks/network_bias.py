"""How far the bundled socal-1d networks' travel-time errors move a location, and what that
does to the ellipsoids' coverage (issue 9).

For each event of ``benchmarks/accuracy.py``'s synthetic catalogue (same seed, 30 stations,
the same picked stations and phases), the networks' error at the true hypocentre,
``e = T_network - T_exact`` for every pick, is propagated through the linearised least-squares
location (hypocentre and origin time, picks weighted by the stated 0.05 s):
``d = (G^T G)^-1 G^T e``, ``G`` the exact times' derivatives (central differences) and a
column of ones. ``b = d^T C^-1 d`` (``C`` the spatial block of ``sigma^2 (G^T G)^-1``) is the
squared Mahalanobis shift the networks add; a location error of noise plus that shift is
inside the ``q`` ellipsoid with the non-central chi-square probability ``P(chi2_3(b) <= k_q)``.
Averaged over the events: the coverage the networks alone would leave with perfectly sampled
posteriors (68.3 % and 90 % without them).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/network_bias.py [--events 120] [--seed 23]

Prints the summary and the events moved most; writes ``benchmarks/results/network_bias.json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.stats import chi2, ncx2

from obspy_hyposvi import __version__
from obspy_hyposvi.bridge.synthetic import synthetic_catalog
from obspy_hyposvi.eikonet.layered import layered_model
from obspy_hyposvi.eikonet.model import load_model
from obspy_hyposvi.velocity import socal_1d

from _results import write_results  # benchmarks/_results.py
from accuracy import PICK_NOISE_S  # benchmarks/accuracy.py: the same catalogue

RESULTS = Path(__file__).resolve().parent / "results"
STEP_KM = 1e-3


class _Recorder:
    """Exact travel times for :func:`synthetic_catalog` that remember the station frame."""

    def __init__(self, model) -> None:
        self.model, self.receivers_km = model, None

    def travel_time(self, sources_km, receivers_km):
        self.receivers_km = np.asarray(receivers_km, float)
        return self.model.travel_time(sources_km, receivers_km)


def shift(exact, networks, source_km, stations_km, phases) -> tuple[np.ndarray, np.ndarray]:
    """``(d, C)``: the location shift (x, y, z km and origin time s) that the networks' errors
    at ``source_km`` cause, and the hypocentre's covariance (km^2)."""
    errors, rows = [], []
    for phase, receivers in zip("PS", (stations_km[phases == 0], stations_km[phases == 1])):
        src = np.repeat(source_km[None], len(receivers), axis=0)
        t_exact = exact[phase].travel_time(src, receivers)
        errors.append(networks[phase].travel_time(src, receivers) - t_exact)
        g = np.ones((len(receivers), 4))
        for k in range(3):
            step = np.zeros(3)
            step[k] = STEP_KM
            g[:, k] = (exact[phase].travel_time(src + step, receivers)
                       - exact[phase].travel_time(src - step, receivers)) / (2 * STEP_KM)
        rows.append(g)
    e, g = np.concatenate(errors), np.concatenate(rows)
    normal = np.linalg.inv(g.T @ g)
    return normal @ g.T @ e, PICK_NOISE_S**2 * normal[:3, :3]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=120)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--output", type=Path, default=RESULTS / "network_bias.json")
    args = parser.parse_args(argv)
    exact = {ph: layered_model(socal_1d(), ph) for ph in "PS"}
    networks = {ph: load_model("socal-1d", ph) for ph in "PS"}
    recorder = _Recorder(exact["P"])
    catalog, inventory, truth = synthetic_catalog(
        args.events, 30, seed=args.seed, pick_noise_s=PICK_NOISE_S, p_model=recorder,
        s_model=_Recorder(exact["S"]))
    codes = [station.code for station in inventory[0]]
    rows = []
    for event, true in zip(catalog, truth):
        source = np.array([true["x_km"], true["y_km"], true["z_km"]])
        index = np.array([codes.index(p.waveform_id.station_code) for p in event.picks])
        phases = np.array([0 if p.phase_hint == "P" else 1 for p in event.picks])
        order = np.argsort(phases, kind="stable")  # P rows first, as shift() stacks them
        d, cov = shift(exact, networks, source, recorder.receivers_km[index[order]],
                       phases[order])
        rows.append({"depth_km": float(true["z_km"]), "shift_km": d[:3].tolist(),
                     "shift_origin_time_s": float(d[3]),
                     "sd_km": np.sqrt(np.diag(cov)).tolist(),
                     "mahalanobis_sq": float(d[:3] @ np.linalg.solve(cov, d[:3]))})
    b = np.array([r["mahalanobis_sq"] for r in rows])
    coverage = {str(q): float(np.mean(ncx2.cdf(chi2.ppf(q, 3), 3, np.maximum(b, 1e-12))))
                for q in (0.6827, 0.90)}
    shallow = np.array([r["depth_km"] < 6.5 for r in rows])
    summary = {"mean_mahalanobis_sq": float(b.mean()), "median_mahalanobis_sq": float(np.median(b)),
               "mean_mahalanobis_sq_above_6p5_km": float(b[shallow].mean()),
               "mean_mahalanobis_sq_below_6p5_km": float(b[~shallow].mean()),
               "mean_depth_shift_km": float(np.mean([r["shift_km"][2] for r in rows])),
               "predicted_coverage": coverage}
    print(f"{len(rows)} events (seed {args.seed}): squared Mahalanobis shift from the networks' "
          f"errors, mean {b.mean():.2f} (median {np.median(b):.2f}; events above 6.5 km "
          f"{b[shallow].mean():.2f}, below {b[~shallow].mean():.2f})")
    print(f"coverage left by those shifts alone: 68 % ellipsoid {coverage['0.6827']:.0%}, "
          f"90 % ellipsoid {coverage['0.9']:.0%}")
    for k in np.argsort(b)[::-1][:8]:
        r = rows[k]
        print(f"  event {k + 1:03d}: {r['depth_km']:5.2f} km deep, shift "
              f"{np.round(r['shift_km'], 3).tolist()} km, sd {np.round(r['sd_km'], 3).tolist()}"
              f" km, b {r['mahalanobis_sq']:.1f}")
    write_results(args.output, {"package_version": __version__, "n_events": len(rows),
                                "seed": args.seed, "pick_noise_s": PICK_NOISE_S,
                                "summary": summary, "per_event": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
