"""The circular horizontal uncertainty: the radius of the epicentre's confidence circle.

QuakeML's ``OriginUncertainty.horizontalUncertainty`` (and SeisComP's, which it maps to) is
"a circular confidence region, given by single value of horizontal uncertainty". For a
Gaussian epicentre posterior with covariance ``C`` the circle centred on the epicentre that
holds probability ``p`` has the radius ``r`` of

    P(|X| <= r) = p,   X ~ N(0, C),   |X|^2 = a^2 Z1^2 + b^2 Z2^2

with ``a >= b`` the standard deviations along the principal axes and ``Z1``, ``Z2`` standard
normal. Integrating ``Z2`` out leaves one smooth integral over ``Z1``:

    P(|X| <= r) = integral over |z| <= r/a of  phi(z) erf(sqrt(r^2 - a^2 z^2) / (b sqrt 2)) dz

It lies between the ellipse's semi-minor and semi-major axis at the same level: a circular
posterior gives ``r = sigma sqrt(-2 ln(1 - p))`` (1.515 sigma at 68.27 %), a line-like one
the 1D interval ``a * sqrt(2) * erfinv(p)`` (1.0 a).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import erf, erfinv

__all__ = ["circle_probability", "circular_uncertainty_km"]


def _principal_sigmas_km(covariance_km2: np.ndarray) -> tuple[float, float]:
    """``(a, b)``, a >= b >= 0: standard deviations along the principal axes, km."""
    cov = np.asarray(covariance_km2, dtype=float)[:2, :2]
    values = np.linalg.eigvalsh(0.5 * (cov + cov.T))
    return float(math.sqrt(max(values[1], 0.0))), float(math.sqrt(max(values[0], 0.0)))


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
    inner = radius_km / a_km

    def integrand(z: float) -> float:
        reach = math.sqrt(max(radius_km**2 - (a_km * z) ** 2, 0.0))
        across = 1.0 if b_km <= 0.0 else float(erf(reach / (b_km * math.sqrt(2.0))))
        return math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi) * across

    # symmetric in z; the sqrt edge at z = r/a is integrable and quad handles it
    value, _ = quad(integrand, 0.0, inner, limit=200, epsabs=1e-12, epsrel=1e-10)
    return float(min(max(2.0 * value, 0.0), 1.0))


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
    scale = math.sqrt(-2.0 * math.log1p(-p))
    # bracket: the circle holds less than the isotropic one of sigma b and less than the 1D
    # interval along a; it holds more than the isotropic one of sigma a
    low = 0.5 * max(b_km * scale, a_km * math.sqrt(2.0) * float(erfinv(p)))
    high = a_km * scale * 1.01
    return float(brentq(lambda r: circle_probability(r, a_km, b_km) - p, low, high,
                        xtol=1e-12 * a_km, rtol=1e-10))
