"""The P and S models a locator uses: where to find them, and whether they belong together.

A P network and an S network trained from different velocity models describe two different
Earths: locations mixing them are biased without any sign in the residuals of one phase.
:func:`check_model_pair` refuses such a pair unless told otherwise.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from ..errors import CheckpointError, HypoSVIWarning
from .model import bundled_model_dir, user_model_dir

__all__ = ["model_sources", "velocity_identity", "check_model_pair"]

_PHASE_SUFFIXES = ("-P.pt", "-S.pt")


def _is_registered(name: str) -> bool:
    """Whether ``name`` is a bundled or user model (``NAME-P.pt`` in one of their folders)."""
    return any((folder / f"{name}-P.pt").is_file()
               for folder in (bundled_model_dir(), user_model_dir()))


def model_sources(name_or_path: str | os.PathLike) -> tuple[str, str]:
    """What to pass to :func:`~obspy_hyposvi.eikonet.model.load_model` for the P and S models.

    Parameters
    ----------
    name_or_path
        A bundled or user model name (``"socal-1d"``), a path prefix (``"models/mine"``) or
        one of the two checkpoint files (``"mine-P.pt"``, ``"models/mine-S.pt"``). A bare
        name that is not a bundled or user model names ``NAME-P.pt`` and ``NAME-S.pt`` in the
        current folder, if there is such a P file (a bundled or user model of the same name
        comes first).

    Returns
    -------
    tuple of str
        The P and S sources: the model name twice, or the two checkpoint paths.

    Examples
    --------
    >>> model_sources("socal-1d")
    ('socal-1d', 'socal-1d')
    >>> model_sources("mine-S.pt")
    ('mine-P.pt', 'mine-S.pt')
    >>> model_sources("models/mine")
    ('models/mine-P.pt', 'models/mine-S.pt')
    """
    name = os.fspath(name_or_path)
    is_file = name.endswith(_PHASE_SUFFIXES)
    if is_file:
        name = name[:-len(_PHASE_SUFFIXES[0])]
    files = f"{name}-P.pt", f"{name}-S.pt"
    if is_file or Path(name).name != name:  # a file, or a prefix with a folder
        return files
    if _is_registered(name) or not Path(files[0]).is_file():
        # a registered name; or no such model anywhere, and load_model lists the known ones
        return name, name
    return files


def velocity_identity(metadata: dict[str, Any]) -> tuple[str | None, str | None]:
    """``(name, sha256)`` of the velocity model a checkpoint was trained from (None if unknown).

    Examples
    --------
    >>> velocity_identity({"velocity_model": {"name": "socal-1d", "sha256": "6af7"}})
    ('socal-1d', '6af7')
    """
    velocity = metadata.get("velocity_model") or {}
    if not isinstance(velocity, dict):
        return None, None
    name, sha = velocity.get("name"), velocity.get("sha256")
    return (str(name) if name else None), (str(sha) if sha else None)


def _differ(p_id: tuple[str | None, str | None], s_id: tuple[str | None, str | None]) -> bool:
    """Different velocity models: by hash where both have one, else by name."""
    (p_name, p_sha), (s_name, s_sha) = p_id, s_id
    if p_sha and s_sha:
        return p_sha != s_sha
    return p_name != s_name


def _describe(identity: tuple[str | None, str | None]) -> str:
    name, sha = identity
    return f"{name or 'unnamed'} (sha256 {sha[:12] if sha else 'unknown'})"


def check_model_pair(p_model: Any, s_model: Any, *, force: bool = False) -> None:
    """Refuse P and S models of different velocity models, or given in the wrong order.

    Parameters
    ----------
    p_model, s_model
        :class:`~obspy_hyposvi.eikonet.model.TravelTimeModel` of each phase (anything with
        ``phase``, ``name`` and ``metadata``).
    force
        Accept models of different velocity models (with a warning).

    Raises
    ------
    CheckpointError
        A model of the wrong phase, or (unless ``force``) velocity models whose sha256 (or,
        where a checkpoint lacks one, name) differ. The message names both models and the fix.

    Warns
    -----
    HypoSVIWarning
        ``force`` accepted a pair of different velocity models.
    """
    for expected, model in (("P", p_model), ("S", s_model)):
        phase = getattr(model, "phase", None)
        if phase != expected:
            raise CheckpointError(f"{getattr(model, 'name', model)} is a {phase} model, given as "
                                  f"the {expected} model; pass the P model first, then the S")
    p_id = velocity_identity(p_model.metadata)
    s_id = velocity_identity(s_model.metadata)
    if not _differ(p_id, s_id):
        return
    what = (f"P model {p_model.name} and S model {s_model.name} were trained from different "
            f"velocity models, {_describe(p_id)} and {_describe(s_id)}")
    if not force:
        raise CheckpointError(f"{what}: locations would mix two Earths; use a P and S pair "
                              "trained from one velocity model, or pass force=True "
                              "(--force-models) to use them anyway")
    warnings.warn(f"{what}; used together because forced", HypoSVIWarning, stacklevel=3)
