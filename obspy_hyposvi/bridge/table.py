"""The solution table of a run: one line per event, as printed by ``hyposvi locate``.

In the spirit of a NonLinLoc summary or ``scolv``'s origin list: origin time, epicentre,
depth, their errors (km and s, at the confidence level the origins state), RMS residual,
azimuthal gap, phases used and the origin's status, read from the origins written (so the
table says what the file says). Events not located get a line with the reason.

:func:`solution_rows` builds the rows, :func:`table_lines` formats them for a terminal, and
:func:`write_table` writes them as CSV (``--table FILE``) with a few more columns (the
horizontal ellipse and circle, distances, the full ids).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from obspy.core.event import Origin
from obspy.geodetics import degrees2kilometers

from ..errors import OutputError
from ..locate.result import LocationResult
from ..safe_write import write_atomically

__all__ = ["SolutionRow", "solution_rows", "table_csv", "table_lines", "write_table"]


@dataclass(frozen=True)
class SolutionRow:
    """One event of the table; numbers are None where the event has no new origin.

    Errors are at ``confidence_level`` percent: ``err_lat_km``/``err_lon_km`` north-south and
    east-west, ``err_h_max_km``/``err_h_min_km``/``err_h_azimuth_deg`` the horizontal
    ellipse, ``err_h_circle_km`` the radius of the confidence circle. ``number`` is the
    event's position in the catalogue, from 1 (as the figures ``NNN.png`` of ``--plot``).
    """

    number: int
    event_id: str
    origin_id: str = ""
    time: str = ""
    latitude_deg: float | None = None
    longitude_deg: float | None = None
    depth_km: float | None = None
    err_lat_km: float | None = None
    err_lon_km: float | None = None
    err_depth_km: float | None = None
    err_time_s: float | None = None
    err_h_max_km: float | None = None
    err_h_min_km: float | None = None
    err_h_azimuth_deg: float | None = None
    err_h_circle_km: float | None = None
    confidence_level: float | None = None
    rms_s: float | None = None
    gap_deg: float | None = None
    phases_used: int | None = None
    phases_associated: int | None = None
    stations_used: int | None = None
    min_distance_km: float | None = None
    status: str = "not located"
    note: str = ""


def _m_to_km(value: float | None) -> float | None:
    return None if value is None else float(value) / 1e3


def _deg_to_km(value: float | None, scale: float = 1.0) -> float | None:
    return None if value is None else degrees2kilometers(float(value)) * scale


def _uncertainty(errors: Any) -> float | None:
    return None if errors is None else errors.uncertainty


def _row_for_origin(number: int, event_id: str, origin: Origin, note: str) -> SolutionRow:
    """A located event's row, from the origin written (QuakeML units: deg, m)."""
    cos_lat = math.cos(math.radians(origin.latitude))
    unc = origin.origin_uncertainty
    quality = origin.quality
    return SolutionRow(
        number=number, event_id=event_id, origin_id=str(origin.resource_id),
        time=origin.time.isoformat(), latitude_deg=origin.latitude,
        longitude_deg=origin.longitude, depth_km=_m_to_km(origin.depth),
        # QuakeML's lat/lon errors are degrees of latitude and of longitude
        err_lat_km=_deg_to_km(_uncertainty(origin.latitude_errors)),
        err_lon_km=_deg_to_km(_uncertainty(origin.longitude_errors), cos_lat),
        err_depth_km=_m_to_km(_uncertainty(origin.depth_errors)),
        err_time_s=_uncertainty(origin.time_errors),
        err_h_max_km=_m_to_km(unc.max_horizontal_uncertainty) if unc else None,
        err_h_min_km=_m_to_km(unc.min_horizontal_uncertainty) if unc else None,
        err_h_azimuth_deg=unc.azimuth_max_horizontal_uncertainty if unc else None,
        err_h_circle_km=_m_to_km(unc.horizontal_uncertainty) if unc else None,
        confidence_level=(origin.latitude_errors.confidence_level
                          if origin.latitude_errors else None),
        rms_s=quality.standard_error if quality else None,
        gap_deg=quality.azimuthal_gap if quality else None,
        phases_used=quality.used_phase_count if quality else None,
        phases_associated=quality.associated_phase_count if quality else None,
        stations_used=quality.used_station_count if quality else None,
        min_distance_km=_deg_to_km(quality.minimum_distance) if quality else None,
        status=origin.evaluation_status or "", note=note)


def solution_rows(report: Any) -> list[SolutionRow]:
    """One row per event of a :class:`~obspy_hyposvi.locator.LocateReport`, in order.

    A located event's row is read from the preferred origin of ``report.catalog`` (the one
    the run added); an event not located has ``status`` "not located" and the reason in
    ``note``.
    """
    rows = []
    for index, (event, result) in enumerate(zip(report.catalog, report.results)):
        event_id = str(event.resource_id)
        origin = event.preferred_origin() if isinstance(result, LocationResult) else None
        if origin is None:
            rows.append(SolutionRow(number=index + 1, event_id=event_id,
                                    note=str(getattr(result, "reason", ""))))
            continue
        rows.append(_row_for_origin(index + 1, event_id, origin,
                                    str(result.quality_note)))
    return rows


def _short_id(event_id: str, width: int) -> str:
    """The last path segment of a resource id, cut to ``width`` characters."""
    tail = event_id.rstrip("/").rsplit("/", 1)[-1] or event_id
    return tail if len(tail) <= width else tail[:width - 1] + "~"


def _time_text(iso_time: str) -> str:
    """An ISO time rounded to 0.01 s (``YYYY-MM-DDThh:mm:ss.ss``); "" stays ""."""
    if not iso_time:
        return ""
    from obspy import UTCDateTime

    centiseconds = round(UTCDateTime(iso_time).ns / 1e7)  # ns -> units of 0.01 s
    rounded = UTCDateTime(ns=centiseconds * 10_000_000)
    return f"{rounded.strftime('%Y-%m-%dT%H:%M:%S')}.{centiseconds % 100:02d}"


def _number(value: float | None, fmt: str, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:{width}{fmt}}"


#: Printed columns: (header, width, row -> text).
_COLUMNS = (
    ("#", 3, lambda r: f"{r.number:3d}"),
    ("event", 16, lambda r: f"{_short_id(r.event_id, 16):<16}"),
    ("origin time (UTC)", 22, lambda r: f"{_time_text(r.time):<22}"),
    ("lat", 9, lambda r: _number(r.latitude_deg, ".5f", 9)),
    ("lon", 10, lambda r: _number(r.longitude_deg, ".5f", 10)),
    ("depth", 6, lambda r: _number(r.depth_km, ".2f", 6)),
    ("elat", 5, lambda r: _number(r.err_lat_km, ".2f", 5)),
    ("elon", 5, lambda r: _number(r.err_lon_km, ".2f", 5)),
    ("edep", 5, lambda r: _number(r.err_depth_km, ".2f", 5)),
    ("et", 5, lambda r: _number(r.err_time_s, ".2f", 5)),
    ("rms", 5, lambda r: _number(r.rms_s, ".3f", 5)),
    ("gap", 3, lambda r: _number(r.gap_deg, ".0f", 3)),
    ("phases", 7, lambda r: f"{'-':>7}" if r.phases_used is None
     else f"{f'{r.phases_used}/{r.phases_associated}':>7}"),
    ("status", 0, lambda r: r.status),
)


def table_lines(rows: list[SolutionRow]) -> list[str]:
    """The rows as an aligned text table, with a header naming units and confidence level.

    Depth and errors are in km (latitude and longitude errors north-south and east-west),
    ``et`` and ``rms`` in s, ``gap`` in degrees; ``phases`` is used/associated. A note
    (why an event was not located or its origin rejected) follows its row, indented.
    """
    levels = sorted({r.confidence_level for r in rows if r.confidence_level is not None})
    level = " / ".join(f"{v:g} %" for v in levels) or "-"
    title = (f"solutions: depth and errors in km, et and rms in s, gap in deg; errors at "
             f"{level} confidence")
    lines = [title,
             "  ".join(f"{h:>{w}}" if w and h not in ("event", "origin time (UTC)")
                       else f"{h:<{w}}" for h, w, _ in _COLUMNS).rstrip()]
    for row in rows:
        lines.append("  ".join(text(row) for _, _, text in _COLUMNS).rstrip())
        if row.note:
            lines.append(f"{'':5}{row.note}")
    return lines


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def table_csv(rows: list[SolutionRow]) -> str:
    """The rows as CSV text with a header line (the :class:`SolutionRow` field names; empty
    cells where there is no value)."""
    names = [f.name for f in fields(SolutionRow)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        values = asdict(row)
        writer.writerow([_csv_value(values[name]) for name in names])
    return buffer.getvalue()


def write_table(rows: list[SolutionRow], path: str | Path) -> None:
    """Write the rows to ``path`` as CSV (:func:`table_csv`), whole or not at all.

    Raises
    ------
    OutputError
        The file cannot be written (an existing file is then left as it was).
    """
    text = table_csv(rows)
    try:
        write_atomically(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    except OSError as exc:
        raise OutputError(f"cannot write the solution table to {path}: {exc}") from exc
