"""The only place that imports ObsPy: Catalog + Inventory -> observations, results -> Origin.

- :mod:`~obspy_hyposvi.bridge.picks`: picks and station metadata to
  :class:`~obspy_hyposvi.locate.observations.Observations` (units: m -> km, UTCDateTime -> s).
- :mod:`~obspy_hyposvi.bridge.origins`: :class:`~obspy_hyposvi.locate.result.LocationResult`
  to an ObsPy ``Origin`` (km -> m, grid -> geographic azimuths), added to a copy of the event.
- readers of files ObsPy does not read: NonLinLoc phase files
  (:mod:`~obspy_hyposvi.bridge.nlloc_obs`) and station lists
  (:mod:`~obspy_hyposvi.bridge.nlloc_stations`), HypoInverse Y2000 archives
  (:mod:`~obspy_hyposvi.bridge.hypoinverse`); station labels to SEED ids
  (:mod:`~obspy_hyposvi.bridge.station_map`).
- outputs beside the catalogue: posterior samples (:mod:`~obspy_hyposvi.bridge.samples`), the
  solution table (:mod:`~obspy_hyposvi.bridge.table`); SeisComP XML's versions, units and
  validation (:mod:`~obspy_hyposvi.bridge.scml`), origin provenance
  (:mod:`~obspy_hyposvi.bridge.provenance`).
- the bundled example catalogue, its truth and a run's errors against it
  (:mod:`~obspy_hyposvi.bridge.examples`); the Okada wrapper's stations, faults and CSV files
  (:mod:`~obspy_hyposvi.bridge.okada`).
"""

from .hypoinverse import read_hypoinverse
from .nlloc_obs import read_nlloc_obs
from .nlloc_stations import read_gtsrce
from .origins import NAMESPACE, NSMAP, add_origin, origin_from_result, write_catalog
from .picks import (
    PickConfig,
    Skipped,
    event_projections,
    observations_from_event,
    projection_for,
    read_catalog,
    read_inventory,
    station_coordinates,
    station_positions,
)
from .samples import read_samples, write_samples
from .station_map import read_station_map, resolve_station_codes
from .table import solution_rows, write_table

__all__ = [
    "NAMESPACE",
    "NSMAP",
    "PickConfig",
    "Skipped",
    "add_origin",
    "event_projections",
    "observations_from_event",
    "origin_from_result",
    "projection_for",
    "read_catalog",
    "read_gtsrce",
    "read_hypoinverse",
    "read_inventory",
    "read_nlloc_obs",
    "read_samples",
    "read_station_map",
    "resolve_station_codes",
    "solution_rows",
    "station_coordinates",
    "station_positions",
    "write_catalog",
    "write_samples",
    "write_table",
]
