"""Figures are written, with and without stations, truth and failed events."""

from __future__ import annotations

import numpy as np
import pytest

from obspy_hyposvi.geo import Projection
from obspy_hyposvi.locate.locate import LocationFailure
from obspy_hyposvi.locate.observations import Observations
from obspy_hyposvi.locate.result import LocationResult
from obspy_hyposvi.locate.summary import confidence_ellipsoid, horizontal_ellipse
from obspy_hyposvi.plot import plot_catalog, plot_event

PNG_MAGIC = b"\x89PNG"


def _result(centre, seed=0, event_id="ev") -> LocationResult:
    rng = np.random.default_rng(seed)
    cov = np.array([[0.3, 0.1, 0.0], [0.1, 0.2, 0.05], [0.0, 0.05, 0.9]])
    particles = np.vstack([rng.multivariate_normal(centre, cov, 60),
                           rng.uniform(-20.0, 20.0, (10, 3)) + centre])
    mask = np.r_[np.ones(60, bool), np.zeros(10, bool)]
    return LocationResult(
        event_id=event_id, hypocentre_xyz_km=np.asarray(centre, float), covariance_km2=cov,
        origin_time_s=0.0, origin_time_uncertainty_s=0.05,
        ellipsoid=confidence_ellipsoid(cov, 68.27),
        horizontal_uncertainty_km=horizontal_ellipse(cov, 68.27), confidence_level=68.27,
        travel_time_s=np.zeros(4), residual_s=np.zeros(4), weight=np.ones(4),
        takeoff_deg=np.zeros(4), particles_xyz_km=particles, cluster_mask=mask)


def _observations(event_id="ev") -> Observations:
    xyz = np.array([[-10.0, -10.0, -0.5], [10.0, -10.0, -1.0], [10.0, 10.0, 0.0],
                    [-10.0, 10.0, -1.5]])
    return Observations(event_id=event_id, station_xyz_km=xyz, phase_idx=np.zeros(4, int),
                        arrival_s=np.arange(4.0), sigma_s=np.full(4, 0.05))


@pytest.fixture
def projection():
    return Projection("EPSG:32611")


def test_plot_event_writes_png(tmp_path, projection):
    out = plot_event(_result([0.0, 0.0, 8.0]), _observations(), projection,
                     tmp_path / "sub" / "event.png", truth_xyz_km=[0.3, -0.2, 8.5])
    assert out.read_bytes()[:4] == PNG_MAGIC


def test_plot_event_without_stations_or_projection(tmp_path):
    out = plot_event(_result([1.0, 2.0, 5.0]), None, None, tmp_path / "event.pdf")
    assert out.stat().st_size > 1000


def test_plot_catalog_skips_failures(tmp_path, projection):
    results = [_result([0.0, 0.0, 8.0], 1, "a"), LocationFailure("b", "too few picks"),
               _result([5.0, -3.0, 12.0], 2, "c")]
    observations = [_observations("a"), None, _observations("c")]
    truth = np.array([[0.2, 0.1, 8.3], [np.nan] * 3, [5.1, -2.9, 11.0]])
    out = plot_catalog(results, observations, projection, tmp_path / "catalog.png",
                       truth_xyz_km=truth)
    assert out.read_bytes()[:4] == PNG_MAGIC


def test_plot_catalog_with_nothing_located(tmp_path):
    out = plot_catalog([LocationFailure("a", "no picks")], [None], None, tmp_path / "empty.png")
    assert out.is_file()
