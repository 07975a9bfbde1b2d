"""Posterior summary: clusters, KDE peak, ellipsoid angles."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from obspy_hyposvi.locate.summary import (confidence_ellipsoid, ellipsoid_axes, horizontal_ellipse,
                                          kde_map, sigma_scale)

ANGLE_TOL = 1e-6  # round trip of exact arithmetic


def test_sigma_scale_values():
    assert sigma_scale(68.27, 1) == pytest.approx(1.0, abs=1e-3)
    assert sigma_scale(68.27, 2) == pytest.approx(1.515, abs=1e-3)
    assert sigma_scale(68.27, 3) == pytest.approx(1.878, abs=1e-3)


@pytest.mark.parametrize("seed", range(8))
def test_ellipsoid_round_trip(seed):
    rng = np.random.default_rng(seed)
    # columns: axes in x, y, z (east, north, down)
    rot = Rotation.random(random_state=seed).as_matrix()
    sig = np.sort(rng.uniform(0.2, 3.0, 3))[::-1]
    cov = rot @ np.diag(sig**2) @ rot.T
    e = confidence_ellipsoid(cov, 68.27)
    assert 0 <= e.major_plunge_deg <= 90
    assert e.semi_major_km == pytest.approx(1.878 * sig[0], rel=1e-3)
    assert e.semi_minor_km == pytest.approx(1.878 * sig[2], rel=1e-3)
    axes_ned = ellipsoid_axes(e)
    # rebuild the covariance from the angles and the lengths: must equal the input
    to_xyz = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]])  # ned -> (east, north, down)
    axes = to_xyz @ axes_ned
    k = sigma_scale(68.27, 3)
    lengths = np.array([e.semi_major_km, e.semi_intermediate_km, e.semi_minor_km]) / k
    rebuilt = axes @ np.diag(lengths**2) @ axes.T
    np.testing.assert_allclose(rebuilt, cov, atol=ANGLE_TOL)
    assert np.linalg.det(axes_ned) == pytest.approx(1.0)


def test_horizontal_ellipse_of_north_elongated_cov():
    big, small, az = horizontal_ellipse(np.diag([1.0, 9.0, 1.0]), 68.27)
    assert big == pytest.approx(1.515 * 3, rel=1e-3)
    assert small == pytest.approx(1.515, rel=1e-3)
    assert az == pytest.approx(0.0, abs=1e-6) or az == pytest.approx(180.0, abs=1e-6)


def test_kde_peak():
    rng = np.random.default_rng(0)
    pts = rng.normal([10, 10, 5], 0.3, (120, 3))
    peak, bw = kde_map(pts)
    np.testing.assert_allclose(peak, [10, 10, 5], atol=0.2)
    assert bw > 0
