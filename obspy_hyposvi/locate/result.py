"""The outcome of locating one event, in the compute layer's units (km, s)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ConfidenceEllipsoid", "LocationResult"]


@dataclass(frozen=True)
class ConfidenceEllipsoid:
    """Confidence ellipsoid of the hypocentre, QuakeML conventions, lengths in km.

    Parameters
    ----------
    semi_major_km, semi_minor_km, semi_intermediate_km
        Semi-axis lengths at ``confidence_level``.
    major_azimuth_deg
        Azimuth of the major axis, clockwise from north, degrees in [0, 360).
    major_plunge_deg
        Plunge of the major axis below horizontal, degrees in [0, 90].
    major_rotation_deg
        Rotation about the major axis (QuakeML ``majorAxisRotation``) that turns the minor
        axis from horizontal towards down, degrees in [0, 180): QuakeML's body axes are
        X = major, Y = minor, Z = intermediate (:mod:`obspy_hyposvi.locate.summary`).
    confidence_level
        Percent, e.g. 68.27.
    """

    semi_major_km: float
    semi_minor_km: float
    semi_intermediate_km: float
    major_azimuth_deg: float
    major_plunge_deg: float
    major_rotation_deg: float
    confidence_level: float


@dataclass(frozen=True, eq=False)
class LocationResult:
    """Posterior summary of one event.

    Parameters
    ----------
    event_id
        As in the :class:`~obspy_hyposvi.locate.observations.Observations`.
    hypocentre_xyz_km
        ``(3,)`` hypocentre: posterior mean of the dominant mode's particles, km
        (:mod:`~obspy_hyposvi.locate.posterior`).
    covariance_km2
        ``(3, 3)`` posterior covariance (the particles that sample the posterior, about the
        hypocentre), km^2 (x east, y north, z down).
    origin_time_s
        Origin time, s after the observations' reference time: the weighted mean residual
        origin time of the used picks at the hypocentre.
    origin_time_uncertainty_s
        Posterior standard deviation of the origin time, s: the spread of each particle's best
        origin time plus the uncertainty of that time given the particle's position.
    ellipsoid
        Confidence ellipsoid at ``confidence_level``.
    horizontal_uncertainty_km
        ``(max, min, azimuth_of_max_deg)`` horizontal ellipse at ``confidence_level``.
    confidence_level
        Percent used for all errors of this result.
    travel_time_s, residual_s, weight
        ``(n_picks,)`` predicted travel time, observed minus predicted arrival, and the weight
        (0 for picks not used, 1 otherwise), in the observations' order.
    takeoff_deg
        ``(n_picks,)`` take-off angle at the source, degrees from downward vertical.
    particles_xyz_km
        ``(n_particles, 3)`` final SVGD particles, km.
    cluster_mask
        ``(n_particles,)`` True for particles in the dominant mode.
    sigma_s
        ``(n_picks,)`` total standard deviation of each pick (pick and model error), s.
    map_xyz_km
        ``(3,)`` the particle of highest log-posterior (MAP among the samples), km.
    kde_mode_xyz_km
        ``(3,)`` peak of a Gaussian kernel density over the dominant mode (the paper's
        estimate), km.
    pick_notes
        ``{pick index: text}``: why a pick was left out (outliers), for the arrivals' comments.
    placed_mask
        ``(n_particles,)`` True for particles that sample the posterior (within 10.6 of the
        best log-posterior); the covariance is theirs.
    converged
        False when the location failed a check (particles did not gather, residuals far above
        the errors, a box wall, above the stations): its origin is written as rejected.
    quality_note
        Why, in words (empty when ``converged``).
    mode_share
        Share of the sampled particles in the dominant mode (below 0.5: several modes).
    warnings
        Notes that leave the location standing, e.g. a search-box limit that cuts the
        posterior.
    extra
        Further scalar diagnostics (n_particles, n_epochs, cluster_fraction,
        kde_bandwidth_km...).
    particle_log_prob
        ``(n_particles,)`` unnormalised log-posterior of each final particle (None where not
        kept).
    particle_origin_time_s
        ``(n_particles,)`` each particle's best origin time given its position, s after the
        observations' reference time (None where not kept).
    particle_mode_label
        ``(n_particles,)`` mode of each particle: 0 the dominant mode, 1, 2, ... the others
        (larger first), -1 particles that do not sample the posterior (None where not kept).
    """

    event_id: str
    hypocentre_xyz_km: np.ndarray
    covariance_km2: np.ndarray
    origin_time_s: float
    origin_time_uncertainty_s: float
    ellipsoid: ConfidenceEllipsoid
    horizontal_uncertainty_km: tuple[float, float, float]
    confidence_level: float
    travel_time_s: np.ndarray
    residual_s: np.ndarray
    weight: np.ndarray
    takeoff_deg: np.ndarray
    particles_xyz_km: np.ndarray
    cluster_mask: np.ndarray
    sigma_s: np.ndarray | None = None
    map_xyz_km: np.ndarray | None = None
    kde_mode_xyz_km: np.ndarray | None = None
    pick_notes: dict = field(default_factory=dict)
    placed_mask: np.ndarray | None = None
    converged: bool = True
    quality_note: str = ""
    mode_share: float = 1.0
    warnings: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)
    particle_log_prob: np.ndarray | None = None
    particle_origin_time_s: np.ndarray | None = None
    particle_mode_label: np.ndarray | None = None

    @property
    def rms_s(self) -> float:
        """Weighted root-mean-square residual of the used picks, s."""
        w = np.asarray(self.weight, dtype=float)
        if w.sum() <= 0:
            return float("nan")
        return float(np.sqrt(np.sum(w * self.residual_s**2) / w.sum()))
