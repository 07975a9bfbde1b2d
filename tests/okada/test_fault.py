"""Geographic wrapper: conventions, symmetry, strain, torch.func gradients and Hessians."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from obspy_hyposvi.errors import InputError
from obspy_hyposvi.geo import Projection
from obspy_hyposvi.okada import dc3d
from obspy_hyposvi.okada.fault import (RectangularFault, displacement_hessian,
                                       displacement_jacobian, fault_displacement, okada_enu)

#: symmetric/antisymmetric pairs are computed from mirrored float64 inputs: rounding only
SYMMETRY_RTOL = 1e-10
SYMMETRY_ATOL = 1e-14
#: central differences of step 1e-5 on smooth O(1e-2) outputs
FD_STEP = 1e-5
FD_RTOL = 1e-6


def test_vertical_strike_slip_symmetry():
    """Fault-parallel displacement is odd, fault-normal and vertical even... across the fault."""
    x = torch.tensor([3.0, -7.0, 12.5], dtype=torch.float64)
    y = torch.tensor([2.0, 5.0, 0.7], dtype=torch.float64)
    fault = (0.0, 6.0, 90.0, -10.0, 10.0, -5.0, 5.0, 1.0, 0.0, 0.0)
    u_pos, _, _ = dc3d(2 / 3, x, y, *fault[:1], *fault[1:])
    u_neg, _, _ = dc3d(2 / 3, x, -y, *fault[:1], *fault[1:])
    # strike slip on a vertical fault: ux(x, -y) = -ux(x, y), uy even, uz odd
    np.testing.assert_allclose(u_neg[:, 0], -u_pos[:, 0], rtol=SYMMETRY_RTOL, atol=SYMMETRY_ATOL)
    np.testing.assert_allclose(u_neg[:, 1], u_pos[:, 1], rtol=SYMMETRY_RTOL, atol=SYMMETRY_ATOL)
    np.testing.assert_allclose(u_neg[:, 2], -u_pos[:, 2], rtol=SYMMETRY_RTOL, atol=SYMMETRY_ATOL)
    # and the along-strike mirror of a centred fault: ux even, uy and uz odd in x
    u_mx, _, _ = dc3d(2 / 3, -x, y, *fault[:1], *fault[1:])
    np.testing.assert_allclose(u_mx[:, 0], u_pos[:, 0], rtol=SYMMETRY_RTOL, atol=SYMMETRY_ATOL)
    np.testing.assert_allclose(u_mx[:, 1:], -u_pos[:, 1:], rtol=SYMMETRY_RTOL, atol=SYMMETRY_ATOL)


def test_thrust_uplifts_hanging_wall_and_footwall_subsides():
    # strike north, dip 30 east, reverse; a surface-breaking fault: trace at east = 0
    w = 20.0
    params = torch.tensor([0.5 * w * np.cos(np.radians(30)), 0.0, 0.5 * w * 0.5, 0.0, 30.0, 90.0,
                           1.0, 40.0, w], dtype=torch.float64)
    st = torch.tensor([[8.0, 0.0], [-5.0, 0.0]], dtype=torch.float64)
    disp, _ = okada_enu(params, st)
    assert disp[0, 2] > 0.05  # hanging wall (east) up
    assert disp[1, 2] < 0  # footwall down
    assert disp[0, 0] < 0  # hanging wall thrust westwards, up dip


def test_enu_rotation_is_consistent_with_strike():
    """Rotating the whole problem by 90 deg of strike rotates the displacement."""
    p = torch.tensor([1.0, 2.0, 7.0, 10.0, 50.0, 30.0, 1.0, 15.0, 8.0], dtype=torch.float64)
    st = torch.tensor([[4.0, -3.0], [-6.0, 9.0]], dtype=torch.float64)
    q = p.clone()
    q[3] += 90.0
    q[0], q[1] = p[1], -p[0]
    st_r = torch.stack([st[:, 1], -st[:, 0]], -1)  # (e, n) -> (n, -e): 90 deg clockwise
    d, s = okada_enu(p, st)
    d_r, s_r = okada_enu(q, st_r)
    np.testing.assert_allclose(d_r[:, 0], d[:, 1], rtol=SYMMETRY_RTOL, atol=SYMMETRY_ATOL)
    np.testing.assert_allclose(d_r[:, 1], -d[:, 0], rtol=SYMMETRY_RTOL, atol=SYMMETRY_ATOL)
    np.testing.assert_allclose(d_r[:, 2], d[:, 2], rtol=SYMMETRY_RTOL, atol=SYMMETRY_ATOL)
    # strain is symmetric and its trace is invariant
    torch.testing.assert_close(s, s.transpose(-1, -2))
    torch.testing.assert_close(s.diagonal(dim1=-2, dim2=-1).sum(-1),
                               s_r.diagonal(dim1=-2, dim2=-1).sum(-1))


def test_strain_matches_finite_difference_of_displacement():
    p = torch.tensor([1.0, 2.0, 7.0, 10.0, 50.0, 30.0, 1.0, 15.0, 8.0], dtype=torch.float64)
    st = torch.tensor([[4.0, -3.0]], dtype=torch.float64)
    _, strain = okada_enu(p, st)
    e = torch.tensor([[FD_STEP, 0.0]], dtype=torch.float64)
    d_plus, _ = okada_enu(p, st + e)
    d_minus, _ = okada_enu(p, st - e)
    dudx = (d_plus - d_minus)[0] / (2 * FD_STEP) * 1e-3  # per km -> per m
    np.testing.assert_allclose(float(strain[0, 0, 0]), float(dudx[0]), rtol=FD_RTOL)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_jacobians_and_hessian():
    p = torch.tensor([1.0, 2.0, 7.0, 10.0, 50.0, 30.0, 1.0, 15.0, 8.0], dtype=torch.float64)
    st = torch.tensor([[4.0, -3.0], [10.0, 12.0]], dtype=torch.float64)
    jac = displacement_jacobian(p, st)
    assert jac.shape == (2, 3, 9) and torch.isfinite(jac).all()
    for k in range(9):
        dp = torch.zeros(9, dtype=torch.float64)
        dp[k] = FD_STEP
        fd = (okada_enu(p + dp, st)[0] - okada_enu(p - dp, st)[0]) / (2 * FD_STEP)
        np.testing.assert_allclose(jac[..., k], fd, rtol=FD_RTOL, atol=1e-10)
    jst = displacement_jacobian(p, st, wrt="stations")
    assert jst.shape == (2, 3, 2)
    _, strain = okada_enu(p, st)
    # d(ue)/d(east) per km -> strain_ee per m
    np.testing.assert_allclose(jst[:, 0, 0] * 1e-3, strain[:, 0, 0], rtol=1e-10)
    hess = displacement_hessian(p, st)
    assert hess.shape == (2, 3, 9, 9) and torch.isfinite(hess).all()
    torch.testing.assert_close(hess, hess.transpose(-1, -2))


def test_batched_faults_broadcast():
    p = torch.tensor([[1.0, 2.0, 7.0, 10.0, 50.0, 30.0, 1.0, 15.0, 8.0],
                      [0.0, 0.0, 9.0, 100.0, 80.0, -60.0, 2.0, 10.0, 6.0]], dtype=torch.float64)
    st = torch.tensor([[4.0, -3.0], [10.0, 12.0], [-2.0, 0.5]], dtype=torch.float64)
    d, s = okada_enu(p, st)
    assert d.shape == (2, 3, 3) and s.shape == (2, 3, 3, 3)
    torch.testing.assert_close(d[1], okada_enu(p[1], st)[0])


def test_geographic_wrapper():
    f = RectangularFault(lon_deg=10.0, lat_deg=45.0, depth_km=10.0, strike_deg=0.0,
                         dip_deg=90.0, rake_deg=0.0, slip_m=1.0, length_km=30.0, width_km=10.0)
    dlon = 0.1
    out = fault_displacement(f, [10.0 - dlon, 10.0 + dlon], [45.0, 45.0])
    d = out["displacement_enu_m"]
    # left-lateral on a north-striking fault: the east side moves north, the west side south
    assert d[1, 1] > 0 > d[0, 1]
    np.testing.assert_allclose(d[0, 1], -d[1, 1], rtol=1e-3)  # UTM is not exactly symmetric
    proj = Projection.for_points([10.0], [45.0])
    params = f.to_params(proj)
    assert params.shape == (9,)


@pytest.mark.parametrize("bad", [dict(dip_deg=95.0), dict(slip_m=-1.0), dict(depth_km=1.0)])
def test_fault_validation(bad):
    kw = dict(lon_deg=10.0, lat_deg=45.0, depth_km=10.0, strike_deg=0.0, dip_deg=60.0,
              rake_deg=0.0, slip_m=1.0, length_km=30.0, width_km=10.0)
    kw.update(bad)
    with pytest.raises(InputError):
        RectangularFault(**kw)
