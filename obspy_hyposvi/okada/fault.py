"""Rectangular faults in geographic terms: east/north/up displacement and strain at stations.

Owns the mapping from a fault given as centroid, strike, dip, rake, slip, length and width to
Okada's DC3D frame, and back from DC3D's outputs to east/north/up displacement and the strain
tensor, plus torch.func gradients and Hessians of them. Units: lengths and depths in km,
slip and displacement in m, angles in degrees, strain dimensionless. Local frame: that of
:mod:`obspy_hyposvi.geo` (x east, y north, km); the half-space surface is z = 0 (sea level)
and stations are taken on it.

Conventions (Aki & Richards): strike clockwise from north with the fault dipping to its right;
rake 0 left-lateral, 90 reverse (thrust), -90 normal; ``disl1 = slip cos(rake)``,
``disl2 = slip sin(rake)``, ``disl3 = opening``.

Usage::

    from obspy_hyposvi.geo import Projection
    from obspy_hyposvi.okada.fault import RectangularFault, fault_displacement
    fault = RectangularFault(lon_deg=142.0, lat_deg=38.0, depth_km=15.0, strike_deg=200.0,
                             dip_deg=15.0, rake_deg=90.0, slip_m=5.0, length_km=200.0,
                             width_km=80.0)
    out = fault_displacement(fault, station_lon_deg, station_lat_deg)
    out["displacement_enu_m"], out["strain"]          # (n, 3), (n, 3, 3) numpy arrays

    # gradients / Hessians w.r.t. fault parameters in the local frame
    params = fault.to_params(projection)              # (9,) tensor, order PARAM_NAMES
    jac = displacement_jacobian(params, station_en_km)  # (n, 3, 9)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..errors import InputError
from ..geo import Projection
from ._common import DEG
from .rectangular import dc3d

__all__ = [
    "PARAM_NAMES",
    "RectangularFault",
    "okada_enu",
    "fault_displacement",
    "displacement_jacobian",
    "displacement_hessian",
]

#: order of the fault-parameter vector used by the tensor functions
PARAM_NAMES = ("east_km", "north_km", "depth_km", "strike_deg", "dip_deg", "rake_deg",
               "slip_m", "length_km", "width_km")
#: alpha = (lambda + mu) / (lambda + 2 mu) of a Poisson solid (lambda = mu)
POISSON_ALPHA = 2.0 / 3.0


@dataclass(frozen=True, kw_only=True)
class RectangularFault:
    """A uniform-slip rectangular fault.

    Parameters
    ----------
    lon_deg, lat_deg
        Centroid, degrees.
    depth_km
        Centroid depth below the surface, km; the top edge (``depth_km - width_km/2 *
        sin(dip)``) must not be above the surface.
    strike_deg, dip_deg, rake_deg
        Aki & Richards convention, degrees; ``0 <= dip <= 90``.
    slip_m
        Slip on the fault, m (>= 0).
    length_km, width_km
        Along strike and along dip, km.
    opening_m
        Tensile opening, m (default 0).
    """

    lon_deg: float
    lat_deg: float
    depth_km: float
    strike_deg: float
    dip_deg: float
    rake_deg: float
    slip_m: float
    length_km: float
    width_km: float
    opening_m: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.dip_deg <= 90.0:
            raise InputError(f"dip_deg = {self.dip_deg} must be in [0, 90]")
        if self.length_km <= 0 or self.width_km <= 0:
            raise InputError(f"length_km, width_km = {self.length_km}, {self.width_km} must be > 0")
        if self.slip_m < 0:
            raise InputError(f"slip_m = {self.slip_m} must be >= 0 (use the rake for the sense)")
        top = self.depth_km - 0.5 * self.width_km * np.sin(np.radians(self.dip_deg))
        if top < -1e-9:
            raise InputError(f"the top edge is {-top:.3f} km above the surface; increase depth_km"
                             " or decrease width_km")

    def to_params(self, projection: Projection, *, dtype=torch.float64, device=None) -> Tensor:
        """Parameter vector ``(9,)`` in the order :data:`PARAM_NAMES` (local frame, km)."""
        east, north, _ = projection.to_xyz_km(self.lon_deg, self.lat_deg)
        values = [float(east), float(north), self.depth_km, self.strike_deg, self.dip_deg,
                  self.rake_deg, self.slip_m, self.length_km, self.width_km]
        return torch.tensor(values, dtype=dtype, device=device)


def okada_enu(
    params: Tensor,
    station_en_km: Tensor,
    *,
    opening_m: float | Tensor = 0.0,
    alpha: float = POISSON_ALPHA,
) -> tuple[Tensor, Tensor]:
    """Surface displacement (east, north, up) and strain of rectangular faults.

    Parameters
    ----------
    params
        ``(..., 9)`` fault parameters, order :data:`PARAM_NAMES` (km, deg, m).
    station_en_km
        ``(n_stations, 2)`` station east/north in the same local frame, km.
    opening_m
        Tensile opening, m, broadcast against ``params[..., 0]``.
    alpha
        Medium constant (lambda + mu) / (lambda + 2 mu).

    Returns
    -------
    displacement_enu_m : Tensor (..., n_stations, 3)
    strain : Tensor (..., n_stations, 3, 3)
        Symmetric infinitesimal strain in the east/north/up frame (dimensionless).

    Examples
    --------
    >>> params = torch.tensor([0., 0., 10., 0., 90., 0., 1., 20., 10.], dtype=torch.float64)
    >>> st = torch.tensor([[5., 3.], [-5., -3.]], dtype=torch.float64)
    >>> d, _ = okada_enu(params, st)
    >>> bool(torch.allclose(d[0, 1], -d[1, 1]))  # fault-parallel motion odd across the fault
    True
    """
    p = params.unsqueeze(-2)  # (..., 1, 9) against stations (n,)
    east, north, depth, strike, dip, rake, slip, length, width = p.unbind(-1)
    de = station_en_km[..., 0] - east
    dn = station_en_km[..., 1] - north
    ss, cs = torch.sin(strike * DEG), torch.cos(strike * DEG)
    # Okada's x along strike, y to the left of it (the fault dips towards -y)
    x = de * ss + dn * cs
    y = -de * cs + dn * ss
    z = torch.zeros_like(x)
    disl1 = slip * torch.cos(rake * DEG)
    disl2 = slip * torch.sin(rake * DEG)
    opening = torch.as_tensor(opening_m, dtype=params.dtype, device=params.device)
    if opening.dim() > 0:
        opening = opening.unsqueeze(-1)
    u, du, _ = dc3d(alpha, x, y, z, depth, dip, -length / 2, length / 2, -width / 2, width / 2,
                    disl1, disl2, opening, dtype=params.dtype)
    # rotation whose columns are Okada's x, y, z axes in east/north/up
    zero, one = torch.zeros_like(ss), torch.ones_like(ss)
    rot = torch.stack([torch.stack([ss, -cs, zero], -1), torch.stack([cs, ss, zero], -1),
                       torch.stack([zero, zero, one], -1)], -2)  # (..., 1, 3, 3)
    disp = (rot @ u.unsqueeze(-1)).squeeze(-1)
    # du is u_ij = d u_i / d x_j in the order (i fastest) -> grad[i, j]
    grad = du.reshape(*du.shape[:-1], 3, 3).transpose(-1, -2)
    grad = rot @ grad @ rot.transpose(-1, -2) * 1e-3  # m per km -> dimensionless
    strain = 0.5 * (grad + grad.transpose(-1, -2))
    return disp, strain


def fault_displacement(
    fault: RectangularFault,
    lon_deg,
    lat_deg,
    *,
    projection: Projection | None = None,
    alpha: float = POISSON_ALPHA,
) -> dict[str, np.ndarray]:
    """East/north/up displacement (m) and strain at stations given by lon/lat.

    Parameters
    ----------
    fault
        The fault.
    lon_deg, lat_deg
        Station coordinates, degrees, arrays of equal length.
    projection
        Local frame; the UTM zone of the fault centroid by default.
    alpha
        Medium constant.

    Returns
    -------
    dict
        ``displacement_enu_m`` ``(n, 3)``, ``strain`` ``(n, 3, 3)``, ``station_en_km``
        ``(n, 2)`` (numpy, float64).

    Examples
    --------
    >>> f = RectangularFault(lon_deg=10.0, lat_deg=45.0, depth_km=10.0, strike_deg=0.0,
    ...                      dip_deg=45.0, rake_deg=90.0, slip_m=1.0, length_km=20.0,
    ...                      width_km=10.0)
    >>> out = fault_displacement(f, [10.0, 10.3], [45.0, 45.0])
    >>> out["displacement_enu_m"].shape
    (2, 3)
    """
    projection = projection or Projection.for_points([fault.lon_deg], [fault.lat_deg])
    east, north, _ = projection.to_xyz_km(lon_deg, lat_deg)
    st = torch.as_tensor(np.stack([np.atleast_1d(east), np.atleast_1d(north)], -1),
                         dtype=torch.float64)
    params = fault.to_params(projection)
    with torch.no_grad():
        disp, strain = okada_enu(params, st, opening_m=fault.opening_m, alpha=alpha)
    return {"displacement_enu_m": disp.numpy(), "strain": strain.numpy(),
            "station_en_km": st.numpy()}


def displacement_jacobian(params: Tensor, station_en_km: Tensor, *, wrt: str = "params",
                          alpha: float = POISSON_ALPHA) -> Tensor:
    """Jacobian of the displacement (m) w.r.t. fault parameters or station coordinates.

    Returns
    -------
    Tensor
        ``wrt="params"``: ``(n_stations, 3, 9)`` (per unit of each parameter);
        ``wrt="stations"``: ``(n_stations, 3, 2)`` (m per km of east/north), i.e. the
        horizontal displacement gradient at each station.

    Examples
    --------
    >>> p = torch.tensor([0., 0., 10., 30., 60., 90., 1., 20., 10.], dtype=torch.float64)
    >>> st = torch.tensor([[5., 3.]], dtype=torch.float64)
    >>> displacement_jacobian(p, st).shape
    torch.Size([1, 3, 9])
    """
    from torch.func import jacrev, vmap

    if wrt == "params":
        return jacrev(lambda q: okada_enu(q, station_en_km, alpha=alpha)[0])(params)
    if wrt == "stations":
        def one(s):
            return okada_enu(params, s.unsqueeze(0), alpha=alpha)[0][0]
        return vmap(jacrev(one))(station_en_km)
    raise InputError(f"wrt = {wrt!r}; use 'params' or 'stations'")


def displacement_hessian(params: Tensor, station_en_km: Tensor, *,
                         alpha: float = POISSON_ALPHA) -> Tensor:
    """Hessian of each displacement component w.r.t. the fault parameters.

    Returns
    -------
    Tensor
        ``(n_stations, 3, 9, 9)``.

    Examples
    --------
    >>> p = torch.tensor([0., 0., 10., 30., 60., 90., 1., 20., 10.], dtype=torch.float64)
    >>> st = torch.tensor([[5., 3.]], dtype=torch.float64)
    >>> displacement_hessian(p, st).shape
    torch.Size([1, 3, 9, 9])
    """
    from torch.func import hessian

    return hessian(lambda q: okada_enu(q, station_en_km, alpha=alpha)[0])(params)
