"""The only place that imports ObsPy: Catalog + Inventory -> observations, results -> Origin.

- :mod:`~obspy_hyposvi.bridge.picks`: picks and station metadata to
  :class:`~obspy_hyposvi.locate.observations.Observations` (units: m -> km, UTCDateTime -> s).
- :mod:`~obspy_hyposvi.bridge.origins`: :class:`~obspy_hyposvi.locate.result.LocationResult`
  to an ObsPy ``Origin`` (km -> m, grid -> geographic azimuths), added to a copy of the event.
"""

from .origins import NAMESPACE, NSMAP, add_origin, origin_from_result, write_catalog
from .picks import (
    PickConfig,
    Skipped,
    observations_from_event,
    projection_for,
    read_catalog,
    read_inventory,
    station_coordinates,
)

__all__ = [
    "NAMESPACE",
    "NSMAP",
    "PickConfig",
    "Skipped",
    "add_origin",
    "observations_from_event",
    "origin_from_result",
    "projection_for",
    "read_catalog",
    "read_inventory",
    "station_coordinates",
    "write_catalog",
]
