"""Derive the cos(dip) series of DC3D's I3, I4, K1, K3, J3, J6 at a vertical fault (sympy).

Not a test module: run ``python tests/okada/derive_vertical_series.py`` to print the
coefficients used in ``obspy_hyposvi/okada/_vertical.py::_vertical_series`` (common subexpressions
``w*``), for sin(dip) = +1, with ``t = R + eta`` and ``u = R + eta + sqrt(xi^2 + q^2)``.
The zeroth order is the Fortran's vertical branch up to terms independent of eta (which cancel
in the corner sum); the sin(dip) = -1 series follows from f-(xi, eta, q, c) =
+-f+(xi, -eta, -q, -c), signs in ``_SERIES_PARITY``.
"""

import sympy as sp

xi, et, q, c = sp.symbols("xi et q c", real=True)
R, X, t, u = sp.symbols("R X t u", positive=True)


def functions(s0):
    s = s0 * sp.sqrt(1 - c**2)
    y, d = et * c + q * s, et * s - q * c
    rd = R + d
    d11, y11, ale = 1 / (R * rd), 1 / (R * (R + et)), sp.log(R + et)
    aj2, aj5 = xi * y / rd * d11, -(d + y**2 / rd) * d11
    num = et * (X + q * c) + X * (R + X) * s
    ak1, ak3 = xi * (d11 - y11 * s) / c, (q * y11 - y * d11) / c
    return {
        "ai3": (y * c / rd - ale + s * sp.log(rd)) / c**2,
        # 2 atan(num / den) = pi sign(...) - 2 atan(den / num): the constant cancels in the sum
        "ai4": (xi * s * c / rd - 2 * sp.atan(xi * (R + X) * c / num)) / c**2,
        "ak1": ak1, "ak3": ak3, "aj3": (ak1 - aj2 * s) / c, "aj6": (ak3 - aj5 * s) / c,
    }


if __name__ == "__main__":
    exprs, names = [], []
    for name, f in functions(1).items():
        series = sp.series(f, c, 0, 3).removeO()
        for k in (1, 2):
            e = sp.factor(sp.simplify(series.coeff(c, k))).subs(R, t - et)
            exprs.append(sp.factor(sp.simplify(e.subs(X, u - t))))
            names.append(f"{name}_{k}")
    repl, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("w"))
    for a, b in repl:
        print(f"{a} = {sp.pycode(b)}")
    for n, e in zip(names, reduced):
        print(f"{n} = {sp.pycode(e)}")
