"""Part B of DC3D at a vertical dip: the Fortran's limits and their cos(dip) series.

Owns the I3, I4, K1, K3, J3, J6 terms of part B (Okada 1992, Table 6) where ``cos(dip)`` is
snapped to 0: the values are the Fortran's limits; the first- and second-order terms of their
series in ``cos(dip)`` carry the derivatives with respect to the dip there (value 0), which the
general formulas cannot give (they divide by ``cos(dip)``). Used by :mod:`.rectangular`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._common import r_plus, safe

__all__ = ["ub_vertical"]


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


def ub_vertical(g, k, big_x) -> dict[str, Tensor]:
    """I3, I4, K1, K3, J3, J6 of part B for a vertical dip (``cos(dip)`` snapped to 0).

    The Fortran limits, at cd = 0 exactly (y = q s0, d = eta s0, so that their dependence on
    the dip is not counted twice), plus the cos(dip) series, whose value is 0 but whose
    derivatives are those of the general formulas.
    """
    xi, et, q, r, xi2, q2, ale = (g[n] for n in ("xi", "et", "q", "r", "xi2", "q2", "ale"))
    s0 = k["s0"]
    et_s, q_s, c_s = et * s0, q * s0, k["cd"] * s0
    t = r_plus(r, et_s)  # R + d at cd = 0
    t_ok = safe(t, t <= 0)
    t2 = t_ok * t_ok
    x_ok = safe(big_x, big_x <= 0)
    y_v = q_s
    d11_v = 1.0 / (r * t_ok)
    limits = {
        "ai3": (et / t_ok + y_v * q / t2 - ale) / 2.0,
        "ai4": xi * y_v / t2 / 2.0,
        "ak1": xi * q / t_ok * d11_v,
        "ak3": s0 / t_ok * (xi2 * d11_v - 1.0),
        "aj3": -xi / t2 * (q2 * d11_v - 0.5),
        "aj6": -y_v / t2 * (xi2 * d11_v - 0.5),
    }
    series = _vertical_series(xi, et_s, q_s, r, x_ok, t_ok)
    out = {}
    for name, v0 in limits.items():
        c1, c2 = series[name]
        corr = (c1 + c2 * c_s) * c_s
        out[name] = v0 + (s0 * corr if _SERIES_PARITY[name] < 0 else corr)
    return out
