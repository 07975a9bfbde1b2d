"""DC3D/DC3D0 against Okada's Fortran: published check values and 4000 reference cases."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from obspy_hyposvi.okada import dc3d, dc3d0

#: the printed full-precision values have 10-11 significant digits
PRINTED_RTOL = 2e-9
#: absolute floor for printed values that are exactly zero in the Fortran
PRINTED_ATOL = 1e-15
#: floor of the scaled-error tolerance, from the reference README
SCALED_FLOOR = 1e-12
#: multiple of the Fortran's own input-noise spread allowed, from the reference README
NOISE_FACTOR = 100.0

DC3D_INPUTS = ["alpha", "x", "y", "z", "depth", "dip", "al1", "al2", "aw1", "aw2",
               "disl1", "disl2", "disl3"]
DC3D0_INPUTS = ["alpha", "x", "y", "z", "depth", "dip", "pot1", "pot2", "pot3", "pot4"]
# Okada (1985) Table 2 columns: ux uy uz uxx uxy uyx uyy uzx uzy, as indices into u||du
TABLE2_COLUMNS = [0, 1, 2, 3, 6, 4, 7, 5, 8]
UNIT = {"strike": (1.0, 0.0, 0.0), "dip": (0.0, 1.0, 0.0), "tensile": (0.0, 0.0, 1.0)}


def _floats(line: str) -> list[float]:
    return [float(v) for v in re.findall(r"[-+]?\d\.\d+e[-+]\d+", line)]


def _all12(u, du) -> np.ndarray:
    return torch.cat([u, du], dim=-1).numpy()


def _table2(case: str, comp: str) -> np.ndarray:
    """Okada (1985) Table 2 geometry: x=2, y=3 (cases 1-2) or 0, 0 (3-4), d=4, L=3, W=2."""
    x, y, dip = {"case1": (2, 3, 70), "case2": (2, 3, 70), "case3": (0, 0, 90),
                 "case4": (0, 0, -90)}[case]
    if case == "case1":
        pot = UNIT[comp] + (0.0,)
        u, du, _ = dc3d0(2 / 3, x, y, 0.0, 4.0, dip, *pot)
    else:
        u, du, _ = dc3d(2 / 3, x, y, 0.0, 4.0, dip, 0.0, 3.0, 0.0, 2.0, *UNIT[comp])
    return _all12(u, du)[TABLE2_COLUMNS]


def test_okada85_table2(okada_reference_dir):
    lines = (okada_reference_dir / "checkvalues.txt").read_text().splitlines()
    n = 0
    for i, line in enumerate(lines):
        m = re.match(r"(case\d) (strike|dip|tensile)", line)
        if not m:
            continue
        published, f64 = _floats(lines[i + 1]), _floats(lines[i + 2])
        ours = _table2(*m.groups())
        np.testing.assert_allclose(ours, f64, rtol=PRINTED_RTOL, atol=PRINTED_ATOL,
                                   err_msg=line)
        # the published 4 significant figures
        np.testing.assert_allclose(ours, published, rtol=5e-4, atol=1e-7, err_msg=line)
        n += 1
    assert n == 12


def test_dc3d_manual_example(okada_reference_dir):
    text = (okada_reference_dir / "checkvalues.txt").read_text()
    line = text.split("(ux uy uz uxx uyx uzx uxy uyy uzy uxz uyz uzz):")[1].splitlines()[1]
    expected = _floats(line)
    args = (2 / 3, 10.0, 20.0, -30.0, 50.0, 70.0, -80.0, 120.0, -30.0, 25.0, 200.0, -150.0, 100.0)
    u, du, iret = dc3d(*args)
    assert int(iret) == 0
    np.testing.assert_allclose(_all12(u, du), expected, rtol=PRINTED_RTOL)
    u, du, iret = dc3d(*args[:3], 30.0, *args[4:])
    assert int(iret) == 2 and not _all12(u, du).any()
    u, du, iret = dc3d(args[0], -80.0, 0.0, -50.0, *args[4:])
    assert int(iret) == 1 and not _all12(u, du).any()


def test_computed_depth_checks(okada_reference_dir):
    text = (okada_reference_dir / "checkvalues.txt").read_text()
    n = 0
    for line in text.splitlines():
        m = re.match(r"\s*(DC3D0?)\s+(strike|dip|tensile|POT\d)\s*:", line)
        if m:
            routine, comp = m.groups()
            if routine == "DC3D":
                u, du, _ = dc3d(2 / 3, 2.0, 3.0, -1.0, 4.0, 70.0, 0.0, 3.0, 0.0, 2.0, *UNIT[comp])
            else:
                pot = [0.0] * 4
                pot[int(comp[-1]) - 1] = 1.0
                u, du, _ = dc3d0(2 / 3, 2.0, 3.0, -1.0, 4.0, 70.0, *pot)
            np.testing.assert_allclose(_all12(u, du), _floats(line), rtol=PRINTED_RTOL,
                                       atol=PRINTED_ATOL, err_msg=line)
            n += 1
    assert n == 7
    line = text.split("POT4 (inflation, not in Okada85):")[1].splitlines()[1]
    u, du, _ = dc3d0(2 / 3, 2.0, 3.0, 0.0, 4.0, 70.0, 0.0, 0.0, 0.0, 1.0)
    np.testing.assert_allclose(_all12(u, du), _floats(line), rtol=PRINTED_RTOL)


def _scaled_errors(ref, ours):
    scale_u = np.abs(ref["u_f64"]).max(axis=1, keepdims=True)
    scale_du = np.abs(ref["du_f64"]).max(axis=1, keepdims=True)
    scale = np.concatenate([np.repeat(scale_u, 3, 1), np.repeat(scale_du, 9, 1)], axis=1)
    expected = np.concatenate([ref["u_f64"], ref["du_f64"]], axis=1)
    return np.abs(ours - expected) / np.where(scale > 0, scale, 1.0)


@pytest.mark.parametrize("routine", ["dc3d", "dc3d0"])
def test_reference_cases(okada_reference_dir, routine):
    ref = np.load(okada_reference_dir / f"{routine}_cases.npz")
    func, names = (dc3d, DC3D_INPUTS) if routine == "dc3d" else (dc3d0, DC3D0_INPUTS)
    u, du, iret = func(*[torch.as_tensor(ref[n]) for n in names])
    ours = _all12(u, du)
    np.testing.assert_array_equal(iret.numpy(), ref["iret_f64"])
    assert np.isfinite(ours).all()
    assert not ours[ref["iret_f64"] != 0].any(), "IRET != 0 must give zeros"
    regular = (ref["iret_f64"] == 0) & ~ref["ill_conditioned"]
    err = _scaled_errors(ref, ours)
    tol = np.maximum(SCALED_FLOOR, NOISE_FACTOR * ref["noise"])
    failing = np.nonzero(regular & (err > tol).any(axis=1))[0]
    names_cat = ref["category_names"]
    assert failing.size == 0, [
        (int(i), str(names_cat[ref["category"][i]]), float(err[i].max())) for i in failing[:10]
    ]
