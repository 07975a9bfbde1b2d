"""Every settings class: declared constraints, validation messages, to_dict/from_dict."""

import dataclasses
import json
import math
import re

import pytest

from obspy_hyposvi.bridge.picks import PickConfig
from obspy_hyposvi.eikonet.train import TrainConfig
from obspy_hyposvi.eikonet.train3d import Train3DConfig
from obspy_hyposvi.locate.catalogue import EstimationConfig
from obspy_hyposvi.locate.likelihood import ErrorModel, LikelihoodConfig
from obspy_hyposvi.locate.engine import SearchConfig
from obspy_hyposvi.locate.summary import SummaryConfig
from obspy_hyposvi.locate.svgd import SVGDConfig
from obspy_hyposvi.settings import (
    InstanceOf,
    Interval,
    Options,
    Settings,
    TupleOf,
    describe,
)

CLASSES = [SVGDConfig, LikelihoodConfig, ErrorModel, SummaryConfig, SearchConfig,
           EstimationConfig, PickConfig, TrainConfig, Train3DConfig]

#: Settings off the defaults, with tuples and nested settings, for the round trips.
EXAMPLES = [
    SVGDConfig(n_particles=32, kernel_width=None),
    LikelihoodConfig(power=3.0, error_model=(ErrorModel(fraction=0.05), ErrorModel(min_s=0.2))),
    LikelihoodConfig(error_model=ErrorModel(max_s=1.0), prior_error_model=ErrorModel(min_s=0)),
    SearchConfig(depth_km=(-2.0, 30.0), batch_size=8, table_spacing_km=(2, 0.5, 0.5)),
    PickConfig(p_phases=("P", "Pn"), skip_rejected=False),
    EstimationConfig(station_term_sigma_s=0.1),
    Train3DConfig(box_min_km=(0.0, 0.0, -2.0), box_max_km=(40.0, 40.0, 20.0)),
]


def _outside(option):
    """Values outside one declared option (any of them may fall in another option)."""
    if option is None:
        return ["not None"]
    if isinstance(option, Interval):
        values = []
        if option.left is not None:
            values.append(option.left if option.closed in ("right", "neither")
                          else option.left - 1)
        if option.right is not None and math.isfinite(option.right):
            values.append(option.right if option.closed in ("left", "neither")
                          else option.right + 1)
        if option.right is not None and option.closed in ("left", "neither"):
            values.append(math.inf)
        if option.kind is int:
            values.append(2.5)
        return values + [float("nan"), True, "1"]
    if isinstance(option, Options):
        return ["no such option", 0]
    if isinstance(option, InstanceOf):
        return [object()]
    if isinstance(option, TupleOf):
        values = ["a bare string", [object()]]
        if option.length is not None:
            values.append((1.0,) * (option.length + 1))
        if option.min_length:
            values.append(())
        if option.increasing:
            values.append((2.0, 1.0))
        return values
    raise AssertionError(f"no outside values for {option!r}")


def _rejected_values(constraint):
    options = constraint if isinstance(constraint, list) else [constraint]
    from obspy_hyposvi.settings import _match

    return [v for option in options for v in _outside(option) if _match(constraint, v) is False]


CASES = [(cls, name, value) for cls in CLASSES for name, constraint in cls._constraints.items()
         for value in _rejected_values(constraint)]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_defaults_are_valid_and_every_field_is_declared(cls):
    assert issubclass(cls, Settings)
    cls()
    assert set(cls._constraints) == {f.name for f in dataclasses.fields(cls)}
    for rule in cls._relations:
        assert rule.field in cls._constraints and set(rule.others) <= set(cls._constraints)


@pytest.mark.parametrize("settings", [cls() for cls in CLASSES] + EXAMPLES,
                         ids=lambda s: type(s).__name__)
def test_round_trip_through_dict_and_json(settings):
    cls = type(settings)
    data = settings.to_dict()
    assert cls.from_dict(data) == settings
    again = json.loads(json.dumps(data))
    assert again == data  # to_dict is JSON-safe already
    rebuilt = cls.from_dict(again)
    assert rebuilt == settings
    for f in dataclasses.fields(cls):  # tuples come back as tuples, nested settings as objects
        assert type(getattr(rebuilt, f.name)) is type(getattr(settings, f.name))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_unknown_key_is_rejected(cls):
    data = {**cls().to_dict(), "no_such_setting": 1}
    with pytest.raises(ValueError, match=f"unknown {cls.__name__} keys \\['no_such_setting'\\]"):
        cls.from_dict(data)


@pytest.mark.parametrize("cls, name, value", CASES,
                         ids=[f"{c.__name__}.{n}={v!r}" for c, n, v in CASES])
def test_each_constraint_rejects_values_outside_it(cls, name, value):
    allowed = describe(cls._constraints[name])
    expected = f"{cls.__name__}.{name} must be {allowed}, got "
    with pytest.raises(ValueError, match="^" + re.escape(expected)):
        cls(**{name: value})


def test_every_class_has_a_rejected_value_for_each_field():
    covered = {(c, n) for c, n, _ in CASES}
    assert covered == {(c, n) for c in CLASSES for n in c._constraints}


@pytest.mark.parametrize("make, message", [
    (lambda: SVGDConfig(final_learning_rate=3.0),
     "SVGDConfig.final_learning_rate must be <= learning_rate (learning_rate = 2.0), got 3.0"),
    (lambda: ErrorModel(min_s=1.0, max_s=0.5),
     "ErrorModel.max_s must be >= min_s (min_s = 1.0), got 0.5"),
    (lambda: PickConfig(default_sigma_s=0.001),
     "PickConfig.default_sigma_s must be >= min_sigma_s (min_sigma_s = 0.01), got 0.001"),
    (lambda: PickConfig(s_phases=("S", "P")), "PickConfig.s_phases must be disjoint from "
     "p_phases (p_phases = ('P', 'Pg', 'Pn', 'Pb', 'p')), got ('S', 'P')"),
    (lambda: TrainConfig(depth_min_km=10.0, depth_max_km=5.0),
     "TrainConfig.depth_max_km must be > depth_min_km (depth_min_km = 10.0), got 5.0"),
    (lambda: Train3DConfig(box_min_km=(0, 0, 0)), "Train3DConfig.box_max_km must be given "
     "with box_min_km and above it on every axis (box_min_km = (0, 0, 0)), got None"),
    (lambda: Train3DConfig(box_min_km=(0, 0, 0), box_max_km=(10, 10, -1)),
     "Train3DConfig.box_max_km must be given with box_min_km and above it on every axis"),
])
def test_relations_between_fields(make, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        make()


def test_special_cases_and_conversions():
    assert str(Interval(int, 2, None)) == "an int in [2, inf)"
    with pytest.raises(ValueError, match=re.escape("SVGDConfig.n_particles must be an int in "
                                                   "[2, inf), got 1")):
        SVGDConfig(n_particles=1)
    # SearchConfig.batch_size: 'auto' or an int >= 1; depth_km a (min, max) pair
    assert SearchConfig(batch_size=1).batch_size == 1
    with pytest.raises(ValueError, match=re.escape("'auto' or an int in [1, inf), got 'big'")):
        SearchConfig(batch_size="big")
    assert SearchConfig(depth_km=[0, 10]).depth_km == (0, 10)
    with pytest.raises(ValueError, match=r"pair \(min, max\) of numbers with min < max"):
        SearchConfig(depth_km=(5.0, 5.0))
    # table steps stored as a tuple of floats
    assert SearchConfig(table_spacing_km=[1, 1, 1]).table_spacing_km == (1.0, 1.0, 1.0)
    # LikelihoodConfig.error_model: 'auto', an ErrorModel or one per phase (list -> tuple)
    em = [ErrorModel(), ErrorModel(fraction=0.2)]
    assert LikelihoodConfig(error_model=em).error_model == tuple(em)
    with pytest.raises(ValueError, match="'auto', an ErrorModel or a tuple of at least 1 "
                                         "ErrorModels, got"):
        LikelihoodConfig(error_model=())
    # numpy integers are ints
    np = pytest.importorskip("numpy")
    assert SVGDConfig(n_particles=np.int64(8)).n_particles == 8


def test_one_min_picks():
    """``SearchConfig.min_picks`` is the only setting of it (PickConfig has none)."""
    assert "min_picks" not in {f.name for f in dataclasses.fields(PickConfig)}
    with pytest.raises(TypeError):
        PickConfig(min_picks=4)  # type: ignore[call-arg]
    assert SearchConfig().min_picks == 4
    with pytest.raises(ValueError, match=re.escape("SearchConfig.min_picks must be an int in "
                                                   "[3, inf), got 2")):
        SearchConfig(min_picks=2)


def test_old_helper_module_still_imports():
    from obspy_hyposvi._settings import check_ranges, reject_unknown_keys

    with pytest.raises(ValueError, match=re.escape("SVGDConfig.n_particles must be an int in "
                                                   "[2, inf), got 150")):
        check_ranges(SVGDConfig(), {"n_particles": False})
    with pytest.raises(ValueError, match="unknown SVGDConfig keys"):
        reject_unknown_keys(SVGDConfig, {"x": 1})
