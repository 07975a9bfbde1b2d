"""ObsPy picks and stations -> :class:`~obspy_hyposvi.locate.observations.Observations`.

This module owns the step from a user's ObsPy ``Event`` and ``Inventory`` to the plain float64
arrays the compute layer sees, and everything that can go wrong on the way (DESIGN.md section 8):

- station coordinates at the pick time, with a station-level fallback when the inventory lacks
  the picked channel (one :class:`~obspy_hyposvi.errors.HypoSVIWarning` per station);
- pick uncertainties from ``time_errors`` with a configurable default when unknown;
- phase names mapped to the P and S travel-time models;
- picks without a usable station, phase or time, and duplicate picks, left out and reported as
  :class:`Skipped` records (and logged), never silently.

Units change here: station elevation and local depth (m) become ``z_km`` (km, down) through
:class:`~obspy_hyposvi.geo.Projection`, and pick times (``UTCDateTime``) become float64 seconds
after a per-event reference time.
"""

from __future__ import annotations

import bisect
import logging
import math
import statistics
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import obspy
from obspy import Catalog, Inventory, UTCDateTime
from obspy.core.event import Event, Pick

from ..errors import HypoSVIWarning, InputError, InsufficientPicksError
from ..geo import Projection, utm_crs_for
from ..locate.observations import DEFAULT_MIN_PICKS, PHASE_INDEX, Observations
from ..settings import InstanceOf, Interval, Relation, Settings, TupleOf
from .phase_formats import phase_file_reader, station_file_reader

__all__ = [
    "PickConfig",
    "Skipped",
    "StationLookup",
    "TooFewUsablePicksError",
    "event_projections",
    "observations_from_event",
    "projection_for",
    "read_catalog",
    "read_inventory",
    "station_coordinates",
    "station_positions",
]

logger = logging.getLogger(__name__)

#: Confidence level (percent) of a one-standard-deviation Gaussian interval.
_ONE_SIGMA_PERCENT = 68.27


@dataclass(frozen=True, kw_only=True)
class PickConfig(Settings):
    """How picks are turned into observations.

    Parameters
    ----------
    default_sigma_s
        Pick uncertainty (one standard deviation), s, used when a pick has none or a negative
        one. 0.1 s is a typical analyst P-pick error at local distances.
    min_sigma_s
        Floor on pick uncertainties, s: a stated 0 s (or a few ms) would let one pick dominate
        the likelihood; the travel-time model is not that accurate anyway.
    max_time_from_median_s
        Picks further than this from the median pick time of their event, s, are taken as
        corrupt (wrong day, wrong event) and left out.
    p_phases, s_phases
        Phase hints that use the P and the S travel-time model (exact, case-sensitive match
        after stripping blanks). Anything else is left out and reported.
    skip_rejected
        Leave out picks whose ``evaluation_status`` is ``"rejected"``.

    Examples
    --------
    >>> import dataclasses
    >>> cfg = PickConfig(default_sigma_s=0.2)
    >>> dataclasses.replace(cfg, min_sigma_s=0.05).min_sigma_s
    0.05

    The fewest usable picks of an event is ``SearchConfig.min_picks``, the locator's one
    setting of it (:func:`observations_from_event` takes it as ``min_picks``).
    """

    default_sigma_s: float = 0.1
    min_sigma_s: float = 0.01
    max_time_from_median_s: float = 3600.0
    p_phases: tuple[str, ...] = ("P", "Pg", "Pn", "Pb", "p")
    s_phases: tuple[str, ...] = ("S", "Sg", "Sn", "Sb", "s")
    skip_rejected: bool = True

    _constraints = {
        "default_sigma_s": Interval(float, 0, math.inf, closed="neither"),
        "min_sigma_s": Interval(float, 0, math.inf, closed="neither"),
        "max_time_from_median_s": Interval(float, 0, math.inf, closed="neither"),
        # tuples keep the config hashable and immutable; a bare string would be iterated by char
        "p_phases": TupleOf(InstanceOf(str)),
        "s_phases": TupleOf(InstanceOf(str)),
        "skip_rejected": InstanceOf(bool),
    }
    _relations = (
        Relation("default_sigma_s", ">= min_sigma_s", lambda s: s.default_sigma_s >= s.min_sigma_s,
                 ("min_sigma_s",)),
        Relation("s_phases", "disjoint from p_phases",
                 lambda s: not set(s.p_phases) & set(s.s_phases), ("p_phases",)),
    )

    def phase_model(self, phase_hint: str | None) -> str | None:
        """Return ``"P"``, ``"S"`` or None (not locatable) for a pick's phase hint."""
        if phase_hint is None:
            return None
        name = str(phase_hint).strip()
        if name in self.p_phases:
            return "P"
        if name in self.s_phases:
            return "S"
        return None


@dataclass(frozen=True)
class Skipped:
    """A pick left out of the observations, and why.

    Parameters
    ----------
    pick_id
        Resource id of the pick.
    station
        ``NET.STA.LOC.CHA`` of the pick ("" when it names none).
    reason
        Human-readable reason, e.g. ``"station AK.XYZ not in inventory at 2018-11-30T17:29:35"``.
    phase_hint
        The pick's phase hint, stripped ("" when it has none); written as the phase of the
        pick's weight-0 arrival.
    event_id
        Resource id of the pick's event ("" when not known).
    longitude_deg, latitude_deg
        Coordinates of the pick's sensor when the inventory knows its station (at the pick
        time, else at the event's median pick time), None otherwise; they give the distance
        and azimuth of the pick's weight-0 arrival.
    """

    pick_id: str
    station: str
    reason: str
    phase_hint: str = ""
    event_id: str = ""
    longitude_deg: float | None = None
    latitude_deg: float | None = None


class TooFewUsablePicksError(InsufficientPicksError):
    """An event has too few usable picks; ``skipped`` says why each other pick was left out.

    Parameters
    ----------
    message
        What happened (names the event and the counts).
    skipped
        The :class:`Skipped` records of the event's picks left out.
    """

    def __init__(self, message: str, skipped: Iterable[Skipped] = ()) -> None:
        super().__init__(message)
        self.skipped: tuple[Skipped, ...] = tuple(skipped)

    def __reduce__(self):
        # keep ``skipped`` when pickled (an exception pickles only its args by default)
        return (type(self), (str(self), self.skipped))


def read_catalog(path: str | Path, format: str | None = None) -> Catalog:
    """Read an event file with ObsPy, turning any failure into an :class:`InputError`.

    Parameters
    ----------
    path
        QuakeML, SC3ML or any format :func:`obspy.read_events` knows; also NonLinLoc phase
        files (``NLLOC_OBS``) and HypoInverse Y2000 archive/phase files (``HYPOINVERSE``),
        read by :mod:`~obspy_hyposvi.bridge.phase_formats`.
    format
        Format name; None detects ``NLLOC_OBS`` and ``HYPOINVERSE`` and lets ObsPy guess
        any other.

    Returns
    -------
    obspy.Catalog
        Station labels of phase files are kept as station codes: see
        :func:`~obspy_hyposvi.bridge.station_map.resolve_station_codes`.

    Notes
    -----
    SeisComP XML (SC3ML/SCML): ObsPy converts it to QuakeML through an XSLT that keeps only
    the picks referenced by an arrival of some origin. Picks that no origin uses are not read,
    so export them attached to an origin.

    Examples
    --------
    >>> read_catalog("/nonexistent/picks.xml")
    Traceback (most recent call last):
    ...
    obspy_hyposvi.errors.InputError: cannot read catalogue /nonexistent/picks.xml: file not found
    """
    phase_reader = phase_file_reader(path, format)
    if phase_reader is not None:  # formats ObsPy does not read
        return phase_reader(path)
    return _read(obspy.read_events, "catalogue", path, format, "--input-format")


def read_inventory(path: str | Path, format: str | None = None) -> Inventory:
    """Read a station file with ObsPy, turning any failure into an :class:`InputError`.

    Parameters
    ----------
    path
        StationXML or any format :func:`obspy.read_inventory` knows; also NonLinLoc station
        lists (``GTSRCE`` lines, format ``NLLOC_GTSRCE``,
        :mod:`~obspy_hyposvi.bridge.nlloc_stations`).
    format
        Format name; None detects ``NLLOC_GTSRCE`` and lets ObsPy guess any other.

    Returns
    -------
    obspy.Inventory

    Examples
    --------
    >>> read_inventory("/nonexistent/stations.xml")
    Traceback (most recent call last):
    ...
    obspy_hyposvi.errors.InputError: cannot read inventory /nonexistent/stations.xml: file not found
    """
    station_reader = station_file_reader(path, format)
    if station_reader is not None:  # formats ObsPy does not read
        return station_reader(path)
    try:
        return _read(obspy.read_inventory, "inventory", path, format, "--inventory-format")
    except InputError as exc:
        # ObsPy refuses a station without coordinates with a bare TypeError about None
        missing = _stations_without_coordinates(path)
        if not missing:
            bad = _non_finite_coordinates(path)  # ObsPy's message is about None here too
            if bad:
                raise InputError(f"cannot read inventory {path}: {bad}, not a finite number; "
                                 "correct it in the file") from exc
            raise
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(f"cannot read inventory {path}: {missing[0]}{more} has no latitude, "
                         "longitude or elevation; add the coordinates to the file") from exc


_COORDINATE_TAGS = ("Latitude", "Longitude", "Elevation")


def _coordinate_elements(path: str | Path) -> list[tuple[str, Any]]:
    """``(name, element)`` of every station and channel of a StationXML file, named as
    ``"station NET.STA"`` / ``"channel NET.STA.LOC.CHA"`` (``[]`` when the file is not XML)."""
    from lxml import etree

    try:
        root = etree.parse(str(path)).getroot()
    except Exception:  # not XML: nothing to say about coordinates
        return []
    out = []
    for network in root.iter("{*}Network"):
        for station in network.iter("{*}Station"):
            code = f"{network.get('code')}.{station.get('code')}"
            out.append((f"station {code}", station))
            out += [(f"channel {code}.{ch.get('locationCode') or ''}.{ch.get('code')}", ch)
                    for ch in station.iter("{*}Channel")]
    return out


def _stations_without_coordinates(path: str | Path) -> list[str]:
    """Stations and channels of a StationXML file that lack a latitude, longitude or elevation
    (``[]`` when the file is not XML)."""
    return [name for name, element in _coordinate_elements(path) if not all(
        (element.findtext(f"{{*}}{tag}") or "").strip() for tag in _COORDINATE_TAGS)]


def _non_finite_coordinates(path: str | Path) -> str | None:
    """The first station or channel coordinate of a StationXML file that is not a finite
    number, as ``"station NET.STA latitude 'NaN'"``; None when all are (or not XML)."""
    for name, element in _coordinate_elements(path):
        for tag in _COORDINATE_TAGS:
            text = (element.findtext(f"{{*}}{tag}") or "").strip()
            if text and not _is_finite_number(text):
                return f"{name} {tag.lower()} {text!r}"
    return None


def _is_finite_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _read(reader, what: str, path: str | Path, format: str | None, option: str):
    """``reader(path)`` with every failure as a one-line :class:`InputError`; ``option`` is
    the command-line option that names the format, for the message."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"cannot read {what} {path}: file not found")
    if _is_blank(path):
        raise InputError(f"cannot read {what} {path}: the file is empty; check that it was "
                         "written completely")
    kwargs = {} if format is None else {"format": format}
    try:
        return reader(str(path), **kwargs)
    except Exception as exc:  # ObsPy's readers raise anything from TypeError to lxml errors
        detail = " ".join(str(exc).split())[:300]  # one line, whatever ObsPy said
        hint = ("check the format name" if format is not None else
                f"check the file, or name its format: format= in Python, {option} on the "
                "command line")
        raise InputError(f"cannot read {what} {path}: {type(exc).__name__}: {detail} ({hint})"
                         ) from exc


def _is_blank(path: Path) -> bool:
    """Whether the file is empty or holds only white space (read only when it is small)."""
    size = path.stat().st_size
    if size > 4096:
        return False
    return not path.read_bytes().strip()


def station_coordinates(
    inventory: Inventory, seed_id: str, time: UTCDateTime | None = None
) -> tuple[dict[str, float], str] | None:
    """Coordinates of the sensor that recorded a pick, with a station-level fallback.

    Parameters
    ----------
    inventory
        Station metadata.
    seed_id
        ``NET.STA.LOC.CHA`` of the pick.
    time
        Pick time: the station and channel epochs active then are used. None: any epoch.

    Returns
    -------
    tuple or None
        ``(coordinates, source)`` with ``coordinates`` holding ``latitude``, ``longitude``
        (deg), ``elevation`` and ``local_depth`` (m), and ``source`` one of ``"channel"``
        (exact match), ``"location"`` (another channel of the same location code) or
        ``"station"`` (station-level coordinates); None when no ``NET.STA`` is active at
        ``time``.

    Examples
    --------
    >>> from obspy import read_inventory
    >>> inv = read_inventory()  # ObsPy's example inventory
    >>> coords, source = station_coordinates(inv, "GR.FUR..XYZ")
    >>> source, coords["latitude"]
    ('location', 48.162899)
    """
    try:
        # exact NET.STA.LOC.CHA; ObsPy raises a bare Exception for no (or an ambiguous) match
        coords = inventory.get_coordinates(seed_id, time)
        if coords.get("latitude") is not None and coords.get("longitude") is not None:
            return _clean(coords), "channel"
    except Exception:
        pass
    parts = seed_id.split(".")
    if len(parts) != 4:
        return None
    net, sta, loc, _ = parts
    for network in inventory:
        if network.code != net or not network.is_active(time=time):
            continue
        for station in network:
            if station.code != sta or not station.is_active(time=time):
                continue
            # a channel at the same location code carries the sensor's own depth and position
            for channel in station:
                if (channel.location_code == loc and channel.is_active(time=time)
                        and channel.latitude is not None and channel.longitude is not None):
                    return _clean({"latitude": channel.latitude, "longitude": channel.longitude,
                                   "elevation": channel.elevation,
                                   "local_depth": channel.depth}), "location"
            if station.latitude is not None and station.longitude is not None:
                # station-level coordinates describe the surface: local depth 0 m
                return _clean({"latitude": station.latitude, "longitude": station.longitude,
                               "elevation": station.elevation, "local_depth": 0.0}), "station"
    return None


class StationLookup:
    """:func:`station_coordinates` of one inventory, remembered for the picks of a catalogue.

    A catalogue asks for the same few hundred sensors at thousands of pick times; ObsPy's
    look-up walks the inventory each time (~20 us). The answer depends on the time only through
    which start and end dates of the ``NET.STA``'s networks, stations and channels it falls
    between, so it is kept per SEED id and such interval: the answers are those of
    :func:`station_coordinates` itself. Make one per run: the inventory must not change while
    it is in use.

    Examples
    --------
    >>> from obspy import read_inventory
    >>> stations = StationLookup(read_inventory())
    >>> coords, source = stations.coordinates("GR.FUR..XYZ")
    >>> source, coords["latitude"]
    ('location', 48.162899)
    """

    def __init__(self, inventory: Inventory):
        self.inventory = inventory
        self._dates: dict[str, tuple[int, list[int]] | None] = {}
        self._found: dict[tuple, tuple[dict[str, float], str] | None] = {}

    def coordinates(self, seed_id: str, time: UTCDateTime | None = None
                    ) -> tuple[dict[str, float], str] | None:
        """``station_coordinates(inventory, seed_id, time)``."""
        key = self._key(seed_id, time)
        if key is None:
            return station_coordinates(self.inventory, seed_id, time)
        if key not in self._found:
            self._found[key] = station_coordinates(self.inventory, seed_id, time)
        found = self._found[key]
        return None if found is None else (dict(found[0]), found[1])

    def _key(self, seed_id: str, time: UTCDateTime | None) -> tuple | None:
        """``(seed_id, interval)``: the same for all times that compare alike with every start
        and end date of the station's epochs; None when that cannot be told (no cache)."""
        if time is None:
            return seed_id, None
        parts = seed_id.split(".")
        if len(parts) != 4:
            return None
        station = f"{parts[0]}.{parts[1]}"
        if station not in self._dates:
            self._dates[station] = self._epoch_dates(parts[0], parts[1])
        dates = self._dates[station]
        if dates is None or time.precision != dates[0]:
            return None
        # UTCDateTime compares nanoseconds rounded to its precision: so do we
        stamp = round(time.ns, dates[0] - 9)
        index = bisect.bisect_left(dates[1], stamp)
        return seed_id, index, index < len(dates[1]) and dates[1][index] == stamp

    def _epoch_dates(self, net: str, sta: str) -> tuple[int, list[int]] | None:
        """``(precision, sorted rounded nanoseconds)`` of every start and end date of the
        networks, stations and channels a look-up of ``net.sta`` compares a time with; None
        when their precisions differ (UTCDateTime then warns and compares otherwise)."""
        dates = []
        for network in self.inventory:
            if network.code != net:
                continue
            dates += [network.start_date, network.end_date]
            for station in network:
                if station.code != sta:
                    continue
                dates += [station.start_date, station.end_date]
                for channel in station:
                    dates += [channel.start_date, channel.end_date]
        dates = [d for d in dates if d is not None]
        precisions = {d.precision for d in dates} or {UTCDateTime.DEFAULT_PRECISION}
        if len(precisions) != 1:
            return None
        precision = precisions.pop()
        return precision, sorted({round(d.ns, precision - 9) for d in dates})


def station_positions(inventory: Inventory) -> tuple[list[str], np.ndarray, np.ndarray,
                                                     np.ndarray]:
    """Every station entry of an inventory: ``NET.STA`` and its station-level position.

    Returns
    -------
    names : list of str
        ``NET.STA``, one per station entry (a station of several epochs comes once per epoch).
    lon_deg, lat_deg, elevation_m : numpy.ndarray
        ``(n_stations,)`` float64; a missing elevation counts as 0 m.

    Examples
    --------
    >>> from obspy import read_inventory
    >>> names, lon, lat, elevation = station_positions(read_inventory())
    >>> names[0], float(elevation[0])
    ('GR.FUR', 565.0)
    """
    rows = [(f"{net.code}.{sta.code}", sta.longitude, sta.latitude, sta.elevation or 0.0)
            for net in inventory for sta in net]
    lon, lat, elevation = (np.array([r[i] for r in rows], dtype=float).reshape(-1)
                           for i in (1, 2, 3))
    return [r[0] for r in rows], lon, lat, elevation


def _clean(coords: dict[str, Any]) -> dict[str, float]:
    """Float coordinates; a missing elevation or local depth counts as 0 m."""
    return {
        "latitude": float(coords["latitude"]),
        "longitude": float(coords["longitude"]),
        "elevation": float(coords.get("elevation") or 0.0),
        "local_depth": float(coords.get("local_depth") or 0.0),
    }


def _seed_id(pick: Pick) -> str:
    wid = pick.waveform_id
    if wid is None:
        return ""
    return ".".join(code or "" for code in (wid.network_code, wid.station_code,
                                            wid.location_code, wid.channel_code))


def _station_id(seed_id: str) -> str:
    """``NET.STA`` of a SEED id: duplicates and station counts are per station."""
    return ".".join(seed_id.split(".")[:2])


def _pick_sigma_s(pick: Pick) -> float | None:
    """One-sigma pick uncertainty, s, or None when unknown (missing, negative, non-finite)."""
    errors = pick.time_errors
    if errors is None:
        return None
    value = errors.uncertainty
    if value is None:
        # an asymmetric interval: its half-width is the best symmetric summary
        bounds = [v for v in (errors.lower_uncertainty, errors.upper_uncertainty) if v is not None]
        value = sum(bounds) / len(bounds) if bounds else None
    if value is None or not math.isfinite(value) or value < 0:
        return None
    level = errors.confidence_level
    if level is not None and 0 < level < 100 and abs(level - _ONE_SIGMA_PERCENT) > 0.5:
        # a stated confidence level (e.g. 95 %) is converted to one standard deviation
        value /= statistics.NormalDist().inv_cdf(0.5 + level / 200.0)
    return float(value)


def _finite_time(pick: Pick) -> UTCDateTime | None:
    time = pick.time
    if time is None:
        return None
    try:
        return time if math.isfinite(float(time.timestamp)) else None
    except (TypeError, ValueError, OverflowError):
        return None


@dataclass
class _Candidate:
    index: int
    pick: Pick
    seed_id: str
    phase: str
    time: UTCDateTime
    sigma_s: float | None
    coords: dict[str, float]  # of its sensor (station_coordinates)
    lonlat_deg: tuple[float, float]


def observations_from_event(
    event: Event,
    inventory: Inventory,
    projection: Projection,
    config: PickConfig | None = None,
    *,
    min_picks: int = DEFAULT_MIN_PICKS,
    warned_stations: set[str] | None = None,
    stations: StationLookup | None = None,
) -> tuple[Observations, list[Skipped]]:
    """Usable picks of one event as observations in the local frame.

    Parameters
    ----------
    event
        Event with picks; never modified.
    inventory
        Station metadata for the picked stations.
    projection
        Local frame (km, x east, y north, z down).
    config
        Pick handling; None uses :class:`PickConfig` defaults.
    min_picks
        Fewest usable picks (at least 1); :class:`~obspy_hyposvi.Locator` passes its
        ``SearchConfig.min_picks``, whose default this is.
    warned_stations
        ``NET.STA`` codes already warned about (channel fallback); updated in place. Pass one
        set for a whole catalogue to warn once per station per run rather than per event.
    stations
        Station look-ups of ``inventory`` to share between the events of a catalogue (each
        sensor is looked up once); None: the event's own.

    Returns
    -------
    observations
        Usable picks in the event's pick order; ``arrival_s`` is float64 seconds after
        ``reference_time``, the earliest usable pick time (a ``UTCDateTime``).
    skipped
        One record per pick left out: no or unknown phase hint, no time, time more than
        ``max_time_from_median_s`` from the event's median pick time, rejected, station not in
        the inventory at the pick time, or duplicate of a kept pick (same ``NET.STA`` and phase
        model; the one with the smallest known uncertainty, then the first, is kept).

    Raises
    ------
    TooFewUsablePicksError
        Fewer than ``min_picks`` usable picks remain (an
        :class:`~obspy_hyposvi.errors.InsufficientPicksError`); its ``skipped`` attribute holds
        the records of the picks left out.

    Warns
    -----
    HypoSVIWarning
        Once per station whose picked channel is not in the inventory (station-level
        coordinates used), and once per event whose picks lack an uncertainty
        (``default_sigma_s`` used).

    Examples
    --------
    >>> from obspy import read_inventory, UTCDateTime
    >>> from obspy.core.event import Event, Pick, WaveformStreamID
    >>> inv = read_inventory()
    >>> t = UTCDateTime(2015, 1, 1)
    >>> picks = [Pick(time=t + dt, phase_hint=ph, time_errors={"uncertainty": 0.05},
    ...               waveform_id=WaveformStreamID(seed_string=sid))
    ...          for dt, ph, sid in [(1.0, "P", "GR.FUR..LHZ"), (1.8, "S", "GR.FUR..LHN"),
    ...                              (2.0, "Pg", "BW.RJOB..EHZ"), (3.5, "Sg", "BW.RJOB..EHZ"),
    ...                              (4.0, "PKP", "BW.RJOB..EHZ")]]
    >>> proj = Projection("EPSG:32632")
    >>> obs, skipped = observations_from_event(Event(picks=picks), inv, proj)
    >>> obs.n_picks, obs.arrival_s.tolist(), [s.reason for s in skipped]
    (4, [0.0, 0.8, 1.0, 2.5], ["phase hint 'PKP' is not a P or S phase"])
    """
    config = PickConfig() if config is None else config
    if isinstance(min_picks, bool) or not isinstance(min_picks, int) or min_picks < 1:
        raise ValueError(f"min_picks must be an int in [1, inf), got {min_picks!r}")
    stations = StationLookup(inventory) if stations is None else stations
    event_id = str(event.resource_id)
    skipped: list[Skipped] = []
    arrival_phases = _arrival_phases(event)

    def hint_of(pick: Pick) -> str:
        # the pick's own phase hint, else the phase an origin's arrival gives it
        return str(pick.phase_hint or arrival_phases.get(str(pick.resource_id)) or "").strip()

    def skip(pick: Pick, seed_id: str, reason: str,
             lonlat_deg: tuple[float, float] | None = None, look_up: bool = True) -> None:
        if lonlat_deg is None and look_up and seed_id.strip("."):
            # a pick left out still gets a distance and azimuth when its station is known
            lonlat_deg = _sensor_lonlat(stations, seed_id, (_finite_time(pick), median_time))
        lon, lat = lonlat_deg if lonlat_deg is not None else (None, None)
        skipped.append(Skipped(str(pick.resource_id), seed_id, reason, hint_of(pick),
                               event_id, lon, lat))
        logger.info("event %s: pick %s (%s) left out: %s", event_id, pick.resource_id,
                    seed_id or "no station", reason)

    times = [t for t in (_finite_time(p) for p in event.picks) if t is not None]
    median_time = None
    if times:
        epoch = times[0]
        # median of offsets in float64 seconds from one pick: never epoch seconds as floats
        median_time = epoch + float(np.median([t - epoch for t in times]))

    candidates: list[_Candidate] = []
    if warned_stations is None:
        warned_stations = set()
    for index, pick in enumerate(event.picks):
        seed_id = _seed_id(pick)
        hint = hint_of(pick)
        phase = config.phase_model(hint)
        if phase is None:
            reason = ("no phase hint (and no arrival of an origin gives its phase)" if not hint
                      else f"phase hint {hint!r} is not a P or S phase")
            skip(pick, seed_id, reason)
            continue
        if config.skip_rejected and pick.evaluation_status == "rejected":
            skip(pick, seed_id, "pick evaluation status is 'rejected'")
            continue
        time = _finite_time(pick)
        if time is None:
            skip(pick, seed_id, "pick has no valid time")
            continue
        offset_s = abs(time - median_time)
        if offset_s > config.max_time_from_median_s:
            skip(pick, seed_id, f"pick time {time} is {offset_s:.0f} s from the event's median "
                                f"pick time {median_time} (limit "
                                f"{config.max_time_from_median_s:g} s)")
            continue
        if not seed_id.strip("."):
            skip(pick, seed_id, "pick names no station (waveform_id missing)")
            continue
        found = stations.coordinates(seed_id, time)
        if found is None:
            skip(pick, seed_id, _station_problem(inventory, seed_id, time)[1], look_up=False)
            continue
        coords, source = found
        station = _station_id(seed_id)
        if source != "channel" and station not in warned_stations:
            warned_stations.add(station)
            warnings.warn(
                f"event {event_id}: channel {seed_id} is not in the inventory at {time}; "
                f"using the {'same-location channel' if source == 'location' else 'station'} "
                f"coordinates of {station} for its picks",
                HypoSVIWarning, stacklevel=2,
            )
        candidates.append(_Candidate(index, pick, seed_id, phase, time, _pick_sigma_s(pick),
                                     coords, (coords["longitude"], coords["latitude"])))

    kept = _drop_duplicates(candidates, skip)

    if len(kept) < min_picks:
        raise TooFewUsablePicksError(
            f"event {event_id}: {len(kept)} usable picks of {len(event.picks)} "
            f"({len(skipped)} left out), at least {min_picks} needed"
            + (f"; first reason: {skipped[0].reason}" if skipped else ""),
            skipped,
        )

    n_default = sum(c.sigma_s is None for c in kept)
    if n_default:
        warnings.warn(
            f"event {event_id}: {n_default} of {len(kept)} picks have no usable time "
            f"uncertainty; using default_sigma_s={config.default_sigma_s:g} s for them",
            HypoSVIWarning, stacklevel=2,
        )

    # the sensors into the event's frame in one call (pyproj: ~10 us a call, any length)
    x_km, y_km, z_km = projection.to_xyz_km(
        [c.coords["longitude"] for c in kept], [c.coords["latitude"] for c in kept],
        elevation_m=[c.coords["elevation"] for c in kept],
        local_depth_m=[c.coords["local_depth"] for c in kept])
    reference = min(c.time for c in kept)
    sigma_s = [max(config.default_sigma_s if c.sigma_s is None else c.sigma_s,
                   config.min_sigma_s) for c in kept]
    observations = Observations(
        event_id=event_id,
        station_xyz_km=np.stack([x_km, y_km, z_km], axis=1).astype(np.float64),
        phase_idx=np.array([PHASE_INDEX[c.phase] for c in kept], dtype=np.int64),
        # UTCDateTime difference is exact (integer ns) and comes back as a float64
        arrival_s=np.array([c.time - reference for c in kept], dtype=np.float64),
        sigma_s=np.array(sigma_s, dtype=np.float64),
        pick_ids=[str(c.pick.resource_id) for c in kept],
        station_ids=[_station_id(c.seed_id) for c in kept],
        phase_hints=[hint_of(c.pick) for c in kept],
        reference_time=reference,
    )
    return observations, skipped


def _arrival_phases(event: Event) -> dict[str, str]:
    """``{pick id: phase}`` from the arrivals of the event's origins, the preferred one first.

    Some catalogues state the phase only on the arrival that uses a pick, not on the pick.
    """
    preferred = event.preferred_origin_id
    origins = sorted(event.origins, key=lambda o: preferred is None or o.resource_id != preferred)
    phases: dict[str, str] = {}
    for origin in origins:
        for arrival in origin.arrivals:
            if arrival.pick_id is not None and arrival.phase:
                phases.setdefault(str(arrival.pick_id), str(arrival.phase).strip())
    return phases


def _epochs(station) -> str:
    """``2010-01-01..2015-06-30`` (open ends as ``..``) of a station epoch."""
    start = str(station.start_date)[:10] if station.start_date is not None else ""
    end = str(station.end_date)[:10] if station.end_date is not None else ""
    return f"{start}..{end}"


def _station_problem(inventory: Inventory, seed_id: str,
                     time: UTCDateTime | None) -> tuple[str, str]:
    """Why :func:`station_coordinates` placed no sensor: ``(kind, reason)``.

    ``kind`` is ``"absent"`` (no such NET.STA), ``"inactive"`` (no epoch covers ``time``) or
    ``"no coordinates"``; ``reason`` names the station and the fix.
    """
    station_id = _station_id(seed_id)
    net, _, sta = station_id.partition(".")
    epochs = [(network, station) for network in inventory if network.code == net
              for station in network if station.code == sta]
    if not epochs:
        return "absent", (f"station {station_id} not in the inventory (check the pick's network "
                          "and station codes)")
    if not any(n.is_active(time=time) and s.is_active(time=time) for n, s in epochs):
        spans = ", ".join(_epochs(s) for _, s in epochs)
        return "inactive", (f"station {station_id} is in the inventory but not operating at "
                            f"{time} (epochs {spans}; check the pick time or the station's "
                            "start and end dates)")
    return "no coordinates", (f"station {station_id} has no latitude or longitude in the "
                              f"inventory at {time}; add its coordinates")


def _unplaced_stations(events: list[Event], inventory: Inventory) -> str:
    """Why no picked station could be placed, by kind, with one example each."""
    examples: dict[str, str] = {}
    counts: dict[str, int] = {}
    seen: set[str] = set()
    for event in events:
        for pick in event.picks:
            seed_id = _seed_id(pick)
            station = _station_id(seed_id)
            if not seed_id.strip(".") or station in seen:
                continue
            seen.add(station)
            kind, reason = _station_problem(inventory, seed_id, _finite_time(pick))
            counts[kind] = counts.get(kind, 0) + 1
            examples.setdefault(kind, reason)
    if not seen:
        return "no pick names a station (waveform_id missing)"
    return "; ".join(f"{counts[kind]} of {len(seen)} stations: {examples[kind]}"
                     for kind in sorted(counts, key=counts.get, reverse=True))


def _drop_duplicates(candidates: list[_Candidate], skip) -> list[_Candidate]:
    """Keep one pick per (NET.STA, phase model), in the original pick order."""
    best: dict[tuple[str, str], _Candidate] = {}
    for cand in candidates:
        key = (_station_id(cand.seed_id), cand.phase)
        if key not in best or _rank(cand) < _rank(best[key]):
            best[key] = cand
    kept_ids = {id(c) for c in best.values()}
    for cand in candidates:
        if id(cand) not in kept_ids:
            winner = best[(_station_id(cand.seed_id), cand.phase)]
            skip(cand.pick, cand.seed_id,
                 f"duplicate {cand.phase} pick at {_station_id(cand.seed_id)}; "
                 f"pick {winner.pick.resource_id} kept", cand.lonlat_deg)
    return [c for c in candidates if id(c) in kept_ids]


def _sensor_lonlat(stations: StationLookup, seed_id: str,
                   times: Iterable[UTCDateTime | None]) -> tuple[float, float] | None:
    """``(longitude, latitude)`` (deg) of a pick's sensor at the first of ``times`` the
    inventory covers (None entries are passed over), or None when it covers none."""
    for time in times:
        if time is None:
            continue
        found = stations.coordinates(seed_id, time)
        if found is not None:
            return found[0]["longitude"], found[0]["latitude"]
    return None


def _rank(cand: _Candidate) -> tuple[int, float, int]:
    """Sort key: a known uncertainty beats an unknown one, then smaller, then earlier."""
    if cand.sigma_s is None:
        return (1, 0.0, cand.index)
    return (0, cand.sigma_s, cand.index)


def projection_for(catalog: Catalog | Event | Iterable[Event],
                   inventory: Inventory) -> Projection:
    """UTM projection for the zone at the centre of the picked stations.

    Parameters
    ----------
    catalog
        Events whose picks name the stations (an ``Event`` is taken as a one-event catalogue).
    inventory
        Station metadata.

    Returns
    -------
    Projection

    Raises
    ------
    InputError
        No picked station is in the inventory.

    Examples
    --------
    >>> from obspy import read_inventory, UTCDateTime
    >>> from obspy.core.event import Event, Pick, WaveformStreamID
    >>> pick = Pick(time=UTCDateTime(2015, 1, 1), phase_hint="P",
    ...             waveform_id=WaveformStreamID(seed_string="GR.FUR..LHZ"))
    >>> projection_for(Event(picks=[pick]), read_inventory()).crs
    'EPSG:32632'
    """
    events = [catalog] if isinstance(catalog, Event) else list(catalog)
    crs = _utm_crs_of_stations(events, StationLookup(inventory))
    if crs is None:
        raise InputError(f"cannot choose a projection: none of the stations picked in "
                         f"{len(events)} events can be placed: "
                         f"{_unplaced_stations(events, inventory)}")
    return Projection(crs)


def event_projections(catalog: Catalog | Iterable[Event], inventory: Inventory, *,
                      stations: StationLookup | None = None) -> list[Projection | None]:
    """Per event, the UTM projection of its own picked stations (see :func:`projection_for`).

    Each event gets its own frame, so adding a far event to a catalogue never moves another
    event's frame (a Southern California event stays in UTM 11 beside an Alaska one).

    Parameters
    ----------
    catalog
        Events whose picks name the stations.
    inventory
        Station metadata.
    stations
        Station look-ups of ``inventory`` to share with other steps of a run (None: its own).

    Returns
    -------
    list of Projection or None
        In catalogue order; None for an event none of whose picked stations can be placed.

    Raises
    ------
    InputError
        No picked station of any event can be placed (the message says why, by kind).

    Examples
    --------
    >>> from obspy import read_inventory, UTCDateTime
    >>> from obspy.core.event import Event, Pick, WaveformStreamID
    >>> pick = Pick(time=UTCDateTime(2015, 1, 1), phase_hint="P",
    ...             waveform_id=WaveformStreamID(seed_string="GR.FUR..LHZ"))
    >>> [p.crs for p in event_projections([Event(picks=[pick])], read_inventory())]
    ['EPSG:32632']
    """
    events = list(catalog)
    stations = StationLookup(inventory) if stations is None else stations
    codes = [_utm_crs_of_stations([event], stations) for event in events]
    if all(code is None for code in codes):
        projection_for(events, inventory)  # raises, with the catalogue-wide reasons
    frames = {code: Projection(code) for code in set(codes) if code is not None}  # one each
    return [None if code is None else frames[code] for code in codes]


def _utm_crs_of_stations(events: list[Event], stations: StationLookup) -> str | None:
    """EPSG code of the UTM zone at the median lon/lat of the stations picked in ``events``
    (each station once, at its first pick's time), or None when none can be placed."""
    positions: dict[str, tuple[float, float]] = {}
    for event in events:
        for pick in event.picks:
            seed_id = _seed_id(pick)
            station = _station_id(seed_id)
            if not seed_id.strip(".") or station in positions:
                continue
            found = stations.coordinates(seed_id, _finite_time(pick))
            if found is not None:
                positions[station] = (found[0]["longitude"], found[0]["latitude"])
    if not positions:
        return None
    lon, lat = np.array(list(positions.values()), dtype=np.float64).T
    # the median resists a few far stations (as Projection.for_points)
    return utm_crs_for(float(np.median(lon)), float(np.median(lat)))
