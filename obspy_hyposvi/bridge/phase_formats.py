"""Phase-file formats this package reads itself (ObsPy reads none of them), by name or by
their contents.

- ``NLLOC_OBS``: NonLinLoc phase files (:mod:`~obspy_hyposvi.bridge.nlloc_obs`);
- ``HYPOINVERSE``: HypoInverse Y2000 archive and phase files
  (:mod:`~obspy_hyposvi.bridge.hypoinverse`).

:func:`obspy_hyposvi.bridge.picks.read_catalog` asks :func:`phase_file_reader` first and
falls back to :func:`obspy.read_events` for every other format.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from obspy import Catalog

from .hypoinverse import is_hypoinverse, read_hypoinverse
from .nlloc_obs import is_nlloc_obs, read_nlloc_obs

__all__ = ["PHASE_FILE_FORMATS", "detect_phase_format", "phase_file_reader"]

#: Format name -> (detector, reader).
PHASE_FILE_FORMATS: dict[str, tuple[Callable[[str | Path], bool], Callable[..., Catalog]]] = {
    "NLLOC_OBS": (is_nlloc_obs, read_nlloc_obs),
    "HYPOINVERSE": (is_hypoinverse, read_hypoinverse),
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
