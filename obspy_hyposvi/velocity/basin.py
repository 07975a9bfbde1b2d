"""The demonstration 3D model: socal-1d with a sedimentary basin, and Brocher's Vs(Vp).

This module owns :func:`basin_demo_model`, the :class:`~obspy_hyposvi.velocity.grid3d.Grid3D`
used to demonstrate and test 3D travel-time networks against fast marching
(``benchmarks/eikonet_3d.py``), and :func:`brocher_vs_from_vp`, the empirical Vs of its
sediments.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .grid3d import Grid3D
from .model1d import Layered1D, socal_1d

__all__ = ["basin_demo_model", "brocher_vs_from_vp"]


def brocher_vs_from_vp(vp_kmps) -> np.ndarray:
    """Vs from Vp with Brocher's (2005) regression, km/s (valid for 1.5 < Vp < 8 km/s).

    Sediments have Vp/Vs well above the 1.73 of crystalline crust (about 2.5 at
    Vp = 2.5 km/s), which this empirical fit to Californian rocks reproduces.

    References
    ----------
    Brocher, T. M. (2005). Empirical relations between elastic wavespeeds and density in
    the Earth's crust. BSSA 95(6), 2081-2092 (his eq. 1, "Brocher's regression fit").

    Examples
    --------
    >>> round(float(brocher_vs_from_vp(2.5)), 3), round(float(brocher_vs_from_vp(4.5)), 3)
    (0.984, 2.671)
    """
    vp = np.asarray(vp_kmps, dtype=np.float64)
    return 0.7858 - 1.2344 * vp + 0.7949 * vp**2 - 0.1238 * vp**3 + 0.0064 * vp**4


def basin_demo_model(spacing_km: float = 1.0, crs: str = "EPSG:32611",
                     background: Layered1D | None = None,
                     box_km: tuple = ((0.0, 120.0), (0.0, 120.0), (-3.0, 40.0)),
                     basin_center_km: tuple[float, float] = (60.0, 60.0),
                     basin_semi_axes_km: tuple[float, float] = (20.0, 12.5),
                     basin_depth_km: float = 5.0,
                     basin_vp_kmps: tuple[float, float] = (2.5, 4.5)) -> Grid3D:
    """socal-1d with an ellipsoidal low-velocity sedimentary basin, for 3D demonstrations.

    The basin floor is the lower half of an ellipsoid: at horizontal position (x, y) the
    sediments reach ``z_floor = D * sqrt(1 - (dx/a)^2 - (dy/b)^2)`` (D = ``basin_depth_km``,
    a, b = ``basin_semi_axes_km``; 40 km x 25 km by default). Inside, Vp rises linearly from
    ``basin_vp_kmps[0]`` at sea level (and above) to ``basin_vp_kmps[1]`` at depth D;
    Vs follows Brocher's (2005) regression (:func:`brocher_vs_from_vp`), giving
    Vp/Vs of 2.5 at the top and 1.7 at the bottom, as in sediments. Outside the basin the
    model is ``background`` (default :func:`~obspy_hyposvi.velocity.socal_1d`) sampled at
    the nodes, so its layer jumps become one-cell linear ramps under trilinear interpolation.

    Parameters
    ----------
    spacing_km
        Node spacing on all axes, km. 1 km gives 121 x 121 x 44 nodes (about 10 MB).
    crs
        Projected CRS recorded with the grid (the default is UTM 11N, Southern California).
    background
        1D model outside the basin.
    box_km
        ((xmin, xmax), (ymin, ymax), (zmin, zmax)), km.
    basin_center_km, basin_semi_axes_km, basin_depth_km, basin_vp_kmps
        Basin geometry and velocities as described above.

    Examples
    --------
    >>> grid = basin_demo_model(spacing_km=2.0)
    >>> grid.shape
    (61, 61, 22)
    >>> grid.velocity([[60.0, 60.0, -1.0], [60.0, 60.0, 3.0]], "P").round(2).tolist()
    [2.5, 3.7]
    """
    if not spacing_km > 0:
        raise InputError(f"spacing_km must be positive, got {spacing_km}")
    background = background or socal_1d()
    axes = []
    for lo, hi in box_km:
        # never beyond the box: the last node is at or inside the upper bound
        n = int(np.floor((hi - lo) / spacing_km + 1e-9)) + 1
        axes.append(lo + spacing_km * np.arange(n))
    x, y, z = axes
    vp = np.broadcast_to(background.velocity(z, "P"), (x.size, y.size, z.size)).copy()
    vs = np.broadcast_to(background.velocity(z, "S"), (x.size, y.size, z.size)).copy()
    a, b = basin_semi_axes_km
    r2 = (((x[:, None] - basin_center_km[0]) / a) ** 2
          + ((y[None, :] - basin_center_km[1]) / b) ** 2)
    floor_km = basin_depth_km * np.sqrt(np.clip(1.0 - r2, 0.0, None))  # (nx, ny)
    inside = (r2[:, :, None] < 1.0) & (z[None, None, :] <= floor_km[:, :, None])
    vp_top, vp_bottom = basin_vp_kmps
    depth_fraction = np.clip(z, 0.0, basin_depth_km) / basin_depth_km
    basin_vp = np.broadcast_to(vp_top + (vp_bottom - vp_top) * depth_fraction, vp.shape)
    vp[inside] = basin_vp[inside]
    vs[inside] = brocher_vs_from_vp(basin_vp[inside])
    return Grid3D(x_km=x, y_km=y, z_km=z, vp_kmps=vp, vs_kmps=vs, crs=crs,
                  name="socal-1d-basin",
                  source=(f"{background.name} with an ellipsoidal sedimentary basin "
                          f"{2 * a:g} x {2 * b:g} km, {basin_depth_km:g} km deep, "
                          f"Vp {vp_top:g}-{vp_bottom:g} km/s, Vs from Brocher (2005)"))
