"""The circular horizontal uncertainty: the radius of the epicentre's confidence circle.

QuakeML's ``OriginUncertainty.horizontalUncertainty`` (and SeisComP's, which it maps to) is
"a circular confidence region, given by single value of horizontal uncertainty". For a
Gaussian epicentre posterior with covariance ``C`` the circle centred on the epicentre that
holds probability ``p`` has the radius ``r`` of

    P(|X| <= r) = p,   X ~ N(0, C),   |X|^2 = a^2 Z1^2 + b^2 Z2^2

with ``a >= b`` the standard deviations along the principal axes and ``Z1``, ``Z2`` standard
normal. Integrating ``Z2`` out leaves one smooth integral over ``Z1``, and ``Z1 = (r/a) sin t``
takes the square-root edge out of it:

    P(|X| <= r) = 2 (r/a) integral over 0 <= t <= pi/2 of
                  phi((r/a) sin t) erf(r cos t / (b sqrt 2)) cos t dt

with ``phi`` the standard normal density. Its derivative in ``r`` (the density of ``|X|``)
has the same form:

    dP/dr = 4 r / (sqrt(2 pi) a b) integral over 0 <= t <= pi/2 of
            phi((r/a) sin t) exp(-(r cos t)^2 / (2 b^2)) dt

Both integrands are smooth, but an elongated ellipse (``b << a``) puts a layer of width
``~b/r`` at ``t = pi/2``, where ``erf`` drops from 1 to 0. Gauss-Legendre nodes on two panels,
the second ``8 b / r`` wide at that end (beyond it ``erf`` is 1 to 1e-15), resolve it at any
``b/a``; the radius is the root of ``P(r) = p`` by Newton steps kept inside the bracket below
(a few evaluations of 64 nodes: ~0.1 ms, where an adaptive quadrature inside a root finder
took ~10 ms and missed the layer: up to 7e-5 relative error in ``r`` for ``b/a`` of 0.005-0.02).

The radius lies between the ellipse's semi-minor and semi-major axis at the same level: a
circular posterior gives ``r = sigma sqrt(-2 ln(1 - p))`` (1.515 sigma at 68.27 %), a line-like
one the 1D interval ``a * sqrt(2) * erfinv(p)`` (1.0 a).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erf, erfinv

__all__ = ["circle_probability", "circular_uncertainty_km"]

#: Gauss-Legendre nodes and weights of one panel, mapped to [0, 1].
_X, _W = np.polynomial.legendre.leggauss(32)
_X, _W = (_X + 1.0) / 2.0, _W / 2.0
#: Width of the panel at t = pi/2, in units of b/r: erf(8 / sqrt 2) = 1 - 1.2e-15.
_LAYER = 8.0
#: Minor/major sigma ratio below which the ellipse is a line (the error is ~ratio^2).
_LINE = 1e-9
_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


def _principal_sigmas_km(covariance_km2: np.ndarray) -> tuple[float, float]:
    """``(a, b)``, a >= b >= 0: standard deviations along the principal axes, km."""
    cov = np.asarray(covariance_km2, dtype=float)
    xx, yy, xy = float(cov[0, 0]), float(cov[1, 1]), 0.5 * float(cov[0, 1] + cov[1, 0])
    # eigenvalues of a symmetric 2x2 matrix, in closed form (eigvalsh costs ~20 us)
    mean, half = 0.5 * (xx + yy), math.hypot(0.5 * (xx - yy), xy)
    return math.sqrt(max(mean + half, 0.0)), math.sqrt(max(mean - half, 0.0))


class _Circle:
    """``P(|X| <= r)`` and ``dP/dr`` for principal sigmas ``a >= b > 0``, on nodes placed for
    radii of at least ``min_radius_km``: one Gauss-Legendre panel on [0, pi/2], or two with
    the second :data:`_LAYER` ``b / min_radius_km`` wide at pi/2 when that is narrower."""

    def __init__(self, a_km: float, b_km: float, min_radius_km: float):
        self.a, self.b = a_km, b_km
        layer = _LAYER * b_km / min_radius_km
        if layer >= 0.5 * math.pi:
            t, w = 0.5 * math.pi * _X, 0.5 * math.pi * _W
        else:
            edge = 0.5 * math.pi - layer
            t = np.concatenate([edge * _X, edge + layer * _X])
            w = np.concatenate([edge * _W, layer * _W])
        self.sin2, self.cos, self.weights = np.sin(t) ** 2, np.cos(t), w
        self.weighted_cos = w * self.cos

    def __call__(self, radius_km: float) -> tuple[float, float]:
        k = radius_km / self.a
        phi = np.exp((-0.5 * k * k) * self.sin2)  # times sqrt(2 pi): the normal density
        across = (radius_km / (self.b * _SQRT2)) * self.cos
        probability = 2.0 * k / _SQRT2PI * float(np.dot(self.weighted_cos, phi * erf(across)))
        density = 4.0 * radius_km / (2.0 * math.pi * self.a * self.b) * float(
            np.dot(self.weights, phi * np.exp(-across * across)))
        return probability, density


def circle_probability(radius_km: float, a_km: float, b_km: float) -> float:
    """Probability that a centred 2D Gaussian with principal sigmas ``a >= b`` lies within
    ``radius_km`` of its centre.

    Examples
    --------
    >>> round(circle_probability(1.0, 1.0, 1.0), 6) == round(1 - math.exp(-0.5), 6)
    True
    >>> round(circle_probability(1.0, 1.0, 0.0), 4)  # a line: the 1D one-sigma interval
    0.6827
    """
    if radius_km <= 0.0:
        return 0.0
    if a_km <= 0.0:
        return 1.0
    if b_km <= _LINE * a_km:
        return float(math.erf(radius_km / (a_km * _SQRT2)))  # |X| = a |Z1|
    probability, _ = _Circle(a_km, b_km, radius_km)(radius_km)
    return float(min(max(probability, 0.0), 1.0))


def circular_uncertainty_km(covariance_km2: np.ndarray, confidence_level: float) -> float:
    """Radius, km, of the circle about the epicentre holding ``confidence_level`` percent of
    a Gaussian posterior with this horizontal covariance (km^2, the first two axes are used).

    Examples
    --------
    >>> round(circular_uncertainty_km(np.eye(2), 68.27), 3)  # sqrt(-2 ln 0.3173)
    1.515
    >>> round(circular_uncertainty_km(np.diag([4.0, 0.0]), 68.27), 3)  # a line: 1 sigma
    2.0
    """
    if not 0.0 < confidence_level < 100.0:
        raise ValueError(f"confidence level {confidence_level!r} % is not in (0, 100)")
    a_km, b_km = _principal_sigmas_km(covariance_km2)
    if a_km == 0.0:
        return 0.0
    p = confidence_level / 100.0
    line = a_km * _SQRT2 * float(erfinv(p))  # the 1D interval along a
    if b_km <= _LINE * a_km:
        return line
    scale = math.sqrt(-2.0 * math.log1p(-p))
    # bracket: the circle holds less than the 1D interval along a and less than the isotropic
    # circle of sigma b; it holds more than the isotropic circle of sigma a
    low, high = max(line, b_km * scale), a_km * scale
    if high - low <= 1e-14 * a_km:  # circular
        return high
    circle = _Circle(a_km, b_km, low)
    radius = 0.5 * (low + high)
    for _ in range(100):
        probability, density = circle(radius)
        if probability > p:
            high = radius
        else:
            low = radius
        step = (probability - p) / density if density > 0.0 else math.inf
        if abs(step) <= 1e-13 * radius:  # P is exact to ~1e-15: closer is rounding noise
            return float(radius - step)
        radius -= step
        if not low < radius < high:  # a Newton step out of the bracket: bisect instead
            radius = 0.5 * (low + high)
        if high - low <= 1e-13 * high:
            break
    return float(radius)
