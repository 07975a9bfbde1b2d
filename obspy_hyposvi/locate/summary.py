"""Posterior summary: dominant particle cluster, MAP, covariance and confidence ellipsoid.

DBSCAN keeps the largest particle cluster (the dominant mode of a multi-modal EDT posterior);
a Gaussian KDE over it gives the maximum a-posteriori point and its sample covariance the
uncertainty. Confidence regions assume that covariance is Gaussian: a region of probability
``p`` in ``d`` dimensions has semi-axes ``sqrt(chi2.ppf(p, d))`` standard deviations long
(1.0, 1.515 and 1.878 for p = 68.27 % in 1, 2 and 3 dimensions).

Ellipsoid angles follow QuakeML's Tait-Bryan convention in a north-east-down frame: with
``R = Rz(azimuth) @ Ry(-plunge) @ Rx(rotation)``, the major, intermediate and minor axes are the
columns of ``R``; the major axis is taken pointing downwards, so ``plunge`` (degrees below
horizontal) is in [0, 90].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import chi2, gaussian_kde
from sklearn.cluster import DBSCAN

from .result import ConfidenceEllipsoid

__all__ = ["SummaryConfig", "cluster_labels", "dominant_cluster", "kde_map", "confidence_ellipsoid",
           "ellipsoid_axes", "horizontal_ellipse", "sigma_scale"]


@dataclass(frozen=True, kw_only=True)
class SummaryConfig:
    """Settings of the posterior summary.

    Parameters
    ----------
    cluster_eps_km
        DBSCAN neighbourhood radius, km (HypoSVI: 0.8).
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
    """

    cluster_eps_km: float = 0.8
    cluster_min_samples: int = 3
    confidence_level: float = 68.27
    min_placed_fraction: float = 0.5

    def __post_init__(self) -> None:
        if self.cluster_eps_km <= 0:
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


def cluster_labels(particles_km: np.ndarray, config: SummaryConfig) -> np.ndarray:
    """DBSCAN label of each particle (-1: in no cluster)."""
    return DBSCAN(eps=config.cluster_eps_km,
                  min_samples=config.cluster_min_samples).fit_predict(particles_km)


def dominant_cluster(particles_km: np.ndarray, config: SummaryConfig,
                     log_prob: np.ndarray | None = None,
                     labels: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of the dominant DBSCAN cluster (all particles if DBSCAN finds none).

    With ``log_prob`` (one value per particle) the dominant cluster is the one holding the most
    probable clustered particle, i.e. the posterior's main mode; without it, the largest one.
    Counting alone is fooled by particles held on a wall of the search box: they pile up into a
    dense cluster even when the wall is only a secondary mode. ``labels`` (from
    :func:`cluster_labels`) saves clustering again.
    """
    if labels is None:
        labels = cluster_labels(particles_km, config)
    clustered = labels >= 0
    if not clustered.any():
        return np.ones(len(particles_km), dtype=bool)
    if log_prob is None:
        return labels == np.bincount(labels[clustered]).argmax()
    best = np.argmax(np.where(clustered, np.asarray(log_prob, dtype=float), -np.inf))
    return labels == labels[best]


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


def ellipsoid_axes(ellipsoid: ConfidenceEllipsoid) -> np.ndarray:
    """Columns: major, intermediate, minor unit vectors in (north, east, down) from the angles."""
    az, pl, rot = np.radians([ellipsoid.major_azimuth_deg, ellipsoid.major_plunge_deg,
                              ellipsoid.major_rotation_deg])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    ry = np.array([[np.cos(-pl), 0, np.sin(-pl)], [0, 1, 0], [-np.sin(-pl), 0, np.cos(-pl)]])
    rx = np.array([[1, 0, 0], [0, np.cos(rot), -np.sin(rot)], [0, np.sin(rot), np.cos(rot)]])
    return rz @ ry @ rx


def confidence_ellipsoid(covariance_km2: np.ndarray, confidence_level: float) -> ConfidenceEllipsoid:
    """Confidence ellipsoid of a covariance given in (x east, y north, z down), km^2.

    Examples
    --------
    >>> e = confidence_ellipsoid(np.diag([1.0, 4.0, 0.25]), 68.27)
    >>> round(e.semi_major_km, 3), round(e.major_azimuth_deg, 1), round(e.major_plunge_deg, 1)
    (3.756, 0.0, 0.0)
    """
    cov = np.asarray(covariance_km2, dtype=float)
    # reorder to north-east-down, the frame of QuakeML's angles
    ned = cov[np.ix_([1, 0, 2], [1, 0, 2])]
    values, vectors = np.linalg.eigh(0.5 * (ned + ned.T))
    order = np.argsort(values)[::-1]
    values = np.clip(values[order], 0.0, None)
    major, inter = vectors[:, order[0]], vectors[:, order[1]]
    if major[2] < 0:  # an axis has no sign: take the downward-pointing end
        major = -major
    minor = np.cross(major, inter)  # right-handed frame (major, intermediate, minor)
    azimuth = np.degrees(np.arctan2(major[1], major[0])) % 360.0
    plunge = np.degrees(np.arcsin(np.clip(major[2], -1.0, 1.0)))
    # rotation about the major axis: where the intermediate axis lies relative to the frame
    # obtained by azimuth and plunge alone
    base = ellipsoid_axes(ConfidenceEllipsoid(1, 1, 1, azimuth, plunge, 0.0, confidence_level))
    rotation = np.degrees(np.arctan2(inter @ base[:, 2], inter @ base[:, 1]))
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
