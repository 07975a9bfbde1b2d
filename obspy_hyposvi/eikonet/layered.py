"""Exact first-arrival travel times of a 1D layered model, used where an EikoNet model would be.

For a 1D model of constant-velocity layers (NonLinLoc's ``LAYER`` lines, a HypoInverse or
HYPO71 crustal model) the first arrival has a closed form: the direct ray found by ray-parameter
shooting, or a head wave along a faster interface
(:func:`~obspy_hyposvi.reference.layered_exact.layered_travel_time`). A network trained on
such a model only approximates it: the 8000-step Alaska networks (800 km offsets, 103 km
depth) are 0.07 s (P) and 0.13 s (S) off at the median, and those errors moved the two
depth-resolved Anchorage events 1.5 km deeper than exact times do. :func:`layered_model`
wraps the exact solution in a :class:`~obspy_hyposvi.eikonet.model.TravelTimeModel` (the same
domain checks, the same numpy and torch evaluations), so a locator uses it without training:
SVGD runs on its travel-time tables (:class:`~obspy_hyposvi.eikonet.table.TravelTimeTable`,
built from the exact times), and the residuals and take-off angles of the final hypocentres
come from the exact times themselves, their gradient by central differences.

Velocity gradients (:class:`~obspy_hyposvi.velocity.Nodes1D`) are first resampled into thin
layers (:meth:`~obspy_hyposvi.velocity.Nodes1D.to_layered`). 3D models still need a network.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import torch

from ..errors import HypoSVIWarning, InputError, VelocityModelError
from ..velocity import Layered1D, VelocityModel1D
from .model import TravelTimeModel

__all__ = ["layered_model", "velocity_model_1d", "exact_counterpart", "EXACT_KIND",
           "DEFAULT_MAX_OFFSET_KM", "DEFAULT_DEPTH_KM"]

#: Default domain of an exact model, km: a trained network's default (those of
#: :class:`~obspy_hyposvi.eikonet.train.TrainConfig`, tested equal; not imported from it, so
#: that importing the locator loads neither training nor the reference solvers).
DEFAULT_MAX_OFFSET_KM = 400.0
DEFAULT_DEPTH_KM = (-3.0, 60.0)

#: ``metadata["kind"]`` of a model from :func:`layered_model`.
EXACT_KIND = "exact layered first arrivals"

#: Step of the central differences for the gradient, km: the travel time's curvature is at most
#: ~1/(v d) s/km^2, so the error of the slope is ~h^2 / (6 v d^2) ~ 1e-9 s/km at d = 1 km.
_STEP_KM = 1e-3


def _exact_times(velocity: Layered1D, phase: str, offset: np.ndarray, z_a: np.ndarray,
                 z_b: np.ndarray) -> np.ndarray:
    """First-arrival times, s, of any equal shapes (the offset's sign ignored)."""
    # imported here: the reference solvers load only when an exact model is evaluated
    from ..reference.layered_exact import layered_travel_time

    shape = offset.shape
    t = layered_travel_time(velocity, phase, np.abs(offset).ravel(), z_a.ravel(), z_b.ravel())
    return np.asarray(t, dtype=np.float64).reshape(shape)


class _ExactTime(torch.autograd.Function):
    """Exact travel time of (offset, z_a, z_b) tensors with its gradient by central
    differences (computed in the forward pass only when a gradient is wanted)."""

    @staticmethod
    def forward(ctx, offset: torch.Tensor, z_a: torch.Tensor,  # type: ignore[override]
                z_b: torch.Tensor, velocity: Layered1D, phase: str) -> torch.Tensor:
        o, a, b = (x.detach().to(torch.float64).cpu().numpy() for x in (offset, z_a, z_b))
        t = _exact_times(velocity, phase, o, a, b)
        if any(ctx.needs_input_grad[:3]):
            h = _STEP_KM
            # one call for all six shifted points: the solver's cost is per call and per point
            shifted = _exact_times(velocity, phase,
                                   np.stack([o + h, o - h, o, o, o, o]),
                                   np.stack([a, a, a + h, a - h, a, a]),
                                   np.stack([b, b, b, b, b + h, b - h]))
            grads = [(shifted[2 * k] - shifted[2 * k + 1]) / (2 * h) for k in range(3)]
            ctx.save_for_backward(*[torch.as_tensor(g, dtype=offset.dtype, device=offset.device)
                                    for g in grads])
        return torch.as_tensor(t, dtype=offset.dtype, device=offset.device)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):  # type: ignore[override]
        g_o, g_a, g_b = ctx.saved_tensors
        return grad_out * g_o, grad_out * g_a, grad_out * g_b, None, None


class _LayeredNet:
    """Stands where a :class:`TravelTimeModel` keeps its 1D network: ``T(offset, z_a, z_b)``
    and the factored slowness ``tau = T / distance`` that tables are built from."""

    def __init__(self, velocity: Layered1D, phase: str) -> None:
        self.velocity, self.phase = velocity, phase

    def __call__(self, offset_km: torch.Tensor, z_a_km: torch.Tensor,
                 z_b_km: torch.Tensor) -> torch.Tensor:
        return _ExactTime.apply(offset_km, z_a_km, z_b_km, self.velocity, self.phase)

    def tau(self, offset_km: torch.Tensor, z_a_km: torch.Tensor,
            z_b_km: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            t = self(offset_km, z_a_km, z_b_km)
            distance = torch.sqrt(offset_km**2 + (z_a_km - z_b_km) ** 2)
            # at zero distance tau is the slowness at that depth
            slowness = torch.as_tensor(
                1.0 / self.velocity.velocity(z_a_km.detach().double().cpu().numpy(), self.phase),
                dtype=t.dtype, device=t.device)
            return torch.where(distance > 1e-9, t / distance.clamp_min(1e-9), slowness)


def velocity_model_1d(velocity, *, vp_vs_ratio: float | None = None) -> VelocityModel1D:
    """``velocity`` as the 1D model exact times need: a
    :class:`~obspy_hyposvi.velocity.VelocityModel1D` as it is, a file path read with
    :func:`~obspy_hyposvi.velocity.read_velocity_model` (``vp_vs_ratio`` for a P-only
    HypoInverse model).

    Raises
    ------
    InputError
        Anything else, a 3D model file included (named, with what to do instead).
    """
    from ..velocity import read_velocity_model

    source = velocity
    if isinstance(velocity, (str, os.PathLike)):
        velocity = read_velocity_model(velocity, vp_vs_ratio=vp_vs_ratio)
    else:
        source = getattr(velocity, "name", velocity)
    if not isinstance(velocity, VelocityModel1D):
        raise InputError(f"{source}: exact travel times need a 1D velocity model; a 3D model "
                         "needs trained networks (hyposvi train)")
    return velocity


def layered_model(velocity: VelocityModel1D, phase: str, *,
                  max_offset_km: float = DEFAULT_MAX_OFFSET_KM,
                  depth_km: tuple[float, float] = DEFAULT_DEPTH_KM,
                  device: str | torch.device = "cpu",
                  on_outside: str = "raise") -> TravelTimeModel:
    """A travel-time model of exact first arrivals in a 1D layered velocity model.

    Parameters
    ----------
    velocity
        The 1D model (km below sea level, km/s); a :class:`~obspy_hyposvi.velocity.Nodes1D`
        is resampled into layers first.
    phase
        ``"P"`` or ``"S"``.
    max_offset_km, depth_km
        The model's valid domain (as a network's training domain: the locator's search box
        and domain checks read it); defaults :data:`DEFAULT_MAX_OFFSET_KM`,
        :data:`DEFAULT_DEPTH_KM`.
    device, on_outside
        See :class:`~obspy_hyposvi.eikonet.model.TravelTimeModel` (the times are computed on
        the CPU in float64 and moved to ``device``).

    Returns
    -------
    TravelTimeModel
        ``metadata["kind"]`` is :data:`EXACT_KIND`; ``metadata["velocity_model"]`` names the
        velocity model and its sha256, as a trained checkpoint's does (P and S models of one
        velocity model pair up in a :class:`~obspy_hyposvi.locator.Locator`).

    Examples
    --------
    >>> from obspy_hyposvi.velocity import socal_1d
    >>> model = layered_model(socal_1d(), "P")
    >>> t = model.travel_time([[0.0, 0.0, 10.0]], [[30.0, 40.0, 0.0]])
    >>> round(float(t[0]), 3)
    8.464
    """
    if phase not in ("P", "S"):
        raise ValueError(f"phase must be 'P' or 'S', got {phase!r}")
    lo, hi = (float(d) for d in depth_km)
    if not hi > lo or not max_offset_km > 0:
        raise ValueError(f"the domain needs depth_km[0] < depth_km[1] and max_offset_km > 0, "
                         f"got {depth_km} and {max_offset_km}")
    layered = velocity if isinstance(velocity, Layered1D) else velocity.to_layered()
    metadata = {"phase": phase, "geometry": "1d", "kind": EXACT_KIND,
                "domain": {"max_offset_km": float(max_offset_km), "depth_km": [lo, hi]},
                # the given model's identity, before any resampling
                "velocity_model": velocity.to_dict(),
                "description": f"exact first arrivals of {velocity.name} (no network)"}
    model = TravelTimeModel.__new__(TravelTimeModel)  # no checkpoint to load
    model._set_up(metadata, _LayeredNet(layered, phase), torch.float64, device=device,
                  on_outside=on_outside, name=f"{velocity.name} ({phase}, exact)")
    return model


def exact_counterpart(model: TravelTimeModel) -> TravelTimeModel | None:
    """The exact first arrivals a 1D network of a layered velocity model approximates.

    For a trained 1D checkpoint whose velocity model is constant-velocity layers
    (``metadata["velocity_model"]["kind"] == "layered_1d"``): :func:`layered_model` of that
    velocity model, phase and domain, on the network's device. None for anything else (3D
    networks, velocity gradients, models that are exact already).

    The bundled socal-1d networks are off by up to +0.03 s (P) and +0.05 s (S) beyond the
    crossover to the head wave of the 5.5 km interface; for sources above ~6 km that error
    pulls the depth up by as much as 2.5 of its standard deviations, which no error model
    estimated from the residuals can see (the location absorbs it).

    A checkpoint whose velocity model does not rebuild (its values do not give its stated
    sha256) keeps its network, with a :class:`~obspy_hyposvi.errors.HypoSVIWarning`.

    Examples
    --------
    >>> from obspy_hyposvi.eikonet.model import load_model
    >>> exact_counterpart(load_model("socal-1d", "P")).name
    'socal-1d (P, exact)'
    """
    from ..velocity import model_from_dict

    meta = model.metadata
    spec = meta.get("velocity_model") or {}
    if (meta.get("geometry") != "1d" or meta.get("kind") == EXACT_KIND
            or spec.get("kind") != "layered_1d"):
        return None
    try:
        velocity = model_from_dict(spec)
    except (VelocityModelError, KeyError, TypeError, ValueError) as exc:
        warnings.warn(f"{model.name}: its velocity model does not rebuild ({exc}); located on "
                      "the network, not on exact first arrivals", HypoSVIWarning, stacklevel=3)
        return None
    return layered_model(velocity, model.phase,
                         max_offset_km=model.max_offset_km, depth_km=model.depth_range_km,
                         device=model.device, on_outside=model.on_outside)
