"""Validation shared by the frozen settings dataclasses (``TrainConfig``, ``SVGDConfig``, ...)."""

from __future__ import annotations

from dataclasses import fields


def check_ranges(settings: object, checks: dict[str, bool]) -> None:
    """Raise ``ValueError`` naming the first field of ``settings`` whose check is False."""
    for name, ok in checks.items():
        if not ok:
            raise ValueError(f"{type(settings).__name__}.{name} = {getattr(settings, name)!r} "
                             "is out of range")


def reject_unknown_keys(cls: type, data: dict) -> None:
    """Raise ``ValueError`` if ``data`` holds keys that are not fields of dataclass ``cls``."""
    valid = {f.name for f in fields(cls)}
    unknown = set(data) - valid
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys {sorted(unknown)}; valid: {sorted(valid)}")
