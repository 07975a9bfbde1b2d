"""Exact layered travel times used as a travel-time model (eikonet/layered.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from obspy_hyposvi import Locator
from obspy_hyposvi.eikonet.layered import EXACT_KIND, exact_counterpart, layered_model
from obspy_hyposvi.eikonet.model import load_model
from obspy_hyposvi.eikonet.pairing import check_model_pair
from obspy_hyposvi.eikonet.table import TableExtent, TravelTimeTable
from obspy_hyposvi.errors import CheckpointError, InputError, OutsideModelDomainError
from obspy_hyposvi.reference.layered_exact import layered_travel_time
from obspy_hyposvi.velocity import Layered1D, Nodes1D, socal_1d

#: |grad_source T| = 1 / v(source) (the eikonal equation) to this relative error: the central
#: differences' truncation (~1e-9 s/km) and the solver's round-off (~1e-12 s over 1e-3 km).
EIKONAL_RTOL = 1e-5
#: A table of the exact times at the default spacing (2 km in offset), against the exact
#: times, s: RMS and largest error. Trilinear interpolation rounds the kinks of the first
#: arrival (crossovers of direct and head waves): measured P 0.6 / 10 ms, S 1.1 / 17.5 ms over
#: 2000 random pairs (the socal-1d networks: 14-22 ms RMS).
TABLE_RMS_S, TABLE_MAX_S = 2e-3, 25e-3


def _points(rng, n, max_offset=150.0, depth=(-1.0, 40.0)):
    sources = np.column_stack([rng.uniform(-10, 10, (n, 2)), rng.uniform(*depth, n)])
    azimuth = rng.uniform(0, 2 * np.pi, n)
    offset = rng.uniform(1.0, max_offset, n)
    receivers = np.column_stack([sources[:, 0] + offset * np.cos(azimuth),
                                 sources[:, 1] + offset * np.sin(azimuth),
                                 rng.uniform(-2.0, 0.0, n)])
    return sources, receivers


@pytest.mark.parametrize("phase", ["P", "S"])
def test_gradient_obeys_the_eikonal_equation(phase):
    """An independent check of values and gradient together: the travel time's gradient at
    the source has the length of the slowness there, for direct rays and head waves alike."""
    velocity = socal_1d()
    model = layered_model(velocity, phase)
    sources, receivers = _points(np.random.default_rng(0), 200)
    # keep sources off the interfaces, where the slowness jumps
    tops = np.asarray(velocity.depth_km)
    near = np.min(np.abs(sources[:, 2, None] - tops[None, :]), axis=1) < 0.01
    sources, receivers = sources[~near], receivers[~near]
    src = torch.tensor(sources, dtype=torch.float64, requires_grad=True)
    t = model.travel_time_torch(src, torch.tensor(receivers, dtype=torch.float64))
    (grad,) = torch.autograd.grad(t.sum(), src)
    slowness = 1.0 / velocity.velocity(sources[:, 2], phase)
    np.testing.assert_allclose(grad.norm(dim=1).numpy(), slowness, rtol=EIKONAL_RTOL)
    assert np.all(t.detach().numpy() > 0)


@pytest.mark.parametrize("phase", ["P", "S"])
def test_a_table_of_the_exact_times_matches_them(phase):
    model = layered_model(socal_1d(), phase)
    table = TravelTimeTable(model, TableExtent(160.0, (-1.0, 40.0), (-2.0, 0.0)))
    sources, receivers = _points(np.random.default_rng(1), 2000)
    src, rcv = (torch.tensor(a, dtype=torch.float64) for a in (sources, receivers))
    error = table.travel_time_torch(src, rcv).numpy() - model.travel_time(sources, receivers)
    assert np.sqrt(np.mean(error**2)) < TABLE_RMS_S
    assert np.abs(error).max() < TABLE_MAX_S


def test_domain_pairing_and_layers_from_gradients():
    from obspy_hyposvi.eikonet.layered import DEFAULT_DEPTH_KM, DEFAULT_MAX_OFFSET_KM
    from obspy_hyposvi.eikonet.train import TrainConfig

    # the default domain is a trained network's
    assert DEFAULT_MAX_OFFSET_KM == TrainConfig.max_offset_km
    assert DEFAULT_DEPTH_KM == (TrainConfig.depth_min_km, TrainConfig.depth_max_km)
    velocity = socal_1d()
    p = layered_model(velocity, "P", max_offset_km=100.0, depth_km=(-3.0, 30.0))
    assert p.metadata["kind"] == EXACT_KIND
    assert (p.depth_range_km, p.max_offset_km) == ((-3.0, 30.0), 100.0)
    with pytest.raises(OutsideModelDomainError, match="outside the valid domain"):
        p.travel_time([[0.0, 0.0, 10.0]], [[150.0, 0.0, 0.0]])
    # same velocity model (sha256) as the bundled networks: exact P pairs with a network S
    check_model_pair(p, load_model("socal-1d", "S"))
    other = Layered1D([0.0, 10.0], [5.0, 6.5], [2.9, 3.7], name="other")
    with pytest.raises(CheckpointError, match="different velocity models"):
        check_model_pair(p, layered_model(other, "S"))
    with pytest.raises(ValueError, match="phase"):
        layered_model(velocity, "Pn")
    with pytest.raises(ValueError, match="domain"):
        layered_model(velocity, "P", depth_km=(10.0, 0.0))
    # a gradient model is resampled into thin layers: close to the same model as layers
    nodes = Nodes1D([0.0, 40.0], [5.0, 7.0], [2.9, 4.0], name="ramp")
    t = layered_model(nodes, "P").travel_time([[0.0, 0.0, 10.0]], [[40.0, 0.0, 0.0]])
    assert 40.0 / 7.0 < t[0] < np.hypot(40.0, 10.0) / 5.0


def test_locator_on_exact_times_locates_synthetic_events(tmp_path):
    """End to end: a catalogue of exact layered arrivals (0.05 s noise) located on the exact
    times of its own velocity model, read from a NonLinLoc LAYER file, at default settings."""
    from obspy.geodetics import gps2dist_azimuth

    from obspy_hyposvi.bridge.synthetic import synthetic_catalog

    velocity = socal_1d()
    control = tmp_path / "model.in"
    control.write_text("".join(f"LAYER {z:g} {vp:g} 0 {vs:g} 0 2.7 0\n" for z, vp, vs in
                               zip(velocity.depth_km, velocity.vp_kmps, velocity.vs_kmps)))
    catalog, inventory, truth = synthetic_catalog(4, 25, seed=3, pick_noise_s=0.05)
    locator = Locator.from_velocity_model(control)
    assert locator.p_model.name.endswith("(P, exact)")
    report = locator.run(catalog, inventory)
    assert report.n_located == 4
    epicentre, depth = [], []
    for event, true in zip(report.catalog, truth):
        origin = event.preferred_origin()
        epicentre.append(gps2dist_azimuth(true["lat"], true["lon"], origin.latitude,
                                          origin.longitude)[0] / 1e3)
        depth.append(abs(origin.depth / 1e3 - true["depth_km"]))
    # clean picks, 25 stations: NonLinLoc's accuracy is ~0.1 km / 0.2 km (README)
    assert np.mean(epicentre) < 0.25 and np.mean(depth) < 0.5, (epicentre, depth)


def test_a_p_only_file_takes_its_s_velocities_from_a_ratio(tmp_path):
    crh = tmp_path / "model.crh"
    crh.write_text("test model\n 5.5  0.0\n 6.3  5.5\n")
    locator = Locator.from_velocity_model(crh, vp_vs_ratio=1.75)
    np.testing.assert_allclose(locator.s_model.net.velocity.vs_kmps, [5.5 / 1.75, 6.3 / 1.75])


def test_a_3d_model_file_is_refused_with_a_reason(tmp_path):
    from obspy_hyposvi.velocity import basin_demo_model

    path = tmp_path / "basin.npz"
    basin_demo_model().save_npz(path)
    with pytest.raises(InputError, match="1D velocity model"):
        Locator.from_velocity_model(path)


def test_checkpoints_of_a_layered_model_locate_on_its_exact_times():
    """The bundled socal-1d networks approximate a layered model: by default a locator built
    from them uses that model's exact first arrivals over their domain; the networks on
    request. Checked against the reference solver, point by point."""
    exact = Locator.from_model("socal-1d")
    networks = Locator.from_model("socal-1d", exact_layered=False)
    rng = np.random.default_rng(5)
    for phase, model, net in zip("PS", exact.models, networks.models):
        assert model.metadata["kind"] == EXACT_KIND and net.metadata.get("kind") != EXACT_KIND
        assert model.name == f"socal-1d ({phase}, exact)" and net.name == f"socal-1d ({phase})"
        assert model.domain == net.domain
        assert (model.metadata["velocity_model"]["sha256"]
                == net.metadata["velocity_model"]["sha256"])
        sources, receivers = _points(rng, 40)
        offsets = np.hypot(*(receivers[:, :2] - sources[:, :2]).T)
        expected = [layered_travel_time(socal_1d(), phase, np.array([o]), float(zs),
                                        np.array([zr]))[0]
                    for o, zs, zr in zip(offsets, sources[:, 2], receivers[:, 2])]
        np.testing.assert_allclose(model.travel_time(sources, receivers), expected,
                                   rtol=0, atol=1e-9)
        # the networks differ (else the default would change nothing)
        assert np.abs(net.travel_time(sources, receivers) - expected).max() > 1e-3
    assert exact_counterpart(exact.p_model) is None  # exact already


@pytest.mark.parametrize("metadata", [
    {"geometry": "3d", "velocity_model": {"kind": "grid_3d"}},
    {"geometry": "1d", "velocity_model": {"kind": "nodes_1d"}},
    {"geometry": "1d"},
])
def test_no_exact_counterpart_for_3d_networks_or_gradients(metadata):
    from types import SimpleNamespace

    assert exact_counterpart(SimpleNamespace(metadata=metadata)) is None
