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

import functools
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2

from ..settings import Interval, Settings
from .posterior import _event_chunks, _squared_distances
from .result import ConfidenceEllipsoid

__all__ = ["SummaryConfig", "kde_map", "kde_maps", "confidence_ellipsoid",
           "confidence_ellipsoids", "ellipsoid_axes", "horizontal_ellipse",
           "horizontal_ellipses", "sigma_scale"]


@dataclass(frozen=True, kw_only=True)
class SummaryConfig(Settings):
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

    _constraints = {
        "cluster_eps_km": [None, Interval(float, 0, None, closed="neither")],
        "cluster_min_samples": Interval(int, 1, None),
        "confidence_level": Interval(float, 0, 100, closed="neither"),
        "min_placed_fraction": Interval(float, 0, 1, closed="both"),
        "max_normalised_rms": Interval(float, 0, None, closed="neither"),
    }


def sigma_scale(confidence_level: float, n_dim: int) -> float:
    """Semi-axis length, in standard deviations, of a Gaussian confidence region.

    Examples
    --------
    >>> [round(sigma_scale(68.27, d), 3) for d in (1, 2, 3)]
    [1.0, 1.515, 1.878]
    """
    return _sigma_scale(float(confidence_level), int(n_dim))


@functools.lru_cache(maxsize=64)
def _sigma_scale(confidence_level: float, n_dim: int) -> float:
    # chi2.ppf costs ~0.2 ms a call, and a run asks for the same few levels
    return float(np.sqrt(chi2.ppf(confidence_level / 100.0, n_dim)))


def kde_map(points_km: np.ndarray, n_iter: int = 20) -> tuple[np.ndarray, float]:
    """Peak of a Gaussian KDE of the points, and the KDE bandwidth (km, geometric mean).

    Starts from the point of highest density and climbs with mean-shift steps. Falls back to the
    coordinate-wise median when the points are too few or degenerate for a KDE. The KDE is
    :class:`scipy.stats.gaussian_kde`'s (Scott's factor); see :func:`kde_maps`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> peak, bandwidth = kde_map(rng.normal([10.0, 10.0, 5.0], 0.3, (120, 3)))
    >>> bool(np.abs(peak - [10, 10, 5]).max() < 0.2), round(bandwidth, 2)
    (True, 0.15)
    """
    points_km = np.asarray(points_km, dtype=float)
    peak, bandwidth = kde_maps(points_km[None], np.ones(points_km.shape[:1], dtype=bool)[None],
                               n_iter)
    return peak[0], float(bandwidth[0])


def kde_maps(points_km: np.ndarray, mask: np.ndarray,
             n_iter: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """:func:`kde_map` of the masked points of several events at once.

    The same maths as :class:`scipy.stats.gaussian_kde` with its default bandwidth, vectorised
    over the events (scipy costs ~2 ms per call on 150 points): Scott's factor
    ``m ** (-1 / (d + 4))`` for ``m`` points in ``d`` dimensions, the kernel covariance the
    points' covariance times its square, the density at every point (from one ``(m, m)``
    matrix of whitened distances: see :func:`_densest`), then mean-shift steps from the
    densest point until a step is below 1e-6 km or ``n_iter`` steps are made. The peaks agree
    with scipy's to ~1e-11 km (tests/locate/test_summary_batched.py).

    Parameters
    ----------
    points_km
        ``(n_events, n, d)`` points, km.
    mask
        ``(n_events, n)`` the points of each event that the KDE is made of.
    n_iter
        Most mean-shift steps.

    Returns
    -------
    peaks
        ``(n_events, d)`` peak of each event's KDE, km; the coordinate-wise median of its
        points where they are too few (``m <= d + 1``) or lie in a plane.
    bandwidths
        ``(n_events,)`` geometric mean of the kernel's standard deviations, km (NaN where the
        median was taken).
    """
    x = np.asarray(points_km, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    peaks, bandwidths = np.empty(x.shape[::2]), np.empty(len(x))
    for events in _event_chunks(*x.shape[:2]):
        peaks[events], bandwidths[events] = _kde_peaks(x[events], mask[events], n_iter)
    return peaks, bandwidths


def _kde_peaks(x: np.ndarray, mask: np.ndarray, n_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`kde_maps` of a few events (their pairwise arrays held at once)."""
    n_events, _, dim = x.shape
    rows = np.arange(n_events)
    count = mask.sum(axis=1)
    weight = mask.astype(float)
    ok = count > dim + 1
    if not ok.any():
        return (np.array([np.median(x[b][mask[b]], axis=0) for b in rows]),
                np.full(n_events, np.nan))
    m = np.where(ok, count, dim + 2).astype(float)  # no division by zero where not ok
    mean = np.einsum("bn,bni->bi", weight, x) / m[:, None]
    dev = (x - mean[:, None, :]) * weight[..., None]
    data_cov = np.einsum("bni,bnj->bij", dev, dev) / (m - 1)[:, None, None]
    data_cov[~ok] = np.eye(dim)
    chol = np.zeros_like(data_cov)
    try:
        chol[:] = np.linalg.cholesky(data_cov)
    except np.linalg.LinAlgError:  # the points of some event lie in a plane (or a line)
        for b in range(n_events):
            try:
                chol[b] = np.linalg.cholesky(data_cov[b])
            except np.linalg.LinAlgError:
                ok[b] = False
                chol[b] = data_cov[b] = np.eye(dim)  # a stand-in: the median is taken
    factor = m ** (-1.0 / (dim + 4))  # Scott's
    cov = data_cov * (factor**2)[:, None, None]
    # whitened by the kernel covariance's Cholesky factor, y = L^-1 x: the kernel is
    # exp(-|y_i - y|^2 / 2)
    whiten = np.swapaxes(np.linalg.inv(chol * factor[:, None, None]), 1, 2)
    y = x @ whiten
    start = _densest(y, mask)
    peak, y_peak = x[rows, start], y[rows, start]
    log_weight = np.where(mask, 0.0, -np.inf)  # no weight for the points not in the KDE
    active = ok.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(n_iter):  # mean-shift steps, all events at once
            if not active.any():
                break
            d = y - y_peak[:, None, :]
            w = np.exp(log_weight - 0.5 * np.einsum("bni,bni->bn", d, d))
            total = w.sum(axis=1)
            new = np.einsum("bn,bni->bi", w, x) / total[:, None]
            step = new - peak
            climbing = active & (total > 0)
            peak = np.where(climbing[:, None], new, peak)
            y_peak = np.einsum("bi,bij->bj", peak, whiten)
            active = climbing & (np.sqrt(np.einsum("bi,bi->b", step, step)) >= 1e-6)
    bandwidth = np.prod(np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2), 0, None)),
                        axis=1) ** (1 / dim)
    for b in np.flatnonzero(~ok):
        peak[b] = np.median(x[b][mask[b]], axis=0)
        bandwidth[b] = np.nan
    return peak, bandwidth


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
    return confidence_ellipsoids(np.asarray(covariance_km2, dtype=float)[None],
                                 confidence_level)[0]


def confidence_ellipsoids(covariances_km2: np.ndarray,
                          confidence_level: float) -> list[ConfidenceEllipsoid]:
    """:func:`confidence_ellipsoid` of ``(n, 3, 3)`` covariances, in one pass of array maths
    (the same floats; a call per covariance cost ~0.1 ms of numpy overheads).

    Examples
    --------
    >>> covs = np.stack([np.diag([1.0, 4.0, 0.25]), np.diag([4.0, 1.0, 0.25])])
    >>> [round(e.major_azimuth_deg, 1) for e in confidence_ellipsoids(covs, 68.27)]
    [0.0, 90.0]
    """
    cov = np.asarray(covariances_km2, dtype=float)
    rows = np.arange(len(cov))
    # reorder to north-east-down, the frame of QuakeML's angles
    ned = cov[:, [1, 0, 2]][:, :, [1, 0, 2]]
    values, vectors = np.linalg.eigh(0.5 * (ned + np.swapaxes(ned, 1, 2)))
    order = np.argsort(values, axis=1)[:, ::-1]
    values = np.clip(np.take_along_axis(values, order, axis=1), 0.0, None)
    major, minor = vectors[rows, :, order[:, 0]], vectors[rows, :, order[:, 2]]
    # an axis has no sign: take the downward-pointing end
    major = np.where(major[:, 2:] < 0, -major, major)
    azimuth = np.degrees(np.arctan2(major[:, 1], major[:, 0])) % 360.0
    plunge = np.degrees(np.arcsin(np.clip(major[:, 2], -1.0, 1.0)))
    # rotation about the major axis: the angle from the frame's Y axis at zero rotation
    # (horizontal) to the minor axis, positive towards that frame's Z; modulo 180 because
    # the minor axis has no sign. Those axes are the columns 1 and 2 of Rz(azimuth) @
    # Ry(-plunge) (:func:`_tait_bryan_frame` with no rotation), written out.
    az, pl = np.radians(azimuth), np.radians(plunge)
    frame_y = np.stack([-np.sin(az), np.cos(az), np.zeros_like(az)], axis=1)
    frame_z = np.stack([np.cos(az) * -np.sin(pl), np.sin(az) * -np.sin(pl), np.cos(pl)], axis=1)
    # dot products summed left to right, as numpy's 1D `@` sums three terms
    rotation = np.degrees(np.arctan2(_dot3(minor, frame_z), _dot3(minor, frame_y))) % 180.0
    semi = sigma_scale(confidence_level, 3) * np.sqrt(values)
    return [ConfidenceEllipsoid(semi_major_km=float(semi[b, 0]),
                                semi_intermediate_km=float(semi[b, 1]),
                                semi_minor_km=float(semi[b, 2]),
                                major_azimuth_deg=float(azimuth[b]),
                                major_plunge_deg=float(plunge[b]),
                                major_rotation_deg=float(rotation[b]),
                                confidence_level=confidence_level) for b in rows]


def _densest(y: np.ndarray, mask: np.ndarray, margin: float = 1e-2) -> np.ndarray:
    """Index of each event's masked point of highest kernel density
    ``sum_j exp(-|y_i - y_j|^2 / 2)`` over its masked points (``y`` whitened,
    ``(n_events, n, d)``; ``mask`` ``(n_events, n)``).

    The densities at all points are summed in float32 (half the memory traffic, twice the
    lanes), then in float64 at the points within ``margin`` of the highest: near the highest,
    float32 is within ~1e-5 of float64 (coordinates centred on their mean), so the densest
    point is among those.
    """
    if not mask.any():
        return np.zeros(len(y), dtype=np.intp)
    centre = np.einsum("bn,bni->bi", mask, y) / np.maximum(mask.sum(axis=1), 1)[:, None]
    sq = _squared_distances((y - centre[:, None, :]).astype(np.float32), mask)
    # inf from and to the points not masked: they add nothing
    rough = np.exp(np.multiply(sq, -0.5, out=sq), out=sq).sum(axis=2)
    rough = np.where(mask, rough, -np.inf)
    event, i = np.nonzero(rough >= (1.0 - margin) * rough.max(axis=1, keepdims=True))
    d = y[event, i][:, None, :] - y[event]
    density = np.full(mask.shape, -np.inf)
    density[event, i] = np.where(mask[event], np.exp(-0.5 * np.einsum("cnk,cnk->cn", d, d)),
                                 0.0).sum(axis=1)
    return density.argmax(axis=1)


def _dot3(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot products of ``(n, 3)`` arrays."""
    return a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1] + a[:, 2] * b[:, 2]


def horizontal_ellipse(covariance_km2: np.ndarray,
                       confidence_level: float) -> tuple[float, float, float]:
    """Horizontal confidence ellipse: (max, min semi-axis in km, azimuth of max in deg)."""
    return horizontal_ellipses(np.asarray(covariance_km2, dtype=float)[None],
                               confidence_level)[0]


def horizontal_ellipses(covariances_km2: np.ndarray,
                        confidence_level: float) -> list[tuple[float, float, float]]:
    """:func:`horizontal_ellipse` of ``(n, 3, 3)`` (or ``(n, 2, 2)``) covariances at once."""
    cov = np.asarray(covariances_km2, dtype=float)[:, :2, :2]
    values, vectors = np.linalg.eigh(0.5 * (cov + np.swapaxes(cov, 1, 2)))
    k = sigma_scale(confidence_level, 2)
    big = vectors[:, :, 1]  # (east, north)
    azimuth = np.degrees(np.arctan2(big[:, 0], big[:, 1])) % 180.0
    major = k * np.sqrt(np.maximum(values[:, 1], 0.0))
    minor = k * np.sqrt(np.maximum(values[:, 0], 0.0))
    return [(float(a), float(b), float(c)) for a, b, c in zip(major, minor, azimuth)]
