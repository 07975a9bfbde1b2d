"""Shared helpers of the Okada (1992) kernels: input handling, thresholds, safe arithmetic.

The Fortran DC3D/DC3D0 snap values smaller than ``EPS = 1e-6`` to zero and branch on the
result. The kernels here keep the Fortran *values* (so that the flags and the outputs agree with
it), but let the *gradient* flow through a snapped value as if it had not been snapped
("straight-through"): the gradient is then the one of the analytic formula at the snapped point,
which is what a smooth function has there. Divisions and logarithms that one branch of a
``torch.where`` would take at a bad point get a harmless stand-in first (the "double where"), so
that no branch ever produces an inf or NaN that autograd would multiply by zero into a NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

#: Threshold of the Fortran code below which xi, eta, q, x, y, d and cos(dip) are set to zero.
EPS = 1e-6
#: 2*pi as in the Fortran DATA statement.
PI2 = 2.0 * math.pi
#: Degrees to radians, as the Fortran computes it (PI2/360).
DEG = PI2 / 360.0


def as_tensors(
    *values, dtype: torch.dtype | None = None, device: torch.device | str | None = None
) -> list[Tensor]:
    """Convert numbers/arrays/tensors to broadcast tensors of one dtype and device.

    The dtype is float64 unless given: float32 loses 1-10 in scaled error near the fault, so the
    kernels never pick it on their own. The device is that of the first tensor argument.
    """
    if device is None:
        device = next((v.device for v in values if isinstance(v, Tensor)), torch.device("cpu"))
    dtype = torch.float64 if dtype is None else dtype
    # as_tensor(dtype=...) directly: a Python float would otherwise pass through float32
    out = [
        v.to(device=device, dtype=dtype)
        if isinstance(v, Tensor)
        else torch.as_tensor(v, dtype=dtype, device=device)
        for v in values
    ]
    return list(torch.broadcast_tensors(*out))


def blockwise(
    kernel: Callable[..., tuple[Tensor, Tensor]], args: list[Tensor], block: int
) -> tuple[Tensor, Tensor]:
    """Run ``kernel(*args) -> (values (n, m), flags (n,))`` over flat blocks of ``args``.

    ``args`` are broadcast tensors of one shape; the kernel sees them flattened to 1-D, on CPU
    cut into blocks of at most ``block`` elements, so that its many elementwise temporaries
    stay in the cache (a 1e5-station DC3D call is about 1.7x faster in blocks of a few thousand
    than at once); on other devices (GPU) whole. The results are put back in the broadcast
    shape.
    """
    shape = args[0].shape
    n = math.prod(shape)
    if args[0].device.type != "cpu":
        block = max(n, 1)
    # split, not slices: the backward of a split is one cat, that of each slice a full-size copy
    blocks = zip(*(a.reshape(-1).split(block) for a in args))
    values, flags = zip(*(kernel(*b) for b in blocks))
    values = torch.cat(values)
    return values.reshape(*shape, values.shape[-1]), torch.cat(flags).reshape(shape)


def is_fixed_zero(v: Tensor) -> bool:
    """True if ``v`` is 0 everywhere and no derivative flows through it.

    False where ``v`` requires grad (autograd, ``torch.func.grad``/``jacrev``), carries a
    forward-mode tangent (``torch.func.jvp``/``jacfwd``) or cannot be read (``vmap``), so that a
    shortcut valid only at ``v = 0`` never drops a derivative with respect to ``v``.
    """
    if v.requires_grad or torch.autograd.forward_ad.unpack_dual(v).tangent is not None:
        return False
    return not maybe_any(v != 0)


def weighted_sum(weights: list[Tensor], terms: list[Tensor]) -> Tensor:
    """``sum_k weights[k] * terms[k]``, accumulated in order as the Fortran does.

    Not ``addcmul``: its fused rounding is as good, but moves the results off the Fortran's
    by an ulp where nothing else does.
    """
    total = weights[0] * terms[0]
    for w, t in zip(weights[1:], terms[1:]):
        total = total + w * t
    return total


def snap(v: Tensor, eps: float = EPS) -> Tensor:
    """Zero values with ``|v| < eps`` (as the Fortran), keeping the gradient of ``v``."""
    return torch.where(v.abs() < eps, v - v.detach(), v)


def safe(v: Tensor, bad: Tensor, fill: float = 1.0) -> Tensor:
    """Replace ``v`` where ``bad`` by ``fill``: the inner half of a double ``where``."""
    return torch.where(bad, fill, v)


def maybe_any(mask: Tensor) -> bool:
    """``mask.any()`` as a Python bool, used to skip a branch nobody takes.

    Inside ``torch.func.vmap`` the value cannot be read (data-dependent control flow); the
    answer is then True, so that the caller computes the branch and selects with ``where``.
    """
    try:
        return bool(mask.any())
    except RuntimeError:
        return True


def sign_pm(v: Tensor) -> Tensor:
    """+1 where ``v >= 0``, -1 elsewhere (no zero, unlike ``torch.sign``)."""
    return torch.where(v >= 0, torch.ones_like(v), -torch.ones_like(v))


def dip_constants(alpha: Tensor, dip: Tensor) -> dict[str, Tensor]:
    """Medium and dip constants of the Fortran DCCON0.

    ``cos(dip)`` below ``EPS`` is set to zero and ``sin(dip)`` to +-1 as in the Fortran, but
    both keep their gradient with respect to the dip, so that d/d(dip) does not vanish at a
    vertical fault.

    Returns
    -------
    dict
        ``alp1..alp5``, ``sd``, ``cd``, ``sdsd``, ``cdcd``, ``sdcd``, ``s2d``, ``c2d`` and
        ``vertical`` (bool, ``cd`` was snapped to zero), ``s0`` (the sign of ``sd``, +-1).
    """
    sd = torch.sin(dip * DEG)
    cd = torch.cos(dip * DEG)
    vertical = cd.abs() < EPS
    s0 = sign_pm(sd.detach())
    # value 0 / +-1 as in the Fortran, gradient that of cos/sin(dip)
    cd = torch.where(vertical, cd - cd.detach(), cd)
    sd = torch.where(vertical, sd - sd.detach() + s0, sd)
    sdcd = sd * cd
    return {
        "alp1": (1.0 - alpha) / 2.0,
        "alp2": alpha / 2.0,
        "alp3": (1.0 - alpha) / alpha,
        "alp4": 1.0 - alpha,
        "alp5": alpha,
        "sd": sd,
        "cd": cd,
        "sdsd": sd * sd,
        "cdcd": cd * cd,
        "sdcd": sdcd,
        "s2d": 2.0 * sdcd,
        "c2d": cd * cd - sd * sd,
        "vertical": vertical,
        "s0": s0,
    }


def r_plus(r: Tensor, v: Tensor) -> Tensor:
    """``r + v`` summed directly, as the Fortran does.

    ``rest2 / (r - v)`` would avoid the cancellation for ``v < 0`` (negative extension of an
    edge), but the reference values are those of the Fortran arithmetic, and near the
    EPS thresholds the two differ by far more than the Fortran's input noise.
    """
    return r + v
