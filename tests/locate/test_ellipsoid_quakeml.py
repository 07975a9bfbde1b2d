"""Confidence ellipsoid angles in QuakeML's frame (X major, Y minor, Z intermediate).

The reference reading is written out here from the z-y'-x'' Tait-Bryan rotation table, the
reading of USGS libcomcat (``tait2vec``) and NonLinLoc, independently of
``obspy_hyposvi.locate.summary``.
"""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from obspy_hyposvi.locate.result import ConfidenceEllipsoid
from obspy_hyposvi.locate.summary import confidence_ellipsoid, ellipsoid_axes, sigma_scale

#: Round trip of exact arithmetic (eigen-decomposition and trigonometry in float64).
EXACT_TOL = 1e-9
#: libcomcat prints its worked example's axes to 0.1 deg.
PRINTED_DEG = 0.051
#: The worked example's published axes are rounded to whole degrees and lie 0.9 deg from
#: orthogonal; the eigenvectors of the covariance they define move by up to ~0.2 deg.
ROUNDED_AXES_DEG = 0.3
#: Their lengths are given to 0.1 km; non-orthogonality moves the eigenvalues by < 0.01 km.
ROUNDED_AXES_KM = 0.01


def quakeml_axes(azimuth_deg, plunge_deg, rotation_deg):
    """Rows: QuakeML's X (major), Y (minor), Z (intermediate) unit vectors in (north, east,
    down), from the z-y'-x'' intrinsic rotation table."""
    c1, s1 = np.cos(np.radians(azimuth_deg)), np.sin(np.radians(azimuth_deg))
    c2, s2 = np.cos(np.radians(plunge_deg)), np.sin(np.radians(plunge_deg))
    c3, s3 = np.cos(np.radians(rotation_deg)), np.sin(np.radians(rotation_deg))
    return np.array([
        [c2 * c1, c2 * s1, s2],
        [-c3 * s1 - s3 * s2 * c1, c3 * c1 - s3 * s2 * s1, s3 * c2],
        [s3 * s1 - c3 * s2 * c1, -s3 * c1 - c3 * s2 * s1, c3 * c2],
    ])


def axis_vector(azimuth_deg, plunge_deg):
    """Unit vector (north, east, down) of an axis given by azimuth and plunge."""
    az, pl = np.radians([azimuth_deg, plunge_deg])
    return np.array([np.cos(az) * np.cos(pl), np.sin(az) * np.cos(pl), np.sin(pl)])


def azimuth_plunge(vector):
    """Azimuth (deg, [0, 360)) and plunge (deg, [0, 90]) of an axis (downward end)."""
    v = vector if vector[2] >= 0 else -vector
    return np.degrees(np.arctan2(v[1], v[0])) % 360.0, np.degrees(np.arcsin(v[2]))


def angle_between_axes_deg(a, b):
    """Angle between two axes (no sign), degrees."""
    return np.degrees(np.arccos(np.clip(abs(a @ b) / np.linalg.norm(a) / np.linalg.norm(b),
                                        -1, 1)))


@pytest.mark.parametrize("seed", range(12))
def test_round_trip_against_independently_built_axes(seed):
    rng = np.random.default_rng(seed)
    frame_ned = Rotation.random(random_state=seed).as_matrix()  # columns: axes (north, east, down)
    sigma_km = np.sort(rng.uniform(0.2, 4.0, 3))[::-1]  # major, intermediate, minor
    cov_ned = frame_ned @ np.diag(sigma_km**2) @ frame_ned.T
    to_xyz = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]])  # swaps north and east
    e = confidence_ellipsoid(to_xyz @ cov_ned @ to_xyz.T, 68.27)
    assert 0 <= e.major_plunge_deg <= 90 and 0 <= e.major_rotation_deg < 180
    x_axis, y_axis, z_axis = quakeml_axes(e.major_azimuth_deg, e.major_plunge_deg,
                                          e.major_rotation_deg)
    # X is the longest axis, Y the shortest, Z the intermediate one
    assert angle_between_axes_deg(x_axis, frame_ned[:, 0]) < 1e-6
    assert angle_between_axes_deg(y_axis, frame_ned[:, 2]) < 1e-6
    assert angle_between_axes_deg(z_axis, frame_ned[:, 1]) < 1e-6
    k = sigma_scale(68.27, 3)
    lengths = np.array([e.semi_major_km, e.semi_minor_km, e.semi_intermediate_km]) / k
    rebuilt = sum(length**2 * np.outer(v, v)
                  for length, v in zip(lengths, (x_axis, y_axis, z_axis)))
    np.testing.assert_allclose(rebuilt, cov_ned, atol=EXACT_TOL)
    # ellipsoid_axes keeps its contract: columns major, intermediate, minor, right-handed
    axes = ellipsoid_axes(e)
    for column, reference in zip(axes.T, (x_axis, z_axis, y_axis)):
        assert angle_between_axes_deg(column, reference) < 1e-6
    assert np.linalg.det(axes) == pytest.approx(1.0, abs=EXACT_TOL)


def test_libcomcat_worked_example_angles_to_axes():
    """tait2vec of (139, 6, 88.9075): libcomcat prints the minor axis at 308.7/83.9 and the
    intermediate at 48.9/1.1 (azimuth/plunge, deg)."""
    e = ConfidenceEllipsoid(16.0, 6.1, 10.9, 139.0, 6.0, 88.9075, 68.27)
    major, intermediate, minor = ellipsoid_axes(e).T
    np.testing.assert_allclose(azimuth_plunge(major), (139.0, 6.0), atol=EXACT_TOL)
    np.testing.assert_allclose(azimuth_plunge(minor), (308.7, 83.9), atol=PRINTED_DEG)
    np.testing.assert_allclose(azimuth_plunge(intermediate), (48.9, 1.1), atol=PRINTED_DEG)


def test_libcomcat_worked_example_axes_to_angles():
    """Axes 139/6 16.0 km, 310/83 6.1 km, 49/1 10.9 km give rotation 88.9 deg (libcomcat's
    vec2tait test: 88.9075)."""
    k = sigma_scale(68.27, 3)
    axes = [(139.0, 6.0, 16.0), (310.0, 83.0, 6.1), (49.0, 1.0, 10.9)]
    cov_ned = sum((length / k) ** 2 * np.outer(axis_vector(az, pl), axis_vector(az, pl))
                  for az, pl, length in axes)
    cov_xyz = cov_ned[np.ix_([1, 0, 2], [1, 0, 2])]  # -> (east, north, down)
    e = confidence_ellipsoid(cov_xyz, 68.27)
    assert e.major_azimuth_deg == pytest.approx(139.0, abs=ROUNDED_AXES_DEG)
    assert e.major_plunge_deg == pytest.approx(6.0, abs=ROUNDED_AXES_DEG)
    assert e.major_rotation_deg == pytest.approx(88.9075, abs=ROUNDED_AXES_DEG)
    assert (e.semi_major_km, e.semi_minor_km, e.semi_intermediate_km) == pytest.approx(
        (16.0, 6.1, 10.9), abs=ROUNDED_AXES_KM)


def test_rotation_is_the_minor_axis_turn_towards_down():
    """Major axis north, 20 deg down; minor axis turned 30 deg from east towards the down-dip
    direction normal to the major axis."""
    plunge = np.radians(20.0)
    major = np.array([np.cos(plunge), 0.0, np.sin(plunge)])
    east, normal_down = np.array([0.0, 1.0, 0.0]), np.array([-np.sin(plunge), 0.0, np.cos(plunge)])
    minor = np.cos(np.radians(30)) * east + np.sin(np.radians(30)) * normal_down
    intermediate = np.cross(major, minor)
    cov_ned = 9 * np.outer(major, major) + 0.25 * np.outer(minor, minor) \
        + np.outer(intermediate, intermediate)
    e = confidence_ellipsoid(cov_ned[np.ix_([1, 0, 2], [1, 0, 2])], 68.27)
    assert (e.major_azimuth_deg, e.major_plunge_deg, e.major_rotation_deg) == pytest.approx(
        (0.0, 20.0, 30.0), abs=EXACT_TOL)
