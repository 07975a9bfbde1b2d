"""Figures of location results in longitude and latitude: one event, and a whole catalogue.

The compute layer works in each event's own projected frame (x east, y north, z down, km);
figures convert its points to longitude and latitude through that frame
(:class:`~obspy_hyposvi.geo.Projection`), ellipses included: an ellipse is drawn by projecting
points of its outline in km, so it keeps its shape whatever the map's scale. Maps are drawn
with the aspect of the mean latitude (a degree of longitude is ``cos(latitude)`` degrees of
latitude long), sections at true scale where they are zoomed on one event. With no projection
(``projection=None``) the figures stay in the projected km.

Matplotlib is imported inside each function (it is slow to import and not needed to locate),
and figures are drawn on an explicit ``Figure`` with the Agg canvas, so nothing depends on the
user's backend or a display. No basemap package is needed: coastlines and relief are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._plot_maps import (
    Frame,
    degree_ticks,
    draw_stations,
    ellipse_points,
    new_figure,
    save,
    scale_bar,
    set_map_limits,
    station_code,
    stations_of,
    style_map,
)
from .geo import Projection
from .locate.observations import Observations
from .locate.result import LocationResult
from .locate.summary import sigma_scale

__all__ = ["catalog_figure", "event_figure", "plot_catalog", "plot_event"]

#: Confidence levels drawn besides the result's own (percent).
_EXTRA_LEVEL = 90.0
_PHASES = (("P", "o", "tab:blue"), ("S", "s", "tab:orange"))


def _levels(result: LocationResult, levels: Sequence[float] | None) -> list[float]:
    """Confidence levels to draw, the result's own first."""
    if levels is None:
        levels = (result.confidence_level, _EXTRA_LEVEL)
    out = []
    for level in levels:
        if not 0.0 < float(level) < 100.0:
            raise ValueError(f"levels: {level!r} is not a percentage in (0, 100)")
        if all(abs(float(level) - o) > 1e-9 for o in out):
            out.append(float(level))
    return out


def _gap_deg(hypo_xy: np.ndarray, station_xy: np.ndarray) -> float:
    """Largest azimuthal gap between stations seen from the epicentre, degrees."""
    if len(station_xy) < 2:
        return 360.0
    d = station_xy - hypo_xy
    az = np.sort(np.degrees(np.arctan2(d[:, 0], d[:, 1])) % 360.0)
    return float(np.max(np.diff(np.r_[az, az[0] + 360.0])))


# -- one event ---------------------------------------------------------------------------------


def _event_window_km(result: LocationResult, levels: list[float], truth) -> float:
    """Half-width (km) of the zoom around the hypocentre: ellipses, sampled cloud and truth."""
    hypo = np.asarray(result.hypocentre_xyz_km, dtype=float)
    cov = np.asarray(result.covariance_km2, dtype=float)
    reach = [0.1]
    if np.all(np.isfinite(cov)):
        k = max(sigma_scale(level, 2) for level in levels)
        reach.append(k * np.sqrt(max(np.linalg.eigvalsh(cov[:2, :2]).max(), 0.0)))
        reach.append(k * np.sqrt(max(cov[2, 2], 0.0)))
    particles = np.asarray(result.particles_xyz_km, dtype=float).reshape(-1, 3)
    sampled = (np.asarray(result.placed_mask, dtype=bool) if result.placed_mask is not None
               else np.asarray(result.cluster_mask, dtype=bool))
    if sampled.shape == (len(particles),) and sampled.any():
        reach.append(np.percentile(np.abs(particles[sampled] - hypo).max(axis=1), 95))
    if truth is not None:
        reach.append(np.abs(np.asarray(truth, dtype=float) - hypo).max())
    return 1.2 * float(np.max(reach))


def _particle_groups(result: LocationResult):
    """(mask, label, style) of the particles: dominant mode, other modes, not sampling."""
    particles = np.asarray(result.particles_xyz_km, dtype=float).reshape(-1, 3)
    n = len(particles)
    dominant = np.asarray(result.cluster_mask, dtype=bool).reshape(-1)
    placed = (np.asarray(result.placed_mask, dtype=bool).reshape(-1)
              if result.placed_mask is not None else np.ones(n, bool))
    return particles, [
        (~placed, "particles not sampling the posterior", {"c": "0.75", "marker": "x", "s": 8}),
        (placed & ~dominant, "particles, other modes", {"c": "tab:purple", "s": 5, "alpha": 0.6}),
        (placed & dominant, "particles, dominant mode", {"c": "tab:blue", "s": 5, "alpha": 0.6}),
    ]


def _draw_event_sections(ax_map, ax_lon, ax_lat, result, frame, levels, truth) -> None:
    """Particles, ellipses, hypocentre and truth on the zoomed map and both sections."""
    hypo = np.asarray(result.hypocentre_xyz_km, dtype=float)
    cov = np.asarray(result.covariance_km2, dtype=float)
    particles, groups = _particle_groups(result)
    plon, plat = frame.xy(particles[:, 0], particles[:, 1])
    for mask, label, style in groups:
        if mask.any():
            ax_map.scatter(plon[mask], plat[mask], label=label, zorder=1, **style)
            ax_lon.scatter(plon[mask], particles[mask, 2], zorder=1, **style)
            ax_lat.scatter(plat[mask], particles[mask, 2], zorder=1, **style)
    k_of = {level: sigma_scale(level, 2) for level in levels}
    if np.all(np.isfinite(cov)):
        for n, level in enumerate(levels):
            style = {"c": "tab:red", "lw": 1.5 if n == 0 else 1.0,
                     "ls": "-" if n == 0 else "--", "zorder": 4}
            xy = ellipse_points(hypo[:2], cov[:2, :2], k_of[level])
            lon, lat = frame.xy(xy[:, 0], xy[:, 1])
            ax_map.plot(lon, lat, label=f"{level:g} % ellipse", gid=f"ellipse-{level:g}", **style)
            xz = ellipse_points(hypo[[0, 2]], cov[np.ix_([0, 2], [0, 2])], k_of[level])
            lon, _ = frame.xy(xz[:, 0], np.full(len(xz), hypo[1]))
            ax_lon.plot(lon, xz[:, 1], gid=f"ellipse-{level:g}", **style)
            yz = ellipse_points(hypo[[1, 2]], cov[np.ix_([1, 2], [1, 2])], k_of[level])
            _, lat = frame.xy(np.full(len(yz), hypo[0]), yz[:, 0])
            ax_lat.plot(lat, yz[:, 1], gid=f"ellipse-{level:g}", **style)
    hlon, hlat = frame.xy(hypo[0], hypo[1])
    marker = {"marker": "+", "c": "tab:red", "ms": 14, "mew": 2, "ls": "none", "zorder": 5,
              "gid": "hypocentre"}
    ax_map.plot(hlon, hlat, label="hypocentre (posterior mean)", **marker)
    ax_lon.plot(hlon, hypo[2], **marker)
    ax_lat.plot(hlat, hypo[2], **marker)
    if truth is not None:
        t = np.asarray(truth, dtype=float)
        tlon, tlat = frame.xy(t[0], t[1])
        star = {"marker": "*", "c": "gold", "mec": "k", "ms": 13, "ls": "none", "zorder": 6,
                "gid": "truth"}
        ax_map.plot(tlon, tlat, label="true hypocentre", **star)
        ax_lon.plot(tlon, t[2], **star)
        ax_lat.plot(tlat, t[2], **star)


def _draw_residuals(ax, result: LocationResult, observations: Observations | None) -> None:
    """Residual of every pick against epicentral distance; P and S apart, excluded marked."""
    ax.axhline(0.0, c="0.5", lw=0.8)
    ax.set_xlabel("epicentral distance (km)")
    ax.set_ylabel("residual, observed - predicted (s)")
    residual = np.asarray(result.residual_s, dtype=float).reshape(-1)
    if observations is None or observations.n_picks != residual.size or residual.size == 0:
        ax.text(0.5, 0.5, "no picks given", transform=ax.transAxes, ha="center", va="center")
        ax.set_title("residuals")
        return
    hypo = np.asarray(result.hypocentre_xyz_km, dtype=float)
    distance = np.hypot(*(observations.station_xyz_km[:, :2] - hypo[:2]).T)
    used = (np.asarray(result.weight, dtype=float).reshape(-1) > 0) & observations.used
    sigma = (np.asarray(result.sigma_s, dtype=float).reshape(-1)
             if result.sigma_s is not None else observations.sigma_s)
    ok = np.isfinite(residual)
    good = ok & used
    span = np.abs(residual[good]) + np.where(np.isfinite(sigma[good]), sigma[good], 0.0)
    limit = 1.2 * max(span.max() if span.size else 0.0, 0.05)
    wild = ok & ~used & (np.abs(residual) > 3.0 * limit)  # drawn on the edge, value written
    if (ok & ~used & ~wild).any():
        limit = max(limit, 1.1 * np.abs(residual[ok & ~used & ~wild]).max())
    shown = np.where(wild, np.sign(residual) * limit * 0.97, residual)
    for phase_idx, (phase, marker, colour) in enumerate(_PHASES):
        is_phase = observations.phase_idx == phase_idx
        sel = good & is_phase
        if sel.any():
            ax.errorbar(distance[sel], residual[sel], yerr=sigma[sel], fmt="none", ecolor=colour,
                        elinewidth=0.8, alpha=0.5)
            ax.scatter(distance[sel], residual[sel], marker=marker, c=colour, s=22,
                       label=f"{phase} used", gid=f"residual-{phase}-used", zorder=3)
        sel = ok & ~used & is_phase
        if sel.any():
            ax.scatter(distance[sel], shown[sel], marker=marker, facecolors="none",
                       edgecolors="tab:red", linewidths=1.3, s=40, zorder=4,
                       label=f"{phase} excluded (outlier)", gid=f"residual-{phase}-excluded")
    codes = [station_code(s) for s in observations.station_ids] or [""] * residual.size
    for k in np.flatnonzero(ok & ~used):
        text = codes[k] + (f" {residual[k]:+.2f} s" if wild[k] else "")
        ax.annotate(text, (distance[k], shown[k]), xytext=(4, -3), textcoords="offset points",
                    fontsize=7, color="tab:red")
    ax.set_ylim(-limit, limit)
    rms = result.rms_s
    ax.set_title(f"residuals: {int(good.sum())} of {residual.size} picks used, "
                 f"RMS {rms:.3f} s" if np.isfinite(rms) else "residuals")


def _summary_text(result: LocationResult, observations: Observations | None, frame: Frame,
                  levels: list[float]) -> str:
    """Origin, errors and pick counts, as lines."""
    hypo = np.asarray(result.hypocentre_xyz_km, dtype=float)
    cov = np.asarray(result.covariance_km2, dtype=float)
    lines = [f"event {str(result.event_id).rsplit('/', 1)[-1]}"]
    reference = getattr(observations, "reference_time", None)
    if reference is not None:
        try:
            lines.append(f"origin time {reference + result.origin_time_s}")
        except TypeError:
            reference = None
    if reference is None:
        lines.append(f"origin time {result.origin_time_s:+.3f} s")
    lines[-1] += f" ± {result.origin_time_uncertainty_s:.3f} s"
    one = sigma_scale(result.confidence_level, 1)
    err = one * np.sqrt(np.clip(np.diag(cov), 0.0, None))
    if frame.geographic:
        lon, lat = frame.xy(hypo[0], hypo[1])
        lines.append(f"latitude  {float(lat):10.5f}° ± {err[1]:.2f} km")
        lines.append(f"longitude {float((lon + 180.0) % 360.0 - 180.0):10.5f}° ± {err[0]:.2f} km")
    else:
        lines.append(f"x {hypo[0]:.2f} ± {err[0]:.2f} km, y {hypo[1]:.2f} ± {err[1]:.2f} km")
    lines.append(f"depth     {hypo[2]:10.2f} km ± {err[2]:.2f} km (errors at "
                 f"{result.confidence_level:g} %)")
    if np.all(np.isfinite(cov)):
        for level in levels:
            k = sigma_scale(level, 2)
            values, vectors = np.linalg.eigh(0.5 * (cov[:2, :2] + cov[:2, :2].T))
            az = np.degrees(np.arctan2(vectors[0, 1], vectors[1, 1])) % 180.0
            big, small = k * np.sqrt(np.clip(values[::-1], 0.0, None))
            lines.append(f"{level:g} % ellipse: {big:.2f} x {small:.2f} km, azimuth {az:.0f}°")
    if observations is not None and observations.n_picks:
        weight = np.asarray(result.weight, dtype=float).reshape(-1)
        used = (weight > 0) if weight.size == observations.n_picks else observations.used
        xy = observations.station_xyz_km[used, :2]
        lines.append(f"picks used {int(used.sum())}/{observations.n_picks}, stations "
                     f"{len(stations_of(observations, weight))}, gap "
                     f"{_gap_deg(hypo[:2], np.unique(xy, axis=0)):.0f}°")
    if frame.projection is not None:
        lines.append(f"frame {frame.projection.crs}")
    return "\n".join(lines)


def event_figure(result: LocationResult, observations: Observations | None,
                 projection: Projection | None, *,
                 truth_xyz_km: Sequence[float] | None = None, title: str | None = None,
                 levels: Sequence[float] | None = None):
    """The figure of one event: network map, zoomed map, two depth sections and residuals.

    Panels: the network (stations labelled with their codes, open triangles where no pick was
    used; the epicentre and a box around the zoom); a map zoomed on the hypocentre (particles,
    horizontal confidence ellipses, the hypocentre) with a scale bar; a longitude-depth and a
    latitude-depth section through the hypocentre, at the map's scale; the residual of every
    pick against epicentral distance (P circles, S squares, error bars of each pick's total
    standard deviation; picks excluded from the location in red, open, with their station
    code, those far off drawn on the edge with their value); and the solution in words.

    The zoom spans the largest drawn ellipse, 95 % of the sampled particles and the truth. Each
    ellipse is the two-dimensional marginal confidence region of its pair of coordinates: the
    map's is the origin's horizontal ellipse (``OriginUncertainty``), drawn by projecting its
    outline from km to longitude and latitude.

    Parameters
    ----------
    result
        The location.
    observations
        The event's picks (stations, residual panel); None draws neither.
    projection
        The event's frame (``LocateReport.projections[k]``); None draws in its km.
    truth_xyz_km
        Optional true hypocentre ``(3,)``, km in the event's frame, drawn as a star.
    title
        Figure title; default: the event id.
    levels
        Confidence levels of the ellipses, percent; default: the result's own (solid) and 90.

    Returns
    -------
    matplotlib.figure.Figure
        On the Agg canvas; ``fig.savefig(path)`` writes it.

    Examples
    --------
    >>> from obspy_hyposvi.locate.summary import confidence_ellipsoid, horizontal_ellipse
    >>> rng = np.random.default_rng(0)
    >>> cov = np.diag([0.2, 0.3, 0.8])
    >>> res = LocationResult(
    ...     event_id="ev", hypocentre_xyz_km=np.array([500.0, 3700.0, 10.0]),
    ...     covariance_km2=cov, origin_time_s=0.0, origin_time_uncertainty_s=0.1,
    ...     ellipsoid=confidence_ellipsoid(cov, 68.27),
    ...     horizontal_uncertainty_km=horizontal_ellipse(cov, 68.27), confidence_level=68.27,
    ...     travel_time_s=np.zeros(0), residual_s=np.zeros(0), weight=np.zeros(0),
    ...     takeoff_deg=np.zeros(0),
    ...     particles_xyz_km=rng.multivariate_normal([500.0, 3700.0, 10.0], cov, 50),
    ...     cluster_mask=np.ones(50, dtype=bool))
    >>> fig = event_figure(res, None, Projection("EPSG:32611"))
    >>> [ax.get_label() for ax in fig.axes]
    ['network', 'map', 'residuals', 'longitude-depth', 'latitude-depth', 'summary']
    """
    truth = None if truth_xyz_km is None else np.asarray(truth_xyz_km, dtype=float)
    levels = _levels(result, levels)
    hypo = np.asarray(result.hypocentre_xyz_km, dtype=float)
    frame = Frame(projection)
    hlon, hlat = (float(v) for v in frame.xy(hypo[0], hypo[1]))
    geo_lat = hlat if frame.geographic else 0.0
    fig = new_figure(13.0, 8.6)
    grid = fig.add_gridspec(2, 3)
    names = ("network", "map", "residuals", "longitude-depth", "latitude-depth", "summary")
    ax_net, ax_map, ax_res, ax_lon, ax_lat, ax_txt = (
        fig.add_subplot(grid[i, j], label=name)
        for (i, j), name in zip(((0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)), names))

    # zoomed map and sections, at one scale: a square of 2 * half km around the hypocentre
    half = _event_window_km(result, levels, truth)
    dx, dy = frame.deg_per_km(geo_lat)
    lon_lim = (hlon - half * dx, hlon + half * dx)
    lat_lim = (hlat - half * dy, hlat + half * dy)
    depth_lim = (hypo[2] + half, hypo[2] - half)  # depth grows downwards
    _draw_event_sections(ax_map, ax_lon, ax_lat, result, frame, levels, truth)
    ax_map.set(xlim=lon_lim, ylim=lat_lim, title="hypocentre (zoom)")
    style_map(ax_map, frame, geo_lat)
    scale_bar(ax_map, frame, geo_lat)
    for ax, lim, hemi, (dh, name) in ((ax_lon, lon_lim, "EW", (dx, "longitude-depth")),
                                      (ax_lat, lat_lim, "NS", (dy, "latitude-depth"))):
        ax.set(xlim=lim, ylim=depth_lim, ylabel="depth below sea level (km)",
               xlabel=frame.labels()[0 if hemi == "EW" else 1], title=f"{name} section")
        if frame.geographic:
            degree_ticks(ax.xaxis, hemi, nbins=3)
        # one km of depth as long as one km along the section (dh degrees of it)
        ax.set_aspect(dh, adjustable="box")

    # network overview: every station, the epicentre, the zoom box
    stations = stations_of(observations, np.asarray(result.weight, dtype=float).reshape(-1))
    draw_stations(ax_net, frame, stations)
    ax_net.plot(hlon, hlat, marker="*", c="tab:red", mec="k", ms=12, ls="none", zorder=5,
                gid="epicentre", label="epicentre")
    box_lon = [lon_lim[0], lon_lim[1], lon_lim[1], lon_lim[0], lon_lim[0]]
    box_lat = [lat_lim[0], lat_lim[0], lat_lim[1], lat_lim[1], lat_lim[0]]
    ax_net.plot(box_lon, box_lat, c="tab:red", lw=0.8, gid="zoom-box")
    xs = [hlon, *box_lon]
    ys = [hlat, *box_lat]
    if stations:
        slon, slat = frame.xy([s[1] for s in stations], [s[2] for s in stations])
        xs += list(slon)
        ys += list(slat)
    set_map_limits(ax_net, np.array(xs), np.array(ys), frame, geo_lat)
    ax_net.set_title("network")
    style_map(ax_net, frame, geo_lat)
    scale_bar(ax_net, frame, geo_lat)

    _draw_residuals(ax_res, result, observations)
    ax_txt.axis("off")
    ax_txt.text(0.0, 1.0, _summary_text(result, observations, frame, levels),
                transform=ax_txt.transAxes, va="top", ha="left", fontsize=9, family="monospace")
    handles, labels = [], []
    for ax in (ax_map, ax_net, ax_res):
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    ax_txt.legend(handles, labels, loc="lower left", fontsize=8, frameon=False, ncols=2)
    fig.suptitle(title or str(result.event_id), fontsize=11)
    return fig


def plot_event(result: LocationResult, observations: Observations | None,
               projection: Projection | None, path: str | Path, *,
               truth_xyz_km: Sequence[float] | None = None, title: str | None = None,
               levels: Sequence[float] | None = None) -> Path:
    """Write :func:`event_figure` to ``path`` (any format Matplotlib writes, by extension).

    Returns
    -------
    pathlib.Path
        ``path`` (its folder is created if missing).

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
    fig = event_figure(result, observations, projection, truth_xyz_km=truth_xyz_km,
                       title=title, levels=levels)
    return save(fig, path)


# -- a catalogue -------------------------------------------------------------------------------


def _frames(projection: Projection | Sequence[Projection | None] | None,
            n_events: int) -> list[Projection | None]:
    """Per event, its frame; an event without one is taken to be in the first event's."""
    if projection is None or isinstance(projection, Projection):
        return [projection] * n_events
    frames = list(projection)
    if len(frames) != n_events:
        raise ValueError(f"{len(frames)} projections for {n_events} events")
    first = next((f for f in frames if f is not None), None)
    return [first if f is None else f for f in frames]


def catalog_figure(results: Sequence[Any], observations_list: Sequence[Observations | None],
                   projection: Projection | Sequence[Projection | None] | None, *,
                   truth_xyz_km: np.ndarray | None = None, title: str | None = None,
                   ellipse_scale: float = 1.0):
    """Map of all located events with their horizontal ellipses, and two depth sections.

    Each located event is a dot coloured by depth with its horizontal confidence ellipse at its
    own ``confidence_level`` (the origin's), projected from km in the event's own frame to
    longitude and latitude, and numbered in catalogue order (as ``hyposvi locate --plot``
    names the event figures) when there are at most 50. The sections (longitude-depth and
    latitude-depth) show the matching two-dimensional marginal ellipses. Stations of all events
    are triangles labelled with their codes.

    Parameters
    ----------
    results
        Per event, a :class:`LocationResult`; anything else (a failure, None) is skipped.
    observations_list
        Per event, its :class:`Observations` (for the stations) or None.
    projection
        Each event's frame (``LocateReport.projections``), or one frame for all; None draws in
        the km of a single common frame.
    truth_xyz_km
        Optional ``(n_events, 3)`` true hypocentres in the order of ``results`` (rows of NaN
        are skipped), km, each in its event's frame.
    title
        Figure title.
    ellipse_scale
        Factor on every ellipse's size (1: true size, the default; the legend states any
        other), for catalogues whose ellipses are too small to see at network scale.

    Returns
    -------
    matplotlib.figure.Figure
        On the Agg canvas.

    Examples
    --------
    >>> from obspy_hyposvi.locate.engine import LocationFailure
    >>> fig = catalog_figure([LocationFailure("a", "no picks")], [None], None)
    >>> [ax.get_label() for ax in fig.axes]
    ['map', 'longitude-depth', 'latitude-depth']
    """
    if not ellipse_scale > 0:
        raise ValueError(f"ellipse_scale must be > 0, got {ellipse_scale!r}")
    frames = _frames(projection, len(results))
    located = [(k, r) for k, r in enumerate(results) if isinstance(r, LocationResult)]
    fig = new_figure(13.0, 7.6)
    grid = fig.add_gridspec(2, 2, width_ratios=(1.5, 1.0))
    ax_map = fig.add_subplot(grid[:, 0], label="map")
    ax_lon = fig.add_subplot(grid[0, 1], label="longitude-depth")
    ax_lat = fig.add_subplot(grid[1, 1], label="latitude-depth")
    ref_lon = None
    for k, r in located:
        if frames[k] is not None:
            ref_lon = float(Frame(frames[k]).xy(*r.hypocentre_xyz_km[:2])[0])
            break
    views = [Frame(f, ref_lon) for f in frames]
    geographic = any(v.geographic for v in views)
    xs, ys, zs = [], [], []  # extent of what is drawn

    stations: dict = {}
    for obs, view in zip(observations_list, views):
        for code, x, y, z, used in stations_of(obs):
            lon, lat = view.xy(x, y)
            key = code or (round(float(lon), 5), round(float(lat), 5))
            if key not in stations:
                stations[key] = (code, float(lon), float(lat), z, used)
            else:
                stations[key] = stations[key][:4] + (stations[key][4] or used,)
    if stations:
        rows = list(stations.values())
        plain = Frame(None)  # positions are already the figure's coordinates
        draw_stations(ax_map, plain, [(c, lon, lat, z, u) for c, lon, lat, z, u in rows])
        xs += [r[1] for r in rows]
        ys += [r[2] for r in rows]

    if located:
        import matplotlib as mpl

        depths = np.array([r.hypocentre_xyz_km[2] for _, r in located], dtype=float)
        norm = mpl.colors.Normalize(vmin=depths.min(), vmax=max(depths.max(), depths.min() + 1))
        cmap = mpl.colormaps["viridis_r"]
        levels = sorted({f"{r.confidence_level:g}" for _, r in located})
        label = f"{', '.join(levels)} % ellipses" + (
            f" (x {ellipse_scale:g})" if ellipse_scale != 1.0 else "")
        for n, (k, r) in enumerate(located):
            view = views[k]
            hypo = np.asarray(r.hypocentre_xyz_km, dtype=float)
            cov = np.asarray(r.covariance_km2, dtype=float)
            colour = cmap(norm(hypo[2]))
            lon, lat = (float(v) for v in view.xy(hypo[0], hypo[1]))
            xs.append(lon)
            ys.append(lat)
            zs.append(hypo[2])
            kw = {"c": colour, "lw": 1.0, "zorder": 3}
            if np.all(np.isfinite(cov)):
                k2 = sigma_scale(r.confidence_level, 2) * ellipse_scale
                xy = ellipse_points(hypo[:2], cov[:2, :2], k2)
                elon, elat = view.xy(xy[:, 0], xy[:, 1])
                xs += list(elon)
                ys += list(elat)
                ax_map.plot(elon, elat, gid=f"ellipse-{k}", label=label if n == 0 else None,
                            **kw)
                xz = ellipse_points(hypo[[0, 2]], cov[np.ix_([0, 2], [0, 2])], k2)
                zs += [xz[:, 1].min(), xz[:, 1].max()]
                ax_lon.plot(view.xy(xz[:, 0], np.full(len(xz), hypo[1]))[0], xz[:, 1],
                            gid=f"ellipse-{k}", **kw)
                yz = ellipse_points(hypo[[1, 2]], cov[np.ix_([1, 2], [1, 2])], k2)
                ax_lat.plot(view.xy(np.full(len(yz), hypo[0]), yz[:, 0])[1], yz[:, 1],
                            gid=f"ellipse-{k}", **kw)
            dot = {"marker": "o", "ms": 5, "c": colour, "mec": "k", "mew": 0.5, "ls": "none",
                   "zorder": 4}
            ax_map.plot(lon, lat, gid=f"event-{k}", **dot)
            ax_lon.plot(lon, hypo[2], **dot)
            ax_lat.plot(lat, hypo[2], **dot)
            if len(located) <= 50:
                ax_map.annotate(f"{k + 1}", (lon, lat), xytext=(4, -9), textcoords="offset points",
                                fontsize=7, color="0.2", gid="event-label")
        bar = fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax_map,
                           shrink=0.6, pad=0.01)
        bar.set_label("hypocentre depth (km)")
        bar.ax.invert_yaxis()
    if truth_xyz_km is not None:
        truth = np.asarray(truth_xyz_km, dtype=float).reshape(-1, 3)
        if len(truth) != len(views):
            raise ValueError(f"truth_xyz_km has {len(truth)} rows for {len(views)} events")
        # under the located dots, which are usually as close as the marker is wide
        star = {"marker": "*", "mfc": "none", "mec": "k", "mew": 0.8, "ms": 12, "ls": "none",
                "zorder": 2}
        tl = [(view.xy(t[0], t[1]), t[2]) for t, view in zip(truth, views)
              if np.all(np.isfinite(t))]
        if tl:
            tlon = np.array([float(p[0][0]) for p in tl])
            tlat = np.array([float(p[0][1]) for p in tl])
            tz = np.array([p[1] for p in tl])
            zs += list(tz)
            ax_map.plot(tlon, tlat, label="true hypocentres", gid="truth", **star)
            ax_lon.plot(tlon, tz, **star)
            ax_lat.plot(tlat, tz, **star)
    some_frame = next((v for v in views if v.geographic), views[0] if views else Frame(None))
    lat0 = float(np.mean(ys)) if (ys and geographic) else 0.0
    if xs:
        set_map_limits(ax_map, np.array(xs), np.array(ys), some_frame, lat0)
    style_map(ax_map, some_frame, lat0)
    if xs:
        scale_bar(ax_map, some_frame, lat0)
    ax_map.set_title("map")
    xlabel, ylabel = some_frame.labels()
    for ax, lim, label, hemi, name in ((ax_lon, ax_map.get_xlim(), xlabel, "EW", "longitude"),
                                       (ax_lat, ax_map.get_ylim(), ylabel, "NS", "latitude")):
        ax.set(xlim=lim, xlabel=label, ylabel="depth below sea level (km)",
               title=f"{name}-depth section" if geographic else "section")
        if geographic:
            degree_ticks(ax.xaxis, hemi, nbins=4)
        if zs:
            pad = max(1.0, 0.05 * (max(zs) - min(zs)))
            ax.set_ylim(max(zs) + pad, min(min(zs) - pad, 0.0))  # depth grows downwards
        else:
            ax.invert_yaxis()
    if ax_map.get_legend_handles_labels()[0]:
        ax_map.legend(fontsize=8, loc="upper right")
    crs = sorted({v.projection.crs for v in views if v.projection is not None})
    frame_note = "" if crs else " (projected km, no frame given)"
    fig.suptitle((title or f"{len(located)} of {len(results)} events located") + frame_note,
                 fontsize=11)
    return fig


def plot_catalog(results: Sequence[Any], observations_list: Sequence[Observations | None],
                 projection: Projection | Sequence[Projection | None] | None,
                 path: str | Path, *,
                 truth_xyz_km: np.ndarray | None = None, title: str | None = None,
                 ellipse_scale: float = 1.0) -> Path:
    """Write :func:`catalog_figure` to ``path`` (any format Matplotlib writes, by extension).

    Returns
    -------
    pathlib.Path
        ``path`` (its folder is created if missing).

    Examples
    --------
    >>> import tempfile, os
    >>> from obspy_hyposvi.locate.engine import LocationFailure
    >>> out = plot_catalog([LocationFailure("a", "no picks")], [None], None,
    ...                    os.path.join(tempfile.mkdtemp(), "catalog.png"))
    >>> out.stat().st_size > 0
    True
    """
    fig = catalog_figure(results, observations_list, projection, truth_xyz_km=truth_xyz_km,
                         title=title, ellipse_scale=ellipse_scale)
    return save(fig, path)
