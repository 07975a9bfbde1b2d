"""The CUDA path locates as the CPU path does (skipped without CUDA; run by scripts/gpu_check.sh).

Both devices start from the same particles (drawn on the CPU from the event's seed) and run
the same arithmetic, but in other kernels with other reduction orders. 175 SVGD epochs turn
those round-off differences into a different sample of the same posterior, so the locations
are compared in units of their posterior spread, not to round-off.
"""

import numpy as np
import pytest
import torch

from obspy_hyposvi.bridge.picks import event_projections, observations_from_event
from obspy_hyposvi.bridge.synthetic import synthetic_catalog
from obspy_hyposvi.eikonet.model import load_model
from obspy_hyposvi.locate.likelihood import ErrorModel, LikelihoodConfig
from obspy_hyposvi.locate.engine import SearchConfig, locate_events
from obspy_hyposvi.locate.result import LocationResult

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]

#: Travel times of the float32 networks, CUDA vs CPU, s: round-off of a 128x4 network is
#: ~1e-5 s on times up to ~60 s; 2 ms would still pass TF32 matrix products (10-bit mantissa).
TRAVEL_TIME_ATOL_S = 2e-3
#: Hypocentre difference per axis, in CPU posterior standard deviations: two samples of one
#: posterior by 150 particles have means ~0.1-0.2 sigma apart; a wrong frame, sign or phase
#: moves a location by many sigma.
HYPOCENTRE_SIGMAS = 0.5
#: Floor of that tolerance, km (an axis resolved to a few metres by chance).
HYPOCENTRE_FLOOR_KM = 0.02
#: Origin-time difference, in CPU origin-time standard deviations, plus a floor of 5 ms.
ORIGIN_TIME_SIGMAS, ORIGIN_TIME_FLOOR_S = 0.5, 0.005
#: Posterior standard deviations per axis, CUDA / CPU: the same posterior, sampled twice.
SIGMA_RATIO_RANGE = (2 / 3, 3 / 2)


@pytest.fixture(scope="module")
def synthetic_observations():
    catalog, inventory, _ = synthetic_catalog(4, 17, seed=11)  # ~30 picks per event
    frames = event_projections(catalog, inventory)
    return [observations_from_event(event, inventory, frame)[0]
            for event, frame in zip(catalog, frames)]


def _models(device: str):
    return tuple(load_model("socal-1d", phase, device=device) for phase in "PS")


def test_travel_times_match_cpu(rng):
    sources = np.column_stack([rng.uniform(-80, 80, 2000), rng.uniform(-80, 80, 2000),
                               rng.uniform(0, 40, 2000)])
    receivers = np.column_stack([rng.uniform(-80, 80, 2000), rng.uniform(-80, 80, 2000),
                                 rng.uniform(-2, 0, 2000)])
    for cpu, cuda in zip(_models("cpu"), _models("cuda")):
        np.testing.assert_allclose(cuda.travel_time(sources, receivers),
                                   cpu.travel_time(sources, receivers),
                                   rtol=0, atol=TRAVEL_TIME_ATOL_S)


def test_locations_match_cpu(synthetic_observations):
    settings = {"likelihood": LikelihoodConfig(error_model=ErrorModel()),
                "search": SearchConfig(batch_size=len(synthetic_observations))}
    cpu = locate_events(synthetic_observations, _models("cpu"), device="cpu", **settings)
    cuda = locate_events(synthetic_observations, _models("cuda"), device="cuda", **settings)
    for a, b in zip(cpu, cuda):
        assert isinstance(a, LocationResult) and isinstance(b, LocationResult), (a, b)
        sigma_a = np.sqrt(np.diag(a.covariance_km2))
        sigma_b = np.sqrt(np.diag(b.covariance_km2))
        tolerance = np.maximum(HYPOCENTRE_SIGMAS * sigma_a, HYPOCENTRE_FLOOR_KM)
        assert np.all(np.abs(b.hypocentre_xyz_km - a.hypocentre_xyz_km) <= tolerance), (
            a.event_id, a.hypocentre_xyz_km, b.hypocentre_xyz_km, sigma_a)
        assert abs(b.origin_time_s - a.origin_time_s) <= (
            ORIGIN_TIME_SIGMAS * a.origin_time_uncertainty_s + ORIGIN_TIME_FLOOR_S)
        low, high = SIGMA_RATIO_RANGE
        assert np.all((sigma_b >= low * sigma_a) & (sigma_b <= high * sigma_a)), (
            a.event_id, sigma_a, sigma_b)
