"""Station labels that are not SEED ids -> ``NET.STA.LOC.CHA`` waveform ids.

Picks read from NonLinLoc or HypoInverse files, or written by hand, often name their station
by a label (``AK_RC01_--``, ``RC01``) with no network code, and the inventory then knows no
such station. :func:`resolve_station_codes` rewrites the waveform ids of a catalogue's picks,
before the picks are turned into observations. For each pick whose waveform id has no network
code, the first rule that applies wins:

1. the station map (:func:`read_station_map`): the label (the pick's station code) mapped to
   ``NET.STA.LOC.CHA`` (an empty ``CHA`` keeps the pick's own channel);
2. a split rule such as ``NET_STA_LOC`` (NonLinLoc's labels; ``--`` is an empty location
   code), kept only when the inventory has the resulting ``NET.STA`` (without an inventory,
   whenever every part is a valid code);
3. a bare station code (the label itself) whose code is held by exactly one network of the
   inventory: that network, and the location code when one location of the station records
   the pick's channel.

Picks that already carry a network code are left as they are; so are labels no rule resolves
(one :class:`~obspy_hyposvi.errors.HypoSVIWarning` lists them, they are later reported as
"not in the inventory").
"""

from __future__ import annotations

import copy
import logging
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from obspy import Catalog, Inventory, UTCDateTime
from obspy.core.event import WaveformStreamID

from ..errors import HypoSVIWarning, InputError
from ._text import read_lines

__all__ = ["DEFAULT_RULE", "read_station_map", "resolve_station_codes", "split_label"]

logger = logging.getLogger(__name__)

#: NonLinLoc's labels from ObsPy-made station lists: network, station, location.
DEFAULT_RULE = "NET_STA_LOC"
#: SEED/FDSN codes: letters and digits (FDSN source identifiers allow up to 8 of them).
_CODE = re.compile(r"[A-Za-z0-9]{1,8}")
_LOCATION = re.compile(r"[A-Za-z0-9]{0,8}")
_PARTS = ("NET", "STA", "LOC", "CHA")


def read_station_map(source: str | Path | TextIO) -> dict[str, str]:
    """Read a station map: one ``label NET.STA.LOC.CHA`` pair per line.

    Parameters
    ----------
    source
        Path or open text file. Columns are separated by blanks, tabs or a comma; ``#``
        starts a comment; blank lines are skipped. ``CHA`` may be empty (``AK.RC01..``) to
        keep each pick's own channel, and ``LOC`` may be written ``--`` for an empty code.

    Returns
    -------
    dict
        Label -> ``NET.STA.LOC.CHA`` (``--`` turned into an empty location code).

    Raises
    ------
    InputError
        A line without two columns, a target that is not ``NET.STA.LOC.CHA``, or a label
        mapped twice to different targets (the message names the line).

    Examples
    --------
    >>> import io
    >>> text = "# label  seed id\\nAK_RC01_--  AK.RC01.--.\\nRC2,XX.RC2.00.HHZ\\n"
    >>> read_station_map(io.StringIO(text))
    {'AK_RC01_--': 'AK.RC01..', 'RC2': 'XX.RC2.00.HHZ'}
    """
    name, lines = read_lines(source, "station map")
    mapping: dict[str, str] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        columns = [c for c in re.split(r"[\s,]+", line) if c]
        if len(columns) != 2:
            raise InputError(f"{name}, line {number}: expected two columns 'label "
                             f"NET.STA.LOC.CHA', got {raw.strip()!r}")
        label, target = columns
        parts = target.split(".")
        if len(parts) != 4 or not _CODE.fullmatch(parts[0]) or not _CODE.fullmatch(parts[1]) \
                or not (parts[2] == "--" or _LOCATION.fullmatch(parts[2])) \
                or not _LOCATION.fullmatch(parts[3]):
            raise InputError(f"{name}, line {number}: {target!r} is not NET.STA.LOC.CHA "
                             "(letters and digits; LOC and CHA may be empty, e.g. AK.RC01..)")
        if parts[2] == "--":
            parts[2] = ""
        target = ".".join(parts)
        if mapping.get(label, target) != target:
            raise InputError(f"{name}, line {number}: label {label!r} is mapped twice "
                             f"({mapping[label]} and {target})")
        mapping[label] = target
    return mapping


def split_label(label: str, rule: str = DEFAULT_RULE) -> tuple[str, str, str, str | None] | None:
    """Split a station label by a rule into network, station, location and channel codes.

    Parameters
    ----------
    label
        Station label, e.g. ``AK_RC01_--``.
    rule
        Names of the parts joined by one separator character: ``NET``, ``STA`` (required),
        ``LOC``, ``CHA``, e.g. ``NET_STA_LOC``, ``STA.NET``, ``NET-STA-LOC-CHA``. Trailing
        ``LOC`` and ``CHA`` parts may be missing from a label.

    Returns
    -------
    tuple or None
        ``(network, station, location, channel)``, with ``""`` for a location of ``--`` or a
        missing one and None for a channel the rule does not give; None when the label does
        not fit the rule or a part is not a valid code.

    Raises
    ------
    ValueError
        The rule itself is malformed.

    Examples
    --------
    >>> split_label("AK_RC01_--")
    ('AK', 'RC01', '', None)
    >>> split_label("AK_RC01")
    ('AK', 'RC01', '', None)
    >>> split_label("RC01") is None
    True
    >>> split_label("RC01.AK.HHZ", "STA.NET.CHA")
    ('AK', 'RC01', '', 'HHZ')
    """
    separator, names = _parse_rule(rule)
    parts = label.split(separator)
    if len(parts) > len(names) or len(parts) < 2:
        return None
    if len(parts) < len(names) and any(n not in ("LOC", "CHA") for n in names[len(parts):]):
        return None
    codes = dict(zip(names, parts))
    network, station = codes.get("NET", ""), codes.get("STA", "")
    location = codes.get("LOC", "")
    location = "" if location == "--" else location
    channel = codes.get("CHA")
    if "NET" not in codes or not _CODE.fullmatch(network) or not _CODE.fullmatch(station):
        return None
    if not _LOCATION.fullmatch(location) or (channel is not None
                                             and not _CODE.fullmatch(channel)):
        return None
    return network, station, location, channel


def _parse_rule(rule: str) -> tuple[str, list[str]]:
    separators = {c for c in rule if not c.isalpha()}
    if len(separators) != 1:
        raise ValueError(f"station label rule {rule!r}: join the parts NET, STA, LOC, CHA with "
                         "one separator character, e.g. NET_STA_LOC")
    separator = separators.pop()
    names = rule.split(separator)
    if ("STA" not in names or "NET" not in names or len(set(names)) != len(names)
            or any(n not in _PARTS for n in names)):
        raise ValueError(f"station label rule {rule!r}: parts must be distinct names among "
                         f"{', '.join(_PARTS)}, with NET and STA")
    return separator, names


def resolve_station_codes(
    catalog: Catalog,
    inventory: Inventory | None = None,
    station_map: Mapping[str, str] | str | Path | None = None,
    rule: str | None = DEFAULT_RULE,
    *,
    inplace: bool = False,
) -> Catalog:
    """Give the picks of a catalogue SEED waveform ids (module docstring: the rules).

    Parameters
    ----------
    catalog
        Events with picks.
    inventory
        Station metadata: confirms split labels and resolves bare station codes. None: split
        labels are taken when their parts are valid codes, and bare codes stay as they are.
    station_map
        Label -> ``NET.STA.LOC.CHA``, or the path of a file for :func:`read_station_map`.
    rule
        Split rule for labels (:func:`split_label`); None to split nothing.
    inplace
        Change ``catalog`` itself; by default a copy is changed and returned.

    Returns
    -------
    obspy.Catalog
        The catalogue with resolved waveform ids.

    Warns
    -----
    HypoSVIWarning
        Once, listing the labels without a network code that no rule resolved (ambiguous
        bare codes are named with their networks).

    Examples
    --------
    >>> from obspy import read_inventory, UTCDateTime
    >>> from obspy.core.event import Event, Pick, WaveformStreamID
    >>> inv = read_inventory()  # ObsPy's example: GR.FUR, GR.WET, BW.RJOB, ...
    >>> picks = [Pick(time=UTCDateTime(2015, 1, 1), waveform_id=WaveformStreamID(
    ...     network_code="", station_code=code, channel_code="HHZ")) for code in
    ...     ("GR_FUR_--", "RJOB")]
    >>> resolved = resolve_station_codes(Catalog([Event(picks=picks)]), inv)
    >>> [p.waveform_id.id for p in resolved[0].picks]
    ['GR.FUR..HHZ', 'BW.RJOB..HHZ']
    """
    if isinstance(station_map, (str, Path)):
        station_map = read_station_map(station_map)
    station_map = dict(station_map or {})
    if rule is not None:
        _parse_rule(rule)  # a malformed rule fails before any work
    if not inplace:
        catalog = copy.deepcopy(catalog)
    networks_of = _networks_by_station(inventory) if inventory is not None else {}
    unresolved: dict[str, str] = {}
    for event in catalog:
        for pick in event.picks:
            wid = pick.waveform_id
            if wid is None or wid.network_code or not wid.station_code:
                continue
            label = wid.station_code
            resolved = _resolve(label, wid, pick.time, station_map, inventory, networks_of,
                                rule)
            if isinstance(resolved, str):
                unresolved.setdefault(label, resolved)
                continue
            logger.debug("pick %s: station label %s -> %s", pick.resource_id, label,
                         resolved.id)
            pick.waveform_id = resolved
    if unresolved:
        shown = [f"{label} ({why})" if why else label
                 for label, why in list(unresolved.items())[:10]]
        warnings.warn(
            f"{len(unresolved)} station labels without a network code were not resolved: "
            f"{', '.join(shown)}{', ...' if len(unresolved) > 10 else ''}; map them with a "
            "station map (label NET.STA.LOC.CHA per line)", HypoSVIWarning, stacklevel=2)
    return catalog


def _resolve(label: str, wid: WaveformStreamID, time: UTCDateTime | None,
             station_map: dict[str, str], inventory: Inventory | None,
             networks_of: dict[str, set[str]], rule: str | None) -> WaveformStreamID | str:
    """The resolved waveform id, or a reason (possibly "") why the label stays."""
    channel = wid.channel_code or ""
    if label in station_map:
        net, sta, loc, cha = station_map[label].split(".")
        return WaveformStreamID(net, sta, loc, cha or channel)
    if rule is not None:
        split = split_label(label, rule)
        if split is not None:
            net, sta, loc, cha = split
            if inventory is None or sta in networks_of and net in networks_of[sta]:
                return WaveformStreamID(net, sta, loc or wid.location_code or "",
                                        cha or channel)
    if inventory is None or not _CODE.fullmatch(label):
        return ""
    networks = networks_of.get(label, set())
    if len(networks) != 1:
        return f"in networks {', '.join(sorted(networks))}" if networks else ""
    net = next(iter(networks))
    loc = wid.location_code or _unique_location(inventory, net, label, channel, time)
    return WaveformStreamID(net, label, loc, channel)


def _networks_by_station(inventory: Inventory) -> dict[str, set[str]]:
    """Station code -> network codes that hold it (any epoch)."""
    found: dict[str, set[str]] = {}
    for network in inventory:
        for station in network:
            found.setdefault(station.code, set()).add(network.code)
    return found


def _unique_location(inventory: Inventory, net: str, sta: str, channel: str,
                     time: UTCDateTime | None) -> str:
    """The one location code under which ``NET.STA`` records ``channel`` (else "")."""
    if not channel:
        return ""
    selected = inventory.select(network=net, station=sta, channel=channel, time=time)
    locations = {cha.location_code for n in selected for s in n for cha in s}
    return locations.pop() if len(locations) == 1 else ""
