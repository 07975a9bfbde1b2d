"""Okada (1992) DC3D: displacement and its derivatives from a rectangular dislocation.

Owns the finite-fault kernel :func:`dc3d`, a batched torch transcription of the formulas of
Okada's Fortran DC3D (revision of May 2002) with its argument conventions: fault frame with x
along strike, z up (``z <= 0`` inside the medium), ``depth > 0`` of the reference point, fault
extent ``al1..al2`` along strike and ``aw1..aw2`` up dip, dislocations ``disl1..disl3`` (strike,
dip, tensile). Values follow the Fortran, including its ``EPS = 1e-6`` snapping and branches;
gradients are those of the analytic function (see :mod:`._common`).

Speed (one CPU thread, eager torch): the pairs are processed in blocks of ``_CPU_BLOCK`` so that
the ~1500 elementwise temporaries stay in the cache; the corner sum comes right after each part
(A, B, C), so that the dislocations and rotations work on one value per pair; products shared
between the table entries are computed once (:func:`_geometry`); branches nobody takes (the
vertical-dip limits, the edge-extension logs) are skipped; and at z = 0, where the image source
coincides with the real one, 4 corners and a third of parts A and C suffice (the case of
surface geodesy, Okada 1985).

References
----------
Okada, Y. (1992). Internal deformation due to shear and tensile faults in a half-space.
Bull. Seism. Soc. Am., 82(2), 1018-1040.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._common import (
    EPS,
    PI2,
    as_tensors,
    blockwise,
    dip_constants,
    is_fixed_zero,
    maybe_any,
    r_plus,
    safe,
    snap,
)
from ._vertical import ub_vertical

__all__ = ["dc3d"]

# Layout: the kernel sees flat blocks of n station-source pairs; per-corner tensors are
# (n_corners, n), the corner index LEADING, so that per-pair values (n,) broadcast against them
# along the long contiguous dimension (a trailing corner axis made such products 2-3x slower).
# Corner order (j, k) = (1,1), (2,1), (1,2), (2,2): xi index j, eta index k
_J = [0, 1, 0, 1]
_K = [0, 0, 1, 1]
# Chinnery's notation f(xi, eta)||: + for j + k != 3 in the Fortran's 1-based indices
_CORNER_SIGN = (1.0, -1.0, -1.0, 1.0)
#: station-source pairs per block on CPU: a (4, n) temporary is 256 kB, in L2; 4096 to 16384
#: were within 10% of each other forward, the larger ones faster with the gradient
_CPU_BLOCK = 8192
#: take the z = 0 shortcut of :func:`_dc3d_kernel` (off only to test it against the general path)
_SURFACE_SHORTCUT = True


def _atan_ratio(a: Tensor, b: Tensor) -> Tensor:
    """``atan(a / b)`` with a finite gradient at ``b = 0`` and 0 where ``b == 0`` (Fortran TT).

    Computed as ``atan2(a s, b s)`` with ``s = sign(b)`` (+1 at 0), less ``sign(a) pi/2`` where
    ``b == 0``: the Fortran's value, and the derivative of ``sign(ab) pi/2 - atan(b/a)``, which
    is smooth in ``b`` through zero, so a snapped ``q = 0`` keeps the derivative of TT. At
    ``a = b = 0`` the value is 0 with no gradient. No ``where`` on the data-dependent branch
    ``|b| < |a|``: on a mask that varies from element to element torch.where is ~5x slower.
    """
    av, bv = a.detach(), b.detach()
    b_zero = bv == 0
    s = torch.sign(bv) + b_zero  # +-1, +1 at b = 0
    x = b * s + 0.0  # |b|, with b's gradient; + 0.0 turns a -0.0 into +0.0 (atan2(a, -0) = +-pi)
    # a = b = 0 (on the line eta = q = 0 or xi = q = 0): the Fortran's 0; the pair of corners
    # sharing that line is smooth there with zero derivative, so no gradient either
    both_zero = b_zero & (av == 0)
    any_both = maybe_any(both_zero)
    if any_both:
        x = torch.where(both_zero, 1.0, x)
    tt = torch.atan2(a * s, x) - b_zero * (torch.sign(av) * (math.pi / 2))
    return torch.where(both_zero, 0.0, tt) if any_both else tt


def _log_terms(r: Tensor, v: Tensor, kv: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """log(R + v), X11 = 1/(R (R + v)) and X32 = (2R + v)/(R^3 (R + v)^2) for v = xi or eta.

    ``kv`` is the Fortran's KXI/KET: on the negative extension of an edge it drops the
    log(eta^2 + q^2) part, which cancels between the two corners sharing that eta (or xi), and
    takes X11 = X32 = 0. The stand-ins of the double ``where`` are only built where needed.
    """
    rv = r_plus(r, v)
    bad = kv | (rv <= 0)
    if not maybe_any(bad):  # the common case: no station on the extension of an edge
        v11 = 1.0 / (r * rv)
        return torch.log(rv), v11, (r + rv) * v11 * v11 / r
    rv_ok = safe(rv, bad)
    log_rv = torch.where(kv, -torch.log(safe(r - v, ~kv)), torch.log(rv_ok))
    v11 = torch.where(bad, 0.0, 1.0 / (r * rv_ok))
    return log_rv, v11, (r + rv_ok) * v11 * v11 / r


def _geometry(xi, et, q, sd, cd, kxi, ket) -> dict[str, Tensor]:
    """Station geometry constants of the Fortran DCCON2, per corner.

    Besides the Fortran's quantities, holds the products that parts A, B and C share (names
    spell them: ``qfy = q * fy``, ``q_r3 = q / R^3``, ``xiqy32 = xi * q * Y32``), computed once
    for the 8 corners; part B and C take the image source's 4.
    """
    xi2, et2, q2 = xi * xi, et * et, q * q
    r2 = xi2 + et2 + q2
    r = torch.sqrt(r2)  # > 0: corners at R = 0 are on an edge and were replaced upstream
    r3 = r * r2
    ir, ir3 = 1.0 / r, 1.0 / r3
    y = et * cd + q * sd
    d = et * sd - q * cd
    # TT = atan(xi*eta/(q*R)), 0 for q == 0 as the Fortran, smooth derivative in q
    tt = _atan_ratio(xi * et, q * r)
    alx, x11, x32 = _log_terms(r, xi, kxi)
    ale, y11, y32 = _log_terms(r, et, ket)
    yq, dq = y * q, d * q
    yqx32, dqx32 = yq * x32, dq * x32
    qy32 = q * y32
    xiqy32 = xi * qy32
    xi2y32 = xi2 * y32
    fy, fz = d * ir3 + xi2y32 * sd, y * ir3 + xi2y32 * cd
    gy, gz = x11 * (2.0 * sd) - yqx32, x11 * (2.0 * cd) + dqx32
    hy, hz = dqx32 + xiqy32 * sd, yqx32 + xiqy32 * cd
    qx, qy = q * x11, q * y11
    q_r3 = q * ir3
    return {
        "xi": xi, "et": et, "q": q, "xi2": xi2, "et2": et2, "q2": q2,
        "r": r, "r2": r2, "r3": r3, "r5": r3 * r2, "ir": ir, "ir3": ir3,
        "y": y, "d": d, "tt": tt,
        "alx": alx, "ale": ale, "x11": x11, "y11": y11, "x32": x32, "y32": y32,
        "ey": sd * ir - yq * ir3, "ez": cd * ir + dq * ir3,
        "fy": fy, "fz": fz, "gy": gy, "gz": gz, "hy": hy, "hz": hz,
        # shared products
        "xy": xi * y11, "qx": qx, "qy": qy, "xqy": xi * qy, "eqx": et * qx,
        "qqx": q * qx, "qqy": q * qy, "q_r": q * ir, "q_r3": q_r3, "xiq_r3": xi * q_r3,
        "eq_r3": et * q_r3, "q2_r3": q2 * ir3, "xiq": xi * q, "qy32": qy32,
        "xi2qy32": xi2 * qy32, "xiq2y32": q * xiqy32, "q2qy32": q2 * qy32,
        "dx11": d * x11, "yx11": y * x11, "xfy": xi * fy, "xfz": xi * fz,
        "egy": et * gy, "egz": et * gz, "qfy": q * fy, "qfz": q * fz,
        "qgy": q * gy, "qgz": q * gz, "qhy": q * hy, "qhz": q * hz,
    }


def _combine(parts, disl) -> list[Tensor]:
    """sum_k disl_k / (2 pi) * parts_k[i] for each row i of the parts (lists of equal length)."""
    d1, d2, d3 = (v / PI2 for v in disl)
    return [d1 * a + d2 * b + d3 * c for a, b, c in zip(*parts)]


def _ua(g, k, disl, z_rows_only: bool = False) -> list[Tensor | None]:
    """Part A (Okada 1992, Table 6), 12 outputs per corner in the fault frame.

    The table's entries with the products they share taken from ``g`` and from each other
    (``a2q_r = alp2 * q / R``); per-station factors are multiplied together before they meet a
    per-corner tensor. With ``z_rows_only`` only the z-derivative rows (9-11) are computed, the
    others are None: at z = 0 the rest of part A cancels between the real and image sources.
    """
    alp1, alp2, sd, cd = k["alp1"], k["alp2"], k["sd"], k["cd"]
    xy, dx11, yx11 = g["xy"], g["dx11"], g["yx11"]
    a2ez = alp2 * g["ez"]
    a2qfz, a2qgz = alp2 * g["qfz"], alp2 * g["qgz"]
    a1dx11, a1yx11 = alp1 * dx11, alp1 * yx11
    a1xy = alp1 * xy
    a1sqc = alp1 * (sd * g["ir"] - g["qy"] * cd)
    z_rows = _combine((
        [a1xy * cd + alp2 * g["xfz"] + 0.5 * yx11, a2ez, -a1sqc - a2qfz],
        [a2ez, a1yx11 + xy * (0.5 * cd) + alp2 * g["egz"], -a1dx11 - a2qgz],
        [a1sqc - a2qfz, a1dx11 - a2qgz, alp1 * (yx11 + xy * cd) + alp2 * g["qhz"]],
    ), disl)
    if z_rows_only:
        return [None] * 9 + z_rows

    ir, qy, xqy, eqx = g["ir"], g["qy"], g["xqy"], g["eqx"]
    tt2 = 0.5 * g["tt"]
    a2q_r = alp2 * g["q_r"]
    a2xiq_r3 = alp2 * g["xiq_r3"]
    a2qqy, a2qqx = alp2 * g["qqy"], alp2 * g["qqx"]
    a1ale, a1alx = alp1 * g["ale"], alp1 * g["alx"]
    a1qy = alp1 * qy
    a2xiq2y32 = alp2 * g["xiq2y32"]
    a1_r, a2q2_r3 = alp1 * ir, alp2 * g["q2_r3"]
    a2ey = alp2 * g["ey"]
    a2qfy, a2qgy = alp2 * g["qfy"], alp2 * g["qgy"]
    a1cqs = alp1 * (cd * ir + qy * sd)
    strike = [
        tt2 + alp2 * xqy,
        a2q_r,
        a1ale - a2qqy,
        -a1qy - alp2 * g["xi2qy32"],
        -a2xiq_r3,
        a1xy + a2xiq2y32,
        a1xy * sd + alp2 * g["xfy"] + 0.5 * dx11,
        a2ey,
        a1cqs - a2qfy,
    ]
    dip = [
        a2q_r,
        tt2 + alp2 * eqx,
        a1alx - a2qqx,
        -a2xiq_r3,
        -0.5 * qy - alp2 * g["eq_r3"],
        a1_r + a2q2_r3,
        a2ey,
        a1dx11 + xy * (0.5 * sd) + alp2 * g["egy"],
        a1yx11 - a2qgy,
    ]
    tensile = [
        -a1ale - a2qqy,
        -a1alx - a2qqx,
        tt2 - alp2 * (eqx + xqy),
        -a1xy + a2xiq2y32,
        -a1_r + a2q2_r3,
        -a1qy - alp2 * g["q2qy32"],
        -a1cqs - a2qfy,
        -a1yx11 - a2qgy,
        alp1 * (dx11 + xy * sd) + alp2 * g["qhy"],
    ]
    return _combine((strike, dip, tensile), disl) + z_rows


def _ub_general(g, k, big_x, rd, d11, log_rd, aj2, aj5, any_vertical) -> dict[str, Tensor]:
    """I3, I4, K1, K3, J3, J6 of part B for a non-vertical dip: the Fortran formulas.

    Where ``cos(dip)`` is snapped to 0 (only if ``any_vertical``) it is replaced by 1 here; those
    entries are discarded for :func:`._vertical.ub_vertical`'s.
    """
    xi, et, q, r, y, ale, y11 = (g[n] for n in ("xi", "et", "q", "r", "y", "ale", "y11"))
    cd_g, sd_g = k["cd"], k["sd"]
    if any_vertical:
        cd_g, sd_g = safe(cd_g, k["vertical"]), safe(sd_g, k["vertical"], 0.0)
    num = et * (big_x + q * cd_g) + big_x * (r + big_x) * sd_g
    den = xi * (r + big_x) * cd_g
    # 2 atan(num/den), taken through its reciprocal where |den| < |num|: this is 0 at xi = 0
    # (the Fortran's special case) with the derivative of the smooth branch there
    ai4 = (xi / rd * sd_g * cd_g + 2.0 * _atan_ratio(num, den)) / (cd_g * cd_g)
    ai3 = (y * cd_g / rd - ale + sd_g * log_rd) / (cd_g * cd_g)
    ak1 = xi * (d11 - y11 * sd_g) / cd_g
    ak3 = (q * y11 - y * d11) / cd_g
    aj3 = (ak1 - aj2 * sd_g) / cd_g
    aj6 = (ak3 - aj5 * sd_g) / cd_g
    return {"ai3": ai3, "ai4": ai4, "ak1": ak1, "ak3": ak3, "aj3": aj3, "aj6": aj6}


def _ub(g, k, disl) -> list[Tensor]:
    """Part B (Okada 1992, Table 6), 12 outputs per corner in the fault frame."""
    alp3, sd, cd = k["alp3"], k["sd"], k["cd"]
    sdsd, sdcd, vert = k["sdsd"], k["sdcd"], k["vertical"]
    xi, r, y, d, tt, ir = g["xi"], g["r"], g["y"], g["d"], g["tt"], g["ir"]
    xi2, q2, ey, ez = g["xi2"], g["q2"], g["ey"], g["ez"]
    xy, qy, xqy, eqx, qqx, qqy = g["xy"], g["qy"], g["xqy"], g["eqx"], g["qqx"], g["qqy"]
    q_r, xiq_r3, q2_r3, xiq2y32 = g["q_r"], g["xiq_r3"], g["q2_r3"], g["xiq2y32"]
    qfy, qfz, qgy, qgz = g["qfy"], g["qfz"], g["qgy"], g["qgz"]

    rd = r_plus(r, d)
    rd_bad = rd <= 0
    if maybe_any(rd_bad):
        rd = safe(rd, rd_bad)  # only at points the Fortran would divide by zero as well
    d11 = 1.0 / (r * rd)
    aj2 = xi * y / rd * d11
    aj5 = -(d + y * y / rd) * d11
    log_rd = torch.log(rd)

    big_x2 = xi2 + q2
    x_zero = big_x2 == 0  # xi = q = 0: sqrt would give an infinite gradient
    big_x = torch.where(x_zero, 0.0, torch.sqrt(safe(big_x2, x_zero)))
    # each branch only where some source takes it (a single fault takes one of them)
    any_vertical = maybe_any(vert)
    terms = None
    if maybe_any(~vert) or not any_vertical:
        terms = _ub_general(g, k, big_x, rd, d11, log_rd, aj2, aj5, any_vertical)
    if any_vertical:
        vertical = ub_vertical(g, k, big_x)
        terms = vertical if terms is None else {
            n: torch.where(vert, vertical[n], terms[n]) for n in vertical}
    ai3, ai4, ak1, ak3, aj3, aj6 = (terms[n] for n in ("ai3", "ai4", "ak1", "ak3", "aj3", "aj6"))

    xi_rd = xi / rd
    ai1 = -xi_rd * cd - ai4 * sd
    ai2 = log_rd + ai3 * sd
    ak2 = ir + ak3 * sd
    ak4 = xy * cd - ak1 * sd
    aj1 = aj5 * cd - aj6 * sd
    aj4 = -xy - aj2 * cd + aj3 * sd
    # per-station factors first: alp3 sin(dip), alp3 sin(dip) cos(dip), alp3 sin(dip)^2
    a3s, a3sc, a3ss = alp3 * sd, alp3 * sdcd, alp3 * sdsd
    xd11 = xi * d11
    strike = [
        -xqy - tt - ai1 * a3s,
        -q_r + y / rd * a3s,
        qqy - ai2 * a3s,
        g["xi2qy32"] - aj1 * a3s,
        xiq_r3 - aj2 * a3s,
        -xiq2y32 - aj3 * a3s,
        -g["xfy"] - g["dx11"] + (xy + aj4) * a3s,
        -ey + (ir + aj5) * a3s,
        qfy - (qy - aj6) * a3s,
        -g["xfz"] - g["yx11"] + ak1 * a3s,
        -ez + y * d11 * a3s,
        qfz + ak2 * a3s,
    ]
    dip = [
        -q_r + ai3 * a3sc,
        -eqx - tt - xi_rd * a3sc,
        qqx + ai4 * a3sc,
        xiq_r3 + aj4 * a3sc,
        g["eq_r3"] + qy + aj5 * a3sc,
        -q2_r3 + aj6 * a3sc,
        -ey + aj1 * a3sc,
        -g["egy"] - xy * sd + aj2 * a3sc,
        qgy + aj3 * a3sc,
        -ez - ak3 * a3sc,
        -g["egz"] - xy * cd - xd11 * a3sc,
        qgz - ak4 * a3sc,
    ]
    tensile = [
        qqy - ai3 * a3ss,
        qqx + xi_rd * a3ss,
        eqx + xqy - tt - ai4 * a3ss,
        -xiq2y32 - aj4 * a3ss,
        -q2_r3 - aj5 * a3ss,
        g["q2qy32"] - aj6 * a3ss,
        qfy - aj1 * a3ss,
        qgy - aj2 * a3ss,
        -g["qhy"] - aj3 * a3ss,
        qfz + ak3 * a3ss,
        qgz + xd11 * a3ss,
        -g["qhz"] + ak4 * a3ss,
    ]
    return _combine((strike, dip, tensile), disl)


def _uc(g, k, z, disl, displacement_only: bool = False) -> list[Tensor | None]:
    """Part C (Okada 1992, Table 6), 12 outputs per corner in the fault frame.

    The table's entries with their shared products named (``cyqr = c * y * 3q / R^5``,
    ``c_d7 = c ((d + 2 q cos) X32 - y eta q X53)`` of the dip column's 8th entry); per-station
    factors are multiplied together before they meet a per-corner tensor. With
    ``displacement_only`` only rows 0-2 are computed, the others are None: at z = 0 the
    derivative rows are multiplied by z.
    """
    alp4, alp5, sd, cd = k["alp4"], k["alp5"], k["sd"], k["cd"]
    xi, et, q, q2, y, d = g["xi"], g["et"], g["q"], g["q2"], g["y"], g["d"]
    x11, y11, x32, y32 = g["x11"], g["y11"], g["x32"], g["y32"]
    ir, ir3, qy, xy = g["ir"], g["ir3"], g["qy"], g["xy"]
    # per-station factors
    a4c, a4s2 = alp4 * cd, 2.0 * alp4 * sd
    c = d + z
    h = q * cd - z
    z32 = sd * ir3 - h * y32
    c_r3 = c * ir3
    qc_r3 = q * c_r3
    cet = c * et
    cxq = c * (x11 - q2 * x32)
    u_rows = _combine((
        [xy * a4c - alp5 * (g["xiq"] * z32),
         a4c * ir + qy * a4s2 - alp5 * qc_r3,
         qy * a4c - alp5 * (cet * ir3 - z * y11 + g["xi2"] * z32)],
        [a4c * ir - qy * sd - alp5 * qc_r3,
         alp4 * g["yx11"] - alp5 * (cet * q * x32),
         -g["dx11"] - xy * sd - alp5 * cxq],
        [-alp4 * (sd * ir + qy * cd) - alp5 * (z * y11 - q2 * z32),
         xy * a4s2 + g["dx11"] - alp5 * cxq,
         alp4 * (g["yx11"] + xy * cd) + alp5 * (q * (cet * x32 + xi * z32))],
    ), disl)
    if displacement_only:
        return u_rows + [None] * 9

    sdsd, cdcd, sdcd = k["sdsd"], k["cdcd"], k["sdcd"]
    r, r2, r5, xi2, et2 = g["r"], g["r2"], g["r5"], g["xi2"], g["et2"]
    q_r3, qy32 = g["q_r3"], g["qy32"]
    sd2, cd2 = 2.0 * sd, 2.0 * cd
    ir5_3 = 3.0 / r5
    x53 = (8.0 * r2 + 9.0 * r * xi + 3.0 * xi2) * x11 * x11 * x11 / r2
    y53 = (8.0 * r2 + 9.0 * r * et + 3.0 * et2) * y11 * y11 * y11 / r2
    z53 = (3.0 * sd) / r5 - h * y53
    y0 = y11 - xi2 * y32
    z0 = z32 - xi2 * z53
    ppy = cd * ir3 + qy32 * sd
    ppz = sd * ir3 - qy32 * cd
    qq = z * y32 + z32 + z0
    c3r5 = c * ir5_3
    qqy = d * c3r5 - qq * sd
    qqz = y * c3r5 - qq * cd + qy32
    cqr = q * c3r5  # c * qr with qr = 3 q / R^5
    cdr = (c + d) * ir3
    y_r3, d_r3, et_r3 = y * ir3, d * ir3, et * ir3
    y0c, y0s = y0 * cd, y0 * sd
    yy0 = y_r3 - y0c
    qz0 = q * z0
    cyqr, cdqr = y * cqr, d * cqr
    cdrc, cdrs = cdr * cd, cdr * sd
    cet3r5 = cet * ir5_3
    xippy, xippz = xi * ppy, xi * ppz
    xiqqy, xiqqz = xi * qqy, xi * qqz
    ydx32 = y * d * x32
    x11yy, x11dd = x11 - y * y * x32, x11 - d * d * x32
    cq2 = c_r3 * (1.0 - 3.0 * q2 / r2)
    etq = et * q
    c_d7 = c * ((d + q * cd2) * x32 - y * etq * x53)
    c_d8 = c * ((y + q * sd2) * x32 - y * q2 * x53)
    c_d10 = c * ((y - q * sd2) * x32 + d * etq * x53)
    c_d11 = c * ((d - q * cd2) * x32 - d * q2 * x53)
    strike = [
        y0 * a4c - alp5 * qz0,
        xi * (alp5 * cqr - a4c * ir3 - qy32 * a4s2),
        xi * (alp5 * (cet3r5 - qq) - qy32 * a4c),
        -xippy * a4c - alp5 * xiqqy,
        (d_r3 - y0s) * a4s2 - y_r3 * cd - alp5 * (cdrs - et_r3 - cyqr),
        -alp4 * q_r3 + yy0 * sd + alp5 * (cdrc + cdqr - (y0c + qz0) * sd),
        xippz * a4c - alp5 * xiqqz,
        (y_r3 - y0c) * a4s2 + d_r3 * cd - alp5 * (cdrc + cdqr),
        yy0 * cd - alp5 * (cdrs - cyqr - y0 * sdsd + qz0 * cd),
    ]
    dip = [
        xi * (alp5 * cqr - a4c * ir3 + qy32 * sd),
        -alp4 * y_r3 + alp5 * (et * cqr),
        d_r3 - y0s + alp5 * cq2,
        -alp4 * et_r3 + y0 * sdsd - alp5 * (cdrs - cyqr),
        alp4 * x11yy - alp5 * c_d7,
        xippy * sd + ydx32 + alp5 * c_d8,
        -q_r3 + y0 * sdcd - alp5 * (cdrc + cdqr),
        alp4 * ydx32 - alp5 * c_d10,
        -xippz * sd + x11dd - alp5 * c_d11,
    ]
    tensile = [
        xi * ((alp4 * sd) * ir3 + qy32 * cd + alp5 * (cet3r5 - 2.0 * z32 - z0)),
        y0 * a4s2 - d_r3 + alp5 * cq2,
        -alp4 * yy0 - alp5 * (et * cqr - qz0),
        alp4 * (q_r3 + y0 * sdcd) + alp5 * ((z * cd) * ir3 + cdqr - qz0 * sd),
        -xippy * a4s2 - ydx32 + alp5 * c_d8,
        -alp4 * (xippy * cd - x11yy) + alp5 * (c_d7 + xiqqy),
        -et_r3 + y0 * cdcd - alp5 * ((z * sd) * ir3 - cyqr - y0 * sdsd + qz0 * cd),
        xippz * a4s2 - x11dd - alp5 * c_d11,
        alp4 * (xippz * cd + ydx32) + alp5 * (c_d10 + xiqqz),
    ]
    return u_rows + _combine((strike, dip, tensile), disl)


def _source_geometry(xi, y, d, aw1, aw2, sd, cd):
    """eta, q, the edge flag and KXI/KET of one source (real or image), as the Fortran.

    ``xi`` is ``(2, *shape)`` (xi_1, xi_2); returns ``eta`` ``(2, *shape)``, ``q`` and the edge
    flag ``shape``, ``kxi`` ``(2, *shape)`` indexed by the eta index and ``ket`` ``(2, *shape)``
    indexed by the xi index.
    """
    p = y * cd + d * sd
    q = snap(y * sd - d * cd)
    et = snap(torch.stack([p - aw1, p - aw2]))
    # flags from values only, with the Fortran's arithmetic
    (x1, x2), (e1, e2), qv = xi.detach(), et.detach(), q.detach()
    xx, ee = x1 * x2, e1 * e2
    on_edge = (qv == 0) & (((xx <= 0) & (ee == 0)) | ((ee <= 0) & (xx == 0)))
    q2 = qv * qv
    r12 = torch.sqrt(x1 * x1 + e2 * e2 + q2)
    r21 = torch.sqrt(x2 * x2 + e1 * e1 + q2)
    r22 = torch.sqrt(x2 * x2 + e2 * e2 + q2)
    kxi = torch.stack([(x1 < 0) & (r21 + x2 < EPS), (x1 < 0) & (r22 + x2 < EPS)])
    ket = torch.stack([(e1 < 0) & (r12 + e2 < EPS), (e1 < 0) & (r22 + e2 < EPS)])
    return et, q, on_edge, kxi, ket


def dc3d(
    alpha,
    x,
    y,
    z,
    depth,
    dip,
    al1,
    al2,
    aw1,
    aw2,
    disl1,
    disl2,
    disl3,
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Displacement and displacement derivatives of a rectangular dislocation (Okada 1992).

    All arguments broadcast against each other (tensors, arrays or numbers), so one call
    evaluates many stations against many faults without a Python loop.

    Parameters
    ----------
    alpha
        Medium constant (lambda + mu) / (lambda + 2 mu); 2/3 for a Poisson solid.
    x, y, z
        Observation point in the fault frame: x along strike, y perpendicular to it (the
        fault dips towards -y... as in Okada's figure, the hanging wall is at y > 0 for
        0 < dip < 90), z up, ``z <= 0``. Any length unit, the same for all lengths.
    depth
        Depth of the reference point (positive).
    dip
        Dip angle, degrees.
    al1, al2
        Fault extent along strike, from the reference point (``al1 < al2``).
    aw1, aw2
        Fault extent up dip, from the reference point (``aw1 < aw2``).
    disl1, disl2, disl3
        Strike-slip, dip-slip and tensile dislocation (unit of the output displacement).
    dtype, device
        Of the computation; float64 and the device of the first tensor argument by default.

    Returns
    -------
    u : Tensor (..., 3)
        Displacement ux, uy, uz (unit of the dislocation).
    du : Tensor (..., 9)
        Derivatives in the Fortran order uxx, uyx, uzx, uxy, uyy, uzy, uxz, uyz, uzz with
        ``u_ij = d u_i / d x_j`` (unit of dislocation per unit of length).
    iret : Tensor (...), int64
        0 normal, 1 singular (station on a fault edge), 2 ``z > 0``; outputs are 0 where
        ``iret != 0``, as in the Fortran, with zero gradient.

    Examples
    --------
    The example of the DC3D manual:

    >>> u, du, iret = dc3d(2/3, 10., 20., -30., 50., 70., -80., 120., -30., 25., 200., -150., 100.)
    >>> [round(v, 4) for v in u.tolist()], int(iret)
    ([-37.8981, 63.1789, 14.9607], 0)
    """
    args = as_tensors(alpha, x, y, z, depth, dip, al1, al2, aw1, aw2, disl1, disl2, disl3,
                      dtype=dtype, device=device)
    result, iret = blockwise(_dc3d_kernel, args, _CPU_BLOCK)
    return result[..., :3], result[..., 3:], iret


def _corner_sum(parts: list[Tensor | None], weights: Tensor) -> list[Tensor | None]:
    """Chinnery's signed sum over the leading corner dimension: ``weights @ part``.

    ``parts`` are ``(n_corners, n)``; ``weights`` is ``(n_corners,)`` or ``(n_sources,
    n_corners)``. None (a row not computed) stays None.
    """
    return [None if v is None else weights @ v for v in parts]


def _assemble(ua_real, ua_image, ub, uc, z, sd, cd) -> list[Tensor]:
    """Rotate the corner sums of parts A, B, C to the output frame and add them (Fortran DC3D)."""
    out = []
    for i in (0, 3, 6, 9):
        # real source, rotated from the fault frame; the z-derivative changes sign (D = depth + z)
        a0, a1, a2 = ua_real[i : i + 3]
        r0, r1, r2 = -a0, -a1 * cd + a2 * sd, -a1 * sd - a2 * cd
        if i == 9:
            r0, r1, r2 = -r0, -r1, -r2
        # image source
        b0, b1, b2 = (ua_image[i + n] + ub[i + n] for n in range(3))
        c0, c1, c2 = uc[i : i + 3]
        m0 = b0 + z * c0
        m1 = (b1 + z * c1) * cd - (b2 + z * c2) * sd
        m2 = (b1 - z * c1) * sd + (b2 - z * c2) * cd
        if i == 9:
            m0 = m0 + uc[0]
            m1 = m1 + uc[1] * cd - uc[2] * sd
            m2 = m2 - uc[1] * sd - uc[2] * cd
        out += [r0 + m0, r1 + m1, r2 + m2]
    return out


def _assemble_surface(ua, ub, uc, sd, cd) -> list[Tensor]:
    """:func:`_assemble` at z = 0, where the image source coincides with the real one.

    Part A then cancels except in the z-derivatives, where it doubles, and part C enters only
    through its displacement rows: the general sum with ``ua_real = ua_image = ua`` and z = 0,
    without the terms that are exactly zero.
    """
    out = []
    for i in (0, 3, 6):
        b0, b1, b2 = ub[i : i + 3]
        out += [b0, b1 * cd - b2 * sd, b1 * sd + b2 * cd]
    a0, a1, a2 = (2.0 * v for v in ua[9:12])
    b0, b1, b2 = ub[9:12]
    c0, c1, c2 = uc[0:3]
    out += [a0 + b0 + c0, (a1 + b1 + c1) * cd - (a2 + b2 + c2) * sd,
            (a1 + b1 - c1) * sd + (a2 + b2 - c2) * cd]
    return out


def _dc3d_kernel(
    alpha, x, y, z, depth, dip, al1, al2, aw1, aw2, disl1, disl2, disl3
) -> tuple[Tensor, Tensor]:
    """:func:`dc3d` on 1-D tensors of one length: ``(u || du (n, 12), iret (n,))``."""
    k = dip_constants(alpha, dip)
    sd, cd = k["sd"], k["cd"]
    positive_z = z > 0
    # stations exactly at z = 0 that no derivative flows through: the image source is the real
    # one, so 4 corners instead of 8 and a third of parts A and C (Okada 1985's surface case)
    surface = _SURFACE_SHORTCUT and is_fixed_zero(z)
    xi = snap(torch.stack([x - al1, x - al2]))
    et_r, q_r, edge_r, kxi_r, ket_r = _source_geometry(xi, y, depth + z, aw1, aw2, sd, cd)
    if surface:
        et_i, q_i, edge_i, kxi_i, ket_i = et_r, q_r, edge_r, kxi_r, ket_r
    else:
        et_i, q_i, edge_i, kxi_i, ket_i = _source_geometry(xi, y, depth - z, aw1, aw2, sd, cd)
    singular = edge_r | edge_i
    bad = singular | positive_z

    # corners along the leading dimension: 4 of the image source, then (unless at the surface)
    # 4 of the real source; rows with iret != 0 get a harmless stand-in geometry (outputs zeroed
    # below) so that no NaN reaches the gradient
    sources = [(et_i, q_i, kxi_i, ket_i)] + ([] if surface else [(et_r, q_r, kxi_r, ket_r)])
    xi_c = torch.where(bad, 1.0, xi[_J * len(sources)])
    et_c = torch.where(bad, 1.0, torch.cat([s[0][_K] for s in sources]))
    q_c = torch.where(bad, 1.0, torch.stack([s[1] for s in sources]).repeat_interleave(4, dim=0))
    kxi_c = torch.cat([s[2][_K] for s in sources]) & ~bad
    ket_c = torch.cat([s[3][_J] for s in sources]) & ~bad

    disl = (disl1, disl2, disl3)
    g = _geometry(xi_c, et_c, q_c, sd, cd, kxi_c, ket_c)
    g_img = g if surface else {n: v[:4] for n, v in g.items()}
    # the dislocations and the rotations are linear and the same for all corners, so the corner
    # sum comes right after each part and the rest works on (n,), not on (n_corners, n)
    sign = torch.tensor(_CORNER_SIGN, dtype=x.dtype, device=x.device)
    ua = _ua(g, k, disl, z_rows_only=surface)
    if surface:
        ua_real, ua_image = None, _corner_sum(ua, sign)
    else:
        # (2, 8): row 0 sums the image source's corners, row 1 the real source's
        zero = torch.zeros_like(sign)
        sign_ir = torch.stack([torch.cat([sign, zero]), torch.cat([zero, sign])])
        ua_image, ua_real = zip(*(v.unbind(0) for v in _corner_sum(ua, sign_ir)))
    ub = _corner_sum(_ub(g_img, k, disl), sign)
    uc = _corner_sum(_uc(g_img, k, z, disl, displacement_only=surface), sign)
    if surface:
        out = _assemble_surface(ua_image, ub, uc, sd, cd)
    else:
        out = _assemble(ua_real, ua_image, ub, uc, z, sd, cd)
    result = torch.where(bad.unsqueeze(-1), 0.0, torch.stack(out, dim=-1))
    iret = torch.where(positive_z, 2, singular.to(torch.int64))
    return result, iret
