"""Locate events: batched SVGD over hypocentre particles, then the posterior summary.

Events of a batch are padded to the same number of picks with a mask, so one forward/backward
pass moves every particle of every event. Each event's initial particles come from a generator
seeded by the run seed and the event id, so a result does not depend on which other events
share its batch.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import zlib
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch

from ..eikonet.table import DEFAULT_SPACING_KM, PhaseTables, TableCache, TableExtent
from ..errors import HypoSVIError, InsufficientPicksError, OutsideModelDomainError
from ..settings import Interval, Options, Settings, TupleOf
from .likelihood import (
    ErrorModel,
    LikelihoodConfig,
    edt_log_likelihood,
    gaussian_log_likelihood,
    pick_sigma_per_pick,
)
from .observations import DEFAULT_MIN_PICKS, Observations
from .posterior import PLACED_LOG_PROB, summarise_posteriors
from .result import LocationResult
from .summary import (SummaryConfig, confidence_ellipsoid, confidence_ellipsoids,
                      horizontal_ellipse, horizontal_ellipses, kde_maps)
from .svgd import SVGDConfig, run_svgd

__all__ = ["SearchConfig", "LocationFailure", "ReadyEvent", "locate_events", "locate_ready",
           "screen_events", "search_box", "exclude_out_of_domain", "exclude_inconsistent_times",
           "log_quality", "total_sigma", "fast_models", "table_extent"]

logger = logging.getLogger(__name__)


#: Events per batch on a CPU with ``batch_size="auto"`` (one thread: larger batches gain
#: nothing once each epoch's tensors outgrow the caches).
CPU_BATCH_SIZE = 16

#: Peak bytes per EDT pair term and particle on a GPU (dense layout, float32; see
#: :meth:`SearchConfig.events_per_batch`).
_AUTO_BYTES_PER_PAIR = 32


@dataclass(frozen=True, kw_only=True)
class SearchConfig(Settings):
    """Where particles may go and how events are batched.

    Parameters
    ----------
    margin_km
        The horizontal search box is the stations' bounding box widened by this, km.
    depth_km
        ``(min, max)`` depth range of the search, km below sea level; ``None`` takes the travel
        time models' valid range.
    above_stations_km
        The search goes no higher than this above the event's highest station, km (no source
        lies in the air); None lets it reach the models' top. Above a network, the travel
        times of a shallow source are nearly those of its mirror image above the stations:
        with the models' top at 3 km above sea level, synthetic events 1.7-2 km deep came out
        2.9-3 km *above* it, their epicentres right.
    min_picks
        Events with fewer usable picks are not located: 4 unknowns (x, y, z, origin time), at
        least 3 (the EDT likelihood needs pairs of picks). The only setting of its kind:
        :class:`~obspy_hyposvi.Locator` hands it to
        :func:`~obspy_hyposvi.bridge.picks.observations_from_event` as well.
    batch_size
        Events moved together in one tensor, or ``"auto"`` (default): on a GPU as many as
        half of its free memory holds (:meth:`events_per_batch`), elsewhere
        :data:`CPU_BATCH_SIZE`.
    anneal_factor
        Pick errors are multiplied by this at the first SVGD epoch, and by a factor shrinking
        geometrically to 1 at ``anneal_fraction`` of the epochs; the rest of the epochs use the
        true errors. With errors of a few hundredths of a second the EDT likelihood is a maze of
        ridges (a pair of picks fits on a whole hyperboloid) and, started uniformly in the box,
        ~90 % of the particles stopped on one: the posterior summary rested on the ~10 that found
        the main mode. Wide errors first smooth the ridges away. 1 switches annealing off.
    anneal_fraction
        Share of the epochs over which the errors shrink to their true size.
    init_candidates
        Particles start at the ``n_particles`` best of ``init_candidates * n_particles``
        uniform draws in the box, ranked under the first epoch's (widest) errors. In a
        regional box (hundreds of km) uniform starts are too far apart for the SVGD steps
        to gather; 1 switches the screening off.
    travel_times
        ``"table"`` (default): 1D models are evaluated once on a grid over the run's offsets
        and depths and interpolated during SVGD (:mod:`obspy_hyposvi.eikonet.table`; 0.15-0.3
        ms RMS from the network at the default spacing, ~10x faster on a CPU); ``"network"``
        evaluates the network at every step. 3D models always use the network. Final
        residuals and take-off angles come from the network either way.
    table_spacing_km
        Grid steps of the tables ``(offset, source depth, receiver depth)``, km (default
        2, 0.25, 0.5: see :mod:`obspy_hyposvi.eikonet.table` for the accuracy of others).
    max_distance_km
        Picks at stations further than this from the event's epicentre, km, are left out
        (weight 0, with the reason) from the second pass of a catalogue run on, judged at
        each pass's locations; at least ``min_picks`` of the nearest stay. None keeps all.
    """

    margin_km: float = 30.0
    depth_km: tuple[float, float] | None = None
    above_stations_km: float | None = 0.5
    min_picks: int = DEFAULT_MIN_PICKS
    batch_size: int | str = "auto"
    anneal_factor: float = 20.0
    anneal_fraction: float = 0.5
    init_candidates: int = 10
    travel_times: str = "table"
    table_spacing_km: tuple[float, float, float] = DEFAULT_SPACING_KM
    max_distance_km: float | None = None

    _constraints = {
        "margin_km": Interval(float, 0, None),
        "depth_km": [None, TupleOf(Interval(float, None, None), length=2, increasing=True)],
        "above_stations_km": [None, Interval(float, 0, None)],
        "min_picks": Interval(int, 3, None),
        "batch_size": [Options({"auto"}), Interval(int, 1, None)],
        "anneal_factor": Interval(float, 1, None),
        "anneal_fraction": Interval(float, 0, 1, closed="neither"),
        "init_candidates": Interval(int, 1, None),
        "travel_times": Options({"table", "network"}),
        "table_spacing_km": TupleOf(Interval(float, 0, None, closed="neither"), length=3,
                                    cast=float),
        "max_distance_km": [None, Interval(float, 0, None, closed="neither")],
    }

    @property
    def fixed_batch_size(self) -> int:
        """The batch size where it must not depend on a device (chunks of a distributed run):
        ``batch_size``, or :data:`CPU_BATCH_SIZE` for ``"auto"``."""
        return CPU_BATCH_SIZE if self.batch_size == "auto" else int(self.batch_size)

    def events_per_batch(self, n_events: int, n_particles: int, max_picks: int,
                         device: torch.device) -> int:
        """Events per SVGD batch for ``n_events`` events of at most ``max_picks`` picks.

        ``"auto"`` on a CUDA device: half the free memory over the peak bytes of one event,
        dominated by the EDT pair terms (dense layout on a GPU: about seven float32 values
        of ``n_particles x n_slots^2`` live at the peak of a step; ``n_slots`` pads each phase
        separately, at most ``max_picks + 1``).
        """
        if self.batch_size != "auto":
            return int(self.batch_size)
        if device.type != "cuda":
            return CPU_BATCH_SIZE
        free, _ = torch.cuda.mem_get_info(device)
        slots = max_picks + 1
        per_event = _AUTO_BYTES_PER_PAIR * n_particles * slots * slots + 1e5
        return int(max(1, min(n_events, 0.5 * free // per_event)))

    def error_inflation(self, fraction_done: float) -> float:
        """Factor on the pick errors after ``fraction_done`` (0..1) of the SVGD epochs."""
        left = max(0.0, 1.0 - fraction_done / self.anneal_fraction)
        return float(self.anneal_factor ** left)


@dataclass(frozen=True)
class LocationFailure:
    """An event that could not be located, and why."""

    event_id: str
    reason: str
    error: str = field(default="HypoSVIError")


def _event_seed(seed: int, event_id: str) -> int:
    return (int(seed) * 1_000_003 + zlib.crc32(event_id.encode())) % (2**63 - 1)


def _reach_km(lower: np.ndarray, upper: np.ndarray, stations_xyz_km: np.ndarray) -> float:
    """Largest horizontal offset between a corner of the box ``lower``..``upper`` (its first
    two coordinates) and a station (``(n, 2)`` or ``(n, 3)`` positions), km."""
    corners = np.array([[x, y] for x in (lower[0], upper[0]) for y in (lower[1], upper[1])])
    return float(np.max(np.hypot(*(corners[:, None, :]
                                   - stations_xyz_km[None, :, :2]).transpose(2, 0, 1))))


def search_box(obs: Observations, models: Sequence,
               config: SearchConfig) -> tuple[np.ndarray, np.ndarray]:
    """Search box ``(lower, upper)`` of one event, km, inside every model's valid domain.

    Raises
    ------
    OutsideModelDomainError
        A station lies outside the models' depth range, or the stations are spread wider than
        the models' offset range allows.
    """
    xyz = obs.station_xyz_km[obs.used]
    z_lo = max(m.depth_range_km[0] for m in models)
    z_hi = min(m.depth_range_km[1] for m in models)
    bad = np.flatnonzero((xyz[:, 2] < z_lo) | (xyz[:, 2] > z_hi))
    if bad.size:
        i = bad[0]
        name = (np.asarray(obs.station_ids, dtype=object)[obs.used][i] if obs.station_ids
                else f"#{i}")
        raise OutsideModelDomainError(
            f"event {obs.event_id}: station {name} at depth {xyz[i, 2]:.3f} km (elevation "
            f"{-xyz[i, 2] * 1e3:.0f} m) is outside the travel-time models' depth range "
            f"{z_lo:g}..{z_hi:g} km")
    if config.above_stations_km is not None:
        z_lo = max(z_lo, float(xyz[:, 2].min()) - config.above_stations_km)
    if config.depth_km is not None:
        z_lo, z_hi = max(z_lo, config.depth_km[0]), min(z_hi, config.depth_km[1])
        if z_lo >= z_hi:
            raise OutsideModelDomainError(
                f"search depths {config.depth_km} km lie outside the models' depth range")
    lower = np.array([xyz[:, 0].min() - config.margin_km, xyz[:, 1].min() - config.margin_km, z_lo])
    upper = np.array([xyz[:, 0].max() + config.margin_km, xyz[:, 1].max() + config.margin_km, z_hi])
    max_offset = min(m.max_offset_km for m in models)
    reach = _reach_km(lower, upper, xyz)
    if reach > max_offset:
        raise OutsideModelDomainError(
            f"event {obs.event_id}: stations and search margin span {reach:.0f} km, more than the "
            f"models' {max_offset:g} km offset range; drop distant stations or lower the margin")
    return lower, upper


@dataclass(frozen=True)
class _PaddedPicks:
    """The picks of a batch of events as padded tensors, grouped by phase.

    Each event's picks are laid out phase by phase: slots ``[0, n_p)`` hold its P picks,
    slots ``[n_p, n_p + n_s)`` its S picks, where ``n_p`` and ``n_s`` are the largest counts of
    the batch. Slots past an event's own picks of a phase are padding (``mask`` False) placed
    on one of its real stations, so that their travel times stay finite. Each travel-time
    model is then evaluated only on the picks of its phase.

    Attributes
    ----------
    receivers_xyz_km
        Per phase index, ``(n_events, n_phase_slots, 3)`` receiver positions, km; None where no
        event of the batch has a pick of that phase.
    arrival_s, pick_sigma_s, mask
        ``(n_events, n_slots)`` arrival times (s after each event's reference), pick standard
        deviations (s) and flags of real picks that enter the likelihood, in the slot layout.
    error_fraction, error_min_s, error_max_s
        ``(1, n_slots)`` terms of each slot's phase error model (:class:`ErrorModel`).
    pick_slot
        Per event of the batch, ``(n_picks,)`` the slot of each of its picks, in its
        observations' order (-1 for a phase without a model).
    slot_receivers_km, slot_phase
        ``(n_events, n_slots, 3)`` the receivers of every slot, and ``(n_slots,)`` int64 the
        phase index of each slot: for the travel times of all phases in one call
        (:class:`~obspy_hyposvi.eikonet.table.PhaseTables`).
    """

    receivers_xyz_km: tuple[torch.Tensor | None, ...]
    arrival_s: torch.Tensor
    pick_sigma_s: torch.Tensor
    mask: torch.Tensor
    error_fraction: torch.Tensor
    error_min_s: torch.Tensor
    error_max_s: torch.Tensor
    pick_slot: tuple[np.ndarray, ...] = ()
    slot_receivers_km: torch.Tensor | None = None
    slot_phase: torch.Tensor | None = None


def _pad_by_phase(batch: Sequence[Observations], error_models: Sequence[ErrorModel],
                  dtype: torch.dtype, device: torch.device) -> _PaddedPicks:
    """Pad the picks of a batch phase by phase (see :class:`_PaddedPicks`)."""
    n_phases = len(error_models)
    n_events = len(batch)
    phase_picks = [[np.flatnonzero(o.phase_idx == k) for k in range(n_phases)] for o in batch]
    widths = [max(len(picks[k]) for picks in phase_picks) for k in range(n_phases)]
    starts = np.concatenate([[0], np.cumsum(widths)])
    n_slots = int(starts[-1])
    arrival = np.zeros((n_events, n_slots))
    sigma = np.ones((n_events, n_slots))
    mask = np.zeros((n_events, n_slots), dtype=bool)
    receivers = [np.zeros((n_events, w, 3)) for w in widths]
    slots = [np.full(obs.n_picks, -1, dtype=np.intp) for obs in batch]
    for i, (obs, picks) in enumerate(zip(batch, phase_picks)):
        for k, idx in enumerate(picks):
            span = starts[k] + np.arange(len(idx))
            slots[i][idx] = span
            arrival[i, span], sigma[i, span] = obs.arrival_s[idx], obs.sigma_s[idx]
            mask[i, span] = obs.used[idx]
            receivers[k][i, :len(idx)] = obs.station_xyz_km[idx]
            receivers[k][i, len(idx):] = obs.station_xyz_km[0]  # padding on a real station

    def tensor(a: np.ndarray, dt: torch.dtype = dtype) -> torch.Tensor:
        return torch.as_tensor(a, dtype=dt, device=device)

    def per_slot(name: str) -> torch.Tensor:
        values = [getattr(m, name) for m, w in zip(error_models, widths) for _ in range(w)]
        return tensor(np.asarray(values, dtype=float).reshape(1, n_slots))

    return _PaddedPicks(
        receivers_xyz_km=tuple(tensor(r) if w else None for r, w in zip(receivers, widths)),
        arrival_s=tensor(arrival), pick_sigma_s=tensor(sigma), mask=tensor(mask, torch.bool),
        error_fraction=per_slot("fraction"), error_min_s=per_slot("min_s"),
        error_max_s=per_slot("max_s"), pick_slot=tuple(slots),
        slot_receivers_km=tensor(np.concatenate(receivers, axis=1)),
        slot_phase=tensor(np.repeat(np.arange(n_phases), widths), torch.int64))


def _travel_time_dtype(models: Sequence, particle_dtype: torch.dtype) -> torch.dtype:
    """Precision the travel times carry: the narrower of the models' (widest) dtype and the
    particles' (models that do not say count as the particles')."""
    widest = functools.reduce(torch.promote_types,
                              [getattr(model, "dtype", particle_dtype) for model in models])
    return widest if widest.itemsize < particle_dtype.itemsize else particle_dtype


def _stacked_tables(models: Sequence, device: torch.device) -> PhaseTables | None:
    """The phases' tables as one :class:`PhaseTables` on a GPU, where the launches of the
    per-phase interpolations would bound an epoch (on a CPU the per-phase gathers are
    faster); None where the models are not tables of one grid."""
    if torch.device(device).type != "cuda" or not PhaseTables.compatible(models):
        return None
    return PhaseTables(models)


def _travel_times(models: Sequence, particles: torch.Tensor,
                  picks: _PaddedPicks, stacked: PhaseTables | None = None) -> torch.Tensor:
    """``(n_events, n_particles, n_slots)`` travel times, s: each model on its phase's slots
    (all phases in one call with ``stacked``)."""
    sources = particles[:, :, None, :]
    if stacked is not None:
        times = stacked.travel_time_torch(sources, picks.slot_receivers_km[:, None, :, :],
                                          picks.slot_phase)
        return times.to(particles.dtype)
    parts = [model.travel_time_torch(sources, receivers[:, None, :, :])
             for model, receivers in zip(models, picks.receivers_xyz_km) if receivers is not None]
    times = parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)
    return times.to(particles.dtype)


@dataclass(frozen=True, eq=False)
class ReadyEvent:
    """An event that passed the checks before SVGD, with its search box.

    Attributes
    ----------
    index
        Position of the event in the sequence given to :func:`screen_events`.
    observations
        The event's observations.
    lower_km, upper_km
        ``(3,)`` corners of the search box (:func:`search_box`), km.
    """

    index: int
    observations: Observations
    lower_km: np.ndarray
    upper_km: np.ndarray
    excluded: dict = field(default_factory=dict)


def _station_name(obs: Observations, i: int) -> str:
    return obs.station_ids[i] if obs.station_ids else f"pick #{i}"


def exclude_out_of_domain(obs: Observations, models: Sequence,
                          config: SearchConfig) -> dict[int, str]:
    """Picks of one event the models cannot serve, with the reason (``{pick index: text}``).

    A pick is left out, and the event located from the rest, when its station lies outside
    the models' depth range, or when it is so far from the event's other stations that the
    search box (stations plus ``margin_km``) would need offsets beyond the models' range: the
    station furthest from the stations' median position goes first, until the rest fit.
    """
    out: dict[int, str] = {}
    xyz = obs.station_xyz_km
    z_lo = max(m.depth_range_km[0] for m in models)
    z_hi = min(m.depth_range_km[1] for m in models)
    for i in np.flatnonzero(obs.used & ((xyz[:, 2] < z_lo) | (xyz[:, 2] > z_hi))):
        out[int(i)] = (f"station {_station_name(obs, i)} at elevation {-xyz[i, 2] * 1e3:.0f} m "
                       f"is outside the travel-time models' depth range {z_lo:g}..{z_hi:g} km")
    max_offset = min(m.max_offset_km for m in models)
    keep = obs.used.copy()
    keep[list(out)] = False
    while keep.sum() > 1:
        pts = xyz[keep, :2]
        lo, hi = pts.min(0) - config.margin_km, pts.max(0) + config.margin_km
        if _reach_km(lo, hi, pts) <= max_offset:
            break
        centre = np.median(pts, axis=0)
        idx = np.flatnonzero(keep)
        far = idx[np.argmax(np.hypot(*(xyz[idx, :2] - centre).T))]
        # every pick of that station goes
        same = np.flatnonzero(keep & np.all(np.isclose(xyz[:, :2], xyz[far, :2]), axis=1))
        dist = float(np.hypot(*(xyz[far, :2] - centre)))
        for i in same:
            out[int(i)] = (f"station {_station_name(obs, far)} is {dist:.0f} km from the "
                           f"event's other stations: with the {config.margin_km:g} km search "
                           f"margin the offsets exceed the models' {max_offset:g} km range")
        keep[same] = False
    return out


def exclude_inconsistent_times(obs: Observations, models: Sequence, lower_km: np.ndarray,
                               upper_km: np.ndarray) -> dict[int, str]:
    """Picks whose times no single source in the box can explain together with the rest.

    Any two arrivals from one source differ by at most the longest travel time from the box
    to a station. The largest group of picks inside a window that long is kept; picks
    outside it (a wrong day, another event, an hour's error) are left out with the reason.
    A median-based window alone is fooled when half the picks are shifted.
    """
    used = np.flatnonzero(obs.used)
    if used.size < 2:
        return {}
    corners = np.array([[x, y, z] for x in (lower_km[0], upper_km[0])
                        for y in (lower_km[1], upper_km[1]) for z in (lower_km[2], upper_km[2])])
    longest = 0.0
    with torch.no_grad():
        for k, model in enumerate(models):
            idx = used[obs.phase_idx[used] == k]
            if idx.size == 0:
                continue
            dtype = getattr(model, "dtype", torch.float64)
            device = getattr(model, "device", "cpu")  # a model on a GPU takes its inputs there
            src = torch.as_tensor(corners, dtype=dtype, device=device)[:, None, :]
            rcv = torch.as_tensor(obs.station_xyz_km[idx], dtype=dtype, device=device)[None]
            t = model.travel_time_torch(src.expand(-1, idx.size, -1).contiguous(),
                                        rcv.expand(len(corners), -1, -1).contiguous())
            longest = max(longest, float(t.max()))
    window = longest + 1.0 + 5.0 * float(np.max(obs.sigma_s[used]))  # slack for pick errors
    t = obs.arrival_s[used]
    order = np.argsort(t)
    ts = t[order]
    # the window [ts[a], ts[a] + window] holding the most picks
    ends = np.searchsorted(ts, ts + window, side="right")
    a = int(np.argmax(ends - np.arange(ts.size)))
    inside = np.zeros(used.size, bool)
    inside[order[a:ends[a]]] = True
    centre = float(np.median(t[inside]))
    return {int(used[j]): (f"pick time {t[j] - centre:+.1f} s from the median of the event's "
                           f"other picks: no source in the search box explains both (longest "
                           f"travel time {longest:.1f} s)") for j in np.flatnonzero(~inside)}


def screen_events(observations: Sequence[Observations], models: Sequence,
                  search: SearchConfig = SearchConfig(),
                  ) -> tuple[list[ReadyEvent], dict[int, LocationFailure]]:
    """Split events into those SVGD can locate and those it cannot (too few picks, outside
    the models' domain).

    Parameters
    ----------
    observations
        One :class:`Observations` per event.
    models
        ``(p_model, s_model)`` (see :func:`locate_events`).
    search
        Search settings (``min_picks``, margins, depths).

    Returns
    -------
    ready
        The locatable events, in input order.
    failures
        ``{index: LocationFailure}`` of the others.

    Examples
    --------
    >>> class Model:  # straight rays at 6 km/s
    ...     depth_range_km, max_offset_km = (-3.0, 60.0), 400.0
    ...     def travel_time_torch(self, sources_km, receivers_km):
    ...         return torch.linalg.norm(receivers_km - sources_km, dim=-1) / 6.0
    >>> obs = Observations(event_id="ev", station_xyz_km=[[0, 0, 0], [10, 0, 0], [0, 10, 0]],
    ...                    phase_idx=[0, 0, 0], arrival_s=[0.0, 1.0, 1.0], sigma_s=[0.1] * 3)
    >>> ready, failures = screen_events([obs], (Model(), Model()))
    >>> ready, failures[0].error
    ([], 'InsufficientPicksError')
    """
    ready: list[ReadyEvent] = []
    failures: dict[int, LocationFailure] = {}
    for i, obs in enumerate(observations):
        try:
            excluded = exclude_out_of_domain(obs, models, search)
            if excluded:
                obs = _without(obs, excluded)
            if obs.n_used >= 2:
                box = search_box(obs, models, search)
                timing = exclude_inconsistent_times(obs, models, *box)
                if timing:
                    excluded.update(timing)
                    obs = _without(obs, timing)
            if obs.n_used < search.min_picks:
                why = "; ".join(sorted(set(excluded.values())))
                raise InsufficientPicksError(
                    f"event {obs.event_id}: {obs.n_used} usable picks, at least "
                    f"{search.min_picks} needed" + (f" ({why})" if why else ""))
            for j, why in excluded.items():
                logger.warning("event %s: pick %s left out: %s", obs.event_id,
                               obs.pick_ids[j] if obs.pick_ids else j, why)
            ready.append(ReadyEvent(i, obs, *search_box(obs, models, search), excluded=excluded))
        except HypoSVIError as exc:
            logger.warning("event %s not located: %s", obs.event_id, exc)
            failures[i] = LocationFailure(obs.event_id, str(exc), type(exc).__name__)
    return ready, failures


def _without(obs: Observations, picks: dict[int, str]) -> Observations:
    used = obs.used.copy()
    used[list(picks)] = False
    return dataclasses.replace(obs, used=used)


def table_extent(ready: Sequence[ReadyEvent]) -> TableExtent:
    """Offsets and depths that locating ``ready`` asks of a travel-time model: every search
    box against every station of its event."""
    reach, src_lo, src_hi, rcv_lo, rcv_hi = 0.0, np.inf, -np.inf, np.inf, -np.inf
    for event in ready:
        lower, upper = event.lower_km, event.upper_km
        stations = event.observations.station_xyz_km
        reach = max(reach, _reach_km(lower, upper, stations))
        src_lo, src_hi = min(src_lo, float(lower[2])), max(src_hi, float(upper[2]))
        rcv_lo = min(rcv_lo, float(stations[:, 2].min()))
        rcv_hi = max(rcv_hi, float(stations[:, 2].max()))
    return TableExtent(reach, (src_lo, src_hi), (rcv_lo, rcv_hi))


def fast_models(models: Sequence, ready: Sequence[ReadyEvent], search: SearchConfig,
                tables: TableCache | None = None) -> tuple:
    """The models SVGD evaluates: with ``search.travel_times="table"``, each 1D model replaced
    by a :class:`~obspy_hyposvi.eikonet.table.TravelTimeTable` that covers ``ready`` (kept
    in ``tables`` for later calls); other models as given."""
    if search.travel_times != "table" or not ready:
        return tuple(models)
    if tables is None or tables.spacing_km != search.table_spacing_km:
        tables = TableCache(search.table_spacing_km)
    extent = table_extent(ready)
    return tuple(tables.table(m, extent) if getattr(m, "geometry", None) == "1d"
                 and hasattr(m, "net") else m for m in models)


def locate_ready(ready: Sequence[ReadyEvent], models: Sequence, *, svgd: SVGDConfig,
                 likelihood: LikelihoodConfig, summary: SummaryConfig, search: SearchConfig,
                 device: str | torch.device = "cpu", dtype: torch.dtype = torch.float64,
                 progress: Callable[[int], None] | None = None,
                 tables: TableCache | None = None,
                 light: bool = False) -> list[LocationResult]:
    """Run SVGD on screened events, ``search.batch_size`` events per batch
    (:meth:`SearchConfig.events_per_batch`), in order.

    Each result depends only on its event and the batch it shares (padding changes float
    round-off, a few ulp): the same events batched the same way give identical results,
    whichever process runs them (:mod:`obspy_hyposvi.distributed` relies on this).

    Parameters
    ----------
    ready
        Events from :func:`screen_events`.
    models, svgd, likelihood, summary, search, device, dtype
        As for :func:`locate_events` (the settings have no defaults here: callers pass the
        run's own).
    progress
        Called with the number of events of ``ready`` finished after each batch.
    tables
        Where the travel-time tables of ``search.travel_times="table"`` are kept between
        calls (a caller that runs several passes over the same events builds them once);
        None builds them for this call.
    light
        Leave out what only a final result needs, for the intermediate passes of a catalogue
        (their residuals set the error model and the outliers): the kernel-density peak
        (``kde_mode_xyz_km`` NaN) and the take-off angles (NaN). ~0.4 ms per event and pass on
        one core.

    Returns
    -------
    list of LocationResult
        One per event of ``ready``, in the same order.
    """
    device = torch.device(device)
    results: list[LocationResult] = []
    fast = fast_models(models, ready, search, tables)
    size = search.events_per_batch(len(ready), svgd.n_particles,
                                   max((e.observations.n_picks for e in ready), default=1),
                                   device)
    for start in range(0, len(ready), size):
        chunk = ready[start:start + size]
        results += _locate_batch(chunk, fast, models, svgd, likelihood, summary, search,
                                 device, dtype, light)
        if progress is not None:
            progress(len(results))
    return results


def locate_events(observations: Sequence[Observations], models: Sequence, *,
                  svgd: SVGDConfig = SVGDConfig(),
                  likelihood: LikelihoodConfig = LikelihoodConfig(),
                  summary: SummaryConfig = SummaryConfig(), search: SearchConfig = SearchConfig(),
                  device: str | torch.device = "cpu", dtype: torch.dtype = torch.float64,
                  progress: Callable[[int], None] | None = None,
                  ) -> list[LocationResult | LocationFailure]:
    """Locate events from their observations.

    Parameters
    ----------
    observations
        One :class:`Observations` per event.
    models
        ``(p_model, s_model)`` travel-time models (objects with ``travel_time_torch``,
        ``depth_range_km`` and ``max_offset_km``).
    svgd, likelihood, summary, search
        Settings.
    device, dtype
        Where and in which precision particles live (times relative to the event's reference,
        so float32 is safe; float64 is the default).
    progress
        Called with the number of events finished after each batch.

    Returns
    -------
    list
        A :class:`LocationResult` or a :class:`LocationFailure` per event, in input order.
    """
    ready, failures = screen_events(observations, models, search)
    results: list = [failures.get(i) for i in range(len(observations))]
    n_failed = len(failures)

    def _progress(done: int) -> None:
        if progress is not None:
            progress(n_failed + done)

    located = locate_ready(ready, models, svgd=svgd, likelihood=likelihood, summary=summary,
                           search=search, device=device, dtype=dtype, progress=_progress)
    for event, res in zip(ready, located):
        results[event.index] = res
    log_quality(located)
    return results


def log_quality(results: Sequence) -> None:
    """One warning per location that failed its checks, and one per search-box limit that cuts
    a located event's posterior (callers log final passes only)."""
    for res in results:
        if isinstance(res, LocationResult) and res.quality_note:
            logger.warning("event %s: %s", res.event_id, res.quality_note)
        elif isinstance(res, LocationResult):
            for warning in res.warnings:
                logger.warning("event %s: %s", res.event_id, warning)


def _locate_batch(chunk: Sequence[ReadyEvent], models, exact_models, svgd, likelihood, summary,
                  search, device, dtype, light: bool = False):
    """SVGD and the summary of one batch: ``models`` move the particles, ``exact_models`` give
    the final residuals and take-off angles (``light``: see :func:`locate_ready`)."""
    batch = [c.observations for c in chunk]
    lower = torch.as_tensor(np.stack([c.lower_km for c in chunk]), dtype=dtype,
                            device=device)[:, None, :]
    upper = torch.as_tensor(np.stack([c.upper_km for c in chunk]), dtype=dtype,
                            device=device)[:, None, :]
    error_models = likelihood.phase_error_models(len(models))
    picks = _pad_by_phase(batch, error_models, dtype, device)
    stacked = _stacked_tables(models, device)
    n_draw = svgd.n_particles * max(1, search.init_candidates)
    init = []
    for obs in batch:
        gen = torch.Generator(device="cpu").manual_seed(_event_seed(svgd.seed, obs.event_id))
        init.append(torch.rand(n_draw, 3, generator=gen, dtype=torch.float64))
    x0 = lower + torch.stack(init).to(device=device, dtype=dtype) * (upper - lower)
    # the EDT pair terms need no more precision than the travel times carry
    pair_dtype = _travel_time_dtype(models, dtype)
    arrival_b, mask_b = picks.arrival_s[:, None, :], picks.mask[:, None, :]

    def targets(p: _PaddedPicks):
        """``(log_prob, sigma_of)`` of the events whose picks are ``p``."""
        arrival, mask, sigma_pick = (p.arrival_s[:, None, :], p.mask[:, None, :],
                                     p.pick_sigma_s[:, None, :])

        def sigma_of(t, fraction_done: float = 1.0):
            sig = pick_sigma_per_pick(t, sigma_pick, p.error_fraction, p.error_min_s,
                                      p.error_max_s)
            if fraction_done < search.anneal_fraction:
                sig = sig * search.error_inflation(fraction_done)
            return sig

        def log_prob(x, fraction_done: float = 1.0, times=None):
            t = _travel_times(models, x, p, stacked) if times is None else times
            sig = sigma_of(t, fraction_done)
            if likelihood.kind == "edt":
                return edt_log_likelihood(arrival, t, sig, mask, likelihood.power,
                                          spread=likelihood.spread, pair_dtype=pair_dtype)
            return gaussian_log_likelihood(arrival, t, sig, mask)

        return log_prob, sigma_of

    log_prob, sigma_of = targets(picks)

    if n_draw > svgd.n_particles:
        # keep the candidates most probable under the widest (first-epoch) errors: a smooth
        # target, so they lie around its main basin, whatever the size of the box
        with torch.no_grad():  # in slices of n_particles: no more memory than an epoch
            score = torch.cat([log_prob(x0[:, i:i + svgd.n_particles], 0.0)
                               for i in range(0, n_draw, svgd.n_particles)], dim=1)
        best = score.topk(svgd.n_particles, dim=1).indices
        x0 = torch.gather(x0, 1, best[..., None].expand(-1, -1, 3))
    # the target changes until the annealing ends: no early stop before
    particles, info = run_svgd(log_prob, x0, svgd, lower=lower, upper=upper,
                               progress_aware=search.anneal_factor > 1,
                               earliest_stop=search.anneal_fraction,
                               subset=lambda idx: targets(_slice_picks(picks, idx))[0])
    event_ids = [obs.event_id for obs in batch]
    particles, rescued = _rescue_stranded_depths(
        log_prob, lambda idx: targets(_slice_picks(picks, idx))[0], particles, lower, upper,
        svgd, event_ids)
    particles, gathered = _rescue_ungathered(
        log_prob, lambda idx: targets(_slice_picks(picks, idx))[0], particles, lower, upper,
        svgd, event_ids, summary.min_placed_fraction)
    with torch.no_grad():  # the prior is uniform in the box: the likelihood ranks the modes
        # the final particles' travel times, once: for their log-posteriors and origin times
        t = _travel_times(models, particles, picks, stacked)
        final_log_prob = log_prob(particles, times=t).double().cpu().numpy()
        # each particle's best origin time (weighted mean of its residuals) and that
        # estimate's variance given the particle's position
        weight = mask_b / sigma_of(t).square()
        total = weight.sum(-1).clamp_min(1e-30)
        t0 = ((arrival_b - t) * weight).sum(-1) / total
        t0, t0_var = t0.double().cpu().numpy(), (1.0 / total).double().cpu().numpy()
    # the summaries of the whole batch at once (per event, ~50 ms went on library overheads):
    # posteriors and kernel-density peaks, then one pass of the exact models at every
    # hypocentre for the residuals and take-off angles
    cloud = particles.cpu().numpy()
    posts = summarise_posteriors(cloud, final_log_prob, min_samples=summary.cluster_min_samples,
                                 eps_km=summary.cluster_eps_km)
    if light:  # no kernel-density peaks: an intermediate pass needs the residuals only
        peaks = np.full((len(posts), 3), np.nan)
        bandwidths = np.full(len(posts), np.nan)
    else:
        peaks, bandwidths = kde_maps(cloud, np.stack([p.mode_mask for p in posts]))
    covariances = np.stack([p.covariance_km2 for p in posts])
    ellipsoids = confidence_ellipsoids(covariances, summary.confidence_level)
    horizontals = horizontal_ellipses(covariances, summary.confidence_level)
    times, takeoff = _times_and_takeoff(exact_models, np.stack([p.hypocentre_km for p in posts]),
                                        picks, device, dtype, takeoff=not light)
    out = []
    for b, obs in enumerate(batch):
        slot = picks.pick_slot[b]
        res = _summarise(obs, cloud[b], final_log_prob[b], t0[b], t0_var[b], posts[b],
                         (peaks[b], float(bandwidths[b])), _by_pick(times[b], slot),
                         _by_pick(takeoff[b], slot), error_models, likelihood, summary, info,
                         (chunk[b].lower_km, chunk[b].upper_km), chunk[b].excluded,
                         (ellipsoids[b], horizontals[b]))
        res.extra["depth_rescue"] = bool(rescued[b])
        res.extra["gather_rescue"] = bool(gathered[b])
        res.extra["n_epochs"] = int(info["epochs"][b])  # its own: events stop one by one
        out.append(res)
    return out


def _by_pick(values: np.ndarray, slot: np.ndarray) -> np.ndarray:
    """An event's per-slot ``values`` in the order of its picks (NaN where no slot)."""
    return np.where(slot >= 0, values[slot], np.nan)


#: Depths scanned below the best particle's epicentre to find a cloud stranded in depth.
_DEPTH_SCAN = 96

#: A cloud that samples its posterior has a particle within ~0.2 log-units of the mode (the
#: best of 150 draws of chi2_3 / 2); a scan point this much better means it does not.
_RESCUE_GAIN = 3.0

#: For a cloud on the top wall of the box the bar is lower: every particle sits on one plane,
#: so none samples the posterior, and a point this much better below is its mode (the wall's
#: density e^-1 of it at most: the cloud belongs below).
_WALL_RESCUE_GAIN = 1.0

#: Share of a cloud's particles on the top wall that makes it a cloud flattened there.
_WALL_SHARE = 0.5

#: Epicentral offsets (km) of the wider scan for a cloud left on the top wall of the box: every
#: node of this square grid around the best particle, at every scanned depth.
_WALL_SCAN_OFFSETS_KM = torch.linspace(-2.0, 2.0, 9, dtype=torch.float64)


def _slice_picks(picks: _PaddedPicks, idx: torch.Tensor) -> _PaddedPicks:
    """The padded picks of the events ``idx`` of a batch (same slot layout)."""
    return dataclasses.replace(
        picks, receivers_xyz_km=tuple(None if r is None else r[idx]
                                      for r in picks.receivers_xyz_km),
        arrival_s=picks.arrival_s[idx], pick_sigma_s=picks.pick_sigma_s[idx],
        mask=picks.mask[idx],
        pick_slot=tuple(picks.pick_slot[i] for i in idx.tolist()),
        slot_receivers_km=picks.slot_receivers_km[idx])


def _wall_scan(vertical: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The points of a depth scan ``vertical`` (``(n_depths, 3)``, km) repeated at every node
    of :data:`_WALL_SCAN_OFFSETS_KM` around its epicentre: ``(n_nodes * n_depths, 3)``."""
    step = _WALL_SCAN_OFFSETS_KM.to(device=vertical.device, dtype=dtype)
    dx, dy = torch.meshgrid(step, step, indexing="ij")
    shift = torch.stack([dx.reshape(-1), dy.reshape(-1), torch.zeros_like(dx.reshape(-1))], 1)
    return (vertical[None, :, :] + shift[:, None, :]).reshape(-1, 3)


def _rescue_stranded_depths(log_prob, log_prob_of, particles: torch.Tensor,
                            lower: torch.Tensor, upper: torch.Tensor, svgd: SVGDConfig,
                            event_ids: Sequence[str]) -> tuple[torch.Tensor, np.ndarray]:
    """Move clouds that SVGD left on a depth plateau to the posterior's main mode.

    Depth is the coordinate the picks resolve last. Above a network the log-posterior of a
    shallow event has a flat shoulder over the stations' elevations (the travel times of a
    source there differ little, and little from its mirror image), and a cloud that drifts
    there during the annealed search stays: the gradient is ~0. (Synthetic events 1.7-2 km deep
    came out at the top of the box with every particle there, 20 log-units below the true
    depth.) The log-posterior is scanned along depth below each event's best particle; where
    the scan beats every particle by more than a sampled posterior allows (3 log-units), that
    event's particles restart around the scan's best point and run half the epochs again,
    unannealed, at a smaller step. Other events are left as they are.

    A cloud flattened on the top wall (at least half its particles clamped there) samples
    nothing, so 1 log-unit is enough for it, and the scan also covers a 4 x 4 km square around
    its best particle (its epicentre can sit beside the basin below). With a likelihood closer
    to least squares (``LikelihoodConfig.spread`` 4) a synthetic event 1.7 km deep under
    stations up to 2 km high ended on the wall only 2.8 log-units below its true depth.

    Returns
    -------
    particles
        The particles, moved where the scan found a better mode.
    rescued
        ``(n_events,)`` bool: events whose particles restarted.
    """
    n_events, n_particles, _ = particles.shape
    # one box per event, whether the bounds came per event or shared
    lower, upper = lower.expand(n_events, -1, -1), upper.expand(n_events, -1, -1)
    with torch.no_grad():
        lp = log_prob(particles)
        best = particles[torch.arange(n_events), lp.argmax(dim=1)]
        frac = torch.linspace(0.0, 1.0, _DEPTH_SCAN, dtype=particles.dtype,
                              device=particles.device)
        scan = best[:, None, :].repeat(1, _DEPTH_SCAN, 1)
        scan[..., 2] = lower[..., 2] + frac[None, :] * (upper[..., 2] - lower[..., 2])
        lp_scan = log_prob(scan)
        gain = lp_scan.max(dim=1).values - lp.max(dim=1).values
        start = scan[torch.arange(n_events), lp_scan.argmax(dim=1)]
        # most of the cloud flattened on the top wall (clamped there), not a posterior that
        # merely reaches it: a lower bar, and a square scan around it, as the vertical through
        # an epicentre beside the true one can miss the narrow basin below
        on_wall = ((particles[..., 2] <= lower[..., 2] + 1e-6).double().mean(dim=1)
                   >= _WALL_SHARE) & (gain <= _RESCUE_GAIN)
        bar = torch.where(on_wall, torch.full_like(gain, _WALL_RESCUE_GAIN),
                          torch.full_like(gain, _RESCUE_GAIN))
        for k in torch.nonzero(on_wall).flatten().tolist():
            wide = torch.minimum(torch.maximum(_wall_scan(scan[k], particles.dtype), lower[k]),
                                 upper[k])
            of_k = log_prob_of(torch.tensor([k], device=particles.device))
            # in slices of n_particles points: no more memory than an epoch, for any event size
            lp_wide = torch.cat([of_k(wide[None, i:i + n_particles])[0]
                                 for i in range(0, wide.shape[0], n_particles)])
            if float(lp_wide.max() - lp[k].max()) > float(gain[k]):
                gain[k] = lp_wide.max() - lp[k].max()
                start[k] = wide[lp_wide.argmax()]
        rescued = (gain > bar).cpu()
    if not bool(rescued.any()):
        return particles, rescued.numpy()
    moved = _restart_around(start, rescued, particles, lower, upper, svgd, event_ids,
                            log_prob_of)
    for eid, gained in zip(np.asarray(event_ids)[rescued.numpy()], gain.cpu()[rescued].tolist()):
        logger.info("event %s: particles stranded in depth, %.1f log-units below the depth "
                    "scan's best point; restarted there", eid, gained)
    return moved, rescued.numpy()


def _rescue_ungathered(log_prob, log_prob_of, particles: torch.Tensor, lower: torch.Tensor,
                       upper: torch.Tensor, svgd: SVGDConfig, event_ids: Sequence[str],
                       min_fraction: float) -> tuple[torch.Tensor, np.ndarray]:
    """Gather clouds most of whose particles stopped far below their best one.

    A particle more than :data:`~obspy_hyposvi.locate.posterior.PLACED_LOG_PROB` below the
    best carries no posterior mass; where fewer than ``min_fraction`` of an event's particles
    are within that of its best, the rest sit on ridges or walls of the likelihood (shallow
    synthetic events 1-3 km deep: 90 % of the particles on the top wall, 30-40 log-units down,
    while the other 10 % sampled the true basin) and the summary would rest on a handful of
    particles. Those events restart every particle around their best one and run half the
    epochs again, unannealed, at a smaller step (as :func:`_rescue_stranded_depths`); the
    summary then judges the new cloud.

    Returns
    -------
    particles
        The particles, gathered where needed.
    rescued
        ``(n_events,)`` bool: events whose particles restarted.
    """
    n_events = particles.shape[0]
    lower, upper = lower.expand(n_events, -1, -1), upper.expand(n_events, -1, -1)
    with torch.no_grad():
        lp = log_prob(particles)
        top = lp.max(dim=1, keepdim=True).values
        placed = (lp >= top - PLACED_LOG_PROB).double().mean(dim=1)
        rescued = (placed < min_fraction).cpu()
        start = particles[torch.arange(n_events), lp.argmax(dim=1)]
    if not bool(rescued.any()):
        return particles, rescued.numpy()
    moved = _restart_around(start, rescued, particles, lower, upper, svgd, event_ids,
                            log_prob_of)
    for eid, share in zip(np.asarray(event_ids)[rescued.numpy()],
                          placed.cpu()[rescued].tolist()):
        logger.info("event %s: %.0f%% of the particles reached the main mode; all restarted "
                    "around the best one", eid, 100 * share)
    return moved, rescued.numpy()


def _restart_around(start: torch.Tensor, rescued: torch.Tensor, particles: torch.Tensor,
                    lower: torch.Tensor, upper: torch.Tensor, svgd: SVGDConfig,
                    event_ids: Sequence[str], log_prob_of) -> torch.Tensor:
    """The particles, those of the ``rescued`` events restarted 0.5 km around ``start``
    (``(n_events, 3)``, km) and moved by half the epochs, unannealed, at a step <= 0.5 km."""
    n_particles = particles.shape[1]
    jitter = []
    for eid in event_ids:  # per-event streams: a result never depends on its batch
        gen = torch.Generator(device="cpu").manual_seed(_event_seed(svgd.seed + 1, eid))
        jitter.append(torch.randn(n_particles, 3, generator=gen, dtype=torch.float64))
    x0 = start[:, None, :] + 0.5 * torch.stack(jitter).to(particles)  # 0.5 km around it
    x0 = torch.minimum(torch.maximum(x0, lower), upper)
    again = dataclasses.replace(svgd, n_epochs=max(svgd.n_epochs // 2, 1),
                                learning_rate=min(svgd.learning_rate, 0.5),
                                final_learning_rate=min(svgd.final_learning_rate, 0.5))
    # only the stranded events run again (a sub-batch: the others cost nothing)
    idx = torch.nonzero(rescued.to(particles.device)).flatten()
    moved_sub, _ = run_svgd(log_prob_of(idx), x0[idx], again, lower=lower[idx],
                            upper=upper[idx])
    moved = particles.clone()
    moved[idx] = moved_sub
    return moved


def _summarise(obs, particles, log_prob, t0_particles, t0_var, post, kde, tt, takeoff,
               error_models, likelihood, summary, info, box, excluded=None, regions=None):
    """One event's result from its posterior summary ``post`` (:func:`summarise_posteriors`),
    kernel-density peak and bandwidth ``kde``, the travel times ``tt`` and take-off angles
    ``takeoff`` of its picks at the hypocentre (:func:`_times_and_takeoff`) and its
    ``(ellipsoid, horizontal ellipse)`` (None: computed here)."""
    notes = []
    if post.placed_fraction < summary.min_placed_fraction:
        notes.append(f"particles did not gather: {post.placed_fraction:.0%} of them reach the "
                     f"posterior's main mode (at least {summary.min_placed_fraction:.0%} expected)")
    hypo, cov = post.hypocentre_km, post.covariance_km2
    sigma = total_sigma(tt, obs, error_models)
    used = obs.used
    weight = used / sigma**2
    # origin time at the hypocentre: weighted mean residual of the used picks (the Gaussian
    # estimate given the position); its variance adds the spread over the posterior's particles
    t0 = float(np.sum(weight * (obs.arrival_s - tt)) / np.sum(weight))
    placed = post.placed_mask
    spread = np.mean((t0_particles[placed] - t0) ** 2) if placed.any() else 0.0
    t0_sigma = float(np.sqrt(spread + np.mean(t0_var[placed] if placed.any() else t0_var)))
    residual = obs.arrival_s - (t0 + tt)
    excluded = excluded or {}
    if excluded:  # no prediction where the models do not reach; an absurd time has none either
        out = np.array(sorted(excluded))
        residual[out], tt[out], takeoff[out] = np.nan, np.nan, np.nan
    n_used = int(used.sum())
    normalised_rms = float(np.sqrt(np.mean((residual[used] / sigma[used]) ** 2)))
    level = summary.confidence_level
    if not np.all(np.isfinite(cov)):
        raise AssertionError("the summarised particles always number more than 3")
    notes += _checks(hypo, post, box, normalised_rms, obs, summary)
    warnings = _pressing(particles[post.placed_mask], box)
    kde_mode, bandwidth = kde
    ellipsoid, horizontal = regions or (confidence_ellipsoid(cov, level),
                                        horizontal_ellipse(cov, level))
    quality = "; ".join(notes)
    return LocationResult(
        event_id=obs.event_id, hypocentre_xyz_km=hypo, covariance_km2=cov, origin_time_s=t0,
        origin_time_uncertainty_s=t0_sigma, ellipsoid=ellipsoid,
        horizontal_uncertainty_km=horizontal, confidence_level=level, travel_time_s=tt,
        residual_s=residual, weight=used.astype(float), takeoff_deg=takeoff,
        particles_xyz_km=particles, cluster_mask=post.mode_mask, sigma_s=sigma,
        map_xyz_km=post.best_particle_km, kde_mode_xyz_km=kde_mode,
        pick_notes={int(i): why for i, why in excluded.items()},
        placed_mask=post.placed_mask, converged=not quality, quality_note=quality,
        mode_share=float(post.mode_share), warnings=tuple(warnings),
        # per particle, for the posterior samples file (bridge.samples)
        particle_log_prob=np.asarray(log_prob, dtype=float),
        particle_origin_time_s=np.asarray(t0_particles, dtype=float),
        particle_mode_label=post.mode_labels,
        extra={"n_particles": int(len(particles)), "n_epochs": int(info["n_epochs"]),
               "cluster_fraction": float(post.mode_mask.mean()),
               "n_modes": post.n_modes,
               "cluster_eps_km": post.eps_km,
               "placed_fraction": post.placed_fraction,
               "normalised_rms": normalised_rms, "n_used_picks": n_used,
               "hypocentre_estimator": "posterior mean of the dominant mode",
               "kde_bandwidth_km": bandwidth, "likelihood": likelihood.kind,
               "edt_power": str(likelihood.power), "edt_spread": likelihood.spread})


def total_sigma(tt: np.ndarray, obs: Observations,
                error_models: Sequence[ErrorModel]) -> np.ndarray:
    """Total standard deviation of each pick at the hypocentre, s (eq. 13-14)."""
    terms = np.array([[m.fraction, m.min_s, m.max_s] for m in error_models])[obs.phase_idx]
    # np.clip's values, without its overhead (a third of this function's time)
    model = np.minimum(np.maximum(terms[:, 0] * tt, terms[:, 1]), terms[:, 2])
    return np.sqrt(obs.sigma_s**2 + model**2)


#: Share of a posterior's sampled particles within :data:`_WALL_BAND` of a search-box limit
#: above which the limit is said to cut the posterior.
_PRESS_SHARE = 0.1
#: Band along each limit of the search box, as a share of the box's span on that axis.
_WALL_BAND = 0.02


def _pressing(placed_km: np.ndarray, box: tuple[np.ndarray, np.ndarray]) -> list[str]:
    """Warnings for limits of the search box that cut the sampled posterior (the location
    stands; its uncertainty on that side is truncated by the limit, e.g. the travel-time
    models' depth range)."""
    if len(placed_km) == 0:
        return []
    lower, upper = (np.asarray(v, dtype=float) for v in box)
    band = _WALL_BAND * (upper - lower)
    out = []
    names = ("west", "south", "top (shallowest depth)", "east", "north", "bottom (deepest depth)")
    shares = np.concatenate([np.mean(placed_km - lower < band, axis=0),
                             np.mean(upper - placed_km < band, axis=0)])
    for name, share, limit in zip(names, shares, np.concatenate([lower, upper])):
        if share >= _PRESS_SHARE:
            out.append(f"{share:.0%} of the sampled particles press against the search box's "
                       f"{name} limit ({limit:.1f} km): the posterior is cut there; widen the "
                       "box (--margin-km, --depth-km) or use models that reach further")
    return out


def _checks(hypo: np.ndarray, post, box: tuple[np.ndarray, np.ndarray], normalised_rms: float,
            obs: Observations, summary: SummaryConfig) -> list[str]:
    """Reasons to distrust a location (an empty list when it passes every check)."""
    notes = []
    if normalised_rms > summary.max_normalised_rms:
        notes.append(f"residuals {normalised_rms:.1f} times the pick errors (RMS of "
                     f"residual / sigma; at most {summary.max_normalised_rms:g} expected): the "
                     "picks are not explained by one source in this model")
    lower, upper = (np.asarray(v, dtype=float) for v in box)
    # three coordinates: Python floats, the same arithmetic without numpy's per-call overhead
    wall = [min(h - lo, hi - h) < 0.01 * (hi - lo)
            for h, lo, hi in zip(np.asarray(hypo, dtype=float).tolist(), lower.tolist(),
                                 upper.tolist())]
    if any(wall):
        names = [n for n, w in zip(("east-west", "north-south", "depth"), wall) if w]
        notes.append(f"solution on the search box's {' and '.join(names)} limit "
                     f"(box {lower.round(1).tolist()} .. {upper.round(1).tolist()} km)")
    surface = float(obs.station_xyz_km[:, 2].min())
    if hypo[2] < surface - 0.5:
        notes.append(f"solution {-hypo[2]:.1f} km above sea level, above the highest "
                     f"station ({-surface:.1f} km)")
    if obs.n_stations < 3:
        notes.append(f"{obs.n_stations} stations cannot resolve a hypocentre")
    return notes


def _times_and_takeoff(models, hypo_km: np.ndarray, picks: _PaddedPicks, device,
                       dtype, takeoff: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Travel time (s) and take-off angle (deg from downward vertical) of every pick of a batch.

    One forward and one backward pass of each model for the whole batch, on the picks only
    (not the padding); with ``takeoff=False`` the forward pass only, the angles NaN.

    Parameters
    ----------
    models
        One travel-time model per phase index.
    hypo_km
        ``(n_events, 3)`` each event's hypocentre, km.
    picks
        The batch's padded picks (:func:`_pad_by_phase`).

    Returns
    -------
    times, takeoff
        ``(n_events, n_slots)`` in the slot layout of ``picks`` (NaN in the padding).
    """
    widths = [0 if r is None else r.shape[1] for r in picks.receivers_xyz_km]
    starts = np.cumsum([0] + widths)
    real = np.zeros((len(hypo_km), starts[-1]), dtype=bool)
    for b, slot in enumerate(picks.pick_slot):
        real[b, slot[slot >= 0]] = True
    hypo = torch.as_tensor(hypo_km, dtype=dtype, device=device)
    parts = []
    with torch.enable_grad() if takeoff else torch.no_grad():
        for k, (model, receivers) in enumerate(zip(models, picks.receivers_xyz_km)):
            event, column = np.nonzero(real[:, starts[k]:starts[k + 1]])
            if not event.size:
                continue
            index = (torch.as_tensor(event, device=device), torch.as_tensor(column, device=device))
            # a source per pick: the gradient of the sum is each pick's own gradient
            src = hypo[index[0]].requires_grad_(takeoff)
            parts.append((event, starts[k] + column, src,
                          model.travel_time_torch(src, receivers[index])))
    times = np.full(real.shape, np.nan)
    for event, slot, _, t in parts:
        times[event, slot] = t.detach().double().cpu().numpy()
    if not takeoff:
        return times, np.full(real.shape, np.nan)
    grads = (torch.autograd.grad(sum(t.sum() for *_, t in parts), [p[2] for p in parts])
             if parts else [])
    grad = np.full(real.shape + (3,), np.nan)
    for (event, slot, *_), g in zip(parts, grads):
        grad[event, slot] = g.double().cpu().numpy()
    # the ray leaves the source along -grad_s T; z is down, so cos(angle) = its z component
    direction = -grad / np.maximum(np.linalg.norm(grad, axis=-1, keepdims=True), 1e-12)
    takeoff = np.degrees(np.arccos(np.clip(direction[..., 2], -1.0, 1.0)))
    return times, takeoff
