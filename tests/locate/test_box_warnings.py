"""Warnings for search-box limits that cut an event's sampled posterior (issue 12)."""

import logging

import numpy as np

from obspy_hyposvi.locate.engine import _pressing, log_quality
from obspy_hyposvi.locate.result import LocationResult

BOX = (np.array([0.0, 0.0, -2.0]), np.array([100.0, 100.0, 30.0]))


def test_a_cloud_inside_the_box_raises_no_warning():
    rng = np.random.default_rng(0)
    cloud = rng.normal([50.0, 50.0, 10.0], [0.3, 0.3, 0.6], (150, 3))
    assert _pressing(cloud, BOX) == []


def test_a_cloud_cut_by_the_models_depth_limit_is_named():
    rng = np.random.default_rng(1)
    cloud = rng.normal([50.0, 50.0, 29.0], [0.3, 0.3, 1.5], (150, 3))
    cloud[:, 2] = np.minimum(cloud[:, 2], 30.0)  # clamped at the box's bottom, as SVGD does
    share = np.mean(30.0 - cloud[:, 2] < 0.02 * 32.0)
    warnings = _pressing(cloud, BOX)
    assert len(warnings) == 1
    assert "bottom (deepest depth) limit (30.0 km)" in warnings[0]
    assert f"{share:.0%} of the sampled particles" in warnings[0]
    # a few strays at the west wall (under a tenth) do not count
    cloud[:10, 0] = 0.5
    assert len(_pressing(cloud, BOX)) == 1


def test_warnings_of_located_events_are_logged(caplog):
    # only the fields log_quality reads
    res = LocationResult.__new__(LocationResult)
    res.__dict__.update(event_id="ev1", quality_note="", warnings=("cut here",), extra={})
    with caplog.at_level(logging.WARNING, logger="obspy_hyposvi.locate.engine"):
        log_quality([res])
    assert "event ev1: cut here" in caplog.text
