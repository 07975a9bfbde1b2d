"""DC3D/DC3D0 speed paths against the general path: z = 0 shortcut, blocks, skipped branches.

The shortcuts must give the general path's values and, above all, never drop a derivative: the
z = 0 shortcut is valid only where no derivative with respect to z is asked for, which is
checked here under autograd and every torch.func transform.
"""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck

from obspy_hyposvi.okada import dc3d, dc3d0, point, rectangular

ALPHA = 2 / 3
# depth, dip, al1, al2, aw1, aw2, disl1, disl2, disl3
FAULT = (8.0, 35.0, -4.0, 6.0, -3.0, 2.5, -0.7, 1.1, 0.3)
# depth, dip, pot1..pot4
POINT = (6.0, 35.0, 0.7, -1.1, 0.3, 0.2)
#: (function, its module, source parameters)
KERNELS = {"dc3d": (dc3d, rectangular, FAULT), "dc3d0": (dc3d0, point, POINT)}
#: the shortcut drops terms that are exactly zero and sums the rest in another order
RTOL = 1e-12


@pytest.fixture(params=sorted(KERNELS))
def kernel(request):
    """One of the kernels with its source parameters."""
    return KERNELS[request.param]


@pytest.fixture
def general_path(monkeypatch, kernel):
    """Switch the z = 0 shortcut of ``kernel`` off (True) or on (False)."""

    def use(flag: bool) -> None:
        monkeypatch.setattr(kernel[1], "_SURFACE_SHORTCUT", not flag)

    return use


def _stations(n: int = 64, seed: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    xy = (torch.rand(2, n, generator=g, dtype=torch.float64) - 0.5) * 40.0
    return xy[0], xy[1]


def _both(general_path, func):
    general_path(False)
    fast = func()
    general_path(True)
    return fast, func()


def _close(a, b) -> None:
    for p, q in zip(a, b):
        torch.testing.assert_close(p, q, rtol=RTOL, atol=RTOL * float(q.abs().max()))


def test_surface_shortcut_values(general_path, kernel):
    func, _, source = kernel
    x, y = _stations()
    fast, slow = _both(general_path, lambda: func(ALPHA, x, y, 0.0, *source))
    _close(fast[:2], slow[:2])
    assert torch.equal(fast[2], slow[2])


def test_surface_shortcut_gradients_wrt_station_and_source(general_path, kernel):
    func, _, source = kernel
    x, y = _stations(8)

    def grads():
        leaves = [x.clone().requires_grad_(True), y.clone().requires_grad_(True)] + [
            torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in source]
        u, du, _ = func(ALPHA, leaves[0], leaves[1], 0.0, *leaves[2:])
        return torch.autograd.grad((u * u).sum() + du.sum(), leaves)

    fast, slow = _both(general_path, grads)
    _close(fast, slow)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.func imports torch.jit.script
@pytest.mark.parametrize("transform", ["grad", "jacrev", "jacfwd", "jvp", "hessian", "vmap"])
def test_derivative_wrt_z_at_zero_is_kept(general_path, kernel, transform):
    """At z = 0 a derivative with respect to z must take the general path's value."""
    from torch import func as tf

    func, _, source = kernel
    x, y = 2.0, 3.0

    def uz(z):
        u, du, _ = func(ALPHA, x, y, z, *source)
        return u[2] + du[8]

    z0 = torch.tensor(0.0, dtype=torch.float64)

    def run():
        if transform == "jvp":
            return tf.jvp(uz, (z0,), (torch.ones_like(z0),))[1]
        if transform == "vmap":
            return tf.vmap(tf.grad(uz))(torch.zeros(3, dtype=torch.float64))
        return getattr(tf, transform)(uz)(z0)

    fast, slow = _both(general_path, run)
    torch.testing.assert_close(fast, slow, rtol=RTOL, atol=0.0)
    assert slow.abs().max() > 0


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_gradcheck_on_the_surface_path(name):
    """Derivatives w.r.t. the station's x, y and the source, z = 0 a constant (shortcut)."""
    func, _, source = KERNELS[name]
    x, y = _stations(4)
    args = [x.requires_grad_(True), y.requires_grad_(True)] + [
        torch.full((4,), v, dtype=torch.float64, requires_grad=True) for v in source]

    def f(x, y, *src):
        u, du, _ = func(ALPHA, x, y, 0.0, *src)
        return u, du

    assert gradcheck(f, args, eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(KERNELS))
@pytest.mark.parametrize("z", [0.0, -1.5])
def test_blocks_match_one_call(monkeypatch, name, z):
    """Results do not depend on the CPU block size (block edges inside the station axis)."""
    func, module, source = KERNELS[name]
    x, y = _stations(50)
    dips = torch.tensor([[35.0], [90.0], [0.0]], dtype=torch.float64)  # mixed dips per row
    args = (ALPHA, x, y, z, source[0], dips, *source[2:])
    whole = func(*args)
    monkeypatch.setattr(module, "_CPU_BLOCK", 7)
    blocked = func(*args)
    _close(blocked[:2], whole[:2])
    assert torch.equal(blocked[2], whole[2])
    assert whole[0].shape == (3, 50, 3)


def test_mixed_dips_match_single_dips():
    """A call mixing vertical and inclined faults equals separate calls (branch selection)."""
    x, y = _stations(16)
    dips = [90.0, 35.0, -90.0, 0.0]
    mixed = dc3d(ALPHA, x, y, -0.5, FAULT[0], torch.tensor(dips).unsqueeze(-1), *FAULT[2:])
    for i, dip in enumerate(dips):
        single = dc3d(ALPHA, x, y, -0.5, FAULT[0], dip, *FAULT[2:])
        _close((mixed[0][i], mixed[1][i]), single[:2])


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_empty_input_gives_empty_output(name):
    func, _, source = KERNELS[name]
    empty = torch.zeros(0, 2, dtype=torch.float64)
    u, du, iret = func(ALPHA, empty, empty, 0.0, *source)
    assert u.shape == (0, 2, 3) and du.shape == (0, 2, 9) and iret.shape == (0, 2)
