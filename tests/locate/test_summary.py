"""Posterior summary: clusters, KDE peak, ellipsoid angles."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from obspy_hyposvi.locate.summary import (SummaryConfig, confidence_ellipsoid, dominant_cluster,
                                          ellipsoid_axes, horizontal_ellipse, kde_map, sigma_scale)

ANGLE_TOL = 1e-6  # round trip of exact arithmetic


def test_sigma_scale_values():
    assert sigma_scale(68.27, 1) == pytest.approx(1.0, abs=1e-3)
    assert sigma_scale(68.27, 2) == pytest.approx(1.515, abs=1e-3)
    assert sigma_scale(68.27, 3) == pytest.approx(1.878, abs=1e-3)


@pytest.mark.parametrize("seed", range(8))
def test_ellipsoid_round_trip(seed):
    rng = np.random.default_rng(seed)
    rot = Rotation.random(random_state=seed).as_matrix()  # columns: axes in x, y, z (east, north, down)
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


def test_dominant_cluster_and_kde_peak():
    rng = np.random.default_rng(0)
    main = rng.normal([10, 10, 5], 0.3, (120, 3))
    other = rng.normal([40, 0, 20], 0.3, (30, 3))
    pts = np.vstack([main, other])
    mask = dominant_cluster(pts, SummaryConfig())
    assert mask[:120].all() and not mask[120:].any()
    peak, bw = kde_map(pts[mask])
    np.testing.assert_allclose(peak, [10, 10, 5], atol=0.2)
    assert bw > 0


def test_dominant_cluster_follows_the_most_probable_mode_not_a_wall_pile():
    """Particles held on a wall of the box pile up into the densest, largest cluster; with
    log-probabilities the summary keeps the main mode instead."""
    rng = np.random.default_rng(4)
    wall = np.column_stack([rng.normal(0, 0.2, 90), rng.normal(0, 0.2, 90), np.full(90, -3.0)])
    mode = rng.normal([0.0, 0.0, 3.4], 0.3, size=(60, 3))
    particles = np.vstack([wall, mode])
    log_prob = np.concatenate([np.full(90, 146.2), 148.8 - 0.5 * ((mode[:, 2] - 3.4) / 0.3) ** 2])
    cfg = SummaryConfig()
    by_count = dominant_cluster(particles, cfg)
    assert by_count[:90].all() and not by_count[90:].any()
    by_mode = dominant_cluster(particles, cfg, log_prob)
    assert not by_mode[:90].any() and by_mode[90:].mean() > 0.9
