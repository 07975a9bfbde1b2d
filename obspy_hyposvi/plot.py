"""Figures of location results: one event's particles and ellipsoid, and a whole catalogue.

Matplotlib is imported inside each function (it is slow to import and not needed to locate),
and figures are drawn on an explicit ``Figure`` with the Agg canvas, so nothing depends on the
user's backend or a display. Coordinates are those of the compute layer: x east, y north, z
down, km, in the projected frame named in the title.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .geo import Projection
from .locate.observations import Observations
from .locate.result import LocationResult
from .locate.summary import sigma_scale

__all__ = ["plot_event", "plot_catalog"]

#: Points along each drawn ellipse.
_N_ELLIPSE = 181

#: Panels of a hypocentre figure: (title, horizontal axis index, vertical axis index).
_PANELS = (("map view", 0, 1), ("west-east section", 0, 2), ("south-north section", 1, 2))
_AXIS_LABELS = ("x east (km)", "y north (km)", "depth (km)")


def _new_figure(width_in: float, height_in: float):
    """A figure bound to the Agg canvas, independent of pyplot's global state and backend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _ellipse_points(centre: np.ndarray, covariance: np.ndarray, scale: float) -> np.ndarray:
    """``(_N_ELLIPSE, 2)`` outline of ``{x : (x - c)^T C^-1 (x - c) = scale^2}``."""
    values, vectors = np.linalg.eigh(covariance)
    angle = np.linspace(0.0, 2.0 * np.pi, _N_ELLIPSE)
    circle = np.stack([np.cos(angle), np.sin(angle)])
    return centre + (vectors @ (np.sqrt(np.clip(values, 0.0, None))[:, None] * circle)).T * scale


def plot_event(result: LocationResult, observations: Observations | None,
               projection: Projection | None, path: str | Path, *,
               truth_xyz_km: Sequence[float] | None = None, title: str | None = None) -> Path:
    """Particles, MAP hypocentre and confidence ellipsoid of one event, with the stations.

    Three panels: map view (x, y), and the west-east (x, depth) and south-north (y, depth)
    sections. Particles of the dominant DBSCAN cluster and the others are drawn in different
    colours; the ellipse in each panel is the outline (projection) of the stated confidence
    ellipsoid, i.e. the marginal covariance scaled by the 3-D factor of
    ``result.confidence_level`` (1.878 sigma at 68.27 %).

    Parameters
    ----------
    result
        The location.
    observations
        The event's picks (for the station positions); None draws no stations.
    projection
        Frame of the coordinates, for the title; None omits it.
    path
        Output image (any format Matplotlib writes, by extension, e.g. ``.png``).
    truth_xyz_km
        Optional true hypocentre ``(3,)``, km, drawn as a star.
    title
        Figure title; default: the event id.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, os
    >>> from obspy_hyposvi.locate.summary import confidence_ellipsoid, horizontal_ellipse
    >>> rng = np.random.default_rng(0)
    >>> cov = np.diag([0.2, 0.3, 0.8])
    >>> particles = rng.multivariate_normal([0.0, 0.0, 10.0], cov, 50)
    >>> res = LocationResult(
    ...     event_id="ev", hypocentre_xyz_km=np.array([0.0, 0.0, 10.0]), covariance_km2=cov,
    ...     origin_time_s=0.0, origin_time_uncertainty_s=0.1,
    ...     ellipsoid=confidence_ellipsoid(cov, 68.27),
    ...     horizontal_uncertainty_km=horizontal_ellipse(cov, 68.27), confidence_level=68.27,
    ...     travel_time_s=np.zeros(0), residual_s=np.zeros(0), weight=np.zeros(0),
    ...     takeoff_deg=np.zeros(0), particles_xyz_km=particles,
    ...     cluster_mask=np.ones(50, dtype=bool))
    >>> out = plot_event(res, None, None, os.path.join(tempfile.mkdtemp(), "ev.png"))
    >>> out.stat().st_size > 0
    True
    """
    path = Path(path)
    fig = _new_figure(13.0, 4.6)
    axes = fig.subplots(1, 3)
    particles = np.asarray(result.particles_xyz_km, dtype=float).reshape(-1, 3)
    in_cluster = np.asarray(result.cluster_mask, dtype=bool).reshape(-1)
    hypo = np.asarray(result.hypocentre_xyz_km, dtype=float)
    cov = np.asarray(result.covariance_km2, dtype=float)
    scale3 = sigma_scale(result.confidence_level, 3)
    stations = None if observations is None else np.unique(observations.station_xyz_km, axis=0)
    for ax, (name, i, j) in zip(axes, _PANELS):
        ax.scatter(particles[~in_cluster, i], particles[~in_cluster, j], s=6, c="0.6",
                   label="other particles")
        ax.scatter(particles[in_cluster, i], particles[in_cluster, j], s=6, c="tab:blue",
                   label="dominant cluster")
        if np.all(np.isfinite(cov)):
            outline = _ellipse_points(hypo[[i, j]], cov[np.ix_([i, j], [i, j])], scale3)
            ax.plot(outline[:, 0], outline[:, 1], c="tab:red", lw=1.2,
                    label=f"{result.confidence_level:g} % ellipsoid")
        ax.plot(hypo[i], hypo[j], "+", c="tab:red", ms=14, mew=2, label="MAP")
        if truth_xyz_km is not None:
            truth = np.asarray(truth_xyz_km, dtype=float)
            ax.plot(truth[i], truth[j], "*", c="gold", mec="k", ms=13, label="true")
        if stations is not None:
            # stations widen the map view a lot: show them there and on the sections' surface
            ax.plot(stations[:, i], stations[:, j], "v", c="k", ms=6, label="stations")
        ax.set_xlabel(_AXIS_LABELS[i])
        ax.set_ylabel(_AXIS_LABELS[j])
        ax.set_title(name)
        if j == 2:
            ax.invert_yaxis()  # depth grows downwards
        else:
            ax.set_aspect("equal", adjustable="datalim")
    axes[0].legend(fontsize=7, loc="best")
    frame = f" ({projection.crs})" if projection is not None else ""
    fig.suptitle((title or str(result.event_id)) + frame, fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def _frames(projection: Projection | Sequence[Projection | None] | None,
            n_events: int) -> tuple[list[Projection | None], Projection | None]:
    """Per event, its frame, and the common frame of the figure (the first event's)."""
    if projection is None or isinstance(projection, Projection):
        return [projection] * n_events, projection
    frames = list(projection)
    if len(frames) != n_events:
        raise ValueError(f"{len(frames)} projections for {n_events} events")
    return frames, next((f for f in frames if f is not None), None)


def _into_frame(xyz_km: np.ndarray, source: Projection | None,
                target: Projection | None) -> np.ndarray:
    """``(n, 3)`` points of frame ``source`` in frame ``target`` (depths unchanged)."""
    xyz_km = np.asarray(xyz_km, dtype=float).reshape(-1, 3)
    if source is None or target is None or source.crs == target.crs:
        return xyz_km
    lon, lat, _ = source.to_lonlat(xyz_km[:, 0], xyz_km[:, 1])
    x_km, y_km, _ = target.to_xyz_km(lon, lat)
    return np.column_stack([x_km, y_km, xyz_km[:, 2]])


def plot_catalog(results: Sequence[Any], observations_list: Sequence[Observations | None],
                 projection: Projection | Sequence[Projection | None] | None,
                 path: str | Path, *,
                 truth_xyz_km: np.ndarray | None = None, title: str | None = None) -> Path:
    """Map and west-east cross-section of all located events, with error bars and stations.

    Error bars are the one-dimensional half-widths at each result's confidence level (one
    sigma at 68.27 %), from the diagonal of the covariance.

    Parameters
    ----------
    results
        Per event, a :class:`LocationResult`; anything else (a failure, None) is skipped.
    observations_list
        Per event, its :class:`Observations` (for the stations) or None.
    projection
        Frame of the coordinates, for the title; None omits it. A sequence gives each event's
        own frame (``LocateReport.projections``): events are drawn in the first one, the
        others' hypocentres and stations mapped into it through longitude and latitude (their
        error bars are not rotated).
    path
        Output image.
    truth_xyz_km
        Optional ``(n_events, 3)`` true hypocentres in the same order as ``results`` (rows of
        NaN are skipped), km, each in its event's frame.
    title
        Figure title.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    frames, target = _frames(projection, len(results))
    located = [(k, r) for k, r in enumerate(results) if isinstance(r, LocationResult)]
    stations = [_into_frame(o.station_xyz_km, frame, target)
                for o, frame in zip(observations_list, frames) if o is not None]
    fig = _new_figure(12.0, 5.0)
    ax_map, ax_sec = fig.subplots(1, 2)
    if stations:
        xyz = np.unique(np.concatenate(stations), axis=0)
        ax_map.plot(xyz[:, 0], xyz[:, 1], "v", c="k", ms=6, label="stations")
        ax_sec.plot(xyz[:, 0], xyz[:, 2], "v", c="k", ms=6)
    if located:
        hypo = np.concatenate([_into_frame(r.hypocentre_xyz_km, frames[k], target)
                               for k, r in located])
        half = np.array([np.sqrt(np.clip(np.diag(r.covariance_km2), 0.0, None))
                         * sigma_scale(r.confidence_level, 1) for _, r in located])
        levels = sorted({f"{r.confidence_level:g}" for _, r in located})
        label = f"located ({', '.join(levels)} % errors)"
        ax_map.errorbar(hypo[:, 0], hypo[:, 1], xerr=half[:, 0], yerr=half[:, 1], fmt="o",
                        c="tab:red", ms=4, capsize=2, label=label)
        ax_sec.errorbar(hypo[:, 0], hypo[:, 2], xerr=half[:, 0], yerr=half[:, 2], fmt="o",
                        c="tab:red", ms=4, capsize=2)
    if truth_xyz_km is not None:
        truth = np.asarray(truth_xyz_km, dtype=float).reshape(-1, 3)
        if len(truth) == len(frames):
            truth = np.concatenate([_into_frame(t, f, target) for t, f in zip(truth, frames)])
        ok = np.all(np.isfinite(truth), axis=1)
        ax_map.plot(truth[ok, 0], truth[ok, 1], "*", c="gold", mec="k", ms=10, label="true")
        ax_sec.plot(truth[ok, 0], truth[ok, 2], "*", c="gold", mec="k", ms=10)
    ax_map.set(xlabel=_AXIS_LABELS[0], ylabel=_AXIS_LABELS[1], title="map view")
    ax_map.set_aspect("equal", adjustable="datalim")
    ax_sec.set(xlabel=_AXIS_LABELS[0], ylabel=_AXIS_LABELS[2], title="west-east section")
    ax_sec.invert_yaxis()  # depth grows downwards
    if located or stations or truth_xyz_km is not None:
        ax_map.legend(fontsize=8, loc="best")
    frame = f" ({target.crs})" if target is not None else ""
    if len({f.crs for f in frames if f is not None}) > 1:
        frame = f" ({target.crs}; events of other frames mapped into it)"
    fig.suptitle((title or f"{len(located)} of {len(results)} events located") + frame,
                 fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
