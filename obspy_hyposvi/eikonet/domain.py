"""Whether a network's stations fit the domain of a 1D travel-time model before it is trained.

A 1D model covers source-receiver offsets up to ``max_offset_km`` and depths from
``depth_min_km`` (km below sea level; negative is above it). Locating asks it for travel times
from every point of each event's search box (the stations' box widened by
:attr:`SearchConfig.margin_km <obspy_hyposvi.locate.engine.SearchConfig>`) to every station,
and from stations as high as they stand. :func:`check_stations_in_domain` checks both before
hours of training, and says how to widen the domain.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import InputError
from ..geo import Projection

__all__ = ["station_reach_km", "check_stations_in_domain"]

#: A domain's top is suggested this far (km) above the highest station.
_TOP_CLEARANCE_KM = 0.5


def station_reach_km(lon_deg, lat_deg, margin_km: float) -> float:
    """Largest offset, km, from a corner of the stations' box widened by ``margin_km`` to a
    station: the farthest a search box of locating reaches (in the stations' UTM frame).

    Examples
    --------
    >>> round(station_reach_km([-116.5, -116.4], [33.5, 33.5], margin_km=0.0), 1)
    9.3
    """
    lon = np.asarray(lon_deg, dtype=float)
    lat = np.asarray(lat_deg, dtype=float)
    x, y, _ = Projection.for_points(lon, lat).to_xyz_km(lon, lat)
    corners = [(cx, cy) for cx in (x.min() - margin_km, x.max() + margin_km)
               for cy in (y.min() - margin_km, y.max() + margin_km)]
    return max(float(np.max(np.hypot(x - cx, y - cy))) for cx, cy in corners)


def check_stations_in_domain(names: Sequence[str], lon_deg, lat_deg, elevation_m, config, *,
                             margin_km: float, source: str = "the inventory") -> None:
    """Raise if a station lies above the domain's top or out of its offsets' reach.

    Parameters
    ----------
    names
        Station labels for the messages, ``(n,)``.
    lon_deg, lat_deg, elevation_m
        Station positions, ``(n,)``; elevation in m above sea level.
    config
        The training settings (:class:`~obspy_hyposvi.eikonet.train.TrainConfig`): its
        ``depth_min_km`` and ``max_offset_km``.
    margin_km
        The search margin locating will add around the stations (``SearchConfig.margin_km``).
    source
        Where the stations come from (a file name), for the messages.

    Raises
    ------
    InputError
        No stations; the highest station above ``config.depth_min_km``; or a reach beyond
        ``config.max_offset_km``. The message gives the value to use instead.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(depth_min_km=-1.0, max_offset_km=400.0)
    >>> check_stations_in_domain(["SY.A", "SY.B"], [-116.5, -116.4], [33.5, 33.6],
    ...                          [100.0, 1800.0], config, margin_km=30.0)
    Traceback (most recent call last):
    ...
    obspy_hyposvi.errors.InputError: station SY.B at elevation 1800 m is above ... to -2.3 or less
    """
    elevation = np.asarray(elevation_m, dtype=float)
    if elevation.size == 0:
        raise InputError(f"{source}: no stations")
    high = int(np.argmax(elevation))
    if -elevation[high] / 1e3 < config.depth_min_km:
        raise InputError(
            f"station {names[high]} at elevation {elevation[high]:.0f} m is above the domain's "
            f"top ({config.depth_min_km:g} km below sea level); lower --depth-km MIN to "
            f"{-elevation[high] / 1e3 - _TOP_CLEARANCE_KM:.1f} or less")
    reach = station_reach_km(lon_deg, lat_deg, margin_km)
    if reach > config.max_offset_km:
        raise InputError(
            f"the stations of {source}, with the {margin_km:g} km search margin of `hyposvi "
            f"locate`, need offsets up to {reach:.0f} km, more than --max-offset-km "
            f"{config.max_offset_km:g}: raise it to {np.ceil(reach / 10) * 10:.0f}")
