"""The bundled example's truth file and the error figures of `hyposvi demo`."""

from types import SimpleNamespace

import numpy as np
import pytest

from obspy_hyposvi.bridge.examples import (
    errors_against_truth,
    example_dir,
    mean_abs_errors,
    read_truth,
    truth_xyz_km,
    write_truth,
)
from obspy_hyposvi.bridge.synthetic import synthetic_catalog
from obspy_hyposvi.errors import InputError
from obspy_hyposvi.geo import Projection
from obspy_hyposvi.locate.engine import LocationFailure
from obspy_hyposvi.locate.result import LocationResult


def test_truth_round_trip(tmp_path):
    _, _, truth = synthetic_catalog(2, 6, seed=1)
    write_truth(tmp_path / "truth.csv", truth)
    back = read_truth(tmp_path / "truth.csv")
    assert list(back) == [t["event_id"] for t in truth]
    for t in truth:
        row = back[t["event_id"]]
        assert row["lon"] == pytest.approx(t["lon"], abs=1e-6)
        assert row["depth_km"] == pytest.approx(t["depth_km"], abs=1e-4)
        assert row["time"] == t["time"]


def test_bundled_truth_has_the_six_events():
    assert len(read_truth(example_dir() / "truth.csv")) == 6


def test_unreadable_truth_names_the_file(tmp_path):
    bad = tmp_path / "truth.csv"
    bad.write_text("event_id,lon\ne1,x\n")
    with pytest.raises(InputError, match="cannot read truth file .*truth.csv"):
        read_truth(bad)


def _result(event_id, hypocentre_xyz_km, origin_time_s):
    return LocationResult(event_id=event_id, hypocentre_xyz_km=np.asarray(hypocentre_xyz_km),
                          covariance_km2=np.eye(3), origin_time_s=origin_time_s,
                          origin_time_uncertainty_s=0.0, ellipsoid=None,
                          horizontal_uncertainty_km=(0, 0, 0), confidence_level=68.27,
                          travel_time_s=np.zeros(0), residual_s=np.zeros(0), weight=np.zeros(0),
                          takeoff_deg=np.zeros(0), particles_xyz_km=np.zeros((0, 3)),
                          cluster_mask=np.zeros(0, bool))


def test_errors_are_located_minus_true_in_each_events_frame():
    truth = read_truth(example_dir() / "truth.csv")
    event_id, t = next(iter(truth.items()))
    frame = Projection.for_points([t["lon"]], [t["lat"]])
    x, y, _ = frame.to_xyz_km(t["lon"], t["lat"])
    # 3 km east, 4 km north, 1 km deeper and 0.5 s late; a failure has no errors
    located = _result(event_id, [float(x) + 3.0, float(y) + 4.0, t["depth_km"] + 1.0], 10.5)
    report = SimpleNamespace(
        results=[located, LocationFailure("other", "no picks")],
        observations=[SimpleNamespace(reference_time=t["time"] - 10.0), None],
        projections=[frame, frame])
    errors = errors_against_truth(report, truth)
    assert len(errors) == 1
    assert errors[0]["epicentral_km"] == pytest.approx(5.0)
    assert errors[0]["depth_km"] == pytest.approx(1.0)
    assert errors[0]["origin_time_s"] == pytest.approx(0.5)
    assert mean_abs_errors(errors) == pytest.approx(
        {"epicentral_km": 5.0, "depth_km": 1.0, "origin_time_s": 0.5})
    assert mean_abs_errors([]) is None
    xyz = truth_xyz_km(report, errors)
    assert xyz.shape == (2, 3)
    np.testing.assert_allclose(xyz[0], [float(x), float(y), t["depth_km"]])
    assert np.isnan(xyz[1]).all()
