"""Okada (1992) DC3D0: displacement and its derivatives from a point source.

Owns :func:`dc3d0`, a batched torch transcription of the formulas of Okada's Fortran DC3D0
(revision of May 2002) with its argument conventions (see :func:`dc3d0`). Values follow the
Fortran, including the snapping of x, y, d and cos(dip) below 1e-6 to zero; gradients flow
through the snapped values (see :mod:`._common`).

References
----------
Okada, Y. (1992). Internal deformation due to shear and tensile faults in a half-space.
Bull. Seism. Soc. Am., 82(2), 1018-1040.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._common import (
    PI2,
    as_tensors,
    blockwise,
    dip_constants,
    is_fixed_zero,
    maybe_any,
    safe,
    snap,
    weighted_sum,
)

__all__ = ["dc3d0"]

#: station-source pairs per block on CPU (see :func:`._common.blockwise`)
_CPU_BLOCK = 8192
#: take the z = 0 shortcut of :func:`_dc3d0_kernel` (off only to test it against the general path)
_SURFACE_SHORTCUT = True


def _point_geometry(x, y, d, sd, cd) -> dict[str, Tensor]:
    """Station geometry constants of the Fortran DCCON1 (x, y, d already snapped)."""
    p = y * cd + d * sd
    q = y * sd - d * cd
    s = p * sd + q * cd
    t = p * cd - q * sd
    x2, y2, d2 = x * x, y * y, d * d
    r2 = x2 + y2 + d2
    r = torch.sqrt(r2)
    r3 = r * r2
    r5 = r3 * r2
    qr = 3.0 * q / r5
    uy = sd - 5.0 * y * q / r2
    uz = cd + 5.0 * d * q / r2
    return {
        "x": x, "y": y, "d": d, "p": p, "q": q, "s": s, "t": t, "xy": x * y,
        "x2": x2, "y2": y2, "d2": d2, "r": r, "r2": r2, "r3": r3, "r5": r5,
        "qr": qr, "qrx": 5.0 * qr * x / r2,
        "a3": 1.0 - 3.0 * x2 / r2, "a5": 1.0 - 5.0 * x2 / r2,
        "b3": 1.0 - 3.0 * y2 / r2, "c3": 1.0 - 3.0 * d2 / r2,
        "uy": uy, "uz": uz,
        "vy": s - 5.0 * y * p * q / r2, "vz": t + 5.0 * d * p * q / r2,
        "wy": uy + sd, "wz": uz + cd,
    }


def _combine(parts, pot) -> list[Tensor]:
    """sum_k pot_k / (2 pi) * parts_k[i] for each row i of the parts (lists of equal length)."""
    w = [v / PI2 for v in pot]
    return [weighted_sum(w, row) for row in zip(*parts)]


def _ua0(g, k, pot, z_rows_only: bool = False) -> list[Tensor | None]:
    """Part A of the point source (Okada 1992, Table 2).

    With ``z_rows_only`` only the z-derivative rows (9-11) are computed, the others are None:
    at z = 0 the rest of part A cancels between the real and image sources.
    """
    alp1, alp2, sd, cd, s2d, c2d = (k[n] for n in ("alp1", "alp2", "sd", "cd", "s2d", "c2d"))
    x, y, d, p, q, s, t, xy, x2 = (g[n] for n in ("x", "y", "d", "p", "q", "s", "t", "xy", "x2"))
    r3, r5, qr, qrx, a3, a5, b3, c3 = (g[n] for n in ("r3", "r5", "qr", "qrx", "a3", "a5", "b3",
                                                      "c3"))
    uy, uz, vy, vz, wy, wz = (g[n] for n in ("uy", "uz", "vy", "vz", "wy", "wz"))
    i6 = alp1 * 3.0 * x * d / r5
    i9 = alp1 * 3.0 * y * d / r5
    z_rows = _combine((
        [
            alp1 * (cd / r3 + d * qr) + alp2 * 3.0 * x2 / r5 * uz,
            3.0 * x / r5 * (alp1 * d * sd + alp2 * y * uz),
            3.0 * x / r5 * (-alp1 * d * cd + alp2 * (d * uz - q)),
        ],
        [
            alp2 * 3.0 * x / r5 * vz,
            alp1 * (c2d / r3 + 3.0 * d * s / r5) + alp2 * 3.0 * y / r5 * vz,
            alp1 * (s2d / r3 - 3.0 * d * t / r5) + alp2 * (3.0 * d / r5 * vz - p * qr),
        ],
        [
            alp1 * 3.0 * x * d / r5 - alp2 * x * qr * wz,
            -alp1 * (s2d / r3 - 3.0 * d * t / r5) - alp2 * y * qr * wz,
            alp1 * (c2d / r3 + 3.0 * d * s / r5) - alp2 * (d * wz - q) * qr,
        ],
        [
            -i6,
            -i9,
            alp1 * c3 / r3,
        ],
    ), pot)
    if z_rows_only:
        return [None] * 9 + z_rows
    i5 = alp1 * 3.0 * xy / r5
    strike = [
        alp1 * q / r3 + alp2 * x2 * qr,
        alp1 * x / r3 * sd + alp2 * xy * qr,
        -alp1 * x / r3 * cd + alp2 * x * d * qr,
        x * qr * (-alp1 + alp2 * (1.0 + a5)),
        alp1 * a3 / r3 * sd + alp2 * y * qr * a5,
        -alp1 * a3 / r3 * cd + alp2 * d * qr * a5,
        alp1 * (sd / r3 - y * qr) + alp2 * 3.0 * x2 / r5 * uy,
        3.0 * x / r5 * (-alp1 * y * sd + alp2 * (y * uy + q)),
        3.0 * x / r5 * (alp1 * y * cd + alp2 * d * uy),
    ]
    dip = [
        alp2 * x * p * qr,
        alp1 * s / r3 + alp2 * y * p * qr,
        -alp1 * t / r3 + alp2 * d * p * qr,
        alp2 * p * qr * a5,
        -alp1 * 3.0 * x * s / r5 - alp2 * y * p * qrx,
        alp1 * 3.0 * x * t / r5 - alp2 * d * p * qrx,
        alp2 * 3.0 * x / r5 * vy,
        alp1 * (s2d / r3 - 3.0 * y * s / r5) + alp2 * (3.0 * y / r5 * vy + p * qr),
        -alp1 * (c2d / r3 - 3.0 * y * t / r5) + alp2 * 3.0 * d / r5 * vy,
    ]
    tensile = [
        alp1 * x / r3 - alp2 * x * q * qr,
        alp1 * t / r3 - alp2 * y * q * qr,
        alp1 * s / r3 - alp2 * d * q * qr,
        alp1 * a3 / r3 - alp2 * q * qr * a5,
        -alp1 * 3.0 * x * t / r5 + alp2 * y * q * qrx,
        -alp1 * 3.0 * x * s / r5 + alp2 * d * q * qrx,
        -alp1 * 3.0 * xy / r5 - alp2 * x * qr * wy,
        alp1 * (c2d / r3 - 3.0 * y * t / r5) - alp2 * (y * wy + q) * qr,
        alp1 * (s2d / r3 - 3.0 * y * s / r5) - alp2 * d * qr * wy,
    ]
    inflate = [
        -alp1 * x / r3,
        -alp1 * y / r3,
        -alp1 * d / r3,
        -alp1 * a3 / r3,
        i5,
        i6,
        i5,
        -alp1 * b3 / r3,
        i9,
    ]
    return _combine((strike, dip, tensile, inflate), pot) + z_rows


def _ub0(g, k, z, pot) -> list[Tensor]:
    """Part B of the point source (Okada 1992, Table 2)."""
    alp3, sd, sdsd, sdcd = k["alp3"], k["sd"], k["sdsd"], k["sdcd"]
    x, y, d, p, q, xy, x2, y2, d2 = (g[n] for n in ("x", "y", "d", "p", "q", "xy", "x2", "y2",
                                                    "d2"))
    r, r2, r3, r5, qr, qrx = (g[n] for n in ("r", "r2", "r3", "r5", "qr", "qrx"))
    a3, a5, b3, c3, uy, uz, vy, vz, wy, wz = (
        g[n] for n in ("a3", "a5", "b3", "c3", "uy", "uz", "vy", "vz", "wy", "wz")
    )
    c = d + z
    rd = r + d
    rd_bad = rd <= 0
    if maybe_any(rd_bad):
        rd = safe(rd, rd_bad)  # image source: d = depth - z > 0, so only for invalid input
    d12 = 1.0 / (r * rd * rd)
    d32 = d12 * (2.0 * r + d) / r2
    d33 = d12 * (3.0 * r + d) / (r2 * rd)
    d53 = d12 * (8.0 * r2 + 9.0 * r * d + 3.0 * d2) / (r2 * r2 * rd)
    d54 = d12 * (5.0 * r2 + 4.0 * r * d + d2) / r3 * d12
    fi1 = y * (d12 - x2 * d33)
    fi2 = x * (d12 - y2 * d33)
    fi3 = x / r3 - fi2
    fi4 = -xy * d32
    fi5 = 1.0 / (r * rd) - x2 * d32
    fj1 = -3.0 * xy * (d33 - x2 * d54)
    fj2 = 1.0 / r3 - 3.0 * d12 + 3.0 * x2 * y2 * d54
    fj3 = a3 / r3 - fj2
    fj4 = -3.0 * xy / r5 - fj1
    fk1 = -y * (d32 - x2 * d53)
    fk2 = -x * (d32 - y2 * d53)
    fk3 = -3.0 * x * d / r5 - fk2
    strike = [
        -x2 * qr - alp3 * fi1 * sd,
        -xy * qr - alp3 * fi2 * sd,
        -c * x * qr - alp3 * fi4 * sd,
        -x * qr * (1.0 + a5) - alp3 * fj1 * sd,
        -y * qr * a5 - alp3 * fj2 * sd,
        -c * qr * a5 - alp3 * fk1 * sd,
        -3.0 * x2 / r5 * uy - alp3 * fj2 * sd,
        -3.0 * xy / r5 * uy - x * qr - alp3 * fj4 * sd,
        -3.0 * c * x / r5 * uy - alp3 * fk2 * sd,
        -3.0 * x2 / r5 * uz + alp3 * fk1 * sd,
        -3.0 * xy / r5 * uz + alp3 * fk2 * sd,
        3.0 * x / r5 * (-c * uz + alp3 * y * sd),
    ]
    dip = [
        -x * p * qr + alp3 * fi3 * sdcd,
        -y * p * qr + alp3 * fi1 * sdcd,
        -c * p * qr + alp3 * fi5 * sdcd,
        -p * qr * a5 + alp3 * fj3 * sdcd,
        y * p * qrx + alp3 * fj1 * sdcd,
        c * p * qrx + alp3 * fk3 * sdcd,
        -3.0 * x / r5 * vy + alp3 * fj1 * sdcd,
        -3.0 * y / r5 * vy - p * qr + alp3 * fj2 * sdcd,
        -3.0 * c / r5 * vy + alp3 * fk1 * sdcd,
        -3.0 * x / r5 * vz - alp3 * fk3 * sdcd,
        -3.0 * y / r5 * vz - alp3 * fk1 * sdcd,
        -3.0 * c / r5 * vz + alp3 * a3 / r3 * sdcd,
    ]
    tensile = [
        x * q * qr - alp3 * fi3 * sdsd,
        y * q * qr - alp3 * fi1 * sdsd,
        c * q * qr - alp3 * fi5 * sdsd,
        q * qr * a5 - alp3 * fj3 * sdsd,
        -y * q * qrx - alp3 * fj1 * sdsd,
        -c * q * qrx - alp3 * fk3 * sdsd,
        x * qr * wy - alp3 * fj1 * sdsd,
        qr * (y * wy + q) - alp3 * fj2 * sdsd,
        c * qr * wy - alp3 * fk1 * sdsd,
        x * qr * wz + alp3 * fk3 * sdsd,
        y * qr * wz + alp3 * fk1 * sdsd,
        c * qr * wz - alp3 * a3 / r3 * sdsd,
    ]
    i5 = -alp3 * 3.0 * xy / r5
    i6 = -alp3 * 3.0 * x * d / r5
    i9 = -alp3 * 3.0 * y * d / r5
    inflate = [
        alp3 * x / r3, alp3 * y / r3, alp3 * d / r3,
        alp3 * a3 / r3, i5, i6,
        i5, alp3 * b3 / r3, i9,
        -i6, -i9, -alp3 * c3 / r3,
    ]
    return _combine((strike, dip, tensile, inflate), pot)


def _uc0(g, k, z, pot, displacement_only: bool = False) -> list[Tensor | None]:
    """Part C of the point source (Okada 1992, Table 2).

    With ``displacement_only`` only rows 0-2 are computed, the others are None: at z = 0 the
    derivative rows are multiplied by z.
    """
    alp4, alp5, sd, cd = k["alp4"], k["alp5"], k["sd"], k["cd"]
    sdsd, sdcd, s2d, c2d = k["sdsd"], k["sdcd"], k["s2d"], k["c2d"]
    x, y, d, p, q, s, t, xy, x2, y2, d2 = (
        g[n] for n in ("x", "y", "d", "p", "q", "s", "t", "xy", "x2", "y2", "d2")
    )
    r, r2, r3, r5, qr, qrx, a3, a5, c3 = (
        g[n] for n in ("r", "r2", "r3", "r5", "qr", "qrx", "a3", "a5", "c3")
    )
    c = d + z
    qr5 = 5.0 * q / r2
    s5 = 3.0 / r5
    x5 = 3.0 * x / r5
    u_rows = _combine((
        [
            -alp4 * a3 / r3 * cd + alp5 * c * qr * a5,
            x5 * (alp4 * y * cd + alp5 * c * (sd - y * qr5)),
            x5 * (-alp4 * y * sd + alp5 * c * (cd + d * qr5)),
        ],
        [
            alp4 * 3.0 * x * t / r5 - alp5 * c * p * qrx,
            -alp4 / r3 * (c2d - 3.0 * y * t / r2) + alp5 * s5 * c * (s - y * p * qr5),
            -alp4 * a3 / r3 * sdcd + alp5 * s5 * c * (t + d * p * qr5),
        ],
        [
            x5 * (-alp4 * s + alp5 * (c * q * qr5 - z)),
            alp4 / r3 * (s2d - 3.0 * y * s / r2) + alp5 * s5 * (c * (t - y + y * q * qr5) - y * z),
            -alp4 / r3 * (1.0 - a3 * sdsd) - alp5 * s5 * (c * (s - d + d * q * qr5) - d * z),
        ],
        [
            alp4 * 3.0 * x * d / r5,
            alp4 * 3.0 * y * d / r5,
            alp4 * c3 / r3,
        ],
    ), pot)
    if displacement_only:
        return u_rows + [None] * 9
    q2 = q * q
    r7 = r5 * r2
    a7 = 1.0 - 7.0 * x2 / r2
    b5 = 1.0 - 5.0 * y2 / r2
    b7 = 1.0 - 7.0 * y2 / r2
    c5 = 1.0 - 5.0 * d2 / r2
    c7 = 1.0 - 7.0 * d2 / r2
    d7 = 2.0 - 7.0 * q2 / r2
    qr7 = 7.0 * q / r2
    dr5 = 5.0 * d / r2
    st5 = (
        s5 * (alp4 * y * a5 * cd + alp5 * c * (a5 * sd - y * qr5 * a7))
    )
    dp5 = x5 * (alp4 * (c2d - 5.0 * y * t / r2) - alp5 * 5.0 * c / r2 * (s - y * p * qr7))
    tp5 = x5 * (-alp4 * (s2d - 5.0 * y * s / r2)
                - alp5 * 5.0 / r2 * (c * (t - y + y * q * qr7) - y * z))
    i5 = -alp4 * 15.0 * xy * d / r7
    i6 = -alp4 * x5 * c5
    i9 = -alp4 * 3.0 * y / r5 * c5
    strike = [
        alp4 * x5 * (2.0 + a5) * cd - alp5 * c * qrx * (2.0 + a7),
        st5,
        s5 * (-alp4 * y * a5 * sd + alp5 * c * (a5 * cd + d * qr5 * a7)),
        st5,
        x5 * (alp4 * b5 * cd - alp5 * 5.0 * c / r2 * (2.0 * y * sd + q * b7)),
        x5 * (-alp4 * b5 * sd + alp5 * 5.0 * c / r2 * (d * b7 * sd - y * c7 * cd)),
        s5 * (-alp4 * d * a5 * cd + alp5 * c * (a5 * cd + d * qr5 * a7)),
        15.0 * x / r7 * (alp4 * y * d * cd + alp5 * c * (d * b7 * sd - y * c7 * cd)),
        15.0 * x / r7 * (-alp4 * y * d * sd + alp5 * c * (2.0 * d * cd - q * c7)),
    ]
    dip = [
        alp4 * 3.0 * t / r5 * a5 - alp5 * 5.0 * c * p * qr / r2 * a7,
        dp5,
        x5 * (alp4 * (2.0 + a5) * sdcd - alp5 * 5.0 * c / r2 * (t + d * p * qr7)),
        dp5,
        s5 * (alp4 * (2.0 * y * c2d + t * b5)
              + alp5 * c * (s2d - 10.0 * y * s / r2 - p * qr5 * b7)),
        s5 * (alp4 * y * a5 * sdcd - alp5 * c * ((3.0 + a5) * c2d + y * p * dr5 * qr7)),
        x5 * (-alp4 * (s2d - t * dr5) - alp5 * 5.0 * c / r2 * (t + d * p * qr7)),
        s5 * (-alp4 * (d * b5 * c2d + y * c5 * s2d)
              - alp5 * c * ((3.0 + a5) * c2d + y * p * dr5 * qr7)),
        s5 * (-alp4 * d * a5 * sdcd - alp5 * c * (s2d - 10.0 * d * t / r2 + p * qr5 * c7)),
    ]
    tensile = [
        -alp4 * 3.0 * s / r5 * a5 + alp5 * (c * qr * qr5 * a7 - 3.0 * z / r5 * a5),
        tp5,
        x5 * (alp4 * (1.0 - (2.0 + a5) * sdsd)
              + alp5 * 5.0 / r2 * (c * (s - d + d * q * qr7) - d * z)),
        tp5,
        s5 * (-alp4 * (2.0 * y * s2d + s * b5)
              - alp5 * (c * (2.0 * sdsd + 10.0 * y * (t - y) / r2 - q * qr5 * b7) + z * b5)),
        s5 * (alp4 * y * (1.0 - a5 * sdsd)
              + alp5 * (c * (3.0 + a5) * s2d - y * dr5 * (c * d7 + z))),
        x5 * (-alp4 * (c2d + s * dr5)
              + alp5 * (5.0 * c / r2 * (s - d + d * q * qr7) - 1.0 - z * dr5)),
        s5 * (alp4 * (d * b5 * s2d - y * c5 * c2d)
              + alp5 * (c * ((3.0 + a5) * s2d - y * dr5 * d7) - y * (1.0 + z * dr5))),
        s5 * (-alp4 * d * (1.0 - a5 * sdsd)
              - alp5 * (c * (c2d + 10.0 * d * (s - d) / r2 - q * qr5 * c7) + z * (1.0 + c5))),
    ]
    inflate = [
        alp4 * 3.0 * d / r5 * a5,
        i5,
        i6,
        i5,
        alp4 * 3.0 * d / r5 * b5,
        i9,
        i6,
        i9,
        alp4 * 3.0 * d / r5 * (2.0 + c5),
    ]
    return u_rows + _combine((strike, dip, tensile, inflate), pot)


def dc3d0(
    alpha,
    x,
    y,
    z,
    depth,
    dip,
    pot1,
    pot2,
    pot3,
    pot4,
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Displacement and displacement derivatives of a point source (Okada 1992).

    All arguments broadcast against each other, so one call evaluates many stations against
    many sources.

    Parameters
    ----------
    alpha
        Medium constant (lambda + mu) / (lambda + 2 mu).
    x, y, z
        Observation point in the source frame (x along strike, z up, ``z <= 0``); any length
        unit, the same for all lengths.
    depth
        Source depth (positive).
    dip
        Dip angle, degrees.
    pot1, pot2, pot3, pot4
        Strike-slip, dip-slip, tensile and inflation potency: moment / mu for the double
        couples, intensity / lambda for the isotropic part, intensity / mu for the linear
        dipole (Okada's convention; unit of length**3 times the displacement unit per length).
    dtype, device
        Of the computation; float64 and the device of the first tensor argument by default.

    Returns
    -------
    u : Tensor (..., 3)
        Displacement ux, uy, uz (unit of potency / unit of length**2).
    du : Tensor (..., 9)
        uxx, uyx, uzx, uxy, uyy, uzy, uxz, uyz, uzz (``u_ij = d u_i / d x_j``).
    iret : Tensor (...), int64
        0 normal, 1 singular (station at the source), 2 ``z > 0``; outputs are 0 there.

    Examples
    --------
    >>> u, du, iret = dc3d0(2/3, 2., 3., 0., 4., 70., 1., 0., 0., 0.)
    >>> round(float(u[0]), 7), int(iret)
    (-0.0009447, 0)
    """
    args = as_tensors(alpha, x, y, z, depth, dip, pot1, pot2, pot3, pot4, dtype=dtype,
                      device=device)
    result, iret = blockwise(_dc3d0_kernel, args, _CPU_BLOCK)
    return result[..., :3], result[..., 3:], iret


def _dc3d0_kernel(alpha, x, y, z, depth, dip, pot1, pot2, pot3, pot4) -> tuple[Tensor, Tensor]:
    """:func:`dc3d0` on 1-D tensors of one length: ``(u || du (n, 12), iret (n,))``."""
    k = dip_constants(alpha, dip)
    sd, cd = k["sd"], k["cd"]
    positive_z = z > 0
    # stations exactly at z = 0 that no derivative flows through: the image source is the real
    # one, so one geometry and a quarter of parts A and C (see rectangular._dc3d_kernel)
    surface = _SURFACE_SHORTCUT and is_fixed_zero(z)
    # the Fortran snaps x and y in place in the real-source call and reuses them for the image
    xs, ys = snap(x), snap(y)
    d_real = snap(depth + z)
    d_image = d_real if surface else snap(depth - z)
    singular = (xs.detach() == 0) & (ys.detach() == 0) & (d_real.detach() == 0)
    bad = singular | positive_z
    # stand-in geometry for rows whose outputs are zeroed, so that their gradient is 0, not NaN
    xs, ys = torch.where(bad, 1.0, xs), torch.where(bad, 1.0, ys)
    d_real, d_image = torch.where(bad, 1.0, d_real), torch.where(bad, 1.0, d_image)
    pot = (pot1, pot2, pot3, pot4)

    g_i = _point_geometry(xs, ys, d_image, sd, cd)
    ua_i = _ua0(g_i, k, pot, z_rows_only=surface)
    ub_i = _ub0(g_i, k, z, pot)
    uc_i = _uc0(g_i, k, z, pot, displacement_only=surface)
    if surface:
        # real + image of part A: cancels in rows 0-8, doubles in the z-derivatives 9-11
        out = ub_i[:9] + [2.0 * ua_i[i] + ub_i[i] + uc_i[i - 9] for i in (9, 10, 11)]
    else:
        ua_r = _ua0(_point_geometry(xs, ys, d_real, sd, cd), k, pot)
        out = []
        for i in range(12):
            real = -ua_r[i] if i < 9 else ua_r[i]  # d/dz of the real source changes sign
            image = ua_i[i] + ub_i[i] + z * uc_i[i]
            if i >= 9:
                image = image + uc_i[i - 9]
            out.append(real + image)
    result = torch.where(bad.unsqueeze(-1), 0.0, torch.stack(out, dim=-1))
    iret = torch.where(positive_z, 2, singular.to(torch.int64))
    return result, iret
