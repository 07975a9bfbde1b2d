"""Tabulated travel times (eikonet/table.py) against the network, an exact layered solution,
an interpolant's exactness on trilinear functions, and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from obspy_hyposvi.eikonet.model import load_model
from obspy_hyposvi.eikonet.table import PhaseTables, TableCache, TableExtent, TravelTimeTable
from obspy_hyposvi.reference.layered_exact import layered_travel_time
from obspy_hyposvi.velocity import socal_1d

EXTENT = TableExtent(80.0, (0.0, 30.0), (-2.0, 0.0))


class _TrilinearModel:
    """A stand-in 1D model whose tau is trilinear in (offset, z_s, z_r): a trilinear
    interpolant must reproduce it exactly (extrapolation included), in float64."""

    geometry, phase, name, metadata = "1d", "P", "trilinear", {}
    depth_range_km, max_offset_km = (-3.0, 60.0), 400.0
    device, dtype = torch.device("cpu"), torch.float64

    class net:  # noqa: N801 - mimics the model's ``net`` attribute
        @staticmethod
        def tau(offset, z_s, z_r):
            return 0.2 + 1e-4 * offset - 2e-3 * z_s + 1e-3 * z_r + 2e-5 * offset * z_s \
                - 1e-5 * z_s * z_r + 3e-6 * offset * z_s * z_r


def _points(n: int, seed: int, extent: TableExtent = EXTENT):
    gen = np.random.default_rng(seed)
    offset = extent.max_offset_km * gen.random(n) ** 2  # more points near the source
    z_s = gen.uniform(*extent.source_depth_km, n)
    z_r = gen.uniform(*extent.receiver_depth_km, n)
    src = np.stack([np.zeros(n), np.zeros(n), z_s], axis=1)
    rcv = np.stack([offset * np.cos(1.0), offset * np.sin(1.0), z_r], axis=1)
    return src, rcv


def test_table_reproduces_a_trilinear_tau_exactly_and_its_gradient():
    model = _TrilinearModel()
    table = TravelTimeTable(model, EXTENT, (2.0, 0.5, 0.5))
    src, rcv = _points(500, 1)
    src[:5, 2] = [-2.9, 35.0, 31.0, 0.0, 30.0]  # beyond the extent: extrapolated, still exact
    s = torch.tensor(src, dtype=torch.float64, requires_grad=True)
    r = torch.tensor(rcv, dtype=torch.float64)
    t_table = table.travel_time_torch(s, r)
    offset = torch.linalg.norm(r[:, :2] - s[:, :2], dim=-1)
    distance = torch.sqrt(offset**2 + (s[:, 2] - r[:, 2]) ** 2)
    exact = distance * model.net.tau(offset, s[:, 2], r[:, 2])
    np.testing.assert_allclose(t_table.detach().numpy(), exact.detach().numpy(), rtol=1e-10)
    (g_table,) = torch.autograd.grad(t_table.sum(), s)
    (g_exact,) = torch.autograd.grad(exact.sum(), s)
    np.testing.assert_allclose(g_table.numpy(), g_exact.numpy(), rtol=1e-9, atol=1e-7)


def test_table_gradient_matches_finite_differences_of_the_table():
    # gradcheck: the analytic backward against central differences of the interpolant itself
    table = TravelTimeTable(_TrilinearModel(), EXTENT, (1.0, 0.25, 0.25))
    # a non-trilinear tau would do as well; points well inside cells keep the differences in one
    src = torch.tensor([[1.13, 2.37, 7.61], [10.4, -3.3, 21.07]], dtype=torch.float64,
                       requires_grad=True)
    rcv = torch.tensor([[30.2, 5.1, -0.61], [-12.3, 40.6, -1.37]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda s: table.travel_time_torch(s, rcv), (src,),
                                    eps=1e-7, atol=1e-7)


@pytest.fixture(scope="module")
def p_model():
    return load_model("socal-1d", "P")


@pytest.mark.parametrize("phase, rms_s, max_s", [("P", 2e-4, 2.5e-3), ("S", 3.5e-4, 4e-3)])
def test_table_matches_the_network_within_a_few_milliseconds(phase, rms_s, max_s):
    # at the default spacing (module docstring, 40 000 points: P 0.15 ms RMS, 1.7 ms at most;
    # S 0.27 / 3.1 ms); the network is 14-22 ms from the exact times, picks err >= 10 ms
    model = load_model("socal-1d", phase)
    table = TravelTimeTable(model, EXTENT)
    src, rcv = _points(20_000, 2)
    s = torch.tensor(src, dtype=torch.float64)
    r = torch.tensor(rcv, dtype=torch.float64)
    diff = (table.travel_time_torch(s, r) - model.travel_time_torch(s, r)).numpy()
    assert np.sqrt(np.mean(diff**2)) < rms_s
    assert np.abs(diff).max() < max_s


def test_table_is_as_close_to_the_exact_layered_times_as_the_network(p_model):
    # the exact first arrivals of the velocity model the checkpoint was trained on: the table
    # adds no error a location would notice to the network's own
    table = TravelTimeTable(p_model, EXTENT)
    src, rcv = _points(3000, 3)
    s = torch.tensor(src, dtype=torch.float64)
    r = torch.tensor(rcv, dtype=torch.float64)
    offset = np.hypot(*(rcv[:, :2] - src[:, :2]).T)
    exact = layered_travel_time(socal_1d(), "P", offset, src[:, 2], rcv[:, 2])
    err_net = p_model.travel_time_torch(s, r).numpy() - exact
    err_table = table.travel_time_torch(s, r).numpy() - exact
    rms_net, rms_table = np.sqrt(np.mean(err_net**2)), np.sqrt(np.mean(err_table**2))
    assert rms_table < rms_net + 2e-4
    assert np.abs(err_table).max() < np.abs(err_net).max() + 2e-3


def test_table_gradient_points_the_way_of_the_network_gradient(p_model):
    table = TravelTimeTable(p_model, EXTENT)
    src, rcv = _points(2000, 4)
    keep = np.hypot(*(rcv[:, :2] - src[:, :2]).T) > 2.0  # away from the source's cone tip
    s1 = torch.tensor(src[keep], dtype=torch.float64, requires_grad=True)
    s2 = torch.tensor(src[keep], dtype=torch.float64, requires_grad=True)
    r = torch.tensor(rcv[keep], dtype=torch.float64)
    (g_table,) = torch.autograd.grad(table.travel_time_torch(s1, r).sum(), s1)
    (g_net,) = torch.autograd.grad(p_model.travel_time_torch(s2, r).sum(), s2)
    # |grad T| is a slowness (0.13-0.18 s/km here): piecewise-constant cells of 0.25-1 km
    # keep it within a few thousandths of one
    err = (g_table - g_net).norm(dim=-1).numpy()
    assert np.median(err) < 2e-3
    assert np.quantile(err, 0.99) < 1e-2


def test_table_refuses_3d_models_and_bad_spacing(p_model):
    class Model3D:
        geometry, name = "3d", "box"

    with pytest.raises(ValueError, match="only 1D models"):
        TravelTimeTable(Model3D(), EXTENT)
    with pytest.raises(ValueError, match="three positive steps"):
        TravelTimeTable(p_model, EXTENT, (1.0, 0.0, 0.25))
    with pytest.raises(ValueError, match="empty or negative"):
        TableExtent(10.0, (5.0, 1.0), (0.0, 0.0))


def test_cache_reuses_a_covering_table_and_grows_one_that_does_not():
    model = _TrilinearModel()
    cache = TableCache((2.0, 0.5, 0.5))
    first = cache.table(model, EXTENT)
    assert cache.table(model, TableExtent(40.0, (1.0, 20.0), (-1.0, 0.0))) is first
    wider = cache.table(model, TableExtent(120.0, (5.0, 45.0), (-1.0, 0.0)))
    assert wider is not first
    # the union of both requests, rounded outward
    assert wider.covers(EXTENT) and wider.extent.max_offset_km >= 120.0
    assert wider.extent.source_depth_km == (0.0, 45.0)


class _OtherTrilinearModel(_TrilinearModel):
    """A second phase: another trilinear tau, so that a mixed-up channel shows."""

    phase = "S"

    class net:  # noqa: N801 - mimics the model's ``net`` attribute
        @staticmethod
        def tau(offset, z_s, z_r):
            return 0.35 - 2e-4 * offset + 1e-3 * z_s + 2e-3 * z_r + 1e-5 * offset * z_r


def test_phase_tables_give_each_point_its_own_phase_table_and_gradient():
    # one grid_sample over both phases' grids against each phase's own table: the same
    # trilinear interpolant, so equal to round-off (float64 here), gradients included
    p, s = (TravelTimeTable(m, EXTENT, (2.0, 0.5, 0.5))
            for m in (_TrilinearModel(), _OtherTrilinearModel()))
    stacked = PhaseTables((p, s))
    src, rcv = _points(400, 5)
    phase = torch.tensor(np.arange(400) % 3 == 0, dtype=torch.int64)  # every third point S
    src_t = torch.tensor(src, dtype=torch.float64, requires_grad=True)
    rcv_t = torch.tensor(rcv, dtype=torch.float64)
    got = stacked.travel_time_torch(src_t, rcv_t, phase)
    src_ref = torch.tensor(src, dtype=torch.float64, requires_grad=True)
    want = torch.where(phase == 1, s.travel_time_torch(src_ref, rcv_t),
                       p.travel_time_torch(src_ref, rcv_t))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    (g_got,) = torch.autograd.grad(got.sum(), src_t)
    (g_want,) = torch.autograd.grad(want.sum(), src_ref)
    np.testing.assert_allclose(g_got.numpy(), g_want.numpy(), rtol=1e-9, atol=1e-12)


def test_phase_tables_broadcast_sources_against_slots_as_the_engine_does(p_model):
    # (events, particles, 1, 3) sources against (events, 1, slots, 3) receivers, one phase
    # index per slot; the bundled float32 network's table, float64 positions in a UTM frame
    s_model = load_model("socal-1d", "S")
    extent = TableExtent(60.0, (0.0, 20.0), (-1.0, 0.0))
    tables = [TravelTimeTable(m, extent) for m in (p_model, s_model)]
    stacked = PhaseTables(tables)
    gen = torch.Generator().manual_seed(0)
    centre = torch.tensor([500.0, 3700.0, 0.0], dtype=torch.float64)
    sources = (centre + torch.rand(2, 5, 1, 3, generator=gen, dtype=torch.float64)
               * torch.tensor([20.0, 20.0, 18.0], dtype=torch.float64))
    receivers = centre + torch.rand(2, 1, 7, 3, generator=gen, dtype=torch.float64) \
        * torch.tensor([40.0, 40.0, -1.0], dtype=torch.float64)
    phase = torch.tensor([0, 0, 0, 0, 1, 1, 1])
    got = stacked.travel_time_torch(sources, receivers, phase)
    assert got.shape == (2, 5, 7) and got.dtype == torch.float64
    want = torch.cat([tables[0].travel_time_torch(sources, receivers[:, :, :4]),
                      tables[1].travel_time_torch(sources, receivers[:, :, 4:])], dim=-1)
    # float32 grids: the two interpolations round differently, well under a microsecond
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=2e-6)


def test_phase_tables_need_tables_of_one_grid():
    a = TravelTimeTable(_TrilinearModel(), EXTENT, (2.0, 0.5, 0.5))
    b = TravelTimeTable(_OtherTrilinearModel(), EXTENT, (1.0, 0.5, 0.5))
    c = TravelTimeTable(_OtherTrilinearModel(), TableExtent(90.0, (0.0, 30.0), (-2.0, 0.0)),
                        (2.0, 0.5, 0.5))
    assert not PhaseTables.compatible((a, b)) and not PhaseTables.compatible((a, c))
    assert not PhaseTables.compatible((a,)) and not PhaseTables.compatible((a, _TrilinearModel()))
    with pytest.raises(ValueError, match="one extent, spacing"):
        PhaseTables((a, b))


def test_cache_tables_of_exact_float64_times_are_float32_within_their_interpolation_error():
    """The locator's tables of an exact layered model (float64) are float32, as a network's:
    the EDT pair terms take the tables' dtype, and float32's round-off (~5 us at 60 s) is far
    below the interpolation's ~1 ms (float64 tables made a catalogue run 1.7x slower)."""
    from obspy_hyposvi.eikonet.layered import layered_model

    model = layered_model(socal_1d(), "P")
    assert model.dtype == torch.float64
    table = TableCache().table(model, EXTENT)
    assert table.dtype == torch.float32 and table.grid.dtype == torch.float32
    assert TravelTimeTable(model, EXTENT).dtype == torch.float64  # built directly: the model's
    src, rcv = _points(300, 3)
    t = table.travel_time_torch(torch.tensor(src), torch.tensor(rcv)).numpy()
    offset = np.hypot(*(rcv[:, :2] - src[:, :2]).T)
    exact = np.array([layered_travel_time(socal_1d(), "P", np.array([o]), zs, np.array([zr]))[0]
                      for o, zs, zr in zip(offset, src[:, 2], rcv[:, 2])])
    assert np.sqrt(np.mean((t - exact) ** 2)) < 2e-3 and np.abs(t - exact).max() < 25e-3
