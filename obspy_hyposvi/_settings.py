"""Former home of the settings helpers; see :mod:`obspy_hyposvi.settings`."""

from __future__ import annotations

from .settings import describe, reject_unknown_keys

__all__ = ["check_ranges", "reject_unknown_keys"]


def check_ranges(settings: object, checks: dict[str, bool]) -> None:
    """Raise ``ValueError`` naming the first field of ``settings`` whose check is False (kept for
    old imports; settings classes declare ``_constraints`` instead)."""
    cls = type(settings)
    for name, ok in checks.items():
        if not ok:
            allowed = getattr(cls, "_constraints", {}).get(name)
            rule = f"must be {describe(allowed)}" if allowed is not None else "is out of range"
            raise ValueError(f"{cls.__name__}.{name} {rule}, got {getattr(settings, name)!r}")
