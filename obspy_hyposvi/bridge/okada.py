"""ObsPy adapter of the Okada wrapper: Inventory -> station coordinates, Event -> fault.

Also the files of ``hyposvi okada``: a station CSV in (:func:`read_stations_csv`), the
displacement (and strain) CSV out (:func:`write_displacement_csv`).

The only Okada module importing obspy. A fault is built from an Event's preferred (or first)
FocalMechanism nodal plane, its preferred origin and its moment magnitude, with the rupture
dimensions of Wells & Coppersmith (1994, all slip types, subsurface length and down-dip width)
and the slip from the seismic moment: ``M0 = 10**(1.5 Mw + 9.1)`` N m, ``slip = M0 / (mu L W)``.

Usage::

    from obspy import read_events, read_inventory
    from obspy_hyposvi.bridge.okada import fault_from_event, stations_from_inventory
    from obspy_hyposvi.okada import fault_displacement
    codes, lon, lat = stations_from_inventory(read_inventory("stations.xml"))
    fault = fault_from_event(read_events("event.xml")[0])
    out = fault_displacement(fault, lon, lat)   # out["displacement_enu_m"]: (n, 3) m

References
----------
Wells, D. L. and Coppersmith, K. J. (1994). New empirical relationships among magnitude,
rupture length, rupture width, rupture area, and surface displacement. BSSA 84(4), 974-1002.
"""

from __future__ import annotations

import csv
import math
import warnings
from pathlib import Path

import numpy as np
from obspy.core.event import Event
from obspy.core.inventory import Inventory

from ..errors import HypoSVIWarning, InputError
from ..okada.fault import RectangularFault
from ..safe_write import write_atomically

__all__ = ["stations_from_inventory", "wells_coppersmith_1994", "fault_from_event",
           "read_stations_csv", "write_displacement_csv"]

#: crustal shear modulus, Pa (a common default for slip from moment)
DEFAULT_SHEAR_MODULUS_PA = 3.0e10
#: output columns of the strain tensor (symmetric; e east, n north, u up)
_STRAIN_COLUMNS = (("strain_ee", 0, 0), ("strain_en", 0, 1), ("strain_eu", 0, 2),
                   ("strain_nn", 1, 1), ("strain_nu", 1, 2), ("strain_uu", 2, 2))


def stations_from_inventory(inventory: Inventory) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Station codes ``NET.STA`` and their lon/lat (deg), one entry per station.

    Examples
    --------
    >>> from obspy import read_inventory
    >>> codes, lon, lat = stations_from_inventory(read_inventory())
    >>> len(codes) == len(lon) == len(lat)
    True
    """
    codes, lon, lat = [], [], []
    for net in inventory:
        for sta in net:
            code = f"{net.code}.{sta.code}"
            if code in codes:  # the same station in several epochs: keep the first
                continue
            codes.append(code)
            lon.append(sta.longitude)
            lat.append(sta.latitude)
    if not codes:
        raise InputError("the Inventory has no stations")
    return codes, np.asarray(lon, float), np.asarray(lat, float)


def wells_coppersmith_1994(magnitude: float) -> tuple[float, float]:
    """Subsurface rupture length and down-dip width, km, of Wells & Coppersmith (1994).

    ``log10 L = -2.44 + 0.59 M``, ``log10 W = -1.01 + 0.32 M`` (all slip types).

    Examples
    --------
    >>> [round(v, 1) for v in wells_coppersmith_1994(7.0)]
    [49.0, 17.0]
    """
    return 10 ** (-2.44 + 0.59 * magnitude), 10 ** (-1.01 + 0.32 * magnitude)


def fault_from_event(
    event: Event,
    *,
    nodal_plane: int = 1,
    shear_modulus_pa: float = DEFAULT_SHEAR_MODULUS_PA,
) -> RectangularFault:
    """A uniform-slip rectangular fault from an Event's mechanism, origin and magnitude.

    Parameters
    ----------
    event
        With a FocalMechanism (nodal planes), an Origin (centroid taken at the hypocentre)
        and a Magnitude (treated as Mw).
    nodal_plane
        1 or 2: which nodal plane is the fault.
    shear_modulus_pa
        For the slip from the moment, Pa.

    Returns
    -------
    RectangularFault
        Width reduced (with a warning) if the fault would reach above the surface.

    Examples
    --------
    >>> from obspy.core.event import (Event, Origin, Magnitude, FocalMechanism, NodalPlanes,
    ...                               NodalPlane)
    >>> ev = Event(origins=[Origin(latitude=38.0, longitude=142.0, depth=20000.0)],
    ...            magnitudes=[Magnitude(mag=7.0)],
    ...            focal_mechanisms=[FocalMechanism(nodal_planes=NodalPlanes(
    ...                nodal_plane_1=NodalPlane(strike=200.0, dip=20.0, rake=90.0)))])
    >>> f = fault_from_event(ev)
    >>> round(f.length_km, 1), round(f.slip_m, 2)
    (49.0, 1.6)
    """
    fm = event.preferred_focal_mechanism() or (event.focal_mechanisms or [None])[0]
    if fm is None or fm.nodal_planes is None:
        raise InputError(f"event {event.resource_id} has no focal mechanism with nodal planes")
    plane = getattr(fm.nodal_planes, f"nodal_plane_{nodal_plane}", None)
    if plane is None or None in (plane.strike, plane.dip, plane.rake):
        raise InputError(f"event {event.resource_id}: nodal plane {nodal_plane} is incomplete")
    origin = event.preferred_origin() or (event.origins or [None])[0]
    if origin is None or origin.depth is None:
        raise InputError(f"event {event.resource_id} has no origin with a depth")
    mag = event.preferred_magnitude() or (event.magnitudes or [None])[0]
    if mag is None:
        raise InputError(f"event {event.resource_id} has no magnitude")
    length_km, width_km = wells_coppersmith_1994(mag.mag)
    depth_km = origin.depth / 1000.0  # QuakeML depth is in m
    sin_dip = math.sin(math.radians(plane.dip))
    if 0.5 * width_km * sin_dip > depth_km:
        new_width = 2.0 * depth_km / sin_dip if sin_dip > 0 else width_km
        warnings.warn(f"event {event.resource_id}: width {width_km:.1f} km would break the "
                      f"surface; reduced to {new_width:.1f} km", HypoSVIWarning, stacklevel=2)
        width_km = new_width
    moment_nm = 10 ** (1.5 * mag.mag + 9.1)
    slip_m = moment_nm / (shear_modulus_pa * length_km * 1e3 * width_km * 1e3)
    return RectangularFault(lon_deg=origin.longitude, lat_deg=origin.latitude,
                            depth_km=depth_km, strike_deg=plane.strike, dip_deg=plane.dip,
                            rake_deg=plane.rake, slip_m=slip_m, length_km=length_km,
                            width_km=width_km)


def read_stations_csv(path: str | Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Station names and lon/lat (deg) from a CSV file with a header line.

    Parameters
    ----------
    path
        CSV with the columns ``station``, ``lon``, ``lat`` (degrees) and optionally
        ``elevation_m``; other columns are ignored, blank lines skipped.

    Returns
    -------
    names : list of str
    lon_deg, lat_deg : numpy.ndarray
        ``(n_stations,)`` float64.

    Raises
    ------
    InputError
        The file cannot be read, a column is missing, or a value is empty, not a finite
        number or out of range; the message names the file and the line.

    Examples
    --------
    >>> read_stations_csv("/nonexistent/st.csv")
    Traceback (most recent call last):
    ...
    obspy_hyposvi.errors.InputError: cannot read stations file /nonexistent/st.csv: file not found
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = [h.strip() for h in next(reader, [])]
            missing = [c for c in ("station", "lon", "lat") if c not in header]
            if missing:
                raise InputError(f"stations file {path}: missing column(s) "
                                 f"{', '.join(missing)}; the header line has: "
                                 f"{', '.join(header) or '(nothing)'}")
            rows = [(reader.line_num, row) for row in reader if any(v.strip() for v in row)]
    except FileNotFoundError:
        raise InputError(f"cannot read stations file {path}: file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read stations file {path}: {exc}") from None
    column = {name: header.index(name) for name in ("station", "lon", "lat", "elevation_m")
              if name in header}
    names, lon, lat, first_line = [], [], [], {}
    for line, row in rows:
        where = f"stations file {path}, line {line}"
        if len(row) != len(header):
            raise InputError(f"{where}: {len(row)} fields, the header has {len(header)}")
        name = row[column["station"]].strip()
        if not name:
            raise InputError(f"{where}: the station name is empty")
        where = f"{where} (station {name})"
        if name in first_line:
            raise InputError(f"{where}: the station is already on line {first_line[name]}")
        first_line[name] = line
        # elevation_m may be left empty; it is checked, not used (the surface is z = 0)
        values = {key: _number(row[column[key]], key, where) for key in column
                  if key != "station" and (key != "elevation_m" or row[column[key]].strip())}
        if not -180.0 <= values["lon"] <= 360.0:
            raise InputError(f"{where}: lon = {values['lon']} is outside [-180, 360]")
        if not -90.0 <= values["lat"] <= 90.0:
            raise InputError(f"{where}: lat = {values['lat']} is outside [-90, 90]")
        names.append(name)
        lon.append(values["lon"])
        lat.append(values["lat"])
    if not names:
        raise InputError(f"stations file {path} has no stations")
    return names, np.asarray(lon, float), np.asarray(lat, float)


def _number(text: str, column: str, where: str) -> float:
    """A finite float from a CSV field, or an InputError naming the field."""
    text = text.strip()
    if not text:
        raise InputError(f"{where}: {column} is empty")
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: {column} = {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{where}: {column} = {text} is not a finite number")
    return value


def write_displacement_csv(
    path: str | Path,
    names: list[str],
    lon_deg: np.ndarray,
    lat_deg: np.ndarray,
    displacement_enu_m: np.ndarray,
    strain: np.ndarray | None = None,
) -> None:
    """Write one row per station: name, lon, lat, east_m, north_m, up_m [, strain columns].

    Parameters
    ----------
    path
        Output file (overwritten).
    names, lon_deg, lat_deg
        Stations, ``(n_stations,)``.
    displacement_enu_m
        ``(n_stations, 3)`` east, north, up, m.
    strain
        ``(n_stations, 3, 3)`` in the east/north/up frame, or None for no strain columns.

    Raises
    ------
    InputError
        The file cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "d.csv"
    >>> write_displacement_csv(out, ["A"], np.array([10.0]), np.array([45.0]),
    ...                        np.array([[0.001, -0.002, 0.0005]]))
    >>> print(out.read_text().strip())
    station,lon,lat,east_m,north_m,up_m
    A,10.0,45.0,0.001,-0.002,0.0005
    """
    header = ["station", "lon", "lat", "east_m", "north_m", "up_m"]
    if strain is not None:
        header += [name for name, _, _ in _STRAIN_COLUMNS]

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(header)
            for k, name in enumerate(names):
                # float(): the shortest repr that reads back to the same float64
                row = [name, float(lon_deg[k]), float(lat_deg[k])]
                row += [float(v) for v in displacement_enu_m[k]]
                if strain is not None:
                    row += [float(strain[k, i, j]) for _, i, j in _STRAIN_COLUMNS]
                writer.writerow(row)

    try:
        write_atomically(path, write)  # never a partial CSV
    except OSError as exc:  # strerror: the message without the temporary file's name
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
