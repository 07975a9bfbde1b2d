"""The confidence-circle radius on fixed Gauss-Legendre nodes, against adaptive quadrature."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import erfinv

from obspy_hyposvi.locate.horizontal import circle_probability, circular_uncertainty_km

LEVELS = [1.0, 39.35, 50.0, 68.27, 90.0, 95.0, 99.0, 99.99]
#: Minor/major sigma ratios: circular to line-like.
RATIOS = [1.0, 0.7, 0.3, 0.1, 0.05, 0.02, 0.01, 3e-3, 1e-3, 1e-4, 1e-6, 0.0]


def _probability(radius: float, a: float, b: float) -> float:
    """P(|X| <= r) by adaptive quadrature of the same integral, with a break point at the
    erf layer of an elongated ellipse."""
    if b == 0.0:
        return math.erf(radius / (a * math.sqrt(2.0)))
    k = radius / a

    def integrand(t: float) -> float:
        return (math.exp(-0.5 * (k * math.sin(t)) ** 2) / math.sqrt(2 * math.pi)
                * math.erf(radius * math.cos(t) / (b * math.sqrt(2.0))) * math.cos(t))

    layer = 20.0 * b / radius
    points = [0.5 * math.pi - layer] if layer < 0.5 * math.pi else None
    value, _ = quad(integrand, 0.0, 0.5 * math.pi, points=points, limit=500, epsabs=1e-15,
                    epsrel=1e-13)
    return 2.0 * k * value


def _radius(a: float, b: float, level: float) -> float:
    p = level / 100.0
    low = 0.5 * a * math.sqrt(2.0) * float(erfinv(p))
    high = 1.01 * a * math.sqrt(-2.0 * math.log1p(-p))
    return brentq(lambda r: _probability(r, a, b) - p, low, high, xtol=1e-15 * a, rtol=1e-14)


def _previous_radius(a: float, b: float, level: float) -> float:
    """The method before: brentq over quad of the integral in z (as it was written)."""
    p = level / 100.0

    def probability(r: float) -> float:
        def integrand(z: float) -> float:
            reach = math.sqrt(max(r**2 - (a * z) ** 2, 0.0))
            return (math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
                    * math.erf(reach / (b * math.sqrt(2.0))))
        value, _ = quad(integrand, 0.0, r / a, limit=200, epsabs=1e-12, epsrel=1e-10)
        return min(max(2.0 * value, 0.0), 1.0)

    scale = math.sqrt(-2.0 * math.log1p(-p))
    low = 0.5 * max(b * scale, a * math.sqrt(2.0) * float(erfinv(p)))
    return brentq(lambda r: probability(r) - p, low, a * scale * 1.01, xtol=1e-12 * a,
                  rtol=1e-10)


@pytest.mark.parametrize("level", LEVELS)
def test_radius_matches_adaptive_quadrature(level):
    for ratio in RATIOS:
        for a in (1.0, 0.004, 300.0):  # km: the result scales with a
            got = circular_uncertainty_km(np.diag([a * a, (ratio * a) ** 2]), level)
            assert got == pytest.approx(_radius(a, ratio * a, level), rel=1e-10), ratio


def test_radius_of_rotated_covariances():
    """Any orientation: the radius depends on the principal sigmas only."""
    rng = np.random.default_rng(11)
    for _ in range(60):
        factor = rng.normal(size=(2, 2)) * rng.uniform(0.01, 10.0)
        cov = factor @ factor.T
        b, a = np.sqrt(np.clip(np.linalg.eigvalsh(cov), 0.0, None))
        level = float(rng.choice(LEVELS))
        radius = circular_uncertainty_km(cov, level)
        assert radius == pytest.approx(_radius(a, b, level), rel=1e-10)
        assert circle_probability(radius, a, b) == pytest.approx(level / 100.0, abs=1e-12)


def test_as_before_where_quadrature_without_a_break_point_is_right():
    """The previous brentq over plain adaptive quadrature agrees to 1e-9 for b/a >= 0.1; for
    more elongated ellipses it missed the layer (up to 7e-5 in r) and the nodes do not."""
    for level in LEVELS:
        for ratio in (1.0, 0.5, 0.2, 0.1):
            got = circular_uncertainty_km(np.diag([4.0, (2.0 * ratio) ** 2]), level)
            assert got == pytest.approx(_previous_radius(2.0, 2.0 * ratio, level), rel=1e-9)
    before = _previous_radius(1.0, 0.01, 68.27)
    now = circular_uncertainty_km(np.diag([1.0, 1e-4]), 68.27)
    assert abs(before / now - 1) > 1e-5
    assert now == pytest.approx(_radius(1.0, 0.01, 68.27), rel=1e-12)


def test_limits():
    assert circular_uncertainty_km(np.zeros((2, 2)), 68.27) == 0.0
    assert circular_uncertainty_km(np.diag([4.0, 0.0]), 68.27) == pytest.approx(2.0, rel=1e-4)
    sigma = 0.7  # circular: the Rayleigh quantile
    assert circular_uncertainty_km(np.eye(2) * sigma**2, 95.0) == pytest.approx(
        sigma * math.sqrt(-2.0 * math.log(0.05)), rel=1e-13)
    assert circle_probability(0.0, 1.0, 0.5) == 0.0
    with pytest.raises(ValueError, match="not in"):
        circular_uncertainty_km(np.eye(2), 100.0)
