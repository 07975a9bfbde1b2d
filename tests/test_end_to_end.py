"""Locate real-format example events with the bundled checkpoints, end to end."""

import copy
import csv
import io
from pathlib import Path

import numpy as np
import pytest
from obspy import Catalog, read_events, read_inventory
from obspy.geodetics import gps2dist_azimuth

import obspy_hyposvi
from obspy_hyposvi import Locator, SVGDConfig
from obspy_hyposvi.errors import InputError

EXAMPLES = Path(obspy_hyposvi.__file__).resolve().parent / "data" / "examples"
# Reduced particles/epochs keep the test fast; the bounds are several times the errors the
# full benchmark measures (0.4 km epicentre, ~2 km depth with the current checkpoints).
EPICENTRE_KM = 2.0
DEPTH_KM = 6.0
FAST = SVGDConfig(n_particles=60, n_epochs=80)


@pytest.fixture(scope="module")
def example():
    catalog = read_events(str(EXAMPLES / "picks.xml"))
    inventory = read_inventory(str(EXAMPLES / "stations.xml"))
    with open(EXAMPLES / "truth.csv") as f:
        truth = {row["event_id"]: row for row in csv.DictReader(f)}
    return catalog[:3], inventory, truth


@pytest.fixture(scope="module")
def report(example):
    catalog, inventory, _ = example
    return Locator.from_model("socal-1d", svgd=FAST).run(catalog, inventory)


def test_events_located_near_truth(report, example):
    _, _, truth = example
    assert report.n_located == 3 and report.n_failed == 0
    for event in report.catalog:
        origin = event.preferred_origin()
        true = truth[str(event.resource_id)]
        dist_m, _, _ = gps2dist_azimuth(origin.latitude, origin.longitude, float(true["lat"]),
                                        float(true["lon"]))
        assert dist_m / 1e3 < EPICENTRE_KM
        assert abs(origin.depth / 1e3 - float(true["depth_km"])) < DEPTH_KM  # QuakeML depth in m
        assert origin.origin_uncertainty.confidence_ellipsoid.semi_major_axis_length > 0
        assert len(origin.arrivals) == len(event.picks)


def test_input_untouched_and_quakeml_valid(example, report, tmp_path):
    catalog, inventory, _ = example
    before = copy.deepcopy(catalog)
    Locator.from_model("socal-1d", svgd=SVGDConfig(n_particles=10, n_epochs=2)).locate(catalog, inventory)
    assert catalog == before
    for event, orig in zip(report.catalog, catalog):
        assert len(event.origins) == len(orig.origins) + 1
        assert len(event.picks) == len(orig.picks)
    buf = io.BytesIO()
    report.catalog.write(buf, format="QUAKEML", validate=True)


def test_bad_events_are_reported_and_the_rest_located(example):
    catalog, inventory, _ = example
    bad = catalog[0].copy()
    bad.picks = bad.picks[:3]
    mixed = Catalog([bad, catalog[1].copy()])
    rep = Locator.from_model("socal-1d", svgd=SVGDConfig(n_particles=20, n_epochs=20)).run(mixed, inventory)
    assert rep.n_located == 1 and rep.n_failed == 1
    event_id, reason = rep.failures[0]
    assert event_id == str(bad.resource_id) and "usable" in reason
    assert rep.catalog[0] == bad  # kept unchanged
    with pytest.raises(InputError, match="empty"):
        Locator.from_model("socal-1d").run(Catalog(), inventory)


def test_bundled_models_meet_velocity_accuracy():
    # the recovered velocity is the paper's own accuracy figure (0.05 km/s)
    for phase in ("P", "S"):
        meta = obspy_hyposvi.load_model("socal-1d", phase).metadata
        assert meta["validation"]["median_abs_dv_kmps"] < 0.05
        assert np.isfinite(meta["validation"]["median_abs_dt_s"])
