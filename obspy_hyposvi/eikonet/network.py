"""EikoNet networks: factored travel time ``T(s, r) = |r - s| * tau(s, r)``.

Two geometries:

- :class:`EikoNet1D` for 1D velocity models: travel time depends only on the horizontal
  offset and the two depths, so the network takes ``(offset, z_a, z_b)``. Source-receiver
  reciprocity is exact by construction: the inputs are the symmetric features
  ``(offset, (z_a + z_b) / 2, (z_a - z_b)^2)``. For layered models with velocity jumps the
  vertical derivative of ``T`` jumps at each interface depth ``d``; a smooth network can only
  blur such a jump, and each blurred crossing costs about (blur width x slowness jump) of
  travel time. Two more symmetric features per interface, built from ``|z_a - d|`` and
  ``|z_b - d|``, carry kinks at exactly those depths. Optionally the network outputs several
  branches and takes their minimum, the structure of a first arrival (direct and head waves).
- :class:`EikoNet3D` for 3D models on a projected box: ``tau`` is the mean of ``f(s, r)`` and
  ``f(r, s)``, again exactly reciprocal.

``tau`` is bounded between the smallest and largest slowness of the model (a first arrival is
never faster than a straight ray at the fastest velocity nor slower than one at the slowest),
which keeps early training well posed.

References
----------
Smith, J. D., Azizzadenesheli, K. and Ross, Z. E. (2020). EikoNet: Solving the Eikonal
equation with deep neural networks. IEEE TGRS 59, 10685-10696.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["EikoNet1D", "EikoNet3D", "ACTIVATIONS"]

ACTIVATIONS = {"silu": nn.SiLU, "elu": nn.ELU, "tanh": nn.Tanh, "softplus": nn.Softplus,
               "gelu": nn.GELU}


def _mlp(n_in: int, width: int, n_layers: int, activation: str) -> nn.Sequential:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = [nn.Linear(n_in, width), ACTIVATIONS[activation]()]
    for _ in range(n_layers - 1):
        layers += [nn.Linear(width, width), ACTIVATIONS[activation]()]
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


class _FactoredBase(nn.Module):
    """Shared bounds on tau (s/km)."""

    def __init__(self, slowness_min: float, slowness_max: float) -> None:
        super().__init__()
        if not 0 < slowness_min <= slowness_max:
            raise ValueError(
                f"need 0 < slowness_min <= slowness_max, got {slowness_min}, {slowness_max}")
        # bounds widened by 2 % so the sigmoid is never pinned at a saturated end
        self.register_buffer("tau_lo", torch.tensor(slowness_min * 0.98, dtype=torch.float64))
        self.register_buffer("tau_hi", torch.tensor(slowness_max * 1.02, dtype=torch.float64))

    def _tau_branches(self, logits: torch.Tensor) -> torch.Tensor:
        lo = self.tau_lo.to(logits.dtype)
        hi = self.tau_hi.to(logits.dtype)
        return lo + (hi - lo) * torch.sigmoid(logits)

    def _tau(self, logits: torch.Tensor) -> torch.Tensor:
        return self._tau_branches(logits.squeeze(-1))


class EikoNet1D(_FactoredBase):
    """Travel time in a 1D model from horizontal offset and the two depths.

    Parameters
    ----------
    offset_scale_km
        Offsets are divided by this (the trained maximum offset).
    depth_min_km, depth_max_km
        Depth range of the domain; depths are mapped to [-1, 1].
    slowness_min, slowness_max
        Bounds of tau, s/km (inverse of the model's largest and smallest velocity).
    width, n_layers, activation
        Hidden width, number of hidden layers and activation name (:data:`ACTIVATIONS`).
    interfaces_km
        Depths of velocity jumps, km (the tops of all but the first layer).
    n_branches
        Number of travel-time branches whose minimum is taken.

    Examples
    --------
    >>> net = EikoNet1D(400.0, -3.0, 60.0, 1 / 7.8, 1 / 5.5, width=16, n_layers=2)
    >>> t = net(torch.tensor([10.0]), torch.tensor([5.0]), torch.tensor([0.0]))
    >>> t.shape
    torch.Size([1])
    """

    def __init__(self, offset_scale_km: float, depth_min_km: float, depth_max_km: float,
                 slowness_min: float, slowness_max: float, *, width: int = 64,
                 n_layers: int = 4, activation: str = "silu",
                 interfaces_km: list[float] | tuple[float, ...] = (), n_branches: int = 1) -> None:
        super().__init__(slowness_min, slowness_max)
        if offset_scale_km <= 0 or depth_max_km <= depth_min_km:
            raise ValueError("need offset_scale_km > 0 and depth_max_km > depth_min_km")
        if n_branches < 1:
            raise ValueError(f"n_branches must be >= 1, got {n_branches}")
        f64 = torch.float64
        self.register_buffer("offset_scale", torch.tensor(float(offset_scale_km), dtype=f64))
        self.register_buffer("depth_mid", torch.tensor(0.5 * (depth_min_km + depth_max_km),
                                                       dtype=f64))
        self.register_buffer("depth_half", torch.tensor(0.5 * (depth_max_km - depth_min_km),
                                                        dtype=f64))
        self.register_buffer("interfaces", torch.tensor(list(interfaces_km), dtype=f64))
        self.net = _mlp(3 + 2 * len(interfaces_km), width, n_layers, activation)
        if n_branches > 1:
            self.net[-1] = nn.Linear(width, n_branches)

    def tau(self, offset_km: torch.Tensor, z_a_km: torch.Tensor,
            z_b_km: torch.Tensor) -> torch.Tensor:
        """Factored slowness tau (s/km), symmetric in ``z_a``, ``z_b``."""
        dtype = next(self.net.parameters()).dtype
        half = self.depth_half.to(dtype)
        r = offset_km.to(dtype) / self.offset_scale.to(dtype)
        za = (z_a_km.to(dtype) - self.depth_mid.to(dtype)) / half
        zb = (z_b_km.to(dtype) - self.depth_mid.to(dtype)) / half
        # 2 r - 1 and a zero-centred square keep all features of order one
        feats = [torch.stack([2.0 * r - 1.0, 0.5 * (za + zb), (za - zb) ** 2 - 1.0], dim=-1)]
        if self.interfaces.numel():
            d = self.interfaces.to(dtype)
            ka = (z_a_km.to(dtype)[..., None] - d).abs() / half
            kb = (z_b_km.to(dtype)[..., None] - d).abs() / half
            feats += [ka + kb - 0.5, 4.0 * (ka - kb) ** 2]
        tau = self._tau_branches(self.net(torch.cat(feats, dim=-1)))
        return tau.min(dim=-1).values

    def forward(self, offset_km: torch.Tensor, z_a_km: torch.Tensor,
                z_b_km: torch.Tensor) -> torch.Tensor:
        """Travel time (s) for horizontal offset and depths in km (any equal shapes)."""
        distance = torch.sqrt(offset_km**2 + (z_a_km - z_b_km) ** 2)
        return distance * self.tau(offset_km, z_a_km, z_b_km).to(distance.dtype)


class EikoNet3D(_FactoredBase):
    """Travel time between two points of a projected 3D box.

    Parameters
    ----------
    box_min_km, box_max_km
        ``(3,)`` corners of the box (x east, y north, z down), km.
    slowness_min, slowness_max
        Bounds of tau, s/km.
    width, n_layers, activation
        As for :class:`EikoNet1D`.
    """

    def __init__(self, box_min_km, box_max_km, slowness_min: float, slowness_max: float, *,
                 width: int = 128, n_layers: int = 5, activation: str = "silu") -> None:
        super().__init__(slowness_min, slowness_max)
        lo = torch.as_tensor(box_min_km, dtype=torch.float64).reshape(3)
        hi = torch.as_tensor(box_max_km, dtype=torch.float64).reshape(3)
        if not bool(torch.all(hi > lo)):
            raise ValueError("box_max_km must exceed box_min_km on every axis")
        self.register_buffer("box_mid", 0.5 * (lo + hi))
        self.register_buffer("box_half", 0.5 * (hi - lo))
        self.net = _mlp(6, width, n_layers, activation)

    def tau(self, source_km: torch.Tensor, receiver_km: torch.Tensor) -> torch.Tensor:
        """Factored slowness tau (s/km), symmetric in source and receiver."""
        dtype = next(self.net.parameters()).dtype
        mid, half = self.box_mid.to(dtype), self.box_half.to(dtype)
        a = (source_km.to(dtype) - mid) / half
        b = (receiver_km.to(dtype) - mid) / half
        both = torch.cat([torch.cat([a, b], -1), torch.cat([b, a], -1)], 0)
        logits = self.net(both)
        n = a.reshape(-1, 3).shape[0] if a.dim() == 2 else a.shape[0]
        return self._tau(0.5 * (logits[:n] + logits[n:]))

    def forward(self, source_km: torch.Tensor, receiver_km: torch.Tensor) -> torch.Tensor:
        """Travel time (s) between ``(n, 3)`` source and receiver points in km."""
        distance = torch.linalg.norm(receiver_km - source_km, dim=-1)
        return distance * self.tau(source_km, receiver_km).to(distance.dtype)
