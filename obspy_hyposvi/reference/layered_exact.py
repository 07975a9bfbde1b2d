"""Exact first-arrival travel times in 1D constant-velocity layered models.

Independent of the networks: it is the reference the EikoNet models are validated against.
First arrival = the earliest of

- the direct ray between source and receiver, found by ray-parameter shooting: with slowness
  ``s_k`` and thickness ``h_k`` of each layer between the two depths, the offset of a ray of
  parameter ``p`` is ``X(p) = sum h_k p / sqrt(s_k^2 - p^2)``; ``p`` is found by bisection and
  the time evaluated in the tau-p form ``T = p X + sum h_k sqrt(s_k^2 - p^2)``, which is
  stationary in ``p`` at the true ray, so the error in ``T`` is second order in that of ``p``;
- head waves along every interface whose refractor is faster than all layers crossed by the two
  legs, when the offset exceeds the critical distance: ``T = X s_r + sum h_k sqrt(s_k^2 - s_r^2)``
  (interfaces below both points, and above both points for low-velocity zones).

Smooth (node) models are handled by :meth:`~obspy_hyposvi.velocity.Nodes1D.to_layered`.

References
----------
Shearer, P. M. (2009). Introduction to Seismology, 2nd ed., ch. 4 (ray parameter, tau-p,
head waves).
"""

from __future__ import annotations

import numpy as np

from ..velocity import Layered1D

__all__ = ["layered_travel_time"]

_N_BISECTION = 64  # halves the bracket to below 1e-19 of s_min: far below float64 noise in T


def _overlap(tops: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Thickness (km) of the overlap of [a, b] with each layer; shape (n, n_layers)."""
    upper = np.concatenate([[-np.inf], tops[1:]])
    lower = np.concatenate([tops[1:], [np.inf]])
    lo = np.maximum(a[:, None], upper[None, :])
    hi = np.minimum(b[:, None], lower[None, :])
    return np.clip(hi - lo, 0.0, None)


def _direct(h: np.ndarray, slow: np.ndarray, offset: np.ndarray, z: np.ndarray,
            model_slow_at_z: np.ndarray) -> np.ndarray:
    present = h > 0
    flat = ~present.any(axis=1)
    s_min = np.where(present, slow[None, :], np.inf).min(axis=1)
    s_min = np.where(flat, model_slow_at_z, s_min)
    lo = np.zeros_like(offset)
    hi = s_min.copy()
    s2 = slow[None, :] ** 2
    for _ in range(_N_BISECTION):
        p = 0.5 * (lo + hi)
        eta = np.sqrt(np.clip(s2 - p[:, None] ** 2, 1e-300, None))
        x_of_p = np.sum(np.where(present, h * p[:, None] / eta, 0.0), axis=1)
        too_far = x_of_p > offset
        hi = np.where(too_far, p, hi)
        lo = np.where(too_far, lo, p)
    p = np.where(flat, s_min, 0.5 * (lo + hi))
    eta = np.sqrt(np.clip(s2 - p[:, None] ** 2, 0.0, None))
    return p * offset + np.sum(np.where(present, h * eta, 0.0), axis=1)


def layered_travel_time(model: Layered1D, phase: str, offset_km, z_source_km,
                        z_receiver_km) -> np.ndarray:
    """First-arrival travel time (s) in a constant-velocity layered model.

    Parameters
    ----------
    model
        Layered model; its first layer extends upwards, its last downwards, without limit.
    phase
        ``"P"`` or ``"S"``.
    offset_km
        Horizontal source-receiver distance, km, >= 0.
    z_source_km, z_receiver_km
        Depths below sea level, km (negative above sea level).

    Returns
    -------
    ndarray
        Travel times, s; arrays are broadcast against each other.

    Examples
    --------
    >>> from obspy_hyposvi.velocity import Layered1D
    >>> m = Layered1D(depth_km=[0.0], vp_kmps=[5.0], vs_kmps=[3.0])
    >>> float(layered_travel_time(m, "P", 30.0, 10.0, -2.0)[()])  # sqrt(30^2 + 12^2) / 5
    6.462197768...
    """
    offset, zs, zr = np.broadcast_arrays(np.asarray(offset_km, dtype=np.float64),
                                         np.asarray(z_source_km, dtype=np.float64),
                                         np.asarray(z_receiver_km, dtype=np.float64))
    shape = offset.shape
    offset, zs, zr = offset.ravel(), zs.ravel(), zr.ravel()
    if np.any(offset < 0):
        raise ValueError("offset_km must be >= 0")
    tops = model.depth_km
    slow = 1.0 / model.velocities(phase)
    z_top, z_bot = np.minimum(zs, zr), np.maximum(zs, zr)

    h_direct = _overlap(tops, z_top, z_bot)
    best = _direct(h_direct, slow, offset, zs, 1.0 / model.velocity(zs, phase))

    for k in range(1, tops.size):
        d = tops[k]
        # refractor below both points (layer k) or above both (layer k-1, a low-velocity zone)
        for below in (True, False):
            s_ref = slow[k] if below else slow[k - 1]
            mask = (z_bot <= d) if below else (z_top >= d)
            if not mask.any():
                continue
            if below:
                legs = _overlap(tops, zs[mask], np.full(mask.sum(), d)) + \
                    _overlap(tops, zr[mask], np.full(mask.sum(), d))
            else:
                legs = _overlap(tops, np.full(mask.sum(), d), zs[mask]) + \
                    _overlap(tops, np.full(mask.sum(), d), zr[mask])
            crossed = legs > 0
            # a head wave needs a refractor faster than every layer its legs cross
            ok = ~np.any(crossed & (slow[None, :] <= s_ref), axis=1)
            if not ok.any():
                continue
            eta = np.sqrt(np.clip(slow[None, :] ** 2 - s_ref**2, 1e-300, None))
            x_crit = np.sum(np.where(crossed, legs * s_ref / eta, 0.0), axis=1)
            t_head = offset[mask] * s_ref + np.sum(np.where(crossed, legs * eta, 0.0), axis=1)
            valid = ok & (offset[mask] >= x_crit)
            idx = np.flatnonzero(mask)[valid]
            best[idx] = np.minimum(best[idx], t_head[valid])
    return best.reshape(shape)
