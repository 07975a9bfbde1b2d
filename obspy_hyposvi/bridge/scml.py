"""SeisComP XML (SCML) output: schema versions, SeisComP's units, and schema validation.

ObsPy writes SCML by turning QuakeML into SCML with an XSLT stylesheet
(:mod:`obspy.io.seiscomp.event`). That stylesheet converts depths and the horizontal
uncertainties from m to km, as SeisComP's data model wants, but copies the latitude and
longitude uncertainties unchanged. QuakeML states them in degrees; SeisComP keeps them in km
(its LOCSAT and NonLinLoc plugins write km, and ``scolv``, its event lists and its FDSN event
service treat them as km: SeisComP3 issues #179 and #181). :func:`to_seiscomp_units` therefore
rewrites the origins this package made, on a copy, before ObsPy writes SCML:

- ``latitude.uncertainty``: degrees of latitude -> km north-south;
- ``longitude.uncertainty``: degrees of longitude -> km east-west (times cos(latitude));
- the origin comment that states the units says km.

Origins read from elsewhere are left as they are: an origin read from SCML already holds km
(ObsPy's reader does not convert either), one read from QuakeML holds degrees, and nothing in
the file says which. ObsPy reading our SCML back therefore gives km in ``latitude_errors`` and
``longitude_errors``, as SeisComP would.

Versions: 0.12 (SeisComP 5) is the oldest written; :func:`scml_versions` lists those the
installed ObsPy writes (0.12, 0.13 and 0.14 with ObsPy 1.5). :func:`schema_errors` checks a
written file against the schema ObsPy ships for its version (QuakeML against QuakeML 1.2's
RelaxNG schema, as ObsPy's own ``validate=True`` does) and returns the messages.
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path

from obspy import Catalog
from obspy.core.event import Origin
from obspy.geodetics import degrees2kilometers

from ..errors import InputError

__all__ = ["DEFAULT_SCML_VERSION", "MIN_SCML_VERSION", "check_scml_version", "schema_errors",
           "scml_versions", "to_seiscomp_units"]

#: SCML version written unless another is asked for: SeisComP 5 and later read it.
DEFAULT_SCML_VERSION = "0.12"
#: Oldest SCML version written (the first with ``OriginUncertainty.confidenceLevel``).
MIN_SCML_VERSION = "0.12"

#: SeisComP's wording for the units comment (see :data:`.origins.LATLON_DEGREES_TEXT`).
LATLON_KM_TEXT = ("latitude and longitude errors in km north-south and east-west "
                  "(SeisComP's convention)")

_ROOT_TAG = re.compile(r"{http://geofon\.gfz(?:-potsdam)?\.de/ns/seiscomp3?-schema/"
                       r"([0-9]+\.[0-9]+)}")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def scml_versions() -> tuple[str, ...]:
    """SCML versions the installed ObsPy writes, from :data:`MIN_SCML_VERSION` on, oldest
    first.

    Examples
    --------
    >>> "0.12" in scml_versions()
    True
    """
    from obspy.io.seiscomp.event import SCHEMA_VERSION

    keep = [v for v in SCHEMA_VERSION if _version_key(v) >= _version_key(MIN_SCML_VERSION)]
    return tuple(sorted(keep, key=_version_key))


def check_scml_version(version: str) -> str:
    """``version`` if ObsPy writes it and it is at least :data:`MIN_SCML_VERSION`.

    Raises
    ------
    InputError
        Naming the versions that can be written.
    """
    version = str(version).strip()
    available = scml_versions()
    if version not in available:
        raise InputError(f"SCML version {version!r} cannot be written; this ObsPy writes "
                         f"{', '.join(available)}")
    return version


def _is_ours(origin: Origin, namespace: str) -> bool:
    """Whether ``origin`` was made by this package (its ``extra`` is in our namespace)."""
    extra = getattr(origin, "extra", None) or {}
    return any(isinstance(v, dict) and v.get("namespace") == namespace for v in extra.values())


def _degrees_to_km(value: float | None, scale: float) -> float | None:
    return None if value is None else degrees2kilometers(float(value)) * scale


def _origin_to_km(origin: Origin, degrees_text: str) -> None:
    """Latitude/longitude errors of ``origin`` from degrees to km, in place."""
    cos_lat = math.cos(math.radians(origin.latitude)) if origin.latitude is not None else 1.0
    for errors, scale in ((origin.latitude_errors, 1.0), (origin.longitude_errors, cos_lat)):
        if errors is None:
            continue
        for name in ("uncertainty", "lower_uncertainty", "upper_uncertainty"):
            setattr(errors, name, _degrees_to_km(getattr(errors, name), scale))
    for comment in origin.comments:
        if comment.text and degrees_text in comment.text:
            comment.text = comment.text.replace(degrees_text, LATLON_KM_TEXT)


def to_seiscomp_units(catalog: Catalog) -> Catalog:
    """A copy of ``catalog`` whose origins made by this package state latitude and longitude
    errors in km, as SeisComP does; other origins are copied unchanged.

    Examples
    --------
    >>> from obspy.core.event import Event, QuantityError
    >>> from obspy_hyposvi.bridge.origins import NAMESPACE
    >>> origin = Origin(latitude=60.0, longitude=10.0,
    ...                 latitude_errors=QuantityError(uncertainty=0.01),
    ...                 longitude_errors=QuantityError(uncertainty=0.02))
    >>> origin.extra = {"n_particles": {"value": 150, "namespace": NAMESPACE}}
    >>> out = to_seiscomp_units(Catalog([Event(origins=[origin])])).events[0].origins[0]
    >>> round(out.latitude_errors.uncertainty, 4), round(out.longitude_errors.uncertainty, 4)
    (1.1119, 1.1119)
    >>> origin.latitude_errors.uncertainty  # the input is not changed
    0.01
    """
    from .origins import LATLON_DEGREES_TEXT, NAMESPACE

    out = copy.deepcopy(catalog)
    for event in out:
        for origin in event.origins:
            if _is_ours(origin, NAMESPACE):
                _origin_to_km(origin, LATLON_DEGREES_TEXT)
    return out


def _schema_path(kind: str, version: str | None = None) -> Path:
    """The schema ObsPy ships for QuakeML 1.2 (RelaxNG) or an SCML version (XSD)."""
    if kind == "QUAKEML":
        import obspy.io.quakeml

        return Path(obspy.io.quakeml.__file__).parent / "data" / "QuakeML-1.2.rng"
    import obspy.io.seiscomp
    from obspy.io.seiscomp.event import NEW_SCHEMA_VERSION

    name = f"scml_{version}.xsd" if version in NEW_SCHEMA_VERSION else f"sc3ml_{version}.xsd"
    return Path(obspy.io.seiscomp.__file__).parent / "data" / name


def schema_errors(path: str | Path, format: str, max_errors: int = 5) -> list[str]:
    """Schema violations of a written QuakeML or SCML file (empty if it validates).

    Parameters
    ----------
    path
        The file.
    format
        ``"QUAKEML"``, or ``"SCML"``/``"SC3ML"`` (the version is read from the root element).
    max_errors
        At most this many messages, each ``line N: message``.

    Raises
    ------
    InputError
        ``format`` has no schema here, or an SCML file names a version ObsPy has no schema of.
    """
    from lxml import etree

    kind = format.upper()
    doc = etree.parse(str(path))
    if kind == "QUAKEML":
        schema = etree.RelaxNG(etree.parse(str(_schema_path(kind))))
    elif kind in ("SCML", "SC3ML"):
        match = _ROOT_TAG.match(doc.getroot().tag)
        if match is None:
            root = doc.getroot()
            return [f"line {root.sourceline}: root element {root.tag!r} is not SeisComP XML"]
        xsd = _schema_path(kind, match.group(1))
        if not xsd.is_file():
            raise InputError(f"no schema for SCML version {match.group(1)} in this ObsPy")
        schema = etree.XMLSchema(etree.parse(str(xsd)))
    else:
        raise InputError(f"no schema to validate {format} against (QUAKEML or SCML)")
    if schema.validate(doc):
        return []
    return [f"line {entry.line}: {entry.message}" for entry in schema.error_log][:max_errors]
