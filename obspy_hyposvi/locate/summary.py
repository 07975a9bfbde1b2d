"""Posterior summary settings, the kernel-density mode, and confidence regions.

The hypocentre and covariance come from :mod:`obspy_hyposvi.locate.posterior`; the paper's
estimate, the peak of a Gaussian KDE over the dominant cluster, is kept for comparison
(:func:`kde_map`). Confidence regions assume that covariance is Gaussian: a region of probability
``p`` in ``d`` dimensions has semi-axes ``sqrt(chi2.ppf(p, d))`` standard deviations long
(1.0, 1.515 and 1.878 for p = 68.27 % in 1, 2 and 3 dimensions).

Ellipsoid angles follow QuakeML's Tait-Bryan convention in a north-east-down frame, as read by
USGS libcomcat (``tait2vec``/``vec2tait``) and written by NonLinLoc: the body axes are X = major,
Y = minor, Z = intermediate, turned by intrinsic z-y'-x'' rotations. With
``R = Rz(azimuth) @ Ry(-plunge) @ Rx(rotation)`` the major, minor and intermediate axes are the
columns of ``R``. ``plunge`` (degrees below horizontal) is in [0, 90] (the major axis is taken
pointing down) and ``rotation`` turns the minor axis from horizontal towards down, in [0, 180)
(an axis has no sign, so ``rotation`` and ``rotation + 180`` are the same ellipsoid).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import chi2, gaussian_kde

from .result import ConfidenceEllipsoid

__all__ = ["SummaryConfig", "kde_map", "confidence_ellipsoid",
           "ellipsoid_axes", "horizontal_ellipse", "sigma_scale"]


@dataclass(frozen=True, kw_only=True)
class SummaryConfig:
    """Settings of the posterior summary.

    Parameters
    ----------
    cluster_eps_km
        DBSCAN neighbourhood radius, km; None (default) follows the spacing of the particles
        (:func:`~obspy_hyposvi.locate.posterior.adaptive_eps_km`). HypoSVI used a fixed 0.8 km,
        which cut posteriors wider than that into pieces.
    cluster_min_samples
        DBSCAN core-point size (HypoSVI: 3).
    confidence_level
        Percent for every error written (68.27 = one standard deviation in 1D).
    min_placed_fraction
        A location with fewer of its particles within 10.6 of the best particle's
        log-posterior (99.99 % of a 3D Gaussian posterior's mass) is marked unconverged (its
        origin gets ``evaluation_status="rejected"`` and a comment saying why): most particles
        stopped on ridges of the likelihood, and the uncertainty would describe where they
        stopped, not the posterior. A second mode of similar probability (on a wall of the
        search box, say) or a posterior wider than ``cluster_eps_km`` is not flagged.
    max_normalised_rms
        A location whose used picks' residuals have an RMS of ``residual / sigma`` above this
        is rejected: one source in this model does not explain the picks (wrong association,
        a source far outside the box, a wrong model). 1 is expected.
    """

    cluster_eps_km: float | None = None
    cluster_min_samples: int = 3
    confidence_level: float = 68.27
    min_placed_fraction: float = 0.5
    max_normalised_rms: float = 3.0

    def __post_init__(self) -> None:
        if not self.max_normalised_rms > 0:
            raise ValueError("SummaryConfig.max_normalised_rms must be > 0, got "
                             f"{self.max_normalised_rms}")
        if self.cluster_eps_km is not None and self.cluster_eps_km <= 0:
            raise ValueError(f"SummaryConfig.cluster_eps_km must be > 0, got {self.cluster_eps_km}")
        if self.cluster_min_samples < 1:
            raise ValueError("SummaryConfig.cluster_min_samples must be >= 1, got "
                             f"{self.cluster_min_samples}")
        if not 0 <= self.min_placed_fraction <= 1:
            raise ValueError("SummaryConfig.min_placed_fraction must be in [0, 1], got "
                             f"{self.min_placed_fraction}")
        if not 0 < self.confidence_level < 100:
            raise ValueError("SummaryConfig.confidence_level must be in (0, 100) percent, got "
                             f"{self.confidence_level}")

    def to_dict(self) -> dict:
        """Plain dict of the settings."""
        return asdict(self)


def sigma_scale(confidence_level: float, n_dim: int) -> float:
    """Semi-axis length, in standard deviations, of a Gaussian confidence region.

    Examples
    --------
    >>> [round(sigma_scale(68.27, d), 3) for d in (1, 2, 3)]
    [1.0, 1.515, 1.878]
    """
    return float(np.sqrt(chi2.ppf(confidence_level / 100.0, n_dim)))


def kde_map(points_km: np.ndarray, n_iter: int = 20) -> tuple[np.ndarray, float]:
    """Peak of a Gaussian KDE of the points, and the KDE bandwidth (km, geometric mean).

    Starts from the point of highest density and climbs with mean-shift steps. Falls back to the
    coordinate-wise median when the points are too few or degenerate for a KDE.
    """
    points_km = np.asarray(points_km, dtype=float)
    if len(points_km) <= points_km.shape[1] + 1:
        return np.median(points_km, axis=0), float("nan")
    try:
        kde = gaussian_kde(points_km.T)
    except np.linalg.LinAlgError:
        return np.median(points_km, axis=0), float("nan")
    cov = kde.covariance
    inv = np.linalg.inv(cov)
    x = points_km[np.argmax(kde(points_km.T))]
    for _ in range(n_iter):
        d = points_km - x
        w = np.exp(-0.5 * np.einsum("ni,ij,nj->n", d, inv, d))
        if w.sum() <= 0:
            break
        new = (w[:, None] * points_km).sum(0) / w.sum()
        if np.linalg.norm(new - x) < 1e-6:
            x = new
            break
        x = new
    bandwidth = float(np.prod(np.sqrt(np.clip(np.diag(cov), 0, None))) ** (1 / 3))
    return x, bandwidth


def _tait_bryan_frame(azimuth_deg: float, plunge_deg: float, rotation_deg: float) -> np.ndarray:
    """``Rz(azimuth) @ Ry(-plunge) @ Rx(rotation)`` in (north, east, down): columns are QuakeML's
    body axes X (major), Y (minor), Z (intermediate)."""
    az, pl, rot = np.radians([azimuth_deg, plunge_deg, rotation_deg])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    # -plunge about y: a positive plunge tips the major axis down (+z)
    ry = np.array([[np.cos(pl), 0, -np.sin(pl)], [0, 1, 0], [np.sin(pl), 0, np.cos(pl)]])
    rx = np.array([[1, 0, 0], [0, np.cos(rot), -np.sin(rot)], [0, np.sin(rot), np.cos(rot)]])
    return rz @ ry @ rx


def ellipsoid_axes(ellipsoid: ConfidenceEllipsoid) -> np.ndarray:
    """Unit vectors of the major, intermediate and minor axes, from QuakeML's angles.

    Parameters
    ----------
    ellipsoid
        Angles in QuakeML's convention (module docstring: X major, Y minor, Z intermediate).

    Returns
    -------
    numpy.ndarray
        ``(3, 3)``; columns are the major, intermediate and minor axes (longest first, the
        order of the semi-axis lengths) in (north, east, down), a right-handed frame: the
        third column is major x intermediate, i.e. QuakeML's Y axis with its sign flipped.

    Examples
    --------
    >>> e = ConfidenceEllipsoid(3.0, 1.0, 2.0, 90.0, 0.0, 90.0, 68.27)
    >>> ellipsoid_axes(e).round(6) + 0.0  # major east, intermediate north, minor vertical
    array([[ 0.,  1.,  0.],
           [ 1.,  0.,  0.],
           [ 0.,  0., -1.]])
    """
    frame = _tait_bryan_frame(ellipsoid.major_azimuth_deg, ellipsoid.major_plunge_deg,
                              ellipsoid.major_rotation_deg)
    major, minor, intermediate = frame.T
    return np.column_stack([major, intermediate, -minor])


def confidence_ellipsoid(covariance_km2: np.ndarray,
                         confidence_level: float) -> ConfidenceEllipsoid:
    """Confidence ellipsoid of a covariance given in (x east, y north, z down), km^2.

    Parameters
    ----------
    covariance_km2
        ``(3, 3)`` hypocentre covariance, km^2.
    confidence_level
        Percent; the semi-axes are ``sigma_scale(confidence_level, 3)`` standard deviations.

    Returns
    -------
    ConfidenceEllipsoid
        Lengths in km and angles in QuakeML's convention (module docstring).

    Examples
    --------
    >>> e = confidence_ellipsoid(np.diag([1.0, 4.0, 0.25]), 68.27)
    >>> round(e.semi_major_km, 3), round(e.major_azimuth_deg, 1), round(e.major_plunge_deg, 1)
    (3.756, 0.0, 0.0)
    >>> round(e.major_rotation_deg, 1)  # the minor axis (down) is Y turned 90 deg towards down
    90.0
    """
    cov = np.asarray(covariance_km2, dtype=float)
    # reorder to north-east-down, the frame of QuakeML's angles
    ned = cov[np.ix_([1, 0, 2], [1, 0, 2])]
    values, vectors = np.linalg.eigh(0.5 * (ned + ned.T))
    order = np.argsort(values)[::-1]
    values = np.clip(values[order], 0.0, None)
    major, minor = vectors[:, order[0]], vectors[:, order[2]]
    if major[2] < 0:  # an axis has no sign: take the downward-pointing end
        major = -major
    azimuth = np.degrees(np.arctan2(major[1], major[0])) % 360.0
    plunge = np.degrees(np.arcsin(np.clip(major[2], -1.0, 1.0)))
    # rotation about the major axis: the angle from the frame's Y axis at zero rotation
    # (horizontal) to the minor axis, positive towards that frame's Z; modulo 180 because
    # the minor axis has no sign
    base = _tait_bryan_frame(azimuth, plunge, 0.0)
    rotation = np.degrees(np.arctan2(minor @ base[:, 2], minor @ base[:, 1])) % 180.0
    k = sigma_scale(confidence_level, 3)
    semi = k * np.sqrt(values)
    return ConfidenceEllipsoid(semi_major_km=float(semi[0]), semi_intermediate_km=float(semi[1]),
                               semi_minor_km=float(semi[2]), major_azimuth_deg=float(azimuth),
                               major_plunge_deg=float(plunge), major_rotation_deg=float(rotation),
                               confidence_level=confidence_level)


def horizontal_ellipse(covariance_km2: np.ndarray,
                       confidence_level: float) -> tuple[float, float, float]:
    """Horizontal confidence ellipse: (max, min semi-axis in km, azimuth of max in deg)."""
    cov = np.asarray(covariance_km2, dtype=float)[:2, :2]
    values, vectors = np.linalg.eigh(0.5 * (cov + cov.T))
    k = sigma_scale(confidence_level, 2)
    big = vectors[:, 1]  # (east, north)
    azimuth = np.degrees(np.arctan2(big[0], big[1])) % 180.0
    return (float(k * np.sqrt(max(values[1], 0.0))), float(k * np.sqrt(max(values[0], 0.0))),
            float(azimuth))
