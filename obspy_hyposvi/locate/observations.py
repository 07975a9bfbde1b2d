"""Per-event observations: the only input the location compute layer sees.

Built by :mod:`obspy_hyposvi.bridge.picks` from ObsPy objects; holds plain float64 arrays in
the local frame (km, x east, y north, z down) and seconds relative to a per-event reference
time, never epoch seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Observations", "PHASE_INDEX", "DEFAULT_MIN_PICKS"]

#: Integer index of each phase model inside tensors.
PHASE_INDEX = {"P": 0, "S": 1}

#: Default fewest usable picks to locate an event, 4 unknowns (x, y, z, origin time): the
#: default of :attr:`~obspy_hyposvi.locate.engine.SearchConfig.min_picks`, the one setting of
#: it, and of :func:`~obspy_hyposvi.bridge.picks.observations_from_event` called on its own.
DEFAULT_MIN_PICKS = 4


@dataclass(frozen=True, eq=False)
class Observations:
    """Usable picks of one event.

    Parameters
    ----------
    event_id
        Identifier used in messages (the event's resource id).
    station_xyz_km
        ``(n_picks, 3)`` receiver positions, km, x east, y north, z down (below sea level).
    phase_idx
        ``(n_picks,)`` 0 for P, 1 for S (:data:`PHASE_INDEX`).
    arrival_s
        ``(n_picks,)`` arrival times, s after ``reference_time``.
    sigma_s
        ``(n_picks,)`` pick uncertainties (one standard deviation), s.
    pick_ids
        Resource ids of the picks, in the same order.
    station_ids
        ``NET.STA`` (or the full SEED id) of each pick, for messages and station counts.
    phase_hints
        The phase names as picked (``Pg``, ``Sn``...), kept for the arrivals written.
    reference_time
        Opaque reference time (an ObsPy ``UTCDateTime`` in practice); not used in compute.
    used
        ``(n_picks,)`` False for picks kept in the event but left out of the likelihood
        (outliers, say); they still get a predicted time and a residual. Default: all used.
    """

    event_id: str
    station_xyz_km: np.ndarray
    phase_idx: np.ndarray
    arrival_s: np.ndarray
    sigma_s: np.ndarray
    pick_ids: list[str] = field(default_factory=list)
    station_ids: list[str] = field(default_factory=list)
    phase_hints: list[str] = field(default_factory=list)
    reference_time: Any = None
    used: np.ndarray | None = None

    def __post_init__(self) -> None:
        xyz = np.asarray(self.station_xyz_km, dtype=np.float64).reshape(-1, 3)
        n = xyz.shape[0]
        object.__setattr__(self, "station_xyz_km", xyz)
        object.__setattr__(self, "phase_idx",
                           np.asarray(self.phase_idx, dtype=np.int64).reshape(n))
        object.__setattr__(self, "arrival_s",
                           np.asarray(self.arrival_s, dtype=np.float64).reshape(n))
        object.__setattr__(self, "sigma_s", np.asarray(self.sigma_s, dtype=np.float64).reshape(n))
        used = np.ones(n, bool) if self.used is None else np.asarray(self.used, dtype=bool)
        object.__setattr__(self, "used", used.reshape(n))
        for name in ("pick_ids", "station_ids", "phase_hints"):
            values = list(getattr(self, name))
            if values and len(values) != n:
                raise ValueError(f"{name} has {len(values)} entries for {n} picks")
            object.__setattr__(self, name, values)

    @property
    def n_picks(self) -> int:
        """Number of picks."""
        return int(self.arrival_s.size)

    @property
    def n_used(self) -> int:
        """Number of picks that enter the likelihood."""
        return int(np.count_nonzero(self.used))

    @property
    def n_stations(self) -> int:
        """Number of distinct stations (by position when no ids are given)."""
        if self.station_ids:
            return len(set(self.station_ids))
        return int(np.unique(self.station_xyz_km, axis=0).shape[0])
