"""The written ellipsoid, read as QuakeML readers do, agrees with the origin's own errors.

A reader that follows QuakeML (X major, Y minor, Z intermediate; z-y'-x'' rotations, as USGS
libcomcat's ``tait2vec`` and NonLinLoc) rebuilds the ellipsoid from the written angles and
lengths. Its extent along north, east and down, scaled from the 3D to the 1D confidence
factor, must be the origin's latitude, longitude and depth errors.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from obspy.geodetics import degrees2kilometers

from obspy_hyposvi.bridge.origins import origin_from_result
from obspy_hyposvi.bridge.picks import observations_from_event
from obspy_hyposvi.locate.summary import confidence_ellipsoid, horizontal_ellipse, sigma_scale

from .conftest import make_result

#: The errors and the ellipsoid come from one covariance; the origin takes 68.27 % as exactly
#: one sigma, where the chi-square quantile gives 1.00002.
SAME_COVARIANCE_RTOL = 1e-4
#: Read with Y and Z swapped (the frame written before this fix) the extents were 10-12 % off
#: on real events; this covariance's are off by more than this.
WRONG_FRAME_MIN_RELATIVE_ERROR = 0.05

#: A generic covariance (x east, y north, z down), km^2: tilted, all axes distinct.
COVARIANCE_KM2 = np.array([[0.90, 0.35, 0.55], [0.35, 0.50, -0.30], [0.55, -0.30, 2.40]])


def quakeml_axes(azimuth_deg, plunge_deg, rotation_deg):
    """Rows: QuakeML's X (major), Y (minor), Z (intermediate) unit vectors in (north, east,
    down), from the z-y'-x'' rotation table (the same reference reading as
    ``tests/locate/test_ellipsoid_quakeml.py``; test folders are not packages)."""
    c1, s1 = np.cos(np.radians(azimuth_deg)), np.sin(np.radians(azimuth_deg))
    c2, s2 = np.cos(np.radians(plunge_deg)), np.sin(np.radians(plunge_deg))
    c3, s3 = np.cos(np.radians(rotation_deg)), np.sin(np.radians(rotation_deg))
    return np.array([
        [c2 * c1, c2 * s1, s2],
        [-c3 * s1 - s3 * s2 * c1, c3 * c1 - s3 * s2 * s1, s3 * c2],
        [s3 * s1 - c3 * s2 * c1, -s3 * c1 - c3 * s2 * s1, c3 * c2],
    ])


def _extents_km(origin, swap_y_z: bool = False) -> np.ndarray:
    """Half-widths (north, east, down) of the written ellipsoid, km, scaled to 1D."""
    ell = origin.origin_uncertainty.confidence_ellipsoid
    rows = quakeml_axes(ell.major_axis_azimuth, ell.major_axis_plunge, ell.major_axis_rotation)
    lengths_km = np.array([ell.semi_major_axis_length, ell.semi_minor_axis_length,
                           ell.semi_intermediate_axis_length]) / 1e3  # QuakeML lengths are in m
    if swap_y_z:
        lengths_km = lengths_km[[0, 2, 1]]
    shape = sum(length**2 * np.outer(v, v) for length, v in zip(lengths_km, rows))
    level = origin.origin_uncertainty.confidence_level
    return np.sqrt(np.diag(shape)) * sigma_scale(level, 1) / sigma_scale(level, 3)


def _origin_errors_km(origin) -> np.ndarray:
    """The origin's latitude, longitude and depth errors as km (north, east, down)."""
    north = degrees2kilometers(origin.latitude_errors.uncertainty)
    east = degrees2kilometers(origin.longitude_errors.uncertainty) * math.cos(
        math.radians(origin.latitude))
    return np.array([north, east, origin.depth_errors.uncertainty / 1e3])  # m -> km


@pytest.mark.parametrize("lon_deg", [-117.0, -115.0])  # on and 2 deg off the central meridian
def test_ellipsoid_extent_matches_latitude_longitude_depth_errors(
        event_with_picks, inventory, projection, lon_deg):
    obs, _ = observations_from_event(event_with_picks, inventory, projection)
    x_km, y_km, _ = projection.to_xyz_km(lon_deg, 34.0)
    level = 68.27
    result = dataclasses.replace(
        make_result(obs, hypocentre_xyz_km=[float(x_km), float(y_km), 10.0]),
        covariance_km2=COVARIANCE_KM2,
        ellipsoid=confidence_ellipsoid(COVARIANCE_KM2, level),
        horizontal_uncertainty_km=horizontal_ellipse(COVARIANCE_KM2, level))
    origin = origin_from_result(result, obs, projection, model_info={}, version="0.1.0")
    errors_km = _origin_errors_km(origin)
    np.testing.assert_allclose(_extents_km(origin), errors_km, rtol=SAME_COVARIANCE_RTOL)
    # the check has teeth: the other frame's reading disagrees
    wrong = np.abs(_extents_km(origin, swap_y_z=True) / errors_km - 1)
    assert wrong.max() > WRONG_FRAME_MIN_RELATIVE_ERROR
