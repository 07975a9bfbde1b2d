"""Location results -> ObsPy ``Origin`` with uncertainty, quality and arrivals.

This module owns the way back from the compute layer's units (km, s, local x east / y north /
z down) to QuakeML's (DESIGN.md sections 3 and 7): latitude and longitude in degrees, depth and
all lengths in m, lat/lon errors in degrees, arrival distances in degrees, azimuths clockwise
from geographic north, confidence levels in percent. Every error states the confidence level it
was computed at; the horizontal ellipse and the ellipsoid azimuths are rotated from UTM grid
north to geographic north (meridian convergence, up to a few degrees away from a zone's central
meridian).

HypoSVI-specific figures (particle count, cluster fraction, KDE bandwidth, ...) are written in
``origin.extra`` under :data:`NAMESPACE`; write with :func:`write_catalog` (or pass
``nsmap=NSMAP`` to ``Catalog.write``) so that they carry the ``hyposvi`` prefix.
"""

from __future__ import annotations

import logging
import math
import re
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from obspy import Catalog, UTCDateTime
from obspy.core.event import (
    Arrival,
    Comment,
    ConfidenceEllipsoid,
    CreationInfo,
    Event,
    Origin,
    OriginQuality,
    OriginUncertainty,
    QuantityError,
    ResourceIdentifier,
)
from obspy.geodetics import kilometer2degrees
from pyproj import Geod

from ..errors import InputError, OutputError
from ..geo import Projection
from ..locate.horizontal import circular_uncertainty_km
from ..locate.observations import Observations
from ..locate.result import LocationResult
from ..safe_write import write_atomically
from ._objects import copy_event, event_with_origin, make
from .picks import Skipped
from .provenance import DEFAULT_AGENCY, earth_model_id, method_id, method_name, settings_text

__all__ = ["NAMESPACE", "NSMAP", "PREFIX", "add_origin", "located_event", "origin_from_result",
           "write_catalog"]

logger = logging.getLogger(__name__)

#: XML namespace of the HypoSVI figures in ``origin.extra``.
NAMESPACE = "https://github.com/obspy-hyposvi/ns/1.0"
#: Prefix written for :data:`NAMESPACE`.
PREFIX = "hyposvi"
#: Namespace map to pass as ``nsmap=`` to ``Catalog.write(format="QUAKEML")``.
NSMAP = {PREFIX: NAMESPACE}

_AGENCY = DEFAULT_AGENCY  # the package, as named in "not used by ..." comments

_WGS84 = Geod(ellps="WGS84")  # geodesics, event to station (stateless: shared safely)
#: Start of the origin comment that states the units of the errors (SeisComP XML rewrites it:
#: :func:`~obspy_hyposvi.bridge.scml.to_seiscomp_units`).
LATLON_DEGREES_TEXT = "latitude and longitude errors in degrees of latitude and of longitude"


def _one_dim_scale(confidence_level: float) -> float:
    """Half-width, in standard deviations, of a 1D Gaussian interval at a confidence level (%).

    68.27 % gives 1.0: the 1D errors (lat, lon, depth, time) are one standard deviation scaled
    to the confidence level the result states, so that one level holds for the whole origin.
    """
    if not 0.0 < confidence_level < 100.0:
        raise InputError(f"confidence level {confidence_level!r} % is not in (0, 100)")
    if abs(confidence_level - 68.27) < 0.005:
        # 68.27 % is the customary rounding of one sigma (68.269 %): keep the errors exact
        return 1.0
    return statistics.NormalDist().inv_cdf(0.5 + confidence_level / 200.0)


def _finite(value: Any) -> float | None:
    """A float, or None for a missing or non-finite value (QuakeML fields are then left out)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _grid_north_azimuth_deg(projection: Projection, x_km: float, y_km: float) -> float:
    """Geographic azimuth (deg clockwise from north) of the UTM grid's +y axis at a point.

    This is the meridian convergence: a grid azimuth plus this angle is a geographic azimuth.
    Measured on a 1 km grid step so that it holds for any projected CRS.
    """
    lon0, lat0, _ = projection.to_lonlat(x_km, y_km)
    lon1, lat1, _ = projection.to_lonlat(x_km, y_km + 1.0)
    azimuth, _, _ = _WGS84.inv(float(lon0), float(lat0), float(lon1), float(lat1))
    return (azimuth + 180.0) % 360.0 - 180.0  # in [-180, 180): small near the zone centre


def _azimuthal_gaps_deg(azimuths_deg: np.ndarray) -> tuple[float, float]:
    """Largest and secondary azimuthal gap, deg, of station azimuths seen from the source.

    The secondary gap is the largest gap left when any one station is removed (the sum of two
    neighbouring gaps), as in QuakeML's ``secondaryAzimuthalGap``.
    """
    azimuths = np.unique(np.mod(azimuths_deg, 360.0))
    if azimuths.size < 2:
        return 360.0, 360.0
    gaps = np.diff(np.concatenate([azimuths, azimuths[:1] + 360.0]))
    return float(gaps.max()), float((gaps + np.roll(gaps, -1)).max())


def _xml_name(key: str) -> str:
    """A valid XML element name made from a dictionary key."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(key))
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"


def _extra_value(value: Any) -> str | int | float | bool | None:
    """Scalars go to ``origin.extra``; arrays, dicts and non-finite numbers do not."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return value
    return None


def origin_from_result(
    result: LocationResult,
    observations: Observations,
    projection: Projection,
    *,
    model_info: dict,
    version: str,
    skipped: Sequence[Skipped] = (),
    agency_id: str = DEFAULT_AGENCY,
    author: str = DEFAULT_AGENCY,
) -> Origin:
    """Build an ObsPy ``Origin`` from a location result.

    Parameters
    ----------
    result
        Posterior summary in km and s (local frame of ``projection``).
    observations
        The observations the result was computed from (same pick order); gives the reference
        time, the station positions and the pick ids.
    projection
        Local frame of ``observations`` and ``result``.
    model_info
        Travel-time model description: ``name`` gives ``earth_model_id`` (the SHA-256
        ``velocity_sha256`` where there is no name), and its scalar entries (name,
        velocity_sha256, ...) are written under ``hyposvi:model`` in ``origin.extra``.
    version
        Package version, written in ``method_id`` and ``creation_info``.
    agency_id, author
        ``creation_info.agency_id`` and ``author`` of the origin and its comments
        (:mod:`~obspy_hyposvi.bridge.provenance`).
    skipped
        Picks of the event left out of the observations
        (:func:`~obspy_hyposvi.bridge.picks.observations_from_event`): each still gets an
        ``Arrival``, with ``time_weight`` 0, no residual, and the reason as a comment, so that
        every pick of the event appears in the origin.

    Returns
    -------
    obspy.core.event.Origin
        Latitude/longitude (deg), depth (m below sea level, ``depth_type`` "from location"),
        time (``reference_time + origin_time_s``), their errors at ``result.confidence_level``
        (lat/lon errors in degrees of latitude and of longitude, depth error in m, time error
        in s), ``OriginUncertainty`` (horizontal ellipse and ``ConfidenceEllipsoid``, m),
        ``OriginQuality`` (counts, ``standard_error`` = weighted RMS residual, s, gaps and
        distances, deg), one ``Arrival`` per observation (distance, deg; azimuth event to
        station, deg clockwise from north; take-off angle, deg from downward vertical;
        residual, s; weight) followed by one weight-0 ``Arrival`` per skipped pick (phase as
        picked, no residual or take-off angle; distance and azimuth as for the used picks
        where the record carries its station's coordinates), ``evaluation_mode`` "automatic",
        ``evaluation_status`` "preliminary". ``associated_phase_count`` and
        ``associated_station_count`` include the skipped picks; the ``used_*`` counts do not.
        ``OriginUncertainty.horizontal_uncertainty`` is the radius (m) of the circle about the
        epicentre that holds the confidence level
        (:func:`~obspy_hyposvi.locate.horizontal.circular_uncertainty_km`). ``method_id``
        names the method (``.../hyposvi-svgd-edt/<version>``), ``earth_model_id`` the model;
        a comment gives the run's settings (:mod:`~obspy_hyposvi.bridge.provenance`).

    Notes
    -----
    The ellipsoid lengths are converted from grid km to m without the UTM scale factor
    (within 0.1 % of 1 inside a zone); its azimuths are rotated to geographic north.

    Examples
    --------
    >>> import numpy as np
    >>> from obspy import UTCDateTime
    >>> from obspy_hyposvi.locate.result import ConfidenceEllipsoid as Ellipsoid
    >>> proj = Projection("EPSG:32611")
    >>> x, y, _ = proj.to_xyz_km(-117.0, 34.0)
    >>> obs = Observations(event_id="ev", station_xyz_km=[[x + 10, y, 0], [x, y + 10, 0],
    ...                    [x - 10, y, 0], [x, y - 10, 0]], phase_idx=[0, 0, 0, 0],
    ...                    arrival_s=[2.0, 2.0, 2.0, 2.0], sigma_s=[0.1] * 4,
    ...                    pick_ids=["smi:local/p/%d" % i for i in range(4)],
    ...                    reference_time=UTCDateTime(2020, 1, 1))
    >>> res = LocationResult(event_id="ev", hypocentre_xyz_km=np.array([x, y, 10.0]),
    ...     covariance_km2=np.diag([0.25, 0.25, 1.0]), origin_time_s=0.5,
    ...     origin_time_uncertainty_s=0.05,
    ...     ellipsoid=Ellipsoid(0.94, 0.75, 0.76, 0.0, 90.0, 0.0, 68.27),
    ...     horizontal_uncertainty_km=(0.76, 0.76, 0.0), confidence_level=68.27,
    ...     travel_time_s=np.full(4, 1.5), residual_s=np.zeros(4), weight=np.ones(4),
    ...     takeoff_deg=np.full(4, 120.0), particles_xyz_km=np.zeros((0, 3)),
    ...     cluster_mask=np.zeros(0, bool))
    >>> origin = origin_from_result(res, obs, proj, model_info={}, version="0.1.0")
    >>> origin.depth, str(origin.time), round(origin.quality.azimuthal_gap, 3)
    (10000.0, '2020-01-01T00:00:00.500000Z', 90.0)
    """
    return _build_origin(result, observations, projection, model_info=model_info,
                         version=version, skipped=skipped, agency_id=agency_id, author=author)


def located_event(event: Event, result: LocationResult, observations: Observations,
                  projection: Projection, **origin_options: Any) -> Event:
    """``add_origin(event, origin_from_result(result, observations, projection, ...))``,
    in one pass: the origin is built in the copy's scope (its ids bound as
    ``scope_resource_ids`` binds them) rather than built, copied and bound again.

    ``origin_options`` are :func:`origin_from_result`'s keywords. ``event`` is never modified.
    """
    located = copy_event(event)
    origin = _build_origin(result, observations, projection, scope=located, **origin_options)
    located.origins.append(origin)
    located.preferred_origin_id = origin.resource_id  # the origin's own id object, as ObsPy
    return located


def _build_origin(result: LocationResult, observations: Observations, projection: Projection,
                  *, model_info: dict, version: str, skipped: Sequence[Skipped] = (),
                  agency_id: str = DEFAULT_AGENCY, author: str = DEFAULT_AGENCY,
                  scope: Event | None = None) -> Origin:
    """:func:`origin_from_result`; ``scope``: the event the origin will join (see
    :func:`~obspy_hyposvi.bridge._objects.make`)."""
    level = float(result.confidence_level)
    k1 = _one_dim_scale(level)
    x_km, y_km, z_km = (float(v) for v in np.asarray(result.hypocentre_xyz_km, float))
    lon, lat, _ = projection.to_lonlat(x_km, y_km, z_km)
    lon, lat = float(lon), float(lat)
    convergence_deg = _grid_north_azimuth_deg(projection, x_km, y_km)

    # covariance from grid (x, y) to geographic (east, north) axes: rotate by the convergence
    cov = np.asarray(result.covariance_km2, dtype=np.float64).reshape(3, 3)
    c, s = math.cos(math.radians(convergence_deg)), math.sin(math.radians(convergence_deg))
    rotation = np.array([[c, s], [-s, c]])
    cov_en = rotation @ cov[:2, :2] @ rotation.T
    sigma_east_km = math.sqrt(max(cov_en[0, 0], 0.0))
    sigma_north_km = math.sqrt(max(cov_en[1, 1], 0.0))
    sigma_depth_km = math.sqrt(max(cov[2, 2], 0.0))

    reference = observations.reference_time
    if reference is None:
        raise InputError(f"event {result.event_id}: observations have no reference_time")

    # every object is built with make(): ObsPy's constructors check and convert each attribute
    # (~0.1 ms an Arrival), so each value here already has its attribute's type (_real: float)
    likelihood_kind = str(result.extra.get("likelihood", "edt"))
    model_id = earth_model_id(model_info)  # the model's name; its sha256 goes to extra
    max_h_km, min_h_km, azimuth_h_deg = (float(v) for v in result.horizontal_uncertainty_km)
    ell = result.ellipsoid
    uncertainty = make(
        OriginUncertainty,
        max_horizontal_uncertainty=_real(max_h_km * 1e3),  # km -> m
        min_horizontal_uncertainty=_real(min_h_km * 1e3),  # km -> m
        azimuth_max_horizontal_uncertainty=_real((azimuth_h_deg + convergence_deg) % 360.0),
        # radius of the circle holding the level (rotation-free: grid or geographic axes)
        horizontal_uncertainty=_real(circular_uncertainty_km(cov[:2, :2], level) * 1e3),
        confidence_ellipsoid=make(
            ConfidenceEllipsoid,
            semi_major_axis_length=_real(ell.semi_major_km * 1e3),  # km -> m
            semi_minor_axis_length=_real(ell.semi_minor_km * 1e3),  # km -> m
            semi_intermediate_axis_length=_real(ell.semi_intermediate_km * 1e3),  # km -> m
            # a grid-to-geographic rotation about the vertical only adds to the first
            # (azimuth) Tait-Bryan angle; plunge and rotation are unchanged
            major_axis_azimuth=_real((ell.major_azimuth_deg + convergence_deg) % 360.0),
            major_axis_plunge=_real(ell.major_plunge_deg),
            major_axis_rotation=_real(ell.major_rotation_deg),
        ),
        preferred_description="confidence ellipsoid",
        confidence_level=level,
    )
    arrivals, quality = _arrivals_and_quality(result, observations, projection, lon, lat,
                                              skipped, scope)

    def comment(text: str) -> Comment:
        return make(Comment, scope=scope, text=text,
                    creation_info=make(CreationInfo, author=author, version=str(version)))

    comments = [
        comment(f"obspy_hyposvi {version}: all errors at {level:g} % confidence; "
                f"{LATLON_DEGREES_TEXT}; depth below sea level; azimuths from geographic north"),
        comment(_method_text(result, projection, version)),
        comment(settings_text(result.extra, model_info, version, level)),
    ]
    status = "preliminary"
    if not result.converged:
        # STYLE.md: a run that fails its quality checks yields a rejected origin
        status = "rejected"
        comments.append(comment(f"obspy_hyposvi {version}: rejected: "
                                f"{result.quality_note}"))
    origin = make(
        Origin,
        scope=scope,
        resource_id=ResourceIdentifier(prefix="smi:local/obspy_hyposvi/origin"),
        time=reference + float(result.origin_time_s),  # s after the reference time
        time_errors=QuantityError(uncertainty=_finite(k1 * result.origin_time_uncertainty_s),
                                  confidence_level=level),
        latitude=_real(lat),
        longitude=_real(lon),
        # 1D errors in degrees: of latitude (great circle) and of longitude (shrinks with
        # cos(lat))
        latitude_errors=QuantityError(uncertainty=kilometer2degrees(k1 * sigma_north_km),
                                      confidence_level=level),
        longitude_errors=QuantityError(
            uncertainty=kilometer2degrees(k1 * sigma_east_km) / max(math.cos(math.radians(lat)),
                                                                    1e-6),
            confidence_level=level),
        depth=_real(z_km * 1e3),  # QuakeML depth is in m, positive down from sea level
        depth_errors=QuantityError(uncertainty=k1 * sigma_depth_km * 1e3,  # km -> m
                                   confidence_level=level),
        depth_type="from location",
        origin_type="hypocenter",
        method_id=ResourceIdentifier(method_id(likelihood_kind, version)),
        earth_model_id=ResourceIdentifier(model_id) if model_id else None,
        evaluation_mode="automatic",
        evaluation_status=status,
        creation_info=make(CreationInfo, agency_id=agency_id, author=author,
                           version=str(version), creation_time=UTCDateTime()),
        origin_uncertainty=uncertainty,
        quality=quality,
        arrivals=arrivals,
        comments=comments,
    )
    origin.extra = _extra(result, model_info, level, convergence_deg)
    origin.extra["method"] = {"value": method_name(likelihood_kind), "namespace": NAMESPACE}
    # each event is located in its own frame: say which (an EPSG code)
    origin.extra["projection"] = {"value": projection.crs, "namespace": NAMESPACE}
    return origin


def _real(value: Any) -> float:
    """A float attribute as ObsPy's setter leaves it: a ``float``, a non-finite one refused."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"value {value!r} is not a finite floating point value")
    return value


def _method_text(result: LocationResult, projection: Projection, version: str) -> str:
    """How the hypocentre was estimated, with which error model, and the MAP beside it."""
    extra = result.extra
    text = (f"obspy_hyposvi {version}: hypocentre = "
            f"{extra.get('hypocentre_estimator', 'posterior mean')}")
    if "placed_fraction" in extra:
        text += (f" ({result.mode_share:.0%} of the {extra['placed_fraction']:.0%} "
                 "particles that sample the posterior")
        text += f"; {extra['n_modes']} modes)" if extra.get("n_modes", 1) > 1 else ")"
    if result.map_xyz_km is not None:
        x, y, z = (float(v) for v in result.map_xyz_km)
        lon, lat, _ = projection.to_lonlat(x, y, z)
        text += (f"; most probable particle (MAP) at lat {float(lat):.5f}, lon {float(lon):.5f},"
                 f" depth {z:.3f} km")
    if extra.get("error_model"):
        text += f"; travel-time error model {extra['error_model']}"
    if extra.get("n_outliers"):
        text += f"; {extra['n_outliers']} outlier picks left out (weight 0)"
    if extra.get("n_station_terms"):
        text += f"; station terms applied to {extra['n_station_terms']} picks"
    for warning in result.warnings:
        text += f"; warning: {warning}"
    return text


def _distances_azimuths_deg(lon: float, lat: float, station_lon: Any,
                            station_lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Distances (great-circle deg) and azimuths (deg clockwise from north, in [0, 360)) from
    the event at ``lon``, ``lat`` to each station (arrays of deg).

    The WGS84 geodesic in one call for all stations (pyproj, Karney's algorithm: the same
    ellipsoid as ObsPy's ``gps2dist_azimuth`` and within a millimetre of it, which took ~0.1 ms
    per station), its length as ObsPy's ``kilometer2degrees`` converts it.
    """
    station_lon = np.asarray(station_lon, dtype=np.float64).reshape(-1)
    station_lat = np.asarray(station_lat, dtype=np.float64).reshape(-1)
    az_deg, _, dist_m = _WGS84.inv(np.full_like(station_lon, lon), np.full_like(station_lat, lat),
                                   station_lon, station_lat)
    return kilometer2degrees(np.asarray(dist_m) / 1e3), np.mod(az_deg, 360.0)


def _skipped_arrival(record: Skipped, lon: float, lat: float,
                     scope: Event | None = None) -> Arrival:
    """A weight-0 arrival for a pick left out of the location, the reason in a comment.

    Its distance and azimuth from the origin at ``lon``, ``lat`` (deg) are filled in when the
    record carries its station's coordinates.
    """
    distance = azimuth = None
    if record.longitude_deg is not None and record.latitude_deg is not None:
        distances, azimuths = _distances_azimuths_deg(lon, lat, record.longitude_deg,
                                                      record.latitude_deg)
        distance, azimuth = _real(distances[0]), _real(azimuths[0])
    return make(Arrival, scope=scope, pick_id=ResourceIdentifier(record.pick_id),
                # QuakeML requires a phase: "" for a pick that names none (None would be
                # written as the text "None")
                phase=record.phase_hint or "", time_weight=0.0, distance=distance,
                azimuth=azimuth,
                comments=[make(Comment, scope=scope,
                               text=f"not used by {_AGENCY}: {record.reason}")])


def _finite_list(values: Any) -> list[float | None]:
    """``_finite`` of each value of an array: Python floats, None where not finite."""
    values = np.asarray(values, dtype=np.float64)
    return [v if finite else None
            for v, finite in zip(values.tolist(), np.isfinite(values).tolist())]


def _arrivals_and_quality(result: LocationResult, observations: Observations,
                          projection: Projection, lon: float, lat: float,
                          skipped: Sequence[Skipped] = (), scope: Event | None = None,
                          ) -> tuple[list[Arrival], OriginQuality]:
    n = observations.n_picks
    for name in ("residual_s", "weight", "takeoff_deg"):
        if np.asarray(getattr(result, name)).shape != (n,):
            raise InputError(f"event {result.event_id}: result.{name} has shape "
                             f"{np.asarray(getattr(result, name)).shape}, expected ({n},)")
    xyz = observations.station_xyz_km
    station_lon, station_lat, _ = projection.to_lonlat(xyz[:, 0], xyz[:, 1])
    weights = np.asarray(result.weight, dtype=np.float64)
    phase_names = {0: "P", 1: "S"}
    station_ids = observations.station_ids or [f"{a:.4f},{b:.4f}" for a, b in
                                               zip(station_lon, station_lat)]

    # event -> station: great-circle degrees, azimuth clockwise from north
    distance_deg, azimuth_deg = _distances_azimuths_deg(lon, lat, station_lon, station_lat)
    phases = (observations.phase_hints if observations.phase_hints
              else [phase_names[int(k)] for k in observations.phase_idx])
    pick_ids = observations.pick_ids or [None] * n
    takeoff, residual, weight = (_finite_list(result.takeoff_deg),
                                 _finite_list(result.residual_s), _finite_list(weights))
    arrivals: list[Arrival] = [
        make(Arrival, scope=scope,
             pick_id=None if pick_ids[i] is None else ResourceIdentifier(pick_ids[i]),
             phase=phases[i], distance=float(distance_deg[i]), azimuth=float(azimuth_deg[i]),
             takeoff_angle=takeoff[i], time_residual=residual[i], time_weight=weight[i],
             # an outlier: kept, with its residual, but weight 0
             comments=([make(Comment, scope=scope,
                             text=f"not used by {_AGENCY}: {result.pick_notes[i]}")]
                       if i in result.pick_notes else []))
        for i in range(n)]
    arrivals += [_skipped_arrival(record, lon, lat, scope) for record in skipped]

    used = weights > 0
    used_stations = sorted({station_ids[i] for i in np.flatnonzero(used)})
    # one azimuth and distance per used station (P and S of a station share them)
    first_of_station = {station_ids[i]: i for i in reversed(np.flatnonzero(used).tolist())}
    per_station = np.array(sorted(first_of_station.values()), dtype=int)
    gap, secondary_gap = _azimuthal_gaps_deg(azimuth_deg[per_station])
    # a skipped pick's station (NET.STA of its SEED id) counts as associated if it names one
    skipped_stations = {".".join(r.station.split(".")[:2]) for r in skipped if r.station.strip(".")}
    distances = {}
    if per_station.size:
        distances = dict(minimum_distance=float(distance_deg[per_station].min()),
                         maximum_distance=float(distance_deg[per_station].max()),
                         median_distance=float(np.median(distance_deg[per_station])))
    quality = make(
        OriginQuality,
        associated_phase_count=n + len(skipped),
        used_phase_count=int(used.sum()),
        associated_station_count=len(set(station_ids) | skipped_stations),
        used_station_count=len(used_stations),
        depth_phase_count=0,
        standard_error=_finite(result.rms_s),
        azimuthal_gap=_real(gap),
        secondary_azimuthal_gap=_real(secondary_gap),
        **distances,
    )
    return arrivals, quality


def _extra(result: LocationResult, model_info: dict, level: float,
           convergence_deg: float) -> dict:
    """HypoSVI figures for ``origin.extra``: ``{name: {"value": ..., "namespace": ...}}``."""
    extra: dict[str, dict] = {}

    def put(target: dict, key: str, value: Any) -> None:
        value = _extra_value(value)
        if value is not None:
            target[_xml_name(key)] = {"value": value, "namespace": NAMESPACE}

    # the typed diagnostics beside the loose ones, in one sorted list as before they were typed
    figures = {**result.extra, "converged": result.converged,
               "quality_note": result.quality_note, "mode_share": result.mode_share}
    for key, value in sorted(figures.items()):
        put(extra, key, value)
    put(extra, "confidence_level", level)
    put(extra, "meridian_convergence_deg", convergence_deg)
    if len(np.asarray(result.cluster_mask)):
        put(extra, "n_cluster_particles", int(np.count_nonzero(result.cluster_mask)))
    model: dict[str, dict] = {}
    for key, value in sorted(model_info.items()):
        put(model, key, value)
    if model:
        extra["model"] = {"value": model, "namespace": NAMESPACE}
    return extra


def add_origin(event: Event, origin: Origin) -> Event:
    """A copy of an event with a new origin appended and set as preferred.

    Parameters
    ----------
    event
        Never modified: its origins, picks, magnitudes and comments are all kept in the copy.
    origin
        Origin to add (copied too).

    Returns
    -------
    obspy.core.event.Event
        Every resource id bound to the objects of the copy (``Event.scope_resource_ids``):
        ``preferred_origin()`` and ``arrival.pick_id.get_referred_object()`` find them
        without ObsPy's identity warnings.

    Examples
    --------
    >>> from obspy.core.event import Event, Origin
    >>> event = Event(origins=[Origin()])
    >>> located = add_origin(event, Origin(latitude=1.0))
    >>> len(event.origins), len(located.origins), located.preferred_origin().latitude
    (1, 2, 1.0)
    """
    # copy.deepcopy of both, append and scope_resource_ids, in one faster walk
    return event_with_origin(event, origin)


def _obspy_writes(format: str) -> bool:
    """Whether the installed ObsPy has an event writer for ``format``."""
    from obspy.core.util.base import ENTRY_POINTS

    return format in ENTRY_POINTS.get("event_write", {})


#: A number ObsPy wrote as Python spells it (``nan``, ``inf``, ``-inf``), as element text.
_PYTHON_NON_FINITE = re.compile(rb">(-?)(nan|inf)<")


def _non_finite_as_xsd(path: Path) -> None:
    """Rewrite NaN and infinities in an XML file as ``xs:double`` spells them.

    ObsPy writes a float with ``str()``: a NaN read from the input (a pick's uncertainty, say)
    comes out as ``nan``, which QuakeML's and SCML's schemas refuse (``NaN``, ``INF`` and
    ``-INF`` are valid), and the whole catalogue would be refused with it.
    """
    data = path.read_bytes()
    fixed = _PYTHON_NON_FINITE.sub(
        lambda m: b">NaN<" if m.group(2) == b"nan" else b">" + m.group(1) + b"INF<", data)
    if fixed != data:
        path.write_bytes(fixed)


def write_catalog(catalog: Catalog, path: str | Path, format: str = "QUAKEML",
                  validate: bool = False, scml_version: str | None = None) -> None:
    """Write a catalogue, with the ``hyposvi`` prefix for :data:`NAMESPACE` in QuakeML.

    Parameters
    ----------
    catalog
        Catalogue to write (not modified).
    path
        Output file.
    format
        ``"QUAKEML"`` or any event format ObsPy writes. ``"SC3ML"`` is written as ObsPy's
        ``"SCML"`` (SeisComP XML), its name since ObsPy 1.5, where ``"SC3ML"`` is deprecated.
        In SCML the latitude and longitude errors of the origins made here are in km, as
        SeisComP keeps them (:func:`~obspy_hyposvi.bridge.scml.to_seiscomp_units`).
    validate
        Check the written file against its schema (QuakeML 1.2, or the SCML version written)
        before it replaces ``path``; other formats are not checked.
    scml_version
        SCML schema version (:func:`~obspy_hyposvi.bridge.scml.scml_versions`; default
        :data:`~obspy_hyposvi.bridge.scml.DEFAULT_SCML_VERSION`, 0.12). SCML only.

    Raises
    ------
    InputError
        ``scml_version`` is not one ObsPy writes, or is given for another format.
    OutputError
        The file cannot be written or does not validate, with the schema's first messages
        (an existing file is then left as it was: the catalogue is written to a temporary
        file, renamed when complete).
    """
    from .scml import DEFAULT_SCML_VERSION, check_scml_version, schema_errors, to_seiscomp_units

    kwargs: dict[str, Any] = {}
    format = format.upper()
    if format == "SC3ML" and _obspy_writes("SCML"):
        format = "SCML"
    scml = format in ("SCML", "SC3ML")
    if scml:
        kwargs["version"] = check_scml_version(scml_version or DEFAULT_SCML_VERSION)
        catalog = to_seiscomp_units(catalog)  # a copy: latitude/longitude errors in km
    elif scml_version is not None:
        raise InputError(f"an SCML version ({scml_version}) applies to SCML output, not "
                         f"{format}")
    if format == "QUAKEML":
        kwargs["nsmap"] = dict(NSMAP)
    described = f"SCML {kwargs['version']}" if scml else format

    def write(tmp: Path) -> None:
        catalog.write(str(tmp), format=format, **kwargs)
        if scml or format == "QUAKEML":
            _non_finite_as_xsd(tmp)  # e.g. an input pick's NaN uncertainty
        if validate and (scml or format == "QUAKEML"):
            errors = schema_errors(tmp, format)
            if errors:
                raise OutputError(f"{path}: the {described} written does not validate against "
                                  f"its schema, so it was not written: {'; '.join(errors)}")

    try:
        # through a temporary file: a failure or Ctrl-C never leaves a partial or empty output
        write_atomically(path, write)
    except OutputError:
        raise
    except Exception as exc:  # OSError, ValueError, lxml errors...
        raise OutputError(f"cannot write {described} to {path}: {type(exc).__name__}: "
                          f"{exc}") from exc
