"""ObsPy adapter of the Okada wrapper: Inventory -> station coordinates, Event -> fault.

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

import math
import warnings

import numpy as np
from obspy.core.event import Event
from obspy.core.inventory import Inventory

from ..errors import HypoSVIWarning, InputError
from ..okada.fault import RectangularFault

__all__ = ["stations_from_inventory", "wells_coppersmith_1994", "fault_from_event"]

#: crustal shear modulus, Pa (a common default for slip from moment)
DEFAULT_SHEAR_MODULUS_PA = 3.0e10


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
