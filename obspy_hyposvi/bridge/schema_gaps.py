"""Elements QuakeML requires that an input catalogue lacks.

The output of ``hyposvi locate`` keeps everything of its input and is checked against the
QuakeML (or SCML) schema before it is written. A pick without a time or a station, an origin
without coordinates, a magnitude without a value: ObsPy reads them, the locator leaves such a
pick out, but the written catalogue cannot validate. :func:`missing_required` finds them before
any work, so that the command can stop with one line that names them and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator

from obspy import Catalog
from obspy.core.event import Event

__all__ = ["missing_required"]

#: ``(list attribute of an Event, what it holds, required attributes)``. The attributes are
#: those whose absence makes ObsPy write an element the QuakeML 1.2 schema refuses.
_REQUIRED = (
    ("picks", "pick", ("time", "waveform_id")),
    ("origins", "origin", ("time", "latitude", "longitude")),
    ("magnitudes", "magnitude", ("mag",)),
    ("station_magnitudes", "station magnitude", ("mag",)),
    ("amplitudes", "amplitude", ("generic_amplitude",)),
)


def missing_required(catalog: Catalog) -> list[str]:
    """Every required element the catalogue lacks, one phrase each.

    Parameters
    ----------
    catalog
        The input catalogue (not modified).

    Returns
    -------
    list of str
        Phrases such as ``"pick smi:x/1 of event smi:x has no time"``, in catalogue order;
        empty when nothing required is missing.

    Examples
    --------
    >>> from obspy.core.event import Event, Pick, WaveformStreamID
    >>> event = Event(resource_id="smi:x", picks=[Pick(
    ...     resource_id="smi:x/1", waveform_id=WaveformStreamID(seed_string="XX.S1..HHZ"))])
    >>> missing_required(Catalog(events=[event]))
    ['pick smi:x/1 of event smi:x has no time']
    """
    return [phrase for event in catalog for phrase in _gaps(event)]


def _gaps(event: Event) -> Iterator[str]:
    """The missing required elements of one event."""
    for attribute, kind, required in _REQUIRED:
        for item in getattr(event, attribute):
            absent = [name.replace("_", " ") for name in required
                      if getattr(item, name, None) is None]
            if absent:
                yield (f"{kind} {item.resource_id} of event {event.resource_id} has no "
                       f"{' and no '.join(absent)}")
    for origin in event.origins:
        for arrival in origin.arrivals:
            if arrival.pick_id is None:
                yield (f"arrival {arrival.resource_id} of origin {origin.resource_id} (event "
                       f"{event.resource_id}) names no pick")
