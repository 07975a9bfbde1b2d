"""Our log-likelihood at arbitrary hypocentres, outside the SVGD engine: for grid checks of
what the particles found (``alaska_nonlinloc.py --grid-check``) and of their spread
(``posterior_calibration.py``)."""

from __future__ import annotations

import numpy as np
import torch

from obspy_hyposvi import Locator
from obspy_hyposvi.locate.likelihood import edt_log_likelihood, pick_sigma_per_pick

#: Points per evaluation (memory: points x picks travel times).
CHUNK = 4096


def travel_times(locator: Locator, obs, points_xyz_km: np.ndarray) -> torch.Tensor:
    """``(n_points, n_picks)`` travel times (s) from each point (km) to each pick's station."""
    points = torch.as_tensor(points_xyz_km, dtype=torch.float64)
    out = torch.empty(points.shape[0], obs.n_picks, dtype=torch.float64)
    for k, model in enumerate((locator.p_model, locator.s_model)):
        idx = np.flatnonzero(obs.phase_idx == k)
        if idx.size == 0:
            continue
        src = points[:, None, :].expand(-1, idx.size, 3).reshape(-1, 3)
        rcv = torch.as_tensor(obs.station_xyz_km[idx])[None].expand(points.shape[0], -1, -1)
        with torch.no_grad():
            t = model.travel_time_torch(src, rcv.reshape(-1, 3))
        out[:, idx] = t.double().reshape(points.shape[0], idx.size)
    return out


def log_likelihood(locator: Locator, obs, points_xyz_km: np.ndarray,
                   error_models) -> np.ndarray:
    """The run's EDT log-likelihood at each point (its per-phase error models, power and
    spread, its used picks; the prior is flat inside the box)."""
    arrival = torch.as_tensor(obs.arrival_s)[None, None, :]
    sigma = torch.as_tensor(obs.sigma_s)[None, None, :]
    mask = torch.as_tensor(obs.used)[None, None, :]
    terms = [torch.as_tensor([getattr(error_models[k], name) for k in obs.phase_idx],
                             dtype=torch.float64)[None, None, :]
             for name in ("fraction", "min_s", "max_s")]
    out = []
    for i in range(0, len(points_xyz_km), CHUNK):
        t = travel_times(locator, obs, points_xyz_km[i:i + CHUNK])[None]
        total_sigma = pick_sigma_per_pick(t, sigma, *terms)
        out.append(edt_log_likelihood(arrival, t, total_sigma, mask, locator.likelihood.power,
                                      spread=locator.likelihood.spread).numpy()[0])
    return np.concatenate(out)
