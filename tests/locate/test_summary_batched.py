"""The posterior summary of a batch at once equals the per-event summary it replaced.

Each batched step is checked against the code it replaced, written out here as the reference:
sklearn's DBSCAN and scipy's k-d tree for the modes, scipy's ``gaussian_kde`` for the
kernel-density peak, one ellipsoid per covariance, and one network pass per event and phase
for the travel times and take-off angles.
"""

import numpy as np
import pytest
import torch
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation
from scipy.stats import chi2, gaussian_kde
from sklearn.cluster import DBSCAN
from straight_rays import Homogeneous

from obspy_hyposvi.eikonet.model import load_model
from obspy_hyposvi.locate.likelihood import ErrorModel
from obspy_hyposvi.locate.engine import _pad_by_phase, _times_and_takeoff
from obspy_hyposvi.locate.observations import Observations
from obspy_hyposvi.locate.posterior import (
    PLACED_LOG_PROB,
    _dbscan,
    _ranked_labels,
    _squared_distances,
    adaptive_eps_km,
    summarise_posterior,
    summarise_posteriors,
)
from obspy_hyposvi.locate.summary import (
    _tait_bryan_frame,
    confidence_ellipsoid,
    confidence_ellipsoids,
    horizontal_ellipse,
    horizontal_ellipses,
    kde_map,
    kde_maps,
)


def _cloud(rng, n, kind):
    """Particle clouds of several shapes, km."""
    if kind == 0:  # one Gaussian mode, far from the origin (UTM-like coordinates)
        return rng.normal(size=(n, 3)) * rng.uniform(0.01, 5, 3) + rng.uniform(-500, 500, 3)
    if kind == 1:  # several modes
        m = int(rng.integers(2, 6))
        centres = rng.uniform(-20, 20, (m, 3))
        return centres[rng.integers(0, m, n)] + rng.normal(size=(n, 3)) * rng.uniform(0.05, 3)
    if kind == 2:  # no mode
        return rng.uniform(-10, 10, (n, 3))
    return rng.standard_t(2, size=(n, 3))  # heavy tails: isolated points


# -- the modes: DBSCAN and the summary -------------------------------------------------------

def _reference_summary(x, lp, min_samples=3, eps_km=None):
    """summarise_posterior as it was: sklearn's DBSCAN, scipy's k-d tree."""
    finite = np.isfinite(lp)
    best = int(np.argmax(np.where(finite, lp, -np.inf)))
    placed = finite & (lp >= lp[best] - PLACED_LOG_PROB)
    placed_fraction = float(placed.mean())
    if placed.sum() <= 3:
        placed = np.ones(len(x), dtype=bool)
    points = x[placed]
    if eps_km is None:
        k = min(min_samples, len(points) - 1)
        dist, _ = cKDTree(points).query(points, k=k + 1)
        eps_km = float(max(3.0 * np.median(dist[:, k]), 1e-3))
    labels = DBSCAN(eps=eps_km, min_samples=min_samples).fit_predict(points)
    clustered = labels >= 0
    if not clustered.any():
        labels = np.zeros(len(points), dtype=int)
    elif not clustered.all():
        _, nearest = cKDTree(points[clustered]).query(points[~clustered])
        labels[~clustered] = labels[clustered][nearest]
    index_of = np.cumsum(placed) - 1
    dominant = labels == labels[index_of[best]]
    mode_mask = np.zeros(len(x), dtype=bool)
    mode_mask[np.flatnonzero(placed)[dominant]] = True
    hypocentre = points[dominant].mean(axis=0)
    mode_labels = np.full(len(x), -1)
    mode_labels[placed] = _ranked_labels(labels, int(labels[dominant][0]))
    d = points - hypocentre
    return dict(hypocentre_km=hypocentre, covariance_km2=d.T @ d / max(len(points) - 1, 1),
                best_particle_km=x[best], placed_mask=placed, mode_mask=mode_mask,
                placed_fraction=placed_fraction, mode_share=float(dominant.mean()),
                n_modes=int(labels.max()) + 1, eps_km=eps_km, mode_labels=mode_labels)


def test_dbscan_labels_are_sklearns():
    """Labels equal sklearn's, numbering included: clusters in the order of their first core
    point, a border point near two clusters in the first. Coordinates rounded to 0.1 km put
    many points at equal distances, and at exactly eps of each other."""
    rng = np.random.default_rng(0)
    n_border = 0
    for trial in range(400):
        n, kind = int(rng.integers(4, 250)), trial % 5
        x = np.round(rng.normal(size=(n, 3)), 1) if kind == 4 else _cloud(rng, n, kind)
        min_samples = int(rng.integers(1, 8))
        eps = adaptive_eps_km(x, min_samples) * rng.uniform(0.2, 1.0)
        placed = np.ones((1, n), dtype=bool)
        near = _squared_distances(x[None], placed) <= eps * eps
        ours = _dbscan(near, min_samples)[0]
        theirs = DBSCAN(eps=eps, min_samples=min_samples).fit(x)
        np.testing.assert_array_equal(ours, theirs.labels_)
        core = np.zeros(n, dtype=bool)
        core[theirs.core_sample_indices_] = True
        n_border += int(np.count_nonzero(~core & (ours >= 0)))
    assert n_border > 1000  # the border rule was exercised


def test_summary_equals_the_per_event_reference():
    """Batched summaries equal, to the bit, the sklearn and k-d tree summary of each event
    alone (whichever events share the batch), on clouds of every shape with stranded
    particles, non-finite log-probabilities and fixed or adaptive radii."""
    rng = np.random.default_rng(1)
    for trial in range(60):
        n = int(rng.integers(5, 200))
        x = np.stack([_cloud(rng, n, kind) for kind in rng.integers(0, 4, 5)])
        lp = -rng.exponential(rng.uniform(0.5, 20), (5, n))
        lp[0, rng.integers(0, n, 3)] = np.nan
        min_samples = int(rng.integers(1, 8))
        eps = None if trial % 4 else float(rng.uniform(0.1, 3))
        batched = summarise_posteriors(x, lp, min_samples=min_samples, eps_km=eps)
        for b in range(len(x)):
            ref = _reference_summary(x[b], lp[b], min_samples, eps)
            for post in (batched[b], summarise_posterior(x[b], lp[b], min_samples=min_samples,
                                                         eps_km=eps)):
                for name, value in ref.items():
                    np.testing.assert_array_equal(getattr(post, name), value, err_msg=name)


# -- the kernel-density peak -----------------------------------------------------------------

def _reference_kde_map(points_km, n_iter=20):
    """kde_map as it was: scipy's gaussian_kde."""
    if len(points_km) <= points_km.shape[1] + 1:
        return np.median(points_km, axis=0), float("nan")
    kde = gaussian_kde(points_km.T)
    inv = np.linalg.inv(kde.covariance)
    x = points_km[np.argmax(kde(points_km.T))]
    for _ in range(n_iter):
        d = points_km - x
        w = np.exp(-0.5 * np.einsum("ni,ij,nj->n", d, inv, d))
        if w.sum() <= 0:
            break
        new = (w[:, None] * points_km).sum(0) / w.sum()
        if np.linalg.norm(new - x) < 1e-6:
            x = new
            break
        x = new
    return x, float(np.prod(np.sqrt(np.clip(np.diag(kde.covariance), 0, None))) ** (1 / 3))


def test_kde_peak_is_scipys():
    """The peak and bandwidth of scipy's gaussian_kde (Scott's factor), climbed the same way,
    to 1e-9 km, for the masked points of each event of a batch; too few points give their
    median."""
    rng = np.random.default_rng(2)
    for trial in range(40):
        n = int(rng.integers(2, 200))
        x = np.stack([_cloud(rng, n, kind) for kind in rng.integers(0, 4, 6)])
        mask = rng.random(x.shape[:2]) < rng.uniform(0.1, 1, (6, 1))
        mask[:, 0] = True
        peaks, bandwidths = kde_maps(x, mask)
        for b in range(len(x)):
            peak, bandwidth = _reference_kde_map(x[b][mask[b]])
            np.testing.assert_allclose(peaks[b], peak, rtol=0, atol=1e-9)
            np.testing.assert_allclose(bandwidths[b], bandwidth, rtol=1e-12)
            single = kde_map(x[b][mask[b]])
            np.testing.assert_allclose(single[0], peak, rtol=0, atol=1e-9)


def test_kde_of_points_in_a_plane_is_their_median():
    """Particles held on a wall of the box share a depth: no 3D density. scipy's
    gaussian_kde sometimes raised there and sometimes, from the round-off of its weighted
    mean, made a kernel ~1e-16 km thin; the median is taken."""
    rng = np.random.default_rng(3)
    x = rng.uniform(-10, 10, (150, 3))
    x[:, 2] = 4.25
    peak, bandwidth = kde_map(x)
    np.testing.assert_array_equal(peak, np.median(x, axis=0))
    assert np.isnan(bandwidth)
    peaks, bandwidths = kde_maps(np.stack([x, rng.normal(size=(150, 3))]), np.ones((2, 150), bool))
    np.testing.assert_array_equal(peaks[0], np.median(x, axis=0))
    assert np.isnan(bandwidths[0]) and np.isfinite(bandwidths[1])


# -- confidence regions ----------------------------------------------------------------------

def _reference_ellipsoid(cov, level):
    """confidence_ellipsoid as it was, one covariance at a time."""
    ned = cov[np.ix_([1, 0, 2], [1, 0, 2])]
    values, vectors = np.linalg.eigh(0.5 * (ned + ned.T))
    order = np.argsort(values)[::-1]
    values = np.clip(values[order], 0.0, None)
    major, minor = vectors[:, order[0]], vectors[:, order[2]]
    if major[2] < 0:
        major = -major
    azimuth = np.degrees(np.arctan2(major[1], major[0])) % 360.0
    plunge = np.degrees(np.arcsin(np.clip(major[2], -1.0, 1.0)))
    base = _tait_bryan_frame(azimuth, plunge, 0.0)
    rotation = np.degrees(np.arctan2(minor @ base[:, 2], minor @ base[:, 1])) % 180.0
    semi = np.sqrt(chi2.ppf(level / 100.0, 3)) * np.sqrt(values)
    return [*semi, azimuth, plunge, rotation]


def test_confidence_regions_of_a_batch_are_the_per_covariance_ones():
    rng = np.random.default_rng(4)
    covs = []
    for i in range(500):
        rot = Rotation.random(random_state=i).as_matrix()
        sig = np.sort(rng.uniform(0.01, 5.0, 3))[::-1]
        if i % 10 == 0:
            sig[1] = sig[0]  # a circular section
        if i % 13 == 0:
            sig[2] = 0.0  # flat
        covs.append(np.diag(sig**2) if i % 7 == 0 else rot @ np.diag(sig**2) @ rot.T)
    covs = np.array(covs)
    for level in (68.27, 90.0):
        for cov, e, h in zip(covs, confidence_ellipsoids(covs, level),
                             horizontal_ellipses(covs, level)):
            got = [e.semi_major_km, e.semi_intermediate_km, e.semi_minor_km,
                   e.major_azimuth_deg, e.major_plunge_deg, e.major_rotation_deg]
            np.testing.assert_array_equal(got, _reference_ellipsoid(cov, level))
            assert confidence_ellipsoid(cov, level) == e
            horizontal = cov[:2, :2]
            values, vectors = np.linalg.eigh(0.5 * (horizontal + horizontal.T))
            k = np.sqrt(chi2.ppf(level / 100.0, 2))
            assert h == horizontal_ellipse(cov, level) == (
                float(k * np.sqrt(max(values[1], 0.0))), float(k * np.sqrt(max(values[0], 0.0))),
                float(np.degrees(np.arctan2(vectors[0, 1], vectors[1, 1])) % 180.0))


# -- travel times and take-off angles --------------------------------------------------------

def _reference_times_and_takeoff(models, hypo, obs):
    """_times_and_takeoff as it was: one network pass per event and phase."""
    times, grad = np.empty(obs.n_picks), np.empty((obs.n_picks, 3))
    for k, model in enumerate(models):
        idx = np.flatnonzero(obs.phase_idx == k)
        if idx.size == 0:
            continue
        src = torch.as_tensor(hypo, dtype=torch.float64).expand(idx.size, 3).clone()
        src.requires_grad_(True)
        t = model.travel_time_torch(src, torch.as_tensor(obs.station_xyz_km[idx]))
        (g,) = torch.autograd.grad(t.sum(), src)
        times[idx], grad[idx] = t.detach().double().numpy(), g.double().numpy()
    direction = -grad / np.maximum(np.linalg.norm(grad, axis=-1, keepdims=True), 1e-12)
    return times, np.degrees(np.arccos(np.clip(direction[:, 2], -1.0, 1.0)))


def _events(rng, n_events):
    """Events with uneven numbers of P and S picks (padding), some picks unused."""
    events = []
    for i in range(n_events):
        n = int(rng.integers(4, 40))
        xyz = np.column_stack([rng.uniform(-60, 60, (n, 2)), -rng.uniform(0, 1.5, n)])
        phase = (rng.random(n) < rng.uniform(0, 0.6)).astype(int)
        events.append(Observations(event_id=f"e{i}", station_xyz_km=xyz, phase_idx=phase,
                                   arrival_s=rng.uniform(0, 20, n), sigma_s=np.full(n, 0.05),
                                   used=rng.random(n) < 0.9))
    return events


@pytest.mark.parametrize("which", ["straight rays", "tiny network", "bundled network"])
def test_batched_times_and_takeoff_equal_the_per_event_ones(which, tiny_models):
    """One pass for the batch gives each pick's time and take-off angle: float64 straight
    rays to round-off, a float32 network to its own round-off (its matrix products are blocked
    differently for a different number of rows: socal-1d 1e-7 of the time, 2e-5 deg)."""
    if which == "straight rays":
        models = (Homogeneous(6.0), Homogeneous(3.5))
    else:
        models = tiny_models if which == "tiny network" else (load_model("socal-1d", "P"),
                                                              load_model("socal-1d", "S"))
    rng = np.random.default_rng(5)
    events = _events(rng, 9)
    hypo = np.column_stack([rng.uniform(-20, 20, (9, 2)), rng.uniform(0, 20, 9)])
    picks = _pad_by_phase(events, (ErrorModel(),) * 2, torch.float64, torch.device("cpu"))
    times, takeoff = _times_and_takeoff(models, hypo, picks, "cpu", torch.float64)
    rtol, atol_deg = (1e-14, 1e-9) if which == "straight rays" else (1e-6, 1e-3)
    for b, obs in enumerate(events):
        slot = picks.pick_slot[b]
        assert slot.shape == (obs.n_picks,) and (slot >= 0).all()
        ref_times, ref_takeoff = _reference_times_and_takeoff(models, hypo[b], obs)
        np.testing.assert_allclose(times[b, slot], ref_times, rtol=rtol)
        np.testing.assert_allclose(takeoff[b, slot], ref_takeoff, rtol=0, atol=atol_deg)
    padding = np.ones(times.shape, dtype=bool)
    for b, slot in enumerate(picks.pick_slot):
        padding[b, slot] = False
    assert padding.any() and np.isnan(times[padding]).all()
