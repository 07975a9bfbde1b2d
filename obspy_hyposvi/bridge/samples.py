"""Posterior samples: every located event's final SVGD particles in one compressed ``.npz``.

The SVGD particles that reach the posterior are equally weighted samples of it (what
NonLinLoc users know as a ``.scat`` cloud). :func:`write_samples` writes those of every
located event of a :class:`~obspy_hyposvi.locator.LocateReport`; :func:`read_samples` reads
them back into a :class:`PosteriorSamples`. The file is a plain NumPy archive
(:func:`numpy.savez_compressed`, no pickled objects), readable with ``numpy.load(path)`` alone.

Layout (format version 1). Per particle, ``N`` values over all located events, event after
event, in catalogue order:

================= ======== ===========================================================
``event_index``   int32    index into the per-event arrays below
``longitude_deg`` float64  WGS84 longitude, degrees
``latitude_deg``  float64  WGS84 latitude, degrees
``depth_km``      float64  depth below sea level, km (negative above it)
``origin_time``   float64  the particle's best origin time given its position, POSIX
                           seconds (UTC); NaN where the result kept none
``log_posterior`` float64  unnormalised log-posterior (log-likelihood: the prior is
                           uniform in the search box); NaN where the result kept none
``mode_label``    int16    0 the dominant mode (whose mean is the hypocentre), 1, 2, ...
                           the other modes, larger first; -1 particles that did not
                           reach the posterior (more than 10.6 below the best
                           log-posterior)
``in_dominant``   bool     in the dominant mode (``mode_label == 0``)
``placed``        bool     samples the posterior (``mode_label >= 0``): use these
``x_km, y_km``    float64  position in the event's UTM frame (``crs``), km
================= ======== ===========================================================

Per located event, ``E`` values: ``event_id`` (the event's resource id), ``origin_id`` (the
resource id of the origin the run added), ``catalog_index`` (int32, position in the
catalogue), ``crs`` (EPSG code of its frame), ``n_particles`` (int32). Scalars:
``format`` (``"obspy_hyposvi posterior samples"``), ``format_version`` (1) and
``package_version``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, OutputError
from ..locate.result import LocationResult
from ..safe_write import write_atomically

__all__ = ["FORMAT", "FORMAT_VERSION", "PosteriorSamples", "read_samples", "samples_arrays",
           "write_samples"]

#: Value of the ``format`` entry of a samples file.
FORMAT = "obspy_hyposvi posterior samples"
#: Layout version written (see the module docstring).
FORMAT_VERSION = 1

#: Per-particle arrays, in the order documented.
PARTICLE_FIELDS = ("event_index", "longitude_deg", "latitude_deg", "depth_km", "origin_time",
                   "log_posterior", "mode_label", "in_dominant", "placed", "x_km", "y_km")
#: Per-event arrays.
EVENT_FIELDS = ("event_id", "origin_id", "catalog_index", "crs", "n_particles")

#: dtypes of the per-particle arrays of a file with no located event.
_EMPTY_DTYPES = {"event_index": np.int32, "mode_label": np.int16, "in_dominant": bool,
                 "placed": bool, **{name: np.float64 for name in
                                    ("longitude_deg", "latitude_deg", "depth_km", "origin_time",
                                     "log_posterior", "x_km", "y_km")}}


def _or_nan(values: np.ndarray | None, n: int) -> np.ndarray:
    return np.full(n, np.nan) if values is None else np.asarray(values, dtype=np.float64)


def _mode_labels(result: LocationResult) -> np.ndarray:
    """Mode label of each particle; from the dominant-mode and placed masks if none was kept."""
    if result.particle_mode_label is not None:
        return np.asarray(result.particle_mode_label, dtype=np.int16)
    n = len(result.particles_xyz_km)
    placed = np.ones(n, bool) if result.placed_mask is None else np.asarray(result.placed_mask)
    labels = np.where(placed, 1, -1).astype(np.int16)  # placed, mode unknown: "another mode"
    labels[np.asarray(result.cluster_mask, dtype=bool)] = 0
    return labels


def _event_particles(result: LocationResult, observations, projection,
                     event_index: int) -> dict[str, np.ndarray]:
    """The per-particle arrays of one located event."""
    xyz = np.asarray(result.particles_xyz_km, dtype=np.float64).reshape(-1, 3)
    n = len(xyz)
    lon, lat, _ = projection.to_lonlat(xyz[:, 0], xyz[:, 1], xyz[:, 2])
    reference = observations.reference_time
    # POSIX seconds: float64 keeps ~0.2 microsecond at today's epoch
    origin_time = _or_nan(result.particle_origin_time_s, n) + (
        float(reference.timestamp) if reference is not None else np.nan)
    labels = _mode_labels(result)
    return {"event_index": np.full(n, event_index, dtype=np.int32),
            "longitude_deg": np.asarray(lon, np.float64).reshape(n),
            "latitude_deg": np.asarray(lat, np.float64).reshape(n),
            "depth_km": xyz[:, 2].copy(), "origin_time": origin_time,
            "log_posterior": _or_nan(result.particle_log_prob, n), "mode_label": labels,
            "in_dominant": labels == 0, "placed": labels >= 0,
            "x_km": xyz[:, 0].copy(), "y_km": xyz[:, 1].copy()}


def _frame(report: Any, index: int):
    """The local frame of event ``index`` (per event where the report has them)."""
    projections = getattr(report, "projections", None)
    if projections and projections[index] is not None:
        return projections[index]
    return report.projection


def samples_arrays(report: Any) -> dict[str, np.ndarray]:
    """The arrays of a samples file (layout in the module docstring) for a report's located
    events.

    Parameters
    ----------
    report
        A :class:`~obspy_hyposvi.locator.LocateReport` (``results``, ``observations``,
        ``catalog`` and ``projections``/``projection``).
    """
    from .. import __version__

    per_particle: list[dict[str, np.ndarray]] = []
    events: dict[str, list] = {name: [] for name in EVENT_FIELDS}
    for index, result in enumerate(report.results):
        if not isinstance(result, LocationResult):
            continue
        projection = _frame(report, index)
        per_particle.append(_event_particles(result, report.observations[index], projection,
                                             len(events["event_id"])))
        event = report.catalog[index]
        events["event_id"].append(str(event.resource_id))
        events["origin_id"].append(str(event.preferred_origin_id or ""))
        events["catalog_index"].append(index)
        events["crs"].append(str(projection.crs))
        events["n_particles"].append(len(result.particles_xyz_km))
    arrays = {name: (np.concatenate([p[name] for p in per_particle]) if per_particle
                     else np.zeros(0, dtype=_EMPTY_DTYPES[name]))
              for name in PARTICLE_FIELDS}
    arrays.update({
        "event_id": np.asarray(events["event_id"], dtype=str),
        "origin_id": np.asarray(events["origin_id"], dtype=str),
        "catalog_index": np.asarray(events["catalog_index"], dtype=np.int32),
        "crs": np.asarray(events["crs"], dtype=str),
        "n_particles": np.asarray(events["n_particles"], dtype=np.int32),
        "format": np.asarray(FORMAT), "format_version": np.asarray(FORMAT_VERSION),
        "package_version": np.asarray(str(__version__)),
    })
    return arrays


def write_samples(report: Any, path: str | Path) -> int:
    """Write the posterior samples of every located event of ``report`` to ``path`` (.npz).

    Parameters
    ----------
    report
        A :class:`~obspy_hyposvi.locator.LocateReport`.
    path
        Output file, written whole or not at all (any suffix: the name is kept as given).

    Returns
    -------
    int
        Number of events written (the located ones).

    Raises
    ------
    OutputError
        The file cannot be written (an existing file is then left as it was).
    """
    arrays = samples_arrays(report)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:  # a file object: numpy adds no ".npz" to the name
            np.savez_compressed(fh, **arrays)

    try:
        write_atomically(path, write)
    except OSError as exc:
        raise OutputError(f"cannot write the posterior samples to {path}: {exc}") from exc
    return len(arrays["event_id"])


@dataclass(frozen=True, eq=False)
class PosteriorSamples:
    """The content of a samples file: per-particle and per-event arrays (module docstring).

    Attributes
    ----------
    particles
        ``{name: (N,) array}`` for the names of :data:`PARTICLE_FIELDS`.
    events
        ``{name: (E,) array}`` for the names of :data:`EVENT_FIELDS`.
    format_version, package_version
        As written.
    """

    particles: dict[str, np.ndarray]
    events: dict[str, np.ndarray]
    format_version: int
    package_version: str

    @property
    def n_events(self) -> int:
        """Number of events in the file."""
        return len(self.events["event_id"])

    def event(self, key: int | str) -> dict[str, np.ndarray]:
        """The particles of one event, by position in the file or by event id.

        Raises
        ------
        KeyError
            No event of that id or position.
        """
        if isinstance(key, str):
            matches = np.flatnonzero(self.events["event_id"] == key)
            if matches.size == 0:
                raise KeyError(f"no event {key!r} in the samples")
            index = int(matches[0])
        else:
            index = int(key)
            if not 0 <= index < self.n_events:
                raise KeyError(f"event index {index} out of range (0..{self.n_events - 1})")
        take = self.particles["event_index"] == index
        return {name: values[take] for name, values in self.particles.items()}

    def __iter__(self) -> Iterator[tuple[str, dict[str, np.ndarray]]]:
        """``(event_id, particles)`` of each event, in file order."""
        for index, event_id in enumerate(self.events["event_id"]):
            yield str(event_id), self.event(index)


def read_samples(path: str | Path) -> PosteriorSamples:
    """Read a file written by :func:`write_samples`.

    Raises
    ------
    InputError
        The file is missing, not a NumPy archive, or not a samples file of a known version.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            data = {name: archive[name] for name in archive.files}
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read posterior samples from {path}: {exc}") from None
    if str(data.get("format", "")) != FORMAT:
        raise InputError(f"{path} is not an obspy_hyposvi posterior samples file")
    version = int(data["format_version"])
    if version > FORMAT_VERSION:
        raise InputError(f"{path} has samples format version {version}; this obspy_hyposvi "
                         f"reads up to {FORMAT_VERSION}: update it")
    missing = [n for n in PARTICLE_FIELDS + EVENT_FIELDS if n not in data]
    if missing:
        raise InputError(f"{path} lacks the samples arrays {', '.join(missing)}")
    return PosteriorSamples(particles={n: data[n] for n in PARTICLE_FIELDS},
                            events={n: data[n] for n in EVENT_FIELDS},
                            format_version=version,
                            package_version=str(data.get("package_version", "")))
