"""Locate real-format example events with the bundled checkpoints, end to end.

This file holds the default run's one end-to-end location test: the bundled example catalogue
(QuakeML picks, StationXML, ``truth.csv``), the bundled socal-1d checkpoints, ``Locator.run``
with its default three catalogue passes (error model estimated from the catalogue), reduced
SVGD sizes, and the result checked against the true hypocentres.
"""

import copy
import csv
import io

import numpy as np
import pytest
import torch
from obspy import Catalog, UTCDateTime, read_events, read_inventory
from obspy.geodetics import gps2dist_azimuth

import obspy_hyposvi
from obspy_hyposvi import Locator, SVGDConfig
from obspy_hyposvi.bridge.examples import example_dir
from obspy_hyposvi.errors import InputError
from obspy_hyposvi.reference.layered_exact import layered_travel_time
from obspy_hyposvi.velocity import model_from_dict

EXAMPLES = example_dir()
#: 60 particles x 80 epochs in each pass: ~30 s of CPU for the 6 events on a busy machine.
#: Every event converges at this size (48 x 60 left one event's particles ungathered).
FAST = SVGDConfig(n_particles=60, n_epochs=80, seed=0)
# What the example's truth supports: ~45 picks per event (25 P, ~20 S) with 0.05 s Gaussian
# noise (scripts/make_example_data.py) under 25 stations in a 60 km square. The stated
# posterior standard deviations are 0.1-0.3 km in depth and 0.1-0.2 km horizontally; the
# bundled models add a near-uniform ~0.02 s delay (their validation's mean dT), which moves
# hypocentres ~0.1 km deeper. Measured at these settings (seeds 0-2): epicentres 0.02-0.22 km,
# depths -0.08..+0.18 km, origin times within 0.02 s of the truth. The bounds leave ~2.5x
# room; the full-size demo reports its mean errors against the issue targets (0.5 / 1.0 km).
EPICENTRE_KM = 0.5
DEPTH_KM = 0.5
ORIGIN_TIME_S = 0.05
#: The truth must also lie within this many of the event's stated standard deviations
#: (per axis, depth, and horizontally from the covariance's trace): the uncertainties are honest.
N_SIGMA = 3.0


@pytest.fixture(scope="module")
def example():
    catalog = read_events(str(EXAMPLES / "picks.xml"))
    inventory = read_inventory(str(EXAMPLES / "stations.xml"))
    with open(EXAMPLES / "truth.csv") as f:
        truth = {row["event_id"]: row for row in csv.DictReader(f)}
    return catalog, inventory, truth


@pytest.fixture(scope="module")
def report(example):
    catalog, inventory, _ = example
    # the bundled networks themselves (by default a locator uses the exact first arrivals of
    # socal-1d, which they approximate: the CLI tests run that path)
    locator = Locator.from_model("socal-1d", exact_layered=False, svgd=FAST)
    return locator.run(catalog, inventory)


def test_example_events_located_at_their_true_hypocentres(report, example):
    catalog, _, truth = example
    assert report.n_located == len(catalog) == 6 and report.n_failed == 0
    # the default run estimates the error model from the catalogue (3 passes)
    assert "estimated from" in "\n".join(report.summary_lines())
    for event, result in zip(report.catalog, report.results):
        origin = event.preferred_origin()
        true = truth[str(event.resource_id)]
        assert result.event_id == str(event.resource_id)
        assert result.converged and origin.evaluation_status != "rejected"
        dist_m, _, _ = gps2dist_azimuth(origin.latitude, origin.longitude, float(true["lat"]),
                                        float(true["lon"]))
        depth_error_km = origin.depth / 1e3 - float(true["depth_km"])  # QuakeML depth in m
        sigma_z_km = np.sqrt(result.covariance_km2[2, 2])
        sigma_h_km = np.sqrt(np.trace(result.covariance_km2[:2, :2]))
        where = f"event {event.resource_id}"
        assert dist_m / 1e3 < EPICENTRE_KM, where
        assert abs(depth_error_km) < DEPTH_KM, where
        assert abs(origin.time - UTCDateTime(true["time"])) < ORIGIN_TIME_S, where
        assert dist_m / 1e3 < N_SIGMA * sigma_h_km, where
        assert abs(depth_error_km) < N_SIGMA * sigma_z_km, where
        assert origin.origin_uncertainty.confidence_ellipsoid.semi_major_axis_length > 0
        assert len(origin.arrivals) == len(event.picks)


def test_input_untouched_and_quakeml_valid(example, report, tmp_path):
    catalog, inventory, _ = example
    before = copy.deepcopy(catalog)
    Locator.from_model("socal-1d", svgd=SVGDConfig(n_particles=10, n_epochs=2)).locate(
        catalog, inventory)
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
    rep = Locator.from_model("socal-1d", svgd=SVGDConfig(n_particles=20, n_epochs=20)).run(
        mixed, inventory)
    assert rep.n_located == 1 and rep.n_failed == 1
    event_id, reason = rep.failures[0]
    assert event_id == str(bad.resource_id) and "usable" in reason
    assert rep.catalog[0] == bad  # kept unchanged
    with pytest.raises(InputError, match="empty"):
        Locator.from_model("socal-1d").run(Catalog(), inventory)


#: Issue 2's accuracy targets of the bundled checkpoints: (median, 99th percentile) |dT|, s.
TARGETS_S = {"P": (0.02, 0.10), "S": (0.03, 0.15)}


@pytest.mark.parametrize("phase", ["P", "S"])
def test_bundled_models_against_the_exact_layered_solution(phase):
    """Recompute the checkpoints' stated accuracy independently of training's validate_1d.

    Fresh random pairs in the stated validation domain (offsets 0-250 km, sources 0-40 km
    deep, receivers -2..0 km) go through the runtime path (``TravelTimeModel.travel_time`` on
    xyz positions in km, azimuths included) and are compared with the exact layered first
    arrivals of :mod:`obspy_hyposvi.reference.layered_exact`, in the velocity model stored in the
    checkpoint. The velocity comes from ``|grad T|`` with respect to the *source* (training
    validated it at the receiver), away from the layer jumps. The recomputed figures must meet
    the targets and agree with the ones the checkpoint states (``hyposvi models`` prints them).
    """
    model = obspy_hyposvi.load_model("socal-1d", phase)
    stated = model.metadata["validation"]
    velocity = model_from_dict(model.metadata["velocity_model"])
    assert (stated["max_offset_km"], stated["source_depth_km"],
            stated["receiver_depth_km"]) == (250.0, [0.0, 40.0], [-2.0, 0.0])
    rng = np.random.default_rng(2026)  # not training's validation seed
    n = 5000
    offset = rng.uniform(0.0, 250.0, n)
    azimuth = rng.uniform(0.0, 2.0 * np.pi, n)
    z_source = rng.uniform(0.0, 40.0, n)
    z_receiver = rng.uniform(-2.0, 0.0, n)
    sources = np.column_stack([np.full(n, 5.0), np.full(n, -3.0), z_source])
    receivers = sources + np.column_stack([offset * np.cos(azimuth), offset * np.sin(azimuth),
                                           z_receiver - z_source])
    error = model.travel_time(sources, receivers) - layered_travel_time(
        velocity, phase, offset, z_source, z_receiver)
    median, p99 = np.median(np.abs(error)), np.percentile(np.abs(error), 99)
    # measured: P 0.0176 / 0.0946 s, S 0.0245 / 0.146 s (stated 0.0174 / 0.0929, 0.0243 / 0.144)
    assert median <= TARGETS_S[phase][0] and p99 <= TARGETS_S[phase][1]
    # 5000 pairs: the median to ~2 %, the 99th percentile (50 pairs beyond it) to ~10 %
    assert median == pytest.approx(stated["median_abs_dt_s"], rel=0.05)
    assert p99 == pytest.approx(stated["p99_abs_dt_s"], rel=0.10)
    assert np.mean(error) == pytest.approx(stated["mean_dt_s"], abs=0.002)

    depth = rng.uniform(0.0, 40.0, n)
    depth = depth[np.all(np.abs(depth[:, None] - velocity.depth_km[None, :]) > 0.5, axis=1)]
    far = rng.uniform(1.0, 250.0, depth.size)
    source = torch.tensor(np.column_stack([np.zeros_like(depth), np.zeros_like(depth), depth]),
                          requires_grad=True)
    station = torch.tensor(np.column_stack([far, np.zeros_like(far), np.full(far.size, -1.0)]))
    (gradient,) = torch.autograd.grad(model.travel_time_torch(source, station).sum(), source)
    dv = 1.0 / gradient.norm(dim=-1).numpy() - velocity.velocity(depth, phase)
    # the paper's velocity figure: 0.05 km/s; measured 0.0027 (P), 0.0016 (S) km/s
    assert np.median(np.abs(dv)) < 0.05
    assert np.median(np.abs(dv)) == pytest.approx(stated["median_abs_dv_kmps"], abs=0.002)
