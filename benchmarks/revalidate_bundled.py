"""Add whole-domain validation figures to the bundled checkpoints, weights unchanged.

Training validated each bundled network on offsets 0-250 km and sources 0-40 km deep, while
the models advertise offsets 0-400 km and depths -3..60 km. This script measures them over
the whole advertised domain and per band of offset and of source depth
(:func:`obspy_hyposvi.eikonet.checkpoint.domain_validation`: the exact layered solution of
:mod:`obspy_hyposvi.reference.layered_exact`, fixed seed) and rewrites each file's
``metadata["validation"]`` with ``whole_domain`` and ``by_range`` added; the earlier figures,
the training history and the weights stay as they were. ``hyposvi models`` prints the result.

Usage: ``OMP_NUM_THREADS=1 python benchmarks/revalidate_bundled.py`` (a few seconds).
"""

from __future__ import annotations

from obspy_hyposvi.eikonet.checkpoint import revalidate_checkpoint
from obspy_hyposvi.eikonet.model import bundled_model_dir


def main() -> int:
    for path in sorted(bundled_model_dir().glob("*-[PS].pt")):
        val = revalidate_checkpoint(path)
        whole = val["whole_domain"]
        print(f"{path.name}: whole domain (both ends at any depth): median |dT| "
              f"{whole['median_abs_dt_s']:.4f} s, p99 {whole['p99_abs_dt_s']:.4f} s, max "
              f"{whole['max_abs_dt_s']:.4f} s; median |dv| {whole['median_abs_dv_kmps']:.4f} km/s")
        print(f"  {'offset (km)':>12} {'source (km)':>12} {'receiver (km)':>13} "
              f"{'median |dT|':>11} {'p99':>7} {'max':>7} {'mean dT':>8}")
        for band in val["by_range"]:
            print(f"  {'%g-%g' % tuple(band['offset_km']):>12} "
                  f"{'%g..%g' % tuple(band['source_depth_km']):>12} "
                  f"{'%g..%g' % tuple(band['receiver_depth_km']):>13} "
                  f"{band['median_abs_dt_s']:>11.4f} {band['p99_abs_dt_s']:>7.4f} "
                  f"{band['max_abs_dt_s']:>7.4f} {band['mean_dt_s']:>+8.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
