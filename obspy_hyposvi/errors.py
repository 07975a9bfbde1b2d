"""Exceptions and warnings raised by obspy_hyposvi.

Every error the package raises on purpose derives from :class:`HypoSVIError`, so a caller can
catch the package's failures without catching programming errors. Messages name the offending
item (file, pick, station, event) and, where there is one, the fix.
"""

from __future__ import annotations


class HypoSVIError(Exception):
    """Base class of all errors raised by obspy_hyposvi."""


class InputError(HypoSVIError, ValueError):
    """Malformed user input: a file that cannot be read, a bad argument value."""


class OutputError(InputError):
    """An output path that cannot be written: missing or read-only folder, a folder given as
    a file (or the reverse), or an input file that would be replaced."""


class VelocityModelError(InputError):
    """A velocity model that is malformed (non-monotonic depths, non-positive velocity, ...)."""


class InsufficientPicksError(HypoSVIError, ValueError):
    """An event has too few usable picks to be located."""


class OutsideModelDomainError(HypoSVIError, ValueError):
    """A point lies outside the domain in which a travel-time model is valid."""


class CheckpointError(HypoSVIError):
    """A checkpoint file that is corrupted, foreign, or too new for this package."""


class TrainingDivergedError(HypoSVIError):
    """Training produced a non-finite loss.

    Parameters
    ----------
    message
        What happened.
    epoch
        The epoch at which the loss became non-finite.
    """

    def __init__(self, message: str, epoch: int) -> None:
        super().__init__(message)
        self.epoch = epoch


class HypoSVIWarning(UserWarning):
    """A recoverable problem in the input (a pick left out, a default used)."""
