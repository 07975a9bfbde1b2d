"""Gradients of DC3D/DC3D0: gradcheck on regular and adversarial points, no NaN anywhere."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.autograd import gradcheck

from obspy_hyposvi.okada import dc3d, dc3d0

#: gradcheck's finite-difference step; equal to the Fortran EPS, and central, so it never
#: samples a snapped value itself
FD_EPS = 1e-6
#: central differences of step 1e-6 on O(1) outputs: truncation + rounding ~1e-8, with margin
GC_ATOL = 1e-6
GC_RTOL = 1e-4
#: step for points on the snapping thresholds (a coordinate exactly 0): the perturbed coordinate
#: must leave |v| < 1e-6 for every input (dip in degrees moves q by ~1e-5 per 1e-3 deg), so the
#: difference sees the smooth function, not the flat snapped one; O(h^2) error ~1e-6
FD_EPS_SNAPPED = 1e-3
#: dip step (deg) of the reference derivative at a vertical fault: the general branch loses
#: ~eps/cos^2 to cancellation, so steps below ~0.05 deg are noise-dominated; the 4th-order
#: difference keeps the truncation error ~1e-9 relative at 0.2 deg
DIP_STEP_DEG = 0.2
DIP_RTOL = 1e-4

ALPHA = 2 / 3
# x, y, z, depth, dip, al1, al2, aw1, aw2, disl1, disl2, disl3
GENERIC = np.array([
    [2.0, 3.0, -1.0, 4.0, 70.0, 0.0, 3.0, 0.0, 2.0, 1.0, 0.5, 0.2],
    [-5.3, 1.7, -0.01, 8.0, 35.0, -4.0, 6.0, -3.0, 2.5, -0.7, 1.1, 0.0],
    [12.0, -9.0, -2.5, 10.0, 88.0, -10.0, 10.0, -5.0, 5.0, 0.3, 0.0, 0.4],
    [1.0, 1.0, -0.3, 3.0, 15.0, -2.0, 2.0, -1.0, 1.0, 0.0, 0.0, 1.0],
])


def _cases(rows):
    return [torch.tensor(np.asarray(rows)[:, i], dtype=torch.float64, requires_grad=True)
            for i in range(12)]


def _wrap(func, alpha=ALPHA):
    def f(*args):
        u, du, _ = func(alpha, *args)
        return u, du
    return f


def test_gradcheck_generic():
    assert gradcheck(_wrap(dc3d), _cases(GENERIC), eps=FD_EPS, atol=GC_ATOL, rtol=GC_RTOL)


def test_gradcheck_alpha():
    alpha = torch.tensor([0.6, 0.7, 0.55, 0.8], dtype=torch.float64, requires_grad=True)
    rest = [torch.as_tensor(GENERIC[:, i]) for i in range(12)]
    assert gradcheck(lambda a: dc3d(a, *rest)[:2], (alpha,), eps=FD_EPS, atol=GC_ATOL,
                     rtol=GC_RTOL)


def _adversarial():
    """Stations on the traps of a line-by-line translation (fault: dip 60, depth 5)."""
    sd, cd = np.sin(np.radians(60.0)), np.cos(np.radians(60.0))
    base = [5.0, 60.0, -3.0, 4.0, -2.0, 2.0, 0.8, 0.0, 0.0]  # depth..disl3, dip-slip zero
    rows = []
    # on the fault plane (q = 0) outside the rectangle, up dip and along strike
    for along, updip in [(1.0, 3.0), (6.0, 0.5), (-5.0, -3.0)]:
        y, z = updip * cd, -(5.0 - updip * sd)
        rows.append([along, y, z] + base)
    # on the extension of the strike edges (eta = q = 0 for the real source)
    y, z = -2.0 * cd, -(5.0 + 2.0 * sd)
    rows.append([-7.0, y, z] + base)   # negative side: KXI branch
    rows.append([8.0, y, z] + base)    # positive side
    # x on the edges' planes (xi = 0) at a generic y, z
    rows.append([-3.0, 1.3, -2.2] + base)
    return rows


def test_gradcheck_surface_points():
    """z = 0: a forward difference in z would leave the half-space, so z is held fixed."""
    base = [5.0, 60.0, -3.0, 4.0, -2.0, 2.0, 0.8, 0.0, 0.3]
    surface_breaking = [2.0, 45.0, -3.0, 4.0, 0.0, 2.0 / np.sin(np.radians(45.0)), 1.0, 0.5, 0.0]
    rows = [[4.0, 2.0, 0.0] + base, [0.5, 7.0, 0.0] + base,
            [1.0, 0.0, 0.0] + surface_breaking, [5.0, -1.0, 0.0] + surface_breaking]
    args = _cases(rows)
    args[2].requires_grad_(False)
    assert (dc3d(ALPHA, *args)[2] == 0).all()
    assert gradcheck(_wrap(dc3d), args, eps=FD_EPS_SNAPPED, atol=GC_ATOL, rtol=GC_RTOL)


def test_gradcheck_adversarial_points():
    rows = _adversarial()
    args = _cases(rows)
    u, du, iret = dc3d(ALPHA, *args)
    assert (iret == 0).all()
    assert gradcheck(_wrap(dc3d), args, eps=FD_EPS_SNAPPED, atol=GC_ATOL, rtol=GC_RTOL)


@pytest.mark.parametrize("dip", [0.0, 90.0])
def test_gradcheck_special_dips(dip):
    rows = GENERIC.copy()
    rows[:, 4] = dip
    args = _cases(rows)
    # at 90 deg the snapped cos(dip) makes the function flat in dip within +-1e-6 deg, so the
    # dip derivative is checked against a wider difference below
    if dip == 90.0:
        args[4].requires_grad_(False)
    assert gradcheck(_wrap(dc3d), args, eps=FD_EPS_SNAPPED, atol=GC_ATOL, rtol=GC_RTOL)


@pytest.mark.parametrize("row", range(len(GENERIC)))
def test_dip_derivative_at_vertical(row):
    """d/d(dip) at a snapped vertical dip equals the derivative of the smooth function."""
    vals = GENERIC[row].copy()
    vals[4] = 90.0
    dip = torch.tensor(90.0, dtype=torch.float64, requires_grad=True)
    args = [torch.tensor(v, dtype=torch.float64) for v in vals]
    u, du, _ = dc3d(ALPHA, *args[:4], dip, *args[5:])
    out = torch.cat([u, du])
    grad = torch.stack([torch.autograd.grad(o, dip, retain_graph=True)[0] for o in out])

    def at(d):
        u, du, _ = dc3d(ALPHA, *args[:4], d, *args[5:])
        return torch.cat([u, du])

    h = DIP_STEP_DEG
    # fourth-order central difference from the regular branch on both sides
    fd = (-at(90 + 2 * h) + 8 * at(90 + h) - 8 * at(90 - h) + at(90 - 2 * h)) / (12 * h)
    assert grad.abs().max() > 0
    np.testing.assert_allclose(grad.numpy(), fd.numpy(), rtol=DIP_RTOL,
                               atol=DIP_RTOL * float(fd.abs().max()))


def test_derivative_wrt_zero_slip_is_the_unit_response():
    vals = [torch.tensor(v, dtype=torch.float64) for v in GENERIC[1]]
    disl = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    u, du, _ = dc3d(ALPHA, *vals[:9], disl[0], disl[1], disl[2])
    assert not u.detach().any()
    for comp in range(3):
        grad = torch.stack([torch.autograd.grad(u[i], disl, retain_graph=True)[0][comp]
                            for i in range(3)])
        unit = [0.0, 0.0, 0.0]
        unit[comp] = 1.0
        expected, _, _ = dc3d(ALPHA, *vals[:9], *unit)
        assert expected.abs().max() > 0
        torch.testing.assert_close(grad, expected, rtol=1e-12, atol=0.0)


def test_singular_and_positive_z_have_zero_finite_gradients():
    # on the edge of the DC3D manual fault; and z > 0
    pts = torch.tensor([[-80.0, 0.0, -50.0], [10.0, 20.0, 30.0]], dtype=torch.float64,
                       requires_grad=True)
    fault = (50.0, 70.0, -80.0, 120.0, -30.0, 25.0, 200.0, -150.0, 100.0)
    u, du, iret = dc3d(ALPHA, pts[:, 0], pts[:, 1], pts[:, 2], *fault)
    assert iret.tolist() == [1, 2]
    (g,) = torch.autograd.grad((u.sum() + du.sum()), pts)
    assert torch.isfinite(g).all() and not g.any()


def test_gradients_finite_on_reference_cases(okada_reference_dir):
    ref = np.load(okada_reference_dir / "dc3d_cases.npz")
    names = ["x", "y", "z", "depth", "dip", "al1", "al2", "aw1", "aw2", "disl1", "disl2", "disl3"]
    args = [torch.tensor(ref[n], requires_grad=True) for n in names]
    u, du, iret = dc3d(torch.as_tensor(ref["alpha"]), *args)
    grads = torch.autograd.grad(u.sum() + du.sum(), args)
    for name, g in zip(names, grads):
        assert torch.isfinite(g).all(), name


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.func imports torch.jit.script
def test_hessian_wrt_station_is_finite_and_symmetric():
    from torch.func import hessian

    fault = [torch.tensor(v, dtype=torch.float64) for v in GENERIC[0, 3:]]

    def uz(xyz):
        u, _, _ = dc3d(ALPHA, xyz[0], xyz[1], xyz[2], *fault)
        return u[2]

    xyz = torch.tensor(GENERIC[0, :3], dtype=torch.float64)
    h = hessian(uz)(xyz)
    assert torch.isfinite(h).all()
    torch.testing.assert_close(h, h.T, rtol=1e-9, atol=1e-12)
    # the Hessian's first row is the derivative of duz/dx that DC3D itself returns
    xyz_r = xyz.clone().requires_grad_(True)
    _, du, _ = dc3d(ALPHA, xyz_r[0], xyz_r[1], xyz_r[2], *fault)
    (g,) = torch.autograd.grad(du[2], xyz_r)  # uzx
    torch.testing.assert_close(h[0], g, rtol=1e-8, atol=1e-12)


# DC3D0: x, y, z, depth, dip, pot1..pot4
POINT = np.array([
    [2.0, 3.0, -1.0, 4.0, 70.0, 1.0, 0.5, 0.2, 0.1],
    [-3.0, 0.0, -0.2, 5.0, 90.0, 0.0, 1.0, 0.0, 0.0],
    [0.0, 0.0, -2.0, 6.0, 0.0, 0.3, 0.0, 1.0, -0.5],
    [4.0, -1.0, -0.5, 2.0, 45.0, 0.0, 0.0, 0.0, 1.0],
])


def test_gradcheck_dc3d0():
    args = [torch.tensor(POINT[:, i], dtype=torch.float64, requires_grad=True) for i in range(9)]
    args[4].requires_grad_(False)  # row 1 is vertical (snapped cos), see the DC3D test
    assert gradcheck(_wrap(dc3d0), args, eps=FD_EPS, atol=GC_ATOL, rtol=GC_RTOL)


def test_dc3d0_dip_derivative_at_vertical():
    vals = [torch.tensor(v, dtype=torch.float64) for v in POINT[0]]
    dip = torch.tensor(90.0, dtype=torch.float64, requires_grad=True)
    u, du, _ = dc3d0(ALPHA, *vals[:4], dip, *vals[5:])
    out = torch.cat([u, du])
    grad = torch.stack([torch.autograd.grad(o, dip, retain_graph=True)[0] for o in out])
    h = DIP_STEP_DEG

    def at(d):
        u, du, _ = dc3d0(ALPHA, *vals[:4], d, *vals[5:])
        return torch.cat([u, du])

    fd = (-at(90 + 2 * h) + 8 * at(90 + h) - 8 * at(90 - h) + at(90 - 2 * h)) / (12 * h)
    np.testing.assert_allclose(grad.numpy(), fd.numpy(), rtol=DIP_RTOL,
                               atol=DIP_RTOL * float(fd.abs().max()))
