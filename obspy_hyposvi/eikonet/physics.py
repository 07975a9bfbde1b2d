"""Factored eikonal residual: the only training signal of the networks.

For a travel-time field ``T(s, r)`` the eikonal equation ``|grad_r T| = 1 / v(r)`` holds at the
receiver and, by reciprocity, ``|grad_s T| = 1 / v(s)`` at the source. The residual used is
the relative one, ``v |grad T| - 1``, which weights slow and fast regions alike.

References
----------
Smith, J. D., Azizzadenesheli, K. and Ross, Z. E. (2020). EikoNet. IEEE TGRS 59, 10685-10696.
Treister, E. and Haber, E. (2016). A fast marching algorithm for the factored eikonal
equation. J. Comput. Phys. 324, 210-225.
"""

from __future__ import annotations

import torch

from .network import EikoNet1D, EikoNet3D

__all__ = ["eikonal_residual_1d", "eikonal_residual_3d", "outflow_violation_1d",
           "outflow_violation_3d"]


def eikonal_residual_1d(net: EikoNet1D, offset_km: torch.Tensor, z_a_km: torch.Tensor,
                        z_b_km: torch.Tensor, v_a_kmps: torch.Tensor, v_b_kmps: torch.Tensor,
                        *, create_graph: bool = True) -> torch.Tensor:
    """Relative eikonal residuals at both ends of each pair, shape ``(2, n)``.

    Moving either point horizontally changes only the offset, so the gradient at end ``a`` is
    ``(dT/d offset, dT/d z_a)`` and at end ``b`` ``(dT/d offset, dT/d z_b)``.
    """
    offset_km = offset_km.detach().requires_grad_(True)
    z_a_km = z_a_km.detach().requires_grad_(True)
    z_b_km = z_b_km.detach().requires_grad_(True)
    t = net(offset_km, z_a_km, z_b_km)
    dt_dr, dt_da, dt_db = torch.autograd.grad(t.sum(), (offset_km, z_a_km, z_b_km),
                                              create_graph=create_graph)
    grad_a = torch.sqrt(dt_dr**2 + dt_da**2 + 1e-18)
    grad_b = torch.sqrt(dt_dr**2 + dt_db**2 + 1e-18)
    return torch.stack([v_a_kmps * grad_a - 1.0, v_b_kmps * grad_b - 1.0])


def eikonal_residual_3d(net: EikoNet3D, source_km: torch.Tensor, receiver_km: torch.Tensor,
                        v_source_kmps: torch.Tensor, v_receiver_kmps: torch.Tensor,
                        *, create_graph: bool = True) -> torch.Tensor:
    """Relative eikonal residuals at source and receiver of each pair, shape ``(2, n)``."""
    source_km = source_km.detach().requires_grad_(True)
    receiver_km = receiver_km.detach().requires_grad_(True)
    t = net(source_km, receiver_km)
    g_s, g_r = torch.autograd.grad(t.sum(), (source_km, receiver_km), create_graph=create_graph)
    res_s = v_source_kmps * torch.sqrt((g_s**2).sum(-1) + 1e-18) - 1.0
    res_r = v_receiver_kmps * torch.sqrt((g_r**2).sum(-1) + 1e-18) - 1.0
    return torch.stack([res_s, res_r])


def outflow_violation_1d(net: EikoNet1D, offset_km: torch.Tensor, z_km: torch.Tensor,
                         z_top_km: float, v_top_kmps: torch.Tensor, *,
                         create_graph: bool = True) -> torch.Tensor:
    """How much a first arrival at the top of the domain comes from above, ``(n,)``.

    Nothing lies above the top of the domain, so a first arrival there travels upwards or
    sideways: ``dT/dz <= 0`` at ``z = z_top_km`` (z down). The eikonal equation alone does not
    see this boundary condition, and a wave entering through the top is a zero-residual
    solution that is too early everywhere it reaches. Returned is ``v * max(dT/dz, 0)``
    (dimensionless, zero for a valid field).
    """
    z_top = torch.full_like(z_km, z_top_km).requires_grad_(True)
    t = net(offset_km.detach(), z_km.detach(), z_top)
    (dt_dz,) = torch.autograd.grad(t.sum(), (z_top,), create_graph=create_graph)
    return v_top_kmps * torch.relu(dt_dz)


def outflow_violation_3d(net: EikoNet3D, source_km: torch.Tensor, top_km: torch.Tensor,
                         v_top_kmps: torch.Tensor, *, create_graph: bool = True) -> torch.Tensor:
    """:func:`outflow_violation_1d` for 3D networks: ``v * max(dT/dz, 0)`` at points
    ``top_km`` on the top face of the box (z down), ``(n,)``."""
    top = top_km.detach().requires_grad_(True)
    t = net(source_km.detach(), top)
    (grad,) = torch.autograd.grad(t.sum(), (top,), create_graph=create_graph)
    return v_top_kmps * torch.relu(grad[:, 2])
