"""The exact layered solver against analytic and brute-force references."""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from obspy_hyposvi.reference.layered_exact import layered_travel_time
from obspy_hyposvi.velocity import Layered1D, Nodes1D, socal_1d

EXACT_S = 1e-9  # two independent double-precision evaluations of the same ray


def test_homogeneous_is_distance_over_velocity():
    m = Layered1D(depth_km=[0.0], vp_kmps=[6.0], vs_kmps=[3.5])
    rng = np.random.default_rng(0)
    r, zs, zr = rng.uniform(0, 300, 500), rng.uniform(-3, 60, 500), rng.uniform(-3, 60, 500)
    np.testing.assert_allclose(layered_travel_time(m, "S", r, zs, zr), np.hypot(r, zs - zr) / 3.5,
                               rtol=0, atol=EXACT_S)


def test_direct_wave_matches_fermat_minimisation():
    m = Layered1D(depth_km=[0, 10], vp_kmps=[5, 7], vs_kmps=[3, 4])
    rng = np.random.default_rng(1)
    for _ in range(50):
        x, zs, zr = rng.uniform(0, 60), rng.uniform(10.5, 40), rng.uniform(-2, 9.5)
        h1, h2 = 10 - zr, zs - 10

        def t(x1):
            return np.hypot(x1, h1) / 5 + np.hypot(x - x1, h2) / 7

        best = minimize_scalar(t, bounds=(0, x), method="bounded", options={"xatol": 1e-12}).fun
        exact = min(best, t(0), t(x))
        assert layered_travel_time(m, "P", x, zs, zr) == pytest.approx(exact, abs=1e-8)


def test_head_wave_formula_and_crossover():
    m = Layered1D(depth_km=[0, 10], vp_kmps=[5, 7], vs_kmps=[3, 4])
    s1, s2 = 1 / 5, 1 / 7
    eta = np.sqrt(s1**2 - s2**2)
    x = np.linspace(0, 200, 401)
    direct = np.hypot(x, 5.0) / 5
    x_crit = (5 + 10) * s2 / eta
    head = np.where(x >= x_crit, x * s2 + 15 * eta, np.inf)
    np.testing.assert_allclose(layered_travel_time(m, "P", x, 5.0, 0.0), np.minimum(direct, head),
                               atol=EXACT_S)
    assert np.any(head < direct)  # the test really reaches the head-wave branch


def test_reciprocity_and_vertical_time():
    m = socal_1d()
    rng = np.random.default_rng(2)
    r, a, b = rng.uniform(0, 250, 300), rng.uniform(-2, 50, 300), rng.uniform(-2, 50, 300)
    np.testing.assert_allclose(layered_travel_time(m, "P", r, a, b),
                               layered_travel_time(m, "P", r, b, a), atol=EXACT_S)
    # straight down from sea level to 40 km: sum of h / v
    expected = 5.5 / 5.5 + 10.5 / 6.3 + 16 / 6.7 + 8 / 7.8
    assert layered_travel_time(m, "P", 0.0, 40.0, 0.0) == pytest.approx(expected, abs=EXACT_S)


def test_node_model_converges_with_finer_layers():
    m = Nodes1D(depth_km=[0, 30], vp_kmps=[5.0, 7.0], vs_kmps=[3, 4])
    # vertical time through a linear gradient: (1/g) ln(v1/v0), g = 2/30 per s
    exact = 15.0 * np.log(7.0 / 5.0)
    t = layered_travel_time(m.to_layered(0.05), "P", 0.0, 30.0, 0.0)
    assert float(t) == pytest.approx(exact, rel=1e-5)


def test_negative_offset_rejected():
    with pytest.raises(ValueError, match="offset"):
        layered_travel_time(socal_1d(), "P", -1.0, 0.0, 0.0)
