"""Geographic <-> local Cartesian coordinates.

The compute layers work in one frame only: x east, y north, z down, all in km, in a projected
UTM frame (pyproj). ``z`` is relative to sea level, positive down, so a station at 1200 m
elevation has ``z_km = -1.2`` and a station at ``local_depth_m`` below its surface has
``z_km = (local_depth_m - elevation_m) / 1000``. This module is the only place where geographic
and local coordinates are converted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyproj import CRS, Transformer

from .errors import InputError

__all__ = ["Projection", "utm_crs_for"]


def utm_crs_for(lon_deg: float, lat_deg: float) -> str:
    """Return the EPSG code of the WGS84 UTM zone containing a point.

    Parameters
    ----------
    lon_deg, lat_deg
        Point in degrees.

    Returns
    -------
    str
        ``"EPSG:326zz"`` (north) or ``"EPSG:327zz"`` (south).

    Examples
    --------
    >>> utm_crs_for(-117.0, 34.0)
    'EPSG:32611'
    """
    if not (-180.0 <= lon_deg <= 180.0 and -90.0 <= lat_deg <= 90.0):
        raise InputError(f"lon/lat ({lon_deg}, {lat_deg}) are not valid geographic coordinates")
    zone = int((lon_deg + 180.0) // 6.0) % 60 + 1
    return f"EPSG:{(32600 if lat_deg >= 0 else 32700) + zone}"


@dataclass(frozen=True)
class Projection:
    """Projection between WGS84 lon/lat/elevation and local x/y/z in km.

    Parameters
    ----------
    crs
        Projected CRS whose axis unit is metres, e.g. ``"EPSG:32611"``.

    Examples
    --------
    >>> proj = Projection.for_points([-117.0], [34.0])
    >>> x, y, z = proj.to_xyz_km(-117.0, 34.0, elevation_m=1200.0)
    >>> round(float(z), 3)
    -1.2
    >>> lon, lat, depth_km = proj.to_lonlat(x, y, z)
    >>> round(float(lon), 6), round(float(lat), 6)
    (-117.0, 34.0)
    """

    crs: str

    def __post_init__(self) -> None:
        try:
            crs = CRS.from_user_input(self.crs)
        except Exception as exc:  # pyproj raises CRSError, a bare subclass of Exception
            raise InputError(f"unknown CRS {self.crs!r}: {exc}") from None
        if not crs.is_projected:
            raise InputError(f"CRS {self.crs!r} is not a projected CRS (x/y in metres needed)")
        object.__setattr__(self, "_fwd", Transformer.from_crs("EPSG:4326", crs, always_xy=True))
        object.__setattr__(self, "_inv", Transformer.from_crs(crs, "EPSG:4326", always_xy=True))

    @classmethod
    def for_points(cls, lon_deg, lat_deg) -> "Projection":
        """UTM projection for the zone containing the centre of the given points."""
        lon = np.asarray(lon_deg, dtype=float)
        lat = np.asarray(lat_deg, dtype=float)
        if lon.size == 0:
            raise InputError("cannot choose a projection: no points given")
        # centre of the bounding box; robust to a few outlying stations at either side
        return cls(utm_crs_for(float(np.median(lon)), float(np.median(lat))))

    def to_xyz_km(self, lon_deg, lat_deg, elevation_m=0.0, local_depth_m=0.0):
        """Geographic to local coordinates.

        Parameters
        ----------
        lon_deg, lat_deg
            Degrees (WGS84).
        elevation_m
            Surface elevation above sea level, m.
        local_depth_m
            Depth below that surface (a borehole sensor), m.

        Returns
        -------
        tuple of ndarray
            x (east), y (north), z (down, below sea level), km.
        """
        x_m, y_m = self._fwd.transform(np.asarray(lon_deg, float), np.asarray(lat_deg, float))
        z_km = (np.asarray(local_depth_m, float) - np.asarray(elevation_m, float)) / 1000.0
        return np.asarray(x_m) / 1000.0, np.asarray(y_m) / 1000.0, z_km

    def to_lonlat(self, x_km, y_km, z_km=0.0):
        """Local coordinates to geographic ones.

        Returns
        -------
        tuple of ndarray
            lon (deg), lat (deg), depth below sea level (km).
        """
        lon, lat = self._inv.transform(np.asarray(x_km, float) * 1000.0,
                                       np.asarray(y_km, float) * 1000.0)
        return np.asarray(lon), np.asarray(lat), np.asarray(z_km, float)
