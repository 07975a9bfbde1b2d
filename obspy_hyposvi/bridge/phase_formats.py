"""Phase and station file formats this package reads itself (ObsPy reads none of them), by
name or by their contents.

- ``NLLOC_OBS``: NonLinLoc phase files (:mod:`~obspy_hyposvi.bridge.nlloc_obs`);
- ``HYPOINVERSE``: HypoInverse Y2000 archive and phase files
  (:mod:`~obspy_hyposvi.bridge.hypoinverse`);
- ``NLLOC_GTSRCE``: NonLinLoc station lists (:mod:`~obspy_hyposvi.bridge.nlloc_stations`).

:func:`obspy_hyposvi.bridge.picks.read_catalog` asks :func:`phase_file_reader` first, and
:func:`~obspy_hyposvi.bridge.picks.read_inventory` :func:`station_file_reader`; both fall back
to ObsPy's readers for every other format.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from obspy import Catalog

from .hypoinverse import is_hypoinverse, read_hypoinverse
from .nlloc_obs import is_nlloc_obs, read_nlloc_obs
from .nlloc_stations import is_gtsrce, read_gtsrce

__all__ = ["PHASE_FILE_FORMATS", "STATION_FILE_FORMATS", "detect_phase_format",
           "phase_file_reader", "station_file_reader"]

#: Format name -> (detector, reader).
PHASE_FILE_FORMATS: dict[str, tuple[Callable[[str | Path], bool], Callable[..., Catalog]]] = {
    "NLLOC_OBS": (is_nlloc_obs, read_nlloc_obs),
    "HYPOINVERSE": (is_hypoinverse, read_hypoinverse),
}
#: Station-list format name -> (detector, reader).
STATION_FILE_FORMATS: dict[str, tuple[Callable[[str | Path], bool], Callable[..., Any]]] = {
    "NLLOC_GTSRCE": (is_gtsrce, read_gtsrce),
}


def detect_phase_format(path: str | Path) -> str | None:
    """Name of the phase-file format of ``path`` (a key of :data:`PHASE_FILE_FORMATS`), or
    None when it is none of them (or cannot be read).

    Examples
    --------
    >>> detect_phase_format("/nonexistent.obs") is None
    True
    """
    for name, (detect, _) in PHASE_FILE_FORMATS.items():
        if detect(path):
            return name
    return None


def phase_file_reader(path: str | Path,
                      format: str | None = None) -> Callable[..., Catalog] | None:
    """The reader for ``path``: the named format's (case-insensitive), or with ``format``
    None the detected one; None when ObsPy should read the file.

    Examples
    --------
    >>> phase_file_reader("picks.obs", "nlloc_obs").__name__
    'read_nlloc_obs'
    >>> phase_file_reader("picks.xml", "QUAKEML") is None
    True
    """
    if format is None:
        format = detect_phase_format(path)
        if format is None:
            return None
    entry = PHASE_FILE_FORMATS.get(format.upper())
    return None if entry is None else entry[1]


def station_file_reader(path: str | Path,
                        format: str | None = None) -> Callable[..., Any] | None:
    """The reader for a station file: the named format's (case-insensitive), or with
    ``format`` None the detected one; None when ObsPy should read the file.

    Examples
    --------
    >>> station_file_reader("stations.txt", "nlloc_gtsrce").__name__
    'read_gtsrce'
    >>> station_file_reader("/nonexistent.xml") is None
    True
    """
    if format is None:
        format = next((name for name, (detect, _) in STATION_FILE_FORMATS.items()
                       if detect(path)), None)
        if format is None:
            return None
    entry = STATION_FILE_FORMATS.get(format.upper())
    return None if entry is None else entry[1]
