"""Who located an origin, how, and in which Earth model: ids and texts for QuakeML/SeisComP.

- ``creationInfo``: ``agencyID`` and ``author`` are the user's (``hyposvi locate --agency
  --author``, ``Locator(agency_id=..., author=...)``); QuakeML allows 64 and 128 characters.
- ``methodID``: ``smi:local/obspy_hyposvi/hyposvi-svgd-<likelihood>/<version>``, stable for a
  method and release (``hyposvi-svgd-edt`` or ``hyposvi-svgd-gaussian``); the settings of the
  run (particles, epochs, EDT power, error model, model) go in a comment
  (:func:`settings_text`), which SeisComP XML keeps, and in ``origin.extra``.
- ``earthModelID``: ``smi:local/obspy_hyposvi/earth_model/<model name>``; the velocity model's
  SHA-256 stays in ``origin.extra`` (``hyposvi:model``) and in the settings comment.

Every id matches QuakeML's ``ResourceReference`` pattern; SeisComP takes any string and keeps
it as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..errors import InputError

__all__ = ["DEFAULT_AGENCY", "ID_PREFIX", "check_agency", "check_author", "earth_model_id",
           "method_id", "method_name", "settings_text"]

#: Default ``agencyID`` and ``author`` of the origins written.
DEFAULT_AGENCY = "obspy_hyposvi"
#: Prefix of every id this package writes.
ID_PREFIX = "smi:local/obspy_hyposvi"

#: QuakeML 1.2 BED limits (``CreationInfo``).
_MAX_AGENCY_CHARS = 64
_MAX_AUTHOR_CHARS = 128


def _id_part(text: str) -> str:
    """``text`` as one path segment of a QuakeML ``ResourceReference`` (``[\\w.-]``)."""
    part = re.sub(r"[^\w.\-]", "_", str(text).strip())
    return part or "unnamed"


def method_name(likelihood_kind: str) -> str:
    """``hyposvi-svgd-<likelihood>``: the method, named by its likelihood.

    Examples
    --------
    >>> method_name("edt"), method_name("gaussian")
    ('hyposvi-svgd-edt', 'hyposvi-svgd-gaussian')
    """
    return f"hyposvi-svgd-{_id_part(likelihood_kind).lower()}"


def method_id(likelihood_kind: str, version: str) -> str:
    """The ``methodID`` of an origin: method and package version.

    Examples
    --------
    >>> method_id("edt", "0.3.0")
    'smi:local/obspy_hyposvi/hyposvi-svgd-edt/0.3.0'
    """
    return f"{ID_PREFIX}/{method_name(likelihood_kind)}/{_id_part(version)}"


def earth_model_id(model_info: Mapping) -> str | None:
    """The ``earthModelID``: the model's name, or its SHA-256 (16 digits) if it has none.

    Returns None when ``model_info`` names neither.

    Examples
    --------
    >>> earth_model_id({"name": "socal-1d", "velocity_sha256": "6af7e223"})
    'smi:local/obspy_hyposvi/earth_model/socal-1d'
    >>> earth_model_id({"velocity_sha256": "ab12" * 16})
    'smi:local/obspy_hyposvi/earth_model/ab12ab12ab12ab12'
    >>> earth_model_id({}) is None
    True
    """
    name = str(model_info.get("name") or "").strip()
    if not name:
        name = str(model_info.get("velocity_sha256") or "")[:16]
    return f"{ID_PREFIX}/earth_model/{_id_part(name)}" if name else None


def settings_text(extra: Mapping, model_info: Mapping, version: str,
                  confidence_level: float) -> str:
    """One line with the method and the settings of the run that made an origin.

    ``extra`` is a :class:`~obspy_hyposvi.locate.result.LocationResult`'s ``extra``; missing
    entries are left out.

    Examples
    --------
    >>> settings_text({"likelihood": "edt", "n_particles": 150, "n_epochs": 175,
    ...                "edt_power": "3(n-1)/2"}, {"name": "socal-1d", "velocity_sha256": "6af7"},
    ...               "0.3.0", 68.27)  # doctest: +NORMALIZE_WHITESPACE
    'obspy_hyposvi 0.3.0 method hyposvi-svgd-edt: SVGD, 150 particles, 175 epochs;
     likelihood edt, EDT power 3(n-1)/2; earth model socal-1d (velocity model sha256 6af7);
     errors at 68.27 % confidence'
    """
    kind = str(extra.get("likelihood", "edt"))
    parts = [f"obspy_hyposvi {version} method {method_name(kind)}: SVGD"]
    if "n_particles" in extra:
        parts.append(f", {extra['n_particles']} particles")
    if "n_epochs" in extra:
        parts.append(f", {extra['n_epochs']} epochs")
    parts.append(f"; likelihood {kind}")
    if kind == "edt" and extra.get("edt_power") is not None:
        parts.append(f", EDT power {extra['edt_power']}")
    if model_info.get("name") or model_info.get("velocity_sha256"):
        parts.append(f"; earth model {model_info.get('name') or 'unnamed'}")
        if model_info.get("velocity_sha256"):
            parts.append(f" (velocity model sha256 {model_info['velocity_sha256']})")
    parts.append(f"; errors at {confidence_level:g} % confidence")
    return "".join(parts)


def check_agency(agency_id: str) -> str:
    """``agency_id`` stripped, or :class:`~obspy_hyposvi.errors.InputError` if QuakeML would
    refuse it (empty, or more than 64 characters)."""
    return _check_text(agency_id, "agency id", _MAX_AGENCY_CHARS)


def check_author(author: str) -> str:
    """``author`` stripped, or :class:`~obspy_hyposvi.errors.InputError` if QuakeML would
    refuse it (empty, or more than 128 characters)."""
    return _check_text(author, "author", _MAX_AUTHOR_CHARS)


def _check_text(text: str, what: str, max_chars: int) -> str:
    value = str(text).strip()
    if not value:
        raise InputError(f"the {what} is empty")
    if len(value) > max_chars:
        raise InputError(f"the {what} {value[:20]!r}... has {len(value)} characters; QuakeML "
                         f"allows at most {max_chars}")
    return value
