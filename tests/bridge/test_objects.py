"""bridge._objects: copy_event and make give what copy.deepcopy and ObsPy's constructors give."""

from __future__ import annotations

import copy
import gc
import warnings

import numpy as np
import pytest
from obspy import Catalog, UTCDateTime, read_events
from obspy.core.event import (
    Arrival,
    Comment,
    ConfidenceEllipsoid,
    CreationInfo,
    Event,
    Origin,
    OriginQuality,
    OriginUncertainty,
    QuantityError,
    ResourceIdentifier,
)
from obspy.core.util.attribdict import AttribDict

from obspy_hyposvi.bridge._objects import copy_event, event_with_origin, make, paused_gc

from .conftest import make_event


def _rich_event() -> Event:
    """The bridge's test event with arrivals on its origin, extra of every kind, and a shared
    QuantityError (deepcopy keeps it shared)."""
    event = make_event()
    origin = event.origins[0]
    origin.arrivals = [Arrival(pick_id=pick.resource_id, phase=pick.phase_hint,
                               time_residual=0.1 * i) for i, pick in enumerate(event.picks)]
    origin.extra = {"mine": {"value": "x", "namespace": "http://example.org/ns"}}
    event.picks[0].extra = AttribDict({"note": {"value": 1.5, "namespace": "http://e.org/ns"}})
    shared = QuantityError(uncertainty=0.3)
    event.picks[1].time_errors = event.picks[2].time_errors = shared
    event.comments[0].creation_info = CreationInfo(author="me", creation_time=UTCDateTime(0))
    return event


def _exotic_event() -> Event:
    """Values copy_event leaves to copy.deepcopy: numpy in extra, an id inside a list."""
    event = _rich_event()
    event.extra = {"array": {"value": np.arange(3.0), "namespace": "http://e.org/ns"}}
    event.picks[0].extra = AttribDict({"ids": [ResourceIdentifier("smi:local/x")]})
    return event


EVENTS = {"obspy example": lambda: read_events()[0], "rich": _rich_event,
          "exotic": _exotic_event}


def _walk(obj, path=(), seen=None):
    """``(path, object)`` of every ObsPy object, list, dict, id and time below ``obj``."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, (ResourceIdentifier, UTCDateTime)):
        yield path, obj
    elif isinstance(obj, AttribDict):
        yield path, obj
        for key, value in obj.__dict__.items():
            yield from _walk(value, path + (key,), seen)
    elif isinstance(obj, (list, dict)):
        yield path, obj
        items = obj.items() if isinstance(obj, dict) else enumerate(obj)
        for key, value in items:
            yield from _walk(value, path + (key,), seen)


def _referred_paths(event):
    """``{path of an id: path of the object it refers to (None: outside the event)}``."""
    where = {id(obj): path for path, obj in _walk(event)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ObsPy's identity warnings would fail the test
        return {path: where.get(id(obj.get_referred_object()))
                for path, obj in _walk(event) if isinstance(obj, ResourceIdentifier)}


@pytest.mark.parametrize("name", list(EVENTS))
def test_copy_event_is_deepcopy(name, tmp_path):
    event = EVENTS[name]()
    before = copy.deepcopy(event)
    copied, expected = copy_event(event), copy.deepcopy(event)
    assert copied == expected == event == before
    assert type(copied) is Event
    # nothing mutable shared with the original
    originals = {id(obj) for _, obj in _walk(event)}
    assert not [path for path, obj in _walk(copied) if id(obj) in originals]
    # the same objects shared within the copy as within deepcopy's
    if name != "obspy example":
        assert copied.picks[1].time_errors is copied.picks[2].time_errors
    # every id refers to the same place of the copy as deepcopy's ids do in its copy
    assert _referred_paths(copied) == _referred_paths(expected)
    assert copied.preferred_origin() is copied.origins[0]
    if name == "exotic":
        return  # QuakeML has no place for its extra
    # and the files written are the same
    for target, path in [(copied, tmp_path / "a.xml"), (expected, tmp_path / "b.xml")]:
        Catalog([target], resource_id=ResourceIdentifier("smi:local/c")).write(
            str(path), format="QUAKEML")
    assert (tmp_path / "a.xml").read_bytes() == (tmp_path / "b.xml").read_bytes()


def test_event_with_origin_is_deepcopy_append_and_scope():
    event, origin = _rich_event(), Origin(time=UTCDateTime(1), latitude=1.0, longitude=2.0)
    origin.arrivals = [Arrival(pick_id=event.picks[0].resource_id, phase="P")]
    located = event_with_origin(event, origin)
    expected = copy.deepcopy(event)
    expected.origins.append(copy.deepcopy(origin))
    expected.preferred_origin_id = expected.origins[-1].resource_id
    expected.scope_resource_ids()
    assert located == expected
    assert located.preferred_origin() is located.origins[-1]
    assert located.origins[-1] is not origin
    assert (located.origins[-1].arrivals[0].pick_id.get_referred_object()
            is located.picks[0])
    assert _referred_paths(located) == _referred_paths(expected)


FIELDS = {
    Arrival: dict(pick_id=ResourceIdentifier("smi:local/p/1"), phase="P", distance=0.5,
                  azimuth=120.0, takeoff_angle=95.5, time_residual=-0.125, time_weight=1.0,
                  comments=[Comment(text="x")]),
    Origin: dict(resource_id=ResourceIdentifier("smi:local/o/1"), time=UTCDateTime(2020, 1, 1),
                 latitude=34.0, longitude=-117.0, depth=8000.0,
                 depth_errors=QuantityError(uncertainty=100.0, confidence_level=68.27),
                 depth_type="from location", origin_type="hypocenter",
                 method_id=ResourceIdentifier("smi:local/method"),
                 evaluation_mode="automatic", evaluation_status="preliminary",
                 creation_info=CreationInfo(agency_id="A", author="B", version="1")),
    OriginQuality: dict(associated_phase_count=11, used_phase_count=8, standard_error=0.05,
                        azimuthal_gap=120.0, minimum_distance=0.1),
    OriginUncertainty: dict(horizontal_uncertainty=500.0, max_horizontal_uncertainty=800.0,
                            confidence_ellipsoid=ConfidenceEllipsoid(semi_major_axis_length=9.0),
                            preferred_description="confidence ellipsoid",
                            confidence_level=68.27),
    Comment: dict(text="hello", creation_info=CreationInfo(author="me")),
    CreationInfo: dict(agency_id="A", creation_time=UTCDateTime(0)),
    ConfidenceEllipsoid: dict(semi_major_axis_length=3.0, major_axis_plunge=10.0),
}


@pytest.mark.parametrize("cls", list(FIELDS), ids=lambda cls: cls.__name__)
def test_make_is_the_constructor(cls):
    fields = FIELDS[cls]
    made, built = make(cls, **copy.deepcopy(fields)), cls(**copy.deepcopy(fields))
    # the same attributes, values and types but for a new random resource id
    assert ({k: v for k, v in made.__dict__.items() if k != "resource_id"}
            == {k: v for k, v in built.__dict__.items() if k != "resource_id"})
    assert list(made.__dict__) == list(built.__dict__)  # same attributes, same order
    assert ({k: type(v) for k, v in made.__dict__.items()}
            == {k: type(v) for k, v in built.__dict__.items()})
    errors = [key for key in built.__dict__ if key.endswith("_errors")]
    assert len({id(getattr(made, key)) for key in errors}) == len(errors)  # not shared
    if "resource_id" in built.__dict__:
        assert made.resource_id.get_referred_object() is made
        if "resource_id" not in fields:  # a new random one, as ObsPy's
            assert made.resource_id != built.resource_id
            assert str(made.resource_id).startswith("smi:local/")


def test_make_refuses_a_misspelt_attribute():
    with pytest.raises(TypeError, match="no attribute 'phaze'"):
        make(Arrival, phaze="P")


def test_make_in_scope_binds_as_scope_resource_ids():
    event = copy_event(_rich_event())
    arrival = make(Arrival, scope=event, pick_id=ResourceIdentifier(
        str(event.picks[0].resource_id)), phase="P")
    origin = make(Origin, scope=event, arrivals=[arrival], time=UTCDateTime(5),
                  latitude=1.0, longitude=1.0)
    event.origins.append(origin)
    bound = _referred_paths(event)
    event.scope_resource_ids()
    assert _referred_paths(event) == bound
    assert arrival.pick_id.get_referred_object() is event.picks[0]
    assert origin.resource_id.get_referred_object() is origin


@pytest.mark.parametrize("enabled", [True, False])
def test_paused_gc_restores_the_collector(enabled):
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with pytest.raises(RuntimeError), paused_gc():
            assert not gc.isenabled()
            raise RuntimeError("boom")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
