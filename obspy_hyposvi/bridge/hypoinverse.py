"""HypoInverse Y2000 archive and phase files -> ObsPy ``Catalog`` of picks.

ObsPy reads no HypoInverse phase data; this module reads the Y2000 (4-digit year) station
archive format, which HypoInverse writes as its archive output and reads back as phase input
(Klein, 2002, *User's guide to HYPOINVERSE-2000*, USGS Open-File Report 02-171: "Y2000
(station) archive format", "The terminator line"). A file holds events one after another:

- an optional summary header line (it begins with the 4-digit year): its origin time,
  latitude, longitude and depth become an earlier ``Origin`` of the event, and its event id
  (columns 137-146) the event's id;
- station lines, each with a P and/or an S reading of one channel;
- a terminator line (columns 1-4 blank; an optional id in columns 63-72);
- shadow lines (beginning with ``$``), which are skipped.

Columns read from a station line (1-based, as in the guide)::

    1-5 station   6-7 network   9 1-letter component   10-12 component (SEED channel)
    14-15 P remark ("IP")   16 P first motion   17 P weight code
    18-21 year   22-29 month, day, hour, minute   30-34 P seconds (F5.2)
    42-46 S seconds (F5.2, from the same minute, may exceed 60)   47-48 S remark ("ES")
    50 S weight code   112-113 location code

A reading is taken when its remark is non-blank (a P remark is required; an S time with a blank
remark is still used, as HypoInverse does). Seconds without a decimal point carry two implied
decimals (``3512`` is 35.12 s). The remark's first letter ``I``/``E`` gives the onset
(impulsive/emergent), the first motion ``U``/``C``/``+`` or ``D``/``-`` the polarity.

Weight codes become uncertainties. HypoInverse's default weights are 1, 3/4, 1/2 and 1/4 for
codes 0 (or blank) to 3, and none for 4-9. A least-squares weight multiplies the squared
residual, so a weight ``w`` is a standard deviation ``sigma_full / sqrt(w)``: with
``sigma_full`` = 0.1 s the codes 0-3 give 0.1, 0.115, 0.141 and 0.2 s
(:data:`DEFAULT_WEIGHT_SIGMA_S`; pass ``weight_sigma_s`` for another table, e.g. a NonLinLoc
``LOCQUAL2ERR`` line). Codes 4-9 make the pick ``evaluation_status="rejected"`` (no weight),
without an uncertainty; the locator leaves such picks out and reports them.

The older phase format with 2-digit years is not read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from obspy import Catalog, UTCDateTime
from obspy.core.event import (
    Comment,
    Event,
    Origin,
    Pick,
    QuantityError,
    ResourceIdentifier,
    WaveformStreamID,
)
from obspy.io.nlloc.core import ONSETS

from ..errors import InputError
from ._text import read_head, read_lines

__all__ = ["DEFAULT_WEIGHT_SIGMA_S", "HYPOINVERSE_WEIGHTS", "is_hypoinverse",
           "read_hypoinverse"]

#: HypoInverse's default relative weights of the weight codes 0 (or blank), 1, 2 and 3.
HYPOINVERSE_WEIGHTS = (1.0, 0.75, 0.5, 0.25)
#: Standard deviation of a full-weight pick, s (a typical analyst pick at local distances).
_FULL_WEIGHT_SIGMA_S = 0.1
#: Standard deviation (s) of a pick with weight code 0, 1, 2 and 3: sigma_full / sqrt(weight).
DEFAULT_WEIGHT_SIGMA_S = tuple(_FULL_WEIGHT_SIGMA_S / math.sqrt(w) for w in HYPOINVERSE_WEIGHTS)

_POLARITIES = {"u": "positive", "c": "positive", "+": "positive",
               "d": "negative", "-": "negative"}
#: A station line is read up to its location code (column 113).
_STATION_LINE_WIDTH = 113


def is_hypoinverse(source: str | Path, max_lines: int = 20) -> bool:
    """Whether a file looks like a HypoInverse Y2000 archive or phase file.

    Parameters
    ----------
    source
        Path of the file.
    max_lines
        Header and station lines checked.

    Returns
    -------
    bool
        True when the first header or station lines (at least one station line) parse.

    Examples
    --------
    >>> is_hypoinverse("/nonexistent.arc")
    False
    """
    lines = read_head(source)
    if lines is None:
        return False
    n_checked = n_station = 0
    for line in lines:
        if line.startswith("$") or not line[:4].strip():
            continue  # shadow or terminator line
        try:
            if line[0].isdigit():
                _parse_header(line)
            else:
                _parse_station_line(line)
                n_station += 1
        except ValueError:
            return False
        n_checked += 1
        if n_checked >= max_lines:
            break
    return n_station > 0


def read_hypoinverse(source: str | Path | TextIO,
                     weight_sigma_s: Sequence[float] = DEFAULT_WEIGHT_SIGMA_S) -> Catalog:
    """Read a HypoInverse Y2000 archive or phase file into a catalogue of picks.

    Parameters
    ----------
    source
        Path or open text file.
    weight_sigma_s
        Pick standard deviation, s, for the weight codes 0, 1, 2, 3 (module docstring).

    Returns
    -------
    obspy.Catalog
        One event per terminated block of lines; a P and an S pick per station line as
        present, in file order; the summary header's hypocentre, when there is one, as the
        event's origin.

    Raises
    ------
    InputError
        The file cannot be read, a line cannot be parsed (the message names it), or
        ``weight_sigma_s`` is not four positive numbers.

    Examples
    --------
    >>> import io
    >>> line = "RC01 AK HBHZ IPU0201811301729 3704" + " " * 7 + " 4150ES 2" + " " * 61 + "--"
    >>> event = read_hypoinverse(io.StringIO(line + "\\n\\n"))[0]
    >>> for p in event.picks:
    ...     print(p.waveform_id.id, p.phase_hint, p.time)
    AK.RC01..BHZ P 2018-11-30T17:29:37.040000Z
    AK.RC01..BHZ S 2018-11-30T17:29:41.500000Z
    >>> [round(p.time_errors.uncertainty, 3) for p in event.picks], event.picks[0].onset
    ([0.1, 0.141], 'impulsive')
    """
    sigma_table = tuple(float(s) for s in weight_sigma_s)
    if len(sigma_table) != 4 or not all(math.isfinite(s) and s > 0 for s in sigma_table):
        raise InputError(f"weight_sigma_s={tuple(weight_sigma_s)!r}: give four standard "
                         "deviations > 0 (s), for weight codes 0, 1, 2 and 3")
    name, lines = read_lines(source, "HypoInverse file")
    catalog = Catalog()
    state: dict = {"picks": [], "origin": None, "id": ""}

    def close_block(terminator_id: str = "") -> None:
        if state["picks"] or state["origin"] is not None:
            event = Event(picks=state["picks"])
            event_id = state["id"] or terminator_id
            if event_id:
                event.resource_id = ResourceIdentifier(f"smi:local/hypoinverse/event/{event_id}")
            if state["origin"] is not None:
                event.origins.append(state["origin"])
                event.preferred_origin_id = state["origin"].resource_id
            event.comments.append(Comment(text=f"picks read from HypoInverse file {name}"))
            catalog.append(event)
        state.update(picks=[], origin=None, id="")

    for number, line in enumerate(lines, start=1):
        if line.startswith("$"):
            continue  # shadow line: extra data HypoInverse passes through
        try:
            if not line[:4].strip():
                close_block(line[62:72].strip())  # terminator, with its optional id
            elif line[0].isdigit():
                if state["picks"]:  # a header before a terminator starts a new event
                    close_block()
                state["origin"], state["id"] = _parse_header(line)
            else:
                state["picks"].extend(_picks(_parse_station_line(line), sigma_table))
        except ValueError as exc:
            raise InputError(f"{name}, line {number}: {exc}: {line.rstrip()[:80]!r}") from None
    close_block()  # a last event without its terminator line
    return catalog


def _fortran_float(field: str, decimals: int) -> float | None:
    """A Fortran ``F`` field: implied decimals when it has no point; None when blank."""
    text = field.strip()
    if not text:
        return None
    try:
        return float(text) if "." in text else int(text) / 10 ** decimals
    except ValueError:
        raise ValueError(f"{field!r} is not a number") from None


def _minute(line: str, year_cols: slice, rest_cols: slice) -> UTCDateTime:
    """UTCDateTime of the year and month-day-hour-minute fields (blank-padded I2 allowed)."""
    year = line[year_cols]
    # a 4-digit year in its columns also tells the Y2000 formats from the 2-digit-year ones
    if not (year.isdigit() and 1800 <= int(year) <= 2200):
        raise ValueError(f"year {year!r} in columns {year_cols.start + 1}-{year_cols.stop} is "
                         "not a 4-digit year (only the Y2000 formats are read)")
    rest = line[rest_cols]
    parts = [rest[i:i + 2].strip() or "0" for i in range(0, 8, 2)]
    if not all(p.isdigit() for p in parts):
        raise ValueError(f"month, day, hour and minute {rest!r} are not 4 2-digit numbers")
    month, day, hour, minute = (int(p) for p in parts)
    try:
        return UTCDateTime(int(year), month, day, hour, minute)
    except ValueError as exc:
        raise ValueError(f"invalid date {rest!r}: {exc}") from None


def _parse_header(line: str) -> tuple[Origin, str]:
    """The summary header's hypocentre as an Origin, and its event id."""
    line = line.ljust(146)
    time = _minute(line, slice(0, 4), slice(4, 12)) + (_fortran_float(line[12:16], 2) or 0.0)
    lat_deg, lat_min = _fortran_float(line[16:18], 0), _fortran_float(line[19:23], 2)
    lon_deg, lon_min = _fortran_float(line[23:26], 0), _fortran_float(line[27:31], 2)
    depth_km = _fortran_float(line[31:36], 2)
    if None in (lat_deg, lat_min, lon_deg, lon_min):
        raise ValueError("summary header without latitude and longitude")
    latitude = (lat_deg + lat_min / 60.0) * (-1 if line[18].upper() == "S" else 1)
    # HypoInverse longitudes are west unless marked E
    longitude = (lon_deg + lon_min / 60.0) * (1 if line[26].upper() == "E" else -1)
    origin = Origin(time=time, latitude=latitude, longitude=longitude,
                    depth=None if depth_km is None else depth_km * 1e3,  # km -> m
                    method_id=ResourceIdentifier("smi:local/hypoinverse"))
    origin.comments.append(Comment(text="hypocentre of the HypoInverse summary header"))
    return origin, line[136:146].strip()


def _parse_station_line(line: str) -> dict:
    """The fields of a station line (P and S readings as (remark, first motion, weight
    code, time) or None)."""
    line = line.ljust(_STATION_LINE_WIDTH)
    station = line[0:5].strip()
    if not station:
        raise ValueError("station line without a station code")
    minute = _minute(line, slice(17, 21), slice(21, 29))
    readings = {}
    for phase, remark, motion, weight, seconds in (
            ("P", line[13:15], line[15], line[16], line[29:34]),
            ("S", line[46:48], " ", line[49], line[41:46])):
        value = _fortran_float(seconds, 2)
        # a P reading needs its remark; an S time is used even with a blank remark
        used = value is not None and (remark.strip() if phase == "P" else
                                      remark.strip() or value != 0.0)
        if not used:
            readings[phase] = None
            continue
        if not (weight.strip() == "" or weight.isdigit()):
            raise ValueError(f"{phase} weight code {weight!r} is not a digit")
        readings[phase] = (remark.strip(), motion.strip(), int(weight.strip() or 0),
                           minute + value)  # seconds from the line's minute, may exceed 60
    location = line[111:113].strip()
    return {"network": line[5:7].strip(), "station": station,
            "channel": line[9:12].strip() or line[8].strip(),
            "location": "" if location == "--" else location, **readings}


def _picks(fields: dict, sigma_table: tuple[float, ...]) -> list[Pick]:
    picks = []
    for phase in ("P", "S"):
        reading = fields[phase]
        if reading is None:
            continue
        remark, motion, code, time = reading
        onset = None
        if len(remark) == 2 and remark[0].lower() in ONSETS:
            onset, remark = ONSETS[remark[0].lower()], remark[1:]
        # "IP" -> P; "Pn" stays; anything not naming this phase is the column's phase
        hint = remark if remark[:1].upper() == phase and len(remark) > 1 else phase
        pick = Pick(time=time, phase_hint=hint, onset=onset,
                    polarity=_POLARITIES.get(motion.lower()),
                    waveform_id=WaveformStreamID(fields["network"], fields["station"],
                                                 fields["location"], fields["channel"]))
        if code < len(sigma_table):
            pick.time_errors = QuantityError(uncertainty=sigma_table[code])
        else:
            pick.evaluation_status = "rejected"
            pick.comments.append(Comment(text=f"HypoInverse weight code {code}: no weight"))
        picks.append(pick)
    return picks
