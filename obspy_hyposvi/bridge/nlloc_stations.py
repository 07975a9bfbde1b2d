"""NonLinLoc station lists (``GTSRCE`` statements) -> ObsPy ``Inventory``.

NonLinLoc users keep station coordinates as ``GTSRCE`` lines of a control file (NonLinLoc
control-file documentation, "GTSRCE - Source Description")::

    GTSRCE label LATLON   lat lon zSrce elev
    GTSRCE label LATLONDM latDeg latMin N|S lonDeg lonMin E|W zSrce elev
    GTSRCE label LATLONDS latDeg latMin latSec N|S lonDeg lonMin lonSec E|W zSrce elev

``zSrce`` is the depth (km, positive down) of the grid position and ``elev`` the elevation
above it (km, positive up), so the station's elevation above sea level is
``elev - zSrce`` km. ``XYZ`` positions need NonLinLoc's map transform and are refused. Other
lines of a control file are skipped.

Each label becomes a station: split by a rule such as ``NET_STA_LOC``
(:func:`~obspy_hyposvi.bridge.station_map.split_label`) into network and station codes, or,
when it does not split, kept whole as the station code of a network with an empty code. The
stations carry coordinates only (no channels, no dates): picks use their station-level
coordinates.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from obspy import Inventory
from obspy.core.inventory import Network, Station

from ..errors import InputError
from ._text import read_head, read_lines
from .station_map import DEFAULT_RULE, split_label

__all__ = ["is_gtsrce", "read_gtsrce"]


def is_gtsrce(source: str | Path) -> bool:
    """Whether a file's first statement (after comments and blank lines) is ``GTSRCE``.

    Examples
    --------
    >>> is_gtsrce("/nonexistent.txt")
    False
    """
    lines = read_head(source)
    for line in lines or []:
        if line.strip() and not line.startswith("#"):
            return line.split()[0] == "GTSRCE"
    return False


def read_gtsrce(source: str | Path | TextIO, rule: str | None = DEFAULT_RULE) -> Inventory:
    """Read the ``GTSRCE`` lines of a file into an inventory (module docstring).

    Parameters
    ----------
    source
        Path or open text file (a station list or a whole NonLinLoc control file).
    rule
        Split rule for the labels; None keeps every label whole.

    Returns
    -------
    obspy.Inventory
        One network per network code, stations in file order.

    Raises
    ------
    InputError
        No ``GTSRCE`` line, a line that cannot be parsed, an ``XYZ`` position, or one station
        given twice at different positions (the message names the line).

    Examples
    --------
    >>> import io
    >>> text = ("GTSRCE AK_RC01_-- LATLON 61.088902 -149.738998 0 0.39\\n"
    ...         "GTSRCE XYZ LATLONDM 61 30.0 N 149 15.0 W 0.1 0.5\\n")
    >>> inv = read_gtsrce(io.StringIO(text))
    >>> [(n.code, s.code, s.latitude, s.longitude, s.elevation) for n in inv for s in n]
    [('AK', 'RC01', 61.088902, -149.738998, 390.0), ('', 'XYZ', 61.5, -149.25, 400.0)]
    """
    name, lines = read_lines(source, "NonLinLoc station list")
    networks: dict[str, Network] = {}
    seen: dict[tuple[str, str], tuple[float, float, float]] = {}
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields or fields[0] != "GTSRCE" or line.startswith("#"):
            continue
        try:
            label, lat, lon, elevation_m = _parse(fields)
        except ValueError as exc:
            raise InputError(f"{name}, line {number}: {exc}: {line.strip()[:80]!r}") from None
        split = split_label(label, rule) if rule is not None else None
        net, sta = (split[0], split[1]) if split is not None else ("", label)
        position = (lat, lon, elevation_m)
        if (net, sta) in seen:  # a repeated line is harmless, a moved station is not
            if seen[net, sta] != position:
                raise InputError(f"{name}, line {number}: station {net}.{sta} given twice at "
                                 "different positions")
            continue
        seen[net, sta] = position
        networks.setdefault(net, Network(code=net)).stations.append(
            Station(code=sta, latitude=lat, longitude=lon, elevation=elevation_m))
    if not networks:
        raise InputError(f"{name}: no GTSRCE line (NonLinLoc station list expected)")
    return Inventory(networks=list(networks.values()), source=f"NonLinLoc GTSRCE: {name}")


def _parse(fields: list[str]) -> tuple[str, float, float, float]:
    """Label, latitude and longitude (deg) and elevation above sea level (m) of a line."""
    if len(fields) < 3:
        raise ValueError("GTSRCE needs a label and a position type")
    label, kind, values = fields[1], fields[2].upper(), fields[3:]
    if kind == "XYZ":
        raise ValueError("XYZ positions need NonLinLoc's map transform: give LATLON")
    counts = {"LATLON": 4, "LATLONDM": 8, "LATLONDS": 10}
    if kind not in counts:
        raise ValueError(f"position type {kind!r} is not LATLON, LATLONDM or LATLONDS")
    if len(values) < counts[kind]:
        raise ValueError(f"{kind} needs {counts[kind]} values, got {len(values)}")
    n = 2 if kind == "LATLONDM" else 3  # degrees, minutes[, seconds], then N/S or E/W
    if kind != "LATLON":
        for letter, signs in ((values[n], "NS"), (values[2 * n + 1], "EW")):
            if letter.upper() not in signs:
                raise ValueError(f"hemisphere {letter!r} is not {signs[0]} or {signs[1]}")
    try:
        if kind == "LATLON":
            lat, lon = float(values[0]), float(values[1])
            rest = values[2:4]
        else:
            lat = _sexagesimal(values[:n], values[n], "NS")
            lon = _sexagesimal(values[n + 1:2 * n + 1], values[2 * n + 1], "EW")
            rest = values[2 * n + 2:2 * n + 4]
        depth_km, elev_km = float(rest[0]), float(rest[1])
    except (ValueError, IndexError):
        raise ValueError("coordinates must be numbers") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 360):
        raise ValueError(f"latitude {lat} or longitude {lon} out of range")
    # elev is above the grid position, which is depth_km below sea level
    return label, lat, lon, round((elev_km - depth_km) * 1e3, 6)  # km -> m


def _sexagesimal(parts: list[str], direction: str, signs: str) -> float:
    """Degrees from degrees, minutes[, seconds] and a hemisphere letter (N/S or E/W)."""
    value = sum(float(p) / 60 ** k for k, p in enumerate(parts))
    return -value if direction.upper() == signs[1] else value
