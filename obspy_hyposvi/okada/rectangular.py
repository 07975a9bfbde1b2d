"""Okada (1992) DC3D: displacement and its derivatives from a rectangular dislocation.

Owns the finite-fault kernel :func:`dc3d`, a batched torch transcription of the formulas of
Okada's Fortran DC3D (revision of May 2002) with its argument conventions: fault frame with x
along strike, z up (``z <= 0`` inside the medium), ``depth > 0`` of the reference point, fault
extent ``al1..al2`` along strike and ``aw1..aw2`` up dip, dislocations ``disl1..disl3`` (strike,
dip, tensile). Values follow the Fortran, including its ``EPS = 1e-6`` snapping and branches;
gradients are those of the analytic function (see :mod:`._common`).

References
----------
Okada, Y. (1992). Internal deformation due to shear and tensile faults in a half-space.
Bull. Seism. Soc. Am., 82(2), 1018-1040.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._common import EPS, PI2, as_tensors, dip_constants, r_plus, safe, sign_pm, snap

__all__ = ["dc3d"]

# corner order (j, k) = (1,1), (2,1), (1,2), (2,2): xi index j, eta index k
_J = [0, 1, 0, 1]
_K = [0, 0, 1, 1]
# Chinnery's notation f(xi, eta)||: + for j + k != 3 in the Fortran's 1-based indices
_CORNER_SIGN = (1.0, -1.0, -1.0, 1.0)


def _atan_ratio(a: Tensor, b: Tensor) -> Tensor:
    """``atan(a / b)`` with a finite gradient at ``b = 0`` and 0 where ``b == 0`` (Fortran TT).

    For ``|b| < |a|`` the identity ``atan(a/b) = sign(a b) pi/2 - atan(b/a)`` is used; it is
    smooth in ``b`` through zero, so a snapped ``q = 0`` keeps the derivative of TT.
    """
    small_b = b.abs() < a.abs()
    a_ok = safe(a, ~small_b)
    b_ok = safe(b, small_b | (b == 0))  # a = b = 0 (xi*eta = q = 0): TT = 0 as the Fortran
    near = torch.sign(a.detach()) * torch.sign(b.detach()) * (math.pi / 2) - torch.atan(b / a_ok)
    far = torch.atan(a / b_ok)
    # a = b = 0 (on the line eta = q = 0 or xi = q = 0): the Fortran's 0; the pair of corners
    # sharing that line is smooth there with zero derivative, so no gradient either
    both_zero = (a.detach() == 0) & (b.detach() == 0)
    return torch.where(both_zero, torch.zeros_like(a).detach(), torch.where(small_b, near, far))


def _geometry(xi, et, q, sd, cd, kxi, ket) -> dict[str, Tensor]:
    """Station geometry constants of the Fortran DCCON2, per corner."""
    xi2, et2, q2 = xi * xi, et * et, q * q
    r2 = xi2 + et2 + q2
    r = torch.sqrt(r2)  # > 0: corners at R = 0 are on an edge and were replaced upstream
    r3 = r * r2
    r5 = r3 * r2
    y = et * cd + q * sd
    d = et * sd - q * cd
    # TT = atan(xi*eta/(q*R)), 0 for q == 0 as the Fortran, smooth derivative in q
    tt = _atan_ratio(xi * et, q * r)
    # KXI/KET: on the negative extension of an edge the Fortran drops the log(eta^2+q^2) part,
    # which cancels between the two corners sharing that eta (or xi)
    rxi = r_plus(r, xi)
    bad_x = kxi | (rxi <= 0)
    rxi_ok = safe(rxi, bad_x)
    alx = torch.where(kxi, -torch.log(safe(r - xi, ~kxi)), torch.log(rxi_ok))
    x11 = torch.where(bad_x, torch.zeros_like(r), 1.0 / (r * rxi_ok))
    x32 = (r + rxi_ok) * x11 * x11 / r
    ret = r_plus(r, et)
    bad_e = ket | (ret <= 0)
    ret_ok = safe(ret, bad_e)
    ale = torch.where(ket, -torch.log(safe(r - et, ~ket)), torch.log(ret_ok))
    y11 = torch.where(bad_e, torch.zeros_like(r), 1.0 / (r * ret_ok))
    y32 = (r + ret_ok) * y11 * y11 / r
    return {
        "xi": xi, "et": et, "q": q, "xi2": xi2, "et2": et2, "q2": q2,
        "r": r, "r2": r2, "r3": r3, "r5": r5, "y": y, "d": d, "tt": tt,
        "alx": alx, "ale": ale, "x11": x11, "y11": y11, "x32": x32, "y32": y32,
        "ey": sd / r - y * q / r3, "ez": cd / r + d * q / r3,
        "fy": d / r3 + xi2 * y32 * sd, "fz": y / r3 + xi2 * y32 * cd,
        "gy": 2.0 * x11 * sd - y * q * x32, "gz": 2.0 * x11 * cd + d * q * x32,
        "hy": d * q * x32 + xi * q * y32 * sd, "hz": y * q * x32 + xi * q * y32 * cd,
    }


def _combine(parts, disl) -> list[Tensor]:
    """sum_k disl_k / (2 pi) * parts_k[i] for the 12 outputs."""
    d1, d2, d3 = (v / PI2 for v in disl)
    return [d1 * a + d2 * b + d3 * c for a, b, c in zip(*parts)]


def _ua(g, k, disl) -> list[Tensor]:
    """Part A (Okada 1992, Table 6), 12 outputs per corner in the fault frame."""
    alp1, alp2, sd, cd = k["alp1"], k["alp2"], k["sd"], k["cd"]
    xi, et, q, r, r3 = g["xi"], g["et"], g["q"], g["r"], g["r3"]
    xi2, q2, y, d, tt = g["xi2"], g["q2"], g["y"], g["d"], g["tt"]
    x11, y11, y32 = g["x11"], g["y11"], g["y32"]
    alx, ale = g["alx"], g["ale"]
    ey, ez, fy, fz, gy, gz, hy, hz = (g[n] for n in ("ey", "ez", "fy", "fz", "gy", "gz", "hy", "hz"))
    xy, qx, qy = xi * y11, q * x11, q * y11
    strike = [
        tt / 2 + alp2 * xi * qy,
        alp2 * q / r,
        alp1 * ale - alp2 * q * qy,
        -alp1 * qy - alp2 * xi2 * q * y32,
        -alp2 * xi * q / r3,
        alp1 * xy + alp2 * xi * q2 * y32,
        alp1 * xy * sd + alp2 * xi * fy + d / 2 * x11,
        alp2 * ey,
        alp1 * (cd / r + qy * sd) - alp2 * q * fy,
        alp1 * xy * cd + alp2 * xi * fz + y / 2 * x11,
        alp2 * ez,
        -alp1 * (sd / r - qy * cd) - alp2 * q * fz,
    ]
    dip = [
        alp2 * q / r,
        tt / 2 + alp2 * et * qx,
        alp1 * alx - alp2 * q * qx,
        -alp2 * xi * q / r3,
        -qy / 2 - alp2 * et * q / r3,
        alp1 / r + alp2 * q2 / r3,
        alp2 * ey,
        alp1 * d * x11 + xy / 2 * sd + alp2 * et * gy,
        alp1 * y * x11 - alp2 * q * gy,
        alp2 * ez,
        alp1 * y * x11 + xy / 2 * cd + alp2 * et * gz,
        -alp1 * d * x11 - alp2 * q * gz,
    ]
    tensile = [
        -alp1 * ale - alp2 * q * qy,
        -alp1 * alx - alp2 * q * qx,
        tt / 2 - alp2 * (et * qx + xi * qy),
        -alp1 * xy + alp2 * xi * q2 * y32,
        -alp1 / r + alp2 * q2 / r3,
        -alp1 * qy - alp2 * q * q2 * y32,
        -alp1 * (cd / r + qy * sd) - alp2 * q * fy,
        -alp1 * y * x11 - alp2 * q * gy,
        alp1 * (d * x11 + xy * sd) + alp2 * q * hy,
        alp1 * (sd / r - qy * cd) - alp2 * q * fz,
        alp1 * d * x11 - alp2 * q * gz,
        alp1 * (y * x11 + xy * cd) + alp2 * q * hz,
    ]
    return _combine((strike, dip, tensile), disl)


def _vertical_series(xi, et, q, r, big_x, t):
    """First- and second-order coefficients in cos(dip) of I3, I4, K1, K3, J3, J6 at cd = 0.

    For ``sin(dip) = +1``, at fixed (xi, eta, q), up to terms independent of eta that cancel
    in the corner sum. ``t = R + eta``, ``big_x = sqrt(xi^2 + q^2)``. Derived with sympy by
    ``tests/okada/derive_vertical_series.py``; the Fortran's vertical branch gives the
    zeroth order, these give the derivatives with respect to the dip there.
    """
    u = t + big_x
    w0 = et*t
    w1 = 3*w0
    w2 = q**2
    w3 = 2*w2
    w4 = w1 + w3
    w5 = t**3
    w6 = 1/w5
    w7 = q*w6
    w8 = t**4
    w9 = 1/w8
    w10 = q**4
    w11 = et*w5
    w12 = 12*w2
    w13 = et**2
    w14 = t**2
    w15 = w13*w14
    w16 = -w14*w3
    w17 = u**3
    w18 = t - u
    w19 = u**6
    w20 = 6*w19
    w21 = u**5
    w22 = w21*w5
    w23 = u**4
    w24 = w23*w8
    w25 = t**5
    w26 = u**2
    w27 = 12*w26
    w28 = et*w25
    w29 = et**3
    w30 = xi**2
    w31 = w14*w2
    w32 = 12*w30
    w33 = w6*xi
    w34 = u**8
    w35 = t**6
    w36 = u**7
    w37 = 8*w36
    w38 = et*w8
    w39 = 8*w13
    w40 = et**4
    w41 = q*xi
    w42 = 1/(-et + t)
    w43 = (1/2)*w42
    w44 = w42*w9
    w45 = w41*w44
    w46 = -w14
    w47 = w0*w2
    w48 = 2*w10 + w15 + 4*w47
    w49 = 24*w10
    w50 = (1/8)*w42/w25
    ai3_1 = (1/3)*w4*w7
    ai3_2 = (1/8)*w9*(w0*w12 + 6*w10 + w11 + 3*w15 + w16 - w8*torch.log(t))
    ai4_1 = (1/6)*w33*(9*et*w14*w21 + 27*et*w17*w8 + 12*et*w26*w30*w5 + 18*t*w2*w21 + 12*u*w13*w2*w5 + 6*u*w13*w25 - u*w13*w32*w5 - w1*w19 - 21*w11*w23 - w12*w29*w5 + 6*w13*w17*w5 - w13*w27*w8 + 3*w14*w19 + 6*w17*w2*w5 + 3*w17*w25 - 4*w17*w30*w5 - w2*w20 - 3*w22 - 18*w23*w31 - 3*w24 - w27*w28 + 4*w29*w30*w5)/(w17*w18**3)
    ai4_2 = (1/2)*w41*w9*(2*et*t*w34 - et*w14*w37 + 4*et*w17*w35 + 12*et*w19*w5 - t*w2*w37 + 4*u*w2*w29*w8 - u*w29*w32*w8 + 4*u*w29*w35 + 16*w13*w17*w25 + 12*w13*w26*w30*w8 + 12*w14*w19*w2 - w14*w34 + 4*w17*w29*w8 - 4*w17*w30*w38 - 8*w2*w22 + 2*w2*w23*w8 + 2*w2*w34 - 4*w2*w40*w8 - w20*w8 + 4*w21*w25 - 4*w21*w38 - 6*w23*w28 - w23*w35 - w24*w39 - 8*w25*w26*w29 - w26*w35*w39 + 4*w30*w40*w8 + 4*w36*w5)/(w18**4*w23)
    ak1_1 = w33*w43*(w0 + w14 + w3)
    ak1_2 = w45*(w0 + w2)
    ak3_1 = -w43*w7*(w4 + w46)
    ak3_2 = -1/2*w44*(-w31 + w48)
    aj3_1 = -w45*(2*w0 + w3 + w46)
    aj3_2 = -w50*xi*(-5*w11 + 6*w15 - 16*w31 + 36*w47 + w49 - w8)
    aj6_1 = w44*(-w11 + w16 + w48)
    aj6_2 = q*w50*(-27*w11 + 30*w15 - 28*w31 + 60*w47 + w49 + 5*w8)
    return {
        "ai3": (ai3_1, ai3_2), "ai4": (ai4_1, ai4_2), "ak1": (ak1_1, ak1_2),
        "ak3": (ak3_1, ak3_2), "aj3": (aj3_1, aj3_2), "aj6": (aj6_1, aj6_2),
    }


# sign relating the sin(dip) = -1 series to the +1 one: f-(xi,eta,q,c) = s f+(xi,-eta,-q,-c)
_SERIES_PARITY = {"ai3": -1.0, "ai4": 1.0, "ak1": -1.0, "ak3": -1.0, "aj3": 1.0, "aj6": 1.0}


def _ub(g, k, disl) -> list[Tensor]:
    """Part B (Okada 1992, Table 6), 12 outputs per corner in the fault frame."""
    alp3, sd, cd = k["alp3"], k["sd"], k["cd"]
    sdsd, cdcd, sdcd = k["sdsd"], k["cdcd"], k["sdcd"]
    vert, s0 = k["vertical"], k["s0"]
    xi, et, q, r, r3 = g["xi"], g["et"], g["q"], g["r"], g["r3"]
    xi2, q2, y, d, tt = g["xi2"], g["q2"], g["y"], g["d"], g["tt"]
    x11, y11, y32, ale = g["x11"], g["y11"], g["y32"], g["ale"]
    ey, ez, fy, fz, gy, gz, hy, hz = (g[n] for n in ("ey", "ez", "fy", "fz", "gy", "gz", "hy", "hz"))

    rd = r_plus(r, d)
    rd = safe(rd, rd <= 0)  # only at points the Fortran would divide by zero as well
    d11 = 1.0 / (r * rd)
    aj2 = xi * y / rd * d11
    aj5 = -(d + y * y / rd) * d11
    log_rd = torch.log(rd)

    # general dip: the Fortran formulas, with cos(dip) replaced by 1 where it is snapped to 0
    cd_g = safe(cd, vert)
    sd_g = safe(sd, vert, 0.0)
    cdcd_g = cd_g * cd_g
    big_x2 = xi2 + q2
    x_zero = big_x2 == 0  # xi = q = 0: sqrt would give an infinite gradient
    big_x = torch.where(x_zero, torch.zeros_like(big_x2), torch.sqrt(safe(big_x2, x_zero)))
    num = et * (big_x + q * cd_g) + big_x * (r + big_x) * sd_g
    den = xi * (r + big_x) * cd_g
    # 2 atan(num/den), taken through its reciprocal where |den| < |num|: this is 0 at xi = 0
    # (the Fortran's special case) with the derivative of the smooth branch there
    ai4_g = (xi / rd * sd_g * cd_g + 2.0 * _atan_ratio(num, den)) / cdcd_g
    ai3_g = (y * cd_g / rd - ale + sd_g * log_rd) / cdcd_g
    ak1_g = xi * (d11 - y11 * sd_g) / cd_g
    ak3_g = (q * y11 - y * d11) / cd_g
    aj3_g = (ak1_g - aj2 * sd_g) / cd_g
    aj6_g = (ak3_g - aj5 * sd_g) / cd_g

    # vertical dip: the Fortran limits (at cd = 0 exactly: y = q s0, d = eta s0, so that their
    # dependence on the dip is not counted twice) plus the cos(dip) series, whose value is 0
    # but whose derivatives are those of the general formulas
    et_s, q_s, c_s = et * s0, q * s0, cd * s0
    t = r_plus(r, et_s)  # R + d at cd = 0
    t_ok = safe(t, t <= 0)
    x_ok = safe(big_x, big_x <= 0)
    y_v = q_s
    d11_v = 1.0 / (r * t_ok)
    ai3_v = (et / t_ok + y_v * q / (t_ok * t_ok) - ale) / 2.0
    ai4_v = xi * y_v / (t_ok * t_ok) / 2.0
    ak1_v = xi * q / t_ok * d11_v
    ak3_v = s0 / t_ok * (xi2 * d11_v - 1.0)
    aj3_v = -xi / (t_ok * t_ok) * (q2 * d11_v - 0.5)
    aj6_v = -y_v / (t_ok * t_ok) * (xi2 * d11_v - 0.5)
    series = _vertical_series(xi, et_s, q_s, r, x_ok, t_ok)
    parity = torch.where(s0 > 0, torch.ones_like(s0), -torch.ones_like(s0))

    def vertical_value(name, v0):
        c1, c2 = series[name]
        corr = c1 * c_s + c2 * c_s * c_s
        if _SERIES_PARITY[name] < 0:
            corr = parity * corr
        return v0 + corr

    ai3 = torch.where(vert, vertical_value("ai3", ai3_v), ai3_g)
    ai4 = torch.where(vert, vertical_value("ai4", ai4_v), ai4_g)
    ak1 = torch.where(vert, vertical_value("ak1", ak1_v), ak1_g)
    ak3 = torch.where(vert, vertical_value("ak3", ak3_v), ak3_g)
    aj3 = torch.where(vert, vertical_value("aj3", aj3_v), aj3_g)
    aj6 = torch.where(vert, vertical_value("aj6", aj6_v), aj6_g)

    xy = xi * y11
    ai1 = -xi / rd * cd - ai4 * sd
    ai2 = log_rd + ai3 * sd
    ak2 = 1.0 / r + ak3 * sd
    ak4 = xy * cd - ak1 * sd
    aj1 = aj5 * cd - aj6 * sd
    aj4 = -xy - aj2 * cd + aj3 * sd
    qx, qy = q * x11, q * y11
    strike = [
        -xi * qy - tt - alp3 * ai1 * sd,
        -q / r + alp3 * y / rd * sd,
        q * qy - alp3 * ai2 * sd,
        xi2 * q * y32 - alp3 * aj1 * sd,
        xi * q / r3 - alp3 * aj2 * sd,
        -xi * q2 * y32 - alp3 * aj3 * sd,
        -xi * fy - d * x11 + alp3 * (xy + aj4) * sd,
        -ey + alp3 * (1.0 / r + aj5) * sd,
        q * fy - alp3 * (qy - aj6) * sd,
        -xi * fz - y * x11 + alp3 * ak1 * sd,
        -ez + alp3 * y * d11 * sd,
        q * fz + alp3 * ak2 * sd,
    ]
    dip = [
        -q / r + alp3 * ai3 * sdcd,
        -et * qx - tt - alp3 * xi / rd * sdcd,
        q * qx + alp3 * ai4 * sdcd,
        xi * q / r3 + alp3 * aj4 * sdcd,
        et * q / r3 + qy + alp3 * aj5 * sdcd,
        -q2 / r3 + alp3 * aj6 * sdcd,
        -ey + alp3 * aj1 * sdcd,
        -et * gy - xy * sd + alp3 * aj2 * sdcd,
        q * gy + alp3 * aj3 * sdcd,
        -ez - alp3 * ak3 * sdcd,
        -et * gz - xy * cd - alp3 * xi * d11 * sdcd,
        q * gz - alp3 * ak4 * sdcd,
    ]
    tensile = [
        q * qy - alp3 * ai3 * sdsd,
        q * qx + alp3 * xi / rd * sdsd,
        et * qx + xi * qy - tt - alp3 * ai4 * sdsd,
        -xi * q2 * y32 - alp3 * aj4 * sdsd,
        -q2 / r3 - alp3 * aj5 * sdsd,
        q * q2 * y32 - alp3 * aj6 * sdsd,
        q * fy - alp3 * aj1 * sdsd,
        q * gy - alp3 * aj2 * sdsd,
        -q * hy - alp3 * aj3 * sdsd,
        q * fz + alp3 * ak3 * sdsd,
        q * gz + alp3 * xi * d11 * sdsd,
        -q * hz + alp3 * ak4 * sdsd,
    ]
    del cdcd
    return _combine((strike, dip, tensile), disl)


def _uc(g, k, z, disl) -> list[Tensor]:
    """Part C (Okada 1992, Table 6), 12 outputs per corner in the fault frame."""
    alp4, alp5, sd, cd = k["alp4"], k["alp5"], k["sd"], k["cd"]
    sdsd, cdcd, sdcd = k["sdsd"], k["cdcd"], k["sdcd"]
    xi, et, q, r, r2, r3, r5 = g["xi"], g["et"], g["q"], g["r"], g["r2"], g["r3"], g["r5"]
    xi2, et2, q2, y, d = g["xi2"], g["et2"], g["q2"], g["y"], g["d"]
    x11, y11, x32, y32 = g["x11"], g["y11"], g["x32"], g["y32"]
    c = d + z
    x53 = (8.0 * r2 + 9.0 * r * xi + 3.0 * xi2) * x11 * x11 * x11 / r2
    y53 = (8.0 * r2 + 9.0 * r * et + 3.0 * et2) * y11 * y11 * y11 / r2
    h = q * cd - z
    z32 = sd / r3 - h * y32
    z53 = 3.0 * sd / r5 - h * y53
    y0 = y11 - xi2 * y32
    z0 = z32 - xi2 * z53
    ppy = cd / r3 + q * y32 * sd
    ppz = sd / r3 - q * y32 * cd
    qq = z * y32 + z32 + z0
    qqy = 3.0 * c * d / r5 - qq * sd
    qqz = 3.0 * c * y / r5 - qq * cd + q * y32
    xy, qy = xi * y11, q * y11
    qr = 3.0 * q / r5
    cdr = (c + d) / r3
    yy0 = y / r3 - y0 * cd
    strike = [
        alp4 * xy * cd - alp5 * xi * q * z32,
        alp4 * (cd / r + 2.0 * qy * sd) - alp5 * c * q / r3,
        alp4 * qy * cd - alp5 * (c * et / r3 - z * y11 + xi2 * z32),
        alp4 * y0 * cd - alp5 * q * z0,
        -alp4 * xi * (cd / r3 + 2.0 * q * y32 * sd) + alp5 * c * xi * qr,
        -alp4 * xi * q * y32 * cd + alp5 * xi * (3.0 * c * et / r5 - qq),
        -alp4 * xi * ppy * cd - alp5 * xi * qqy,
        alp4 * 2.0 * (d / r3 - y0 * sd) * sd - y / r3 * cd
        - alp5 * (cdr * sd - et / r3 - c * y * qr),
        -alp4 * q / r3 + yy0 * sd + alp5 * (cdr * cd + c * d * qr - (y0 * cd + q * z0) * sd),
        alp4 * xi * ppz * cd - alp5 * xi * qqz,
        alp4 * 2.0 * (y / r3 - y0 * cd) * sd + d / r3 * cd - alp5 * (cdr * cd + c * d * qr),
        yy0 * cd - alp5 * (cdr * sd - c * y * qr - y0 * sdsd + q * z0 * cd),
    ]
    dip = [
        alp4 * cd / r - qy * sd - alp5 * c * q / r3,
        alp4 * y * x11 - alp5 * c * et * q * x32,
        -d * x11 - xy * sd - alp5 * c * (x11 - q2 * x32),
        -alp4 * xi / r3 * cd + alp5 * c * xi * qr + xi * q * y32 * sd,
        -alp4 * y / r3 + alp5 * c * et * qr,
        d / r3 - y0 * sd + alp5 * c / r3 * (1.0 - 3.0 * q2 / r2),
        -alp4 * et / r3 + y0 * sdsd - alp5 * (cdr * sd - c * y * qr),
        alp4 * (x11 - y * y * x32) - alp5 * c * ((d + 2.0 * q * cd) * x32 - y * et * q * x53),
        xi * ppy * sd + y * d * x32 + alp5 * c * ((y + 2.0 * q * sd) * x32 - y * q2 * x53),
        -q / r3 + y0 * sdcd - alp5 * (cdr * cd + c * d * qr),
        alp4 * y * d * x32 - alp5 * c * ((y - 2.0 * q * sd) * x32 + d * et * q * x53),
        -xi * ppz * sd + x11 - d * d * x32
        - alp5 * c * ((d - 2.0 * q * cd) * x32 - d * q2 * x53),
    ]
    tensile = [
        -alp4 * (sd / r + qy * cd) - alp5 * (z * y11 - q2 * z32),
        alp4 * 2.0 * xy * sd + d * x11 - alp5 * c * (x11 - q2 * x32),
        alp4 * (y * x11 + xy * cd) + alp5 * q * (c * et * x32 + xi * z32),
        alp4 * xi / r3 * sd + xi * q * y32 * cd + alp5 * xi * (3.0 * c * et / r5 - 2.0 * z32 - z0),
        alp4 * 2.0 * y0 * sd - d / r3 + alp5 * c / r3 * (1.0 - 3.0 * q2 / r2),
        -alp4 * yy0 - alp5 * (c * et * qr - q * z0),
        alp4 * (q / r3 + y0 * sdcd) + alp5 * (z / r3 * cd + c * d * qr - q * z0 * sd),
        -alp4 * 2.0 * xi * ppy * sd - y * d * x32
        + alp5 * c * ((y + 2.0 * q * sd) * x32 - y * q2 * x53),
        -alp4 * (xi * ppy * cd - x11 + y * y * x32)
        + alp5 * (c * ((d + 2.0 * q * cd) * x32 - y * et * q * x53) + xi * qqy),
        -et / r3 + y0 * cdcd - alp5 * (z / r3 * sd - c * y * qr - y0 * sdsd + q * z0 * cd),
        alp4 * 2.0 * xi * ppz * sd - x11 + d * d * x32
        - alp5 * c * ((d - 2.0 * q * cd) * x32 - d * q2 * x53),
        alp4 * (xi * ppz * cd + y * d * x32)
        + alp5 * (c * ((y - 2.0 * q * sd) * x32 + d * et * q * x53) + xi * qqz),
    ]
    return _combine((strike, dip, tensile), disl)


def _source_geometry(xi, y, d, aw1, aw2, sd, cd):
    """eta, q, the edge flag and KXI/KET of one source (real or image), as the Fortran."""
    p = y * cd + d * sd
    q = snap(y * sd - d * cd)
    et = snap(torch.stack([p - aw1, p - aw2], dim=-1))
    # flags from values only, with the Fortran's arithmetic
    xv, ev, qv = xi.detach(), et.detach(), q.detach()
    xx, ee = xv[..., 0] * xv[..., 1], ev[..., 0] * ev[..., 1]
    on_edge = (qv == 0) & (((xx <= 0) & (ee == 0)) | ((ee <= 0) & (xx == 0)))
    r12 = torch.sqrt(xv[..., 0] ** 2 + ev[..., 1] ** 2 + qv**2)
    r21 = torch.sqrt(xv[..., 1] ** 2 + ev[..., 0] ** 2 + qv**2)
    r22 = torch.sqrt(xv[..., 1] ** 2 + ev[..., 1] ** 2 + qv**2)
    kxi = torch.stack(
        [(xv[..., 0] < 0) & (r21 + xv[..., 1] < EPS), (xv[..., 0] < 0) & (r22 + xv[..., 1] < EPS)],
        dim=-1,
    )
    ket = torch.stack(
        [(ev[..., 0] < 0) & (r12 + ev[..., 1] < EPS), (ev[..., 0] < 0) & (r22 + ev[..., 1] < EPS)],
        dim=-1,
    )
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
    (alpha, x, y, z, depth, dip, al1, al2, aw1, aw2, disl1, disl2, disl3) = as_tensors(
        alpha, x, y, z, depth, dip, al1, al2, aw1, aw2, disl1, disl2, disl3,
        dtype=dtype, device=device,
    )
    k = dip_constants(alpha, dip)
    sd, cd = k["sd"], k["cd"]
    positive_z = z > 0
    xi = snap(torch.stack([x - al1, x - al2], dim=-1))
    et_r, q_r, edge_r, kxi_r, ket_r = _source_geometry(xi, y, depth + z, aw1, aw2, sd, cd)
    et_i, q_i, edge_i, kxi_i, ket_i = _source_geometry(xi, y, depth - z, aw1, aw2, sd, cd)
    singular = edge_r | edge_i
    bad = (singular | positive_z).unsqueeze(-1)

    # 8 corners: 4 of the real source, then 4 of the image source; rows with iret != 0 get a
    # harmless stand-in geometry (outputs zeroed below) so that no NaN reaches the gradient
    xi8 = torch.cat([xi[..., _J], xi[..., _J]], dim=-1)
    et8 = torch.cat([et_r[..., _K], et_i[..., _K]], dim=-1)
    q8 = torch.cat([q_r.unsqueeze(-1).expand_as(et_r[..., _K]),
                    q_i.unsqueeze(-1).expand_as(et_i[..., _K])], dim=-1)
    kxi8 = torch.cat([kxi_r[..., _K], kxi_i[..., _K]], dim=-1) & ~bad
    ket8 = torch.cat([ket_r[..., _J], ket_i[..., _J]], dim=-1) & ~bad
    xi8 = torch.where(bad, torch.ones_like(xi8), xi8)
    et8 = torch.where(bad, torch.ones_like(et8), et8)
    q8 = torch.where(bad, torch.ones_like(q8), q8)

    kc = {n: (v.unsqueeze(-1) if isinstance(v, Tensor) else v) for n, v in k.items()}
    disl = [v.unsqueeze(-1) for v in (disl1, disl2, disl3)]
    g8 = _geometry(xi8, et8, q8, kc["sd"], kc["cd"], kxi8, ket8)
    ua = _ua(g8, kc, disl)
    g_img = {n: v[..., 4:] for n, v in g8.items()}
    ub = _ub(g_img, kc, disl)
    zc = z.unsqueeze(-1)
    uc = _uc(g_img, kc, zc, disl)
    sign = torch.tensor(_CORNER_SIGN, dtype=x.dtype, device=x.device)
    sdc, cdc = kc["sd"], kc["cd"]

    out = []
    for i in (0, 3, 6, 9):
        # real source, rotated from the fault frame; the z-derivative changes sign (D = depth + z)
        a0, a1, a2 = (v[..., :4] for v in ua[i : i + 3])
        r0, r1, r2 = -a0, -a1 * cdc + a2 * sdc, -a1 * sdc - a2 * cdc
        if i == 9:
            r0, r1, r2 = -r0, -r1, -r2
        # image source
        b0, b1, b2 = (ua[i + n][..., 4:] + ub[i + n] for n in range(3))
        c0, c1, c2 = uc[i : i + 3]
        m0 = b0 + zc * c0
        m1 = (b1 + zc * c1) * cdc - (b2 + zc * c2) * sdc
        m2 = (b1 - zc * c1) * sdc + (b2 - zc * c2) * cdc
        if i == 9:
            m0 = m0 + uc[0]
            m1 = m1 + uc[1] * cdc - uc[2] * sdc
            m2 = m2 - uc[1] * sdc - uc[2] * cdc
        for rr, mm in ((r0, m0), (r1, m1), (r2, m2)):
            out.append(((rr + mm) * sign).sum(-1))
    result = torch.stack(out, dim=-1)
    result = torch.where(bad, torch.zeros_like(result), result)
    iret = torch.where(
        positive_z,
        torch.full_like(positive_z, 2, dtype=torch.int64),
        singular.to(torch.int64),
    )
    return result[..., :3], result[..., 3:], iret
