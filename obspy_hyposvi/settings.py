"""One way to declare, validate and serialise the settings classes.

Every settings class (``SVGDConfig``, ``LikelihoodConfig``, ``SearchConfig``, ``PickConfig``,
``TrainConfig``, ...) is a frozen, keyword-only dataclass that derives from :class:`Settings`
and declares the allowed values of each of its fields once, in ``_constraints`` (after
scikit-learn's parameter constraints):

- an :class:`Interval` (``Interval(int, 2, None)``: an int in ``[2, inf)``),
- :class:`Options` (a fixed set of values, e.g. ``Options({"table", "network"})``),
- :class:`InstanceOf` (any instance of a type), :class:`TupleOf` (a tuple of items that meet a
  constraint; lists are accepted and stored as tuples),
- ``None`` (the value ``None``),
- or a list of these: the value must meet one of them.

Rules between fields (``max_s >= min_s``) are :class:`Relation` entries of ``_relations``.
Settings nested in a field (``LikelihoodConfig.error_model``) are named in ``_nested`` so that
:meth:`Settings.from_dict` rebuilds them. A value outside its constraint raises
``ValueError`` naming the class, the field, the allowed values and the value::

    SVGDConfig.n_particles must be an int in [2, inf), got 1

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True, kw_only=True)
... class Demo(Settings):
...     n: int = 3
...     width: float | None = None
...     _constraints = {"n": Interval(int, 1, None),
...                     "width": [None, Interval(float, 0, None, closed="neither")]}
>>> Demo(n=0)
Traceback (most recent call last):
...
ValueError: Demo.n must be an int in [1, inf), got 0
>>> Demo.from_dict(Demo(width=2.5).to_dict())
Demo(n=3, width=2.5)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields
from typing import Any, Callable, ClassVar, Iterable

__all__ = ["Settings", "Interval", "Options", "InstanceOf", "TupleOf", "Relation",
           "describe", "reject_unknown_keys"]


class Constraint:
    """A set of allowed values: ``contains(value)`` and a description (``str``)."""

    def contains(self, value: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def convert(self, value: Any) -> Any:
        """The value as stored (e.g. a list as a tuple); only called on allowed values."""
        return value


class Interval(Constraint):
    """Numbers of a type between two bounds.

    Parameters
    ----------
    kind
        ``int`` (integers, ``numpy`` integers included) or ``float`` (any real number, ints
        included); booleans are neither.
    left, right
        Bounds; ``None``: unbounded on that side.
    closed
        ``"left"`` (default), ``"right"``, ``"both"`` or ``"neither"``: which bounds belong to
        the interval. NaN is never in one.

    Examples
    --------
    >>> str(Interval(float, 0, 1, closed="neither")), Interval(float, 0, 1).contains(1)
    ('a number in (0, 1)', False)
    """

    def __init__(self, kind: type, left: float | None, right: float | None, *,
                 closed: str = "left") -> None:
        if kind not in (int, float):
            raise TypeError(f"Interval kind must be int or float, got {kind!r}")
        if closed not in ("left", "right", "both", "neither"):
            raise ValueError("Interval closed must be left, right, both or neither, "
                             f"got {closed!r}")
        self.kind, self.left, self.right, self.closed = kind, left, right, closed

    def contains(self, value: Any) -> bool:
        abstract = numbers.Integral if self.kind is int else numbers.Real
        if isinstance(value, bool) or not isinstance(value, abstract):
            return False
        if math.isnan(value):
            return False
        if self.left is not None:
            if value < self.left or (value == self.left and self.closed in ("right", "neither")):
                return False
        if self.right is not None:
            if value > self.right or (value == self.right and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self) -> str:
        name = "an int" if self.kind is int else "a number"
        if self.left is None and self.right is None:
            return name
        lo = "-inf" if self.left is None else f"{self.left:g}"
        hi = "inf" if self.right is None else f"{self.right:g}"
        opening = "[" if self.left is not None and self.closed in ("left", "both") else "("
        closing = "]" if self.right is not None and self.closed in ("right", "both") else ")"
        return f"{name} in {opening}{lo}, {hi}{closing}"


class Options(Constraint):
    """One of a fixed set of values (compared with ``==``, strings are not coerced)."""

    def __init__(self, values: Iterable) -> None:
        self.values = tuple(sorted(values, key=repr))

    def contains(self, value: Any) -> bool:
        return any(isinstance(value, type(v)) and not isinstance(value, bool) and value == v
                   for v in self.values)

    def __str__(self) -> str:
        return _or([repr(v) for v in self.values])


class InstanceOf(Constraint):
    """Any instance of ``kind`` (``bool`` for flags; ``str`` for free-form names)."""

    def __init__(self, kind: type) -> None:
        self.kind = kind

    def contains(self, value: Any) -> bool:
        return isinstance(value, self.kind)

    def __str__(self) -> str:
        names = {bool: "True or False", str: "a string"}
        name = self.kind.__name__
        return names.get(self.kind, f"{'an' if name[0] in 'AEIOUaeiou' else 'a'} {name}")


class TupleOf(Constraint):
    """A tuple (or list, stored as a tuple) whose items each meet ``item``.

    Parameters
    ----------
    item
        Constraint of every item.
    length
        Exact number of items; ``None``: any number of at least ``min_length``.
    min_length
        Fewest items where ``length`` is None.
    increasing
        Items strictly increasing (``(min, max)`` pairs).
    cast
        Applied to every item of an allowed value (``float``: steps stored as floats).
    """

    def __init__(self, item: Constraint, *, length: int | None = None, min_length: int = 0,
                 increasing: bool = False, cast: Callable | None = None) -> None:
        self.item, self.length, self.min_length = item, length, min_length
        self.increasing, self.cast = increasing, cast

    def contains(self, value: Any) -> bool:
        if not isinstance(value, (tuple, list)):
            return False
        n = len(value)
        if (self.length is not None and n != self.length) or n < self.min_length:
            return False
        if not all(self.item.contains(v) for v in value):
            return False
        return not self.increasing or all(a < b for a, b in zip(value, value[1:]))

    def convert(self, value: Any) -> tuple:
        items = (self.item.convert(v) for v in value)
        return tuple(items if self.cast is None else map(self.cast, items))

    def __str__(self) -> str:
        if self.length == 2 and self.increasing:
            return f"a pair (min, max) of {_plural(self.item)} with min < max"
        size = (f"{self.length} " if self.length is not None
                else f"at least {self.min_length} " if self.min_length else "")
        order = ", increasing" if self.increasing else ""
        return f"a tuple of {size}{_plural(self.item)}{order}"


def _plural(item: Constraint) -> str:
    text = str(item)
    for article in ("an ", "a "):
        if text.startswith(article):
            head, _, rest = text[len(article):].partition(" ")
            return f"{head}s {rest}".rstrip()
    return f"items that are {text}"


def _or(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def describe(constraint) -> str:
    """The allowed values of a declared constraint (``None``, a constraint or a list), in words.

    >>> describe([None, Interval(float, 0, None, closed="neither")])
    'None or a number in (0, inf)'
    """
    options = constraint if isinstance(constraint, list) else [constraint]
    return _or(["None" if c is None else str(c) for c in options])


def _match(constraint, value: Any) -> Constraint | None | bool:
    """The first option of ``constraint`` that holds ``value`` (``True`` for ``None``)."""
    for option in constraint if isinstance(constraint, list) else [constraint]:
        if option is None:
            if value is None:
                return True
        elif option.contains(value):
            return option
    return False


@dataclass(frozen=True)
class Relation:
    """A rule between fields: ``check(settings)`` must hold, else ``field`` is reported.

    ``text`` states the rule ("must be ..."), and ``others`` names the fields whose values the
    message shows beside the field's own.
    """

    field: str
    text: str
    check: Callable[[Any], bool]
    others: tuple[str, ...] = ()


class Settings:
    """Base of the settings dataclasses: validation, ``to_dict`` and ``from_dict``.

    Subclasses are ``@dataclass(frozen=True, kw_only=True)`` and declare ``_constraints``
    (every field), optionally ``_relations`` and ``_nested`` (field -> settings class).
    """

    _constraints: ClassVar[dict[str, Any]] = {}
    _relations: ClassVar[tuple[Relation, ...]] = ()
    _nested: ClassVar[dict[str, type]] = {}

    def __post_init__(self) -> None:
        cls = type(self).__name__
        for f in fields(self):  # type: ignore[arg-type]
            if f.name not in self._constraints:
                continue
            constraint = self._constraints[f.name]
            value = getattr(self, f.name)
            option = _match(constraint, value)
            if option is False:
                raise ValueError(f"{cls}.{f.name} must be {describe(constraint)}, "
                                 f"got {value!r}")
            if isinstance(option, Constraint):
                converted = option.convert(value)
                if converted is not value:
                    object.__setattr__(self, f.name, converted)
        for rule in self._relations:
            if not rule.check(self):
                shown = ", ".join(f"{name} = {getattr(self, name)!r}" for name in rule.others)
                raise ValueError(f"{cls}.{rule.field} must be {rule.text}"
                                 + (f" ({shown})" if shown else "")
                                 + f", got {getattr(self, rule.field)!r}")

    def to_dict(self) -> dict:
        """Plain, JSON-safe dict of the settings: tuples as lists, nested settings as dicts."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore

    @classmethod
    def from_dict(cls, data: dict):
        """Build from a dict as :meth:`to_dict` gives it (or as read back from JSON), rejecting
        unknown keys; lists become tuples and the fields in ``_nested`` settings objects."""
        reject_unknown_keys(cls, data)
        return cls(**{k: _rebuild(v, cls._nested.get(k)) for k, v in data.items()})


def _plain(value: Any) -> Any:
    if isinstance(value, Settings):
        return value.to_dict()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def _rebuild(value: Any, nested: type | None) -> Any:
    if nested is not None and isinstance(value, dict):
        return nested.from_dict(value)
    if isinstance(value, (list, tuple)):
        return tuple(_rebuild(v, nested) for v in value)
    return value


def reject_unknown_keys(cls: type, data: dict) -> None:
    """Raise ``ValueError`` if ``data`` holds keys that are not fields of dataclass ``cls``."""
    valid = {f.name for f in fields(cls)}
    unknown = set(data) - valid
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys {sorted(unknown)}; valid: {sorted(valid)}")
