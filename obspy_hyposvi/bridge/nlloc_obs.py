"""NonLinLoc phase files (``NLLOC_OBS``) -> ObsPy ``Catalog`` of picks.

ObsPy writes this format (``Catalog.write(..., format="NLLOC_OBS")``) and reads NonLinLoc's
location files (``NLLOC_HYP``), but does not read phase files; this module does. One
``Event`` is made per block of phase lines; blocks are separated by blank lines, lines that
begin with ``#`` are comments, and an optional ``PUBLIC_ID <id>`` line names the event (as
ObsPy's writer puts it).

A phase line holds, separated by blanks (NonLinLoc's "Phase Files" documentation)::

    station instrument component onset phase first_motion yyyymmdd hhmm seconds
    error_type error_magnitude coda_duration amplitude period [prior_weight] [> ...]

What becomes of each field:

- ``station`` is NonLinLoc's station label, kept as the pick's ``station_code`` with empty
  network and location codes. Labels such as ``AK_RC01_--`` are not SEED codes: map them with
  :func:`obspy_hyposvi.bridge.station_map.resolve_station_codes` before locating.
- ``component`` -> ``channel_code`` (``?`` -> empty); ``instrument`` is not kept.
- ``onset`` ``i``/``e`` -> ``impulsive``/``emergent``; ``phase`` -> ``phase_hint``;
  ``first_motion`` ``c``/``u``/``+`` -> ``positive``, ``d``/``-`` -> ``negative`` (either
  case), anything else -> no polarity.
- time = date + hour and minute + ``seconds`` (which may exceed 60).
- ``error_type`` ``GAU`` with ``error_magnitude`` > 0: ``time_errors.uncertainty`` =
  ``error_magnitude``, s, one standard deviation of a Gaussian (NonLinLoc's meaning); other
  error types, or a magnitude <= 0, leave the uncertainty unset (with a warning), so the
  locator's default applies.
- ``prior_weight`` 0 ("do not use reading"): ``evaluation_status = "rejected"`` and a comment;
  the locator then leaves the pick out and reports it. Any other weight: no mark.
- coda duration, amplitude and period, and everything after ``>`` (NonLinLoc's residuals), are
  not read.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import TextIO

from obspy import Catalog, UTCDateTime
from obspy.core.event import (
    Comment,
    Event,
    Pick,
    QuantityError,
    ResourceIdentifier,
    WaveformStreamID,
)
from obspy.io.nlloc.core import ONSETS, POLARITIES

from ..errors import HypoSVIWarning, InputError
from ._text import read_head, read_lines

__all__ = ["is_nlloc_obs", "read_nlloc_obs"]

#: Fields up to and including the period; the prior weight is optional.
_MIN_FIELDS = 14
#: NonLinLoc also writes ``+``/``-`` for the first motion; ObsPy's table has c, u and d.
_POLARITIES = {**POLARITIES, "+": "positive", "-": "negative"}


def is_nlloc_obs(source: str | Path, max_lines: int = 20) -> bool:
    """Whether a file looks like a NonLinLoc phase file.

    Parameters
    ----------
    source
        Path of the file.
    max_lines
        Phase lines checked (after comments, blank and ``PUBLIC_ID`` lines).

    Returns
    -------
    bool
        True when the first phase lines (at least one) all parse as NLLOC_OBS lines.

    Examples
    --------
    >>> is_nlloc_obs("/nonexistent.obs")
    False
    """
    lines = read_head(source)
    if lines is None:
        return False
    checked = 0
    for line in lines:
        if _is_skipped(line) or not line.strip():
            continue
        try:
            _parse_phase_line(line.split())
        except ValueError:
            return False
        checked += 1
        if checked >= max_lines:
            break
    return checked > 0


def read_nlloc_obs(source: str | Path | TextIO) -> Catalog:
    """Read a NonLinLoc phase file into a catalogue of picks.

    Parameters
    ----------
    source
        Path or open text file.

    Returns
    -------
    obspy.Catalog
        One event per block of phase lines, picks in file order (module docstring: field
        mapping).

    Raises
    ------
    InputError
        The file cannot be read, or a line is not a phase line (the message names the line).

    Warns
    -----
    HypoSVIWarning
        Once per file when some picks have an error type other than ``GAU`` or a magnitude
        <= 0 (their uncertainty is left unset).

    Examples
    --------
    >>> import io
    >>> text = ("PUBLIC_ID smi:local/ev1\\n"
    ...         "AK_RC01_-- ? BHZ i P U 20181130 1729 37.0400 GAU 2.00e-02 0 0 0 1\\n"
    ...         "AK_RC01_-- ? BHN e S ? 20181130 1729 41.5000 GAU 8.00e-02 0 0 0 1\\n")
    >>> event = read_nlloc_obs(io.StringIO(text))[0]
    >>> str(event.resource_id), len(event.picks)
    ('smi:local/ev1', 2)
    >>> p = event.picks[0]
    >>> p.waveform_id.id, p.phase_hint, str(p.time), p.time_errors.uncertainty
    ('.AK_RC01_--..BHZ', 'P', '2018-11-30T17:29:37.040000Z', 0.02)
    >>> p.onset, p.polarity
    ('impulsive', 'positive')
    """
    name, lines = read_lines(source, "NLLOC_OBS file")
    catalog = Catalog()
    picks: list[Pick] = []
    public_id: str | None = None
    no_error: list[str] = []

    def close_block() -> None:
        nonlocal picks, public_id
        if picks:
            event = Event(picks=picks)
            if public_id:
                event.resource_id = ResourceIdentifier(public_id)
            event.comments.append(Comment(text=f"picks read from NLLOC_OBS file {name}"))
            catalog.append(event)
        elif public_id:
            warnings.warn(f"{name}: PUBLIC_ID {public_id} names a block without phase lines; "
                          "no event made", HypoSVIWarning, stacklevel=3)
        picks, public_id = [], None

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            close_block()
            continue
        if line.startswith("#"):
            continue
        if line.startswith("PUBLIC_ID"):
            if picks:  # an id after phase lines starts the next event
                close_block()
            public_id = line[len("PUBLIC_ID"):].strip() or None
            continue
        try:
            fields = _parse_phase_line(line.split())
        except ValueError as exc:
            raise InputError(f"{name}, line {number}: not an NLLOC_OBS phase line ({exc}): "
                             f"{line.strip()[:80]!r}") from None
        pick = _make_pick(fields)
        if pick.time_errors.uncertainty is None:
            no_error.append(f"line {number}")
        picks.append(pick)
    close_block()
    if no_error:
        warnings.warn(f"{name}: {len(no_error)} picks have no GAU error magnitude > 0 "
                      f"({', '.join(no_error[:5])}{', ...' if len(no_error) > 5 else ''}); "
                      "their uncertainty is left unset", HypoSVIWarning, stacklevel=2)
    return catalog


def _is_skipped(line: str) -> bool:
    return line.startswith("#") or line.startswith("PUBLIC_ID")


def _parse_phase_line(fields: list[str]) -> dict:
    """The fields of one phase line; ValueError says what is wrong."""
    if ">" in fields:  # NonLinLoc's predicted times and residuals follow the separator
        fields = fields[:fields.index(">")]
    if len(fields) < _MIN_FIELDS:
        raise ValueError(f"{len(fields)} fields, at least {_MIN_FIELDS} expected")
    date, hour_minute, seconds = fields[6], fields[7], fields[8]
    if not (len(date) == 8 and date.isdigit()):
        raise ValueError(f"date {date!r} is not yyyymmdd")
    if not (len(hour_minute) == 4 and hour_minute.isdigit()):
        raise ValueError(f"hour and minute {hour_minute!r} is not hhmm")
    try:
        values = [float(v) for v in [seconds] + fields[10:14]]
        prior_weight = float(fields[14]) if len(fields) > 14 else None
    except ValueError:
        raise ValueError("seconds, error magnitude, coda, amplitude, period and prior weight "
                         "must be numbers") from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError("non-finite number")
    try:
        minute = UTCDateTime(int(date[:4]), int(date[4:6]), int(date[6:]),
                             int(hour_minute[:2]), int(hour_minute[2:]))
    except ValueError as exc:
        raise ValueError(f"invalid date or time {date} {hour_minute}: {exc}") from None
    return {"station": fields[0], "component": fields[2], "onset": fields[3],
            "phase": fields[4], "first_motion": fields[5],
            # seconds are added to the minute: NonLinLoc allows values past 60
            "time": minute + values[0], "error_type": fields[9].upper(),
            "error_s": values[1], "prior_weight": prior_weight}


def _make_pick(fields: dict) -> Pick:
    channel = "" if fields["component"] == "?" else fields["component"]
    pick = Pick(
        time=fields["time"],
        waveform_id=WaveformStreamID(network_code="", station_code=fields["station"],
                                     location_code="", channel_code=channel),
        phase_hint=fields["phase"],
        onset=ONSETS.get(fields["onset"].lower()),
        polarity=_POLARITIES.get(fields["first_motion"].lower()),
    )
    if fields["error_type"] == "GAU" and fields["error_s"] > 0:
        # GAU: ErrMag is the standard deviation of a Gaussian pick error, s
        pick.time_errors = QuantityError(uncertainty=fields["error_s"])
    if fields["prior_weight"] is not None and fields["prior_weight"] == 0:
        pick.evaluation_status = "rejected"
        pick.comments.append(Comment(text="NLLOC_OBS prior weight 0: do not use reading"))
    return pick
