"""The public entry point: locate an ObsPy Catalog against an Inventory.

Ties the ObsPy bridge (picks in, origins out) to the compute layer (batched SVGD). The input
catalogue is never modified: the result is a copy in which every located event gains one new,
preferred :class:`~obspy.core.event.Origin`; events that cannot be located are kept unchanged
and listed, with the reason, in the :class:`LocateReport`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from obspy import Catalog, Inventory

from . import __version__
from .bridge._objects import copy_event, paused_gc
from .bridge.origins import located_event
from .bridge.provenance import DEFAULT_AGENCY, check_agency, check_author
from .bridge.picks import (
    PickConfig,
    Skipped,
    StationLookup,
    TooFewUsablePicksError,
    event_projections,
    observations_from_event,
)
from .eikonet.layered import (
    DEFAULT_DEPTH_KM,
    DEFAULT_MAX_OFFSET_KM,
    exact_counterpart,
    layered_model,
    velocity_model_1d,
)
from .eikonet.model import TravelTimeModel, load_model
from .eikonet.pairing import check_model_pair, model_sources
from .errors import HypoSVIError, InputError
from .geo import Projection
from .locate.likelihood import LikelihoodConfig
from .eikonet.table import TableCache
from .locate.catalogue import (
    CatalogueRun,
    ErrorModelEstimate,
    EstimationConfig,
    locate_catalogue,
)
from .locate.engine import LocationFailure, SearchConfig
from .locate.observations import Observations
from .locate.result import LocationResult
from .locate.summary import SummaryConfig
from .locate.svgd import SVGDConfig

__all__ = ["Locator", "LocateReport", "PreparedCatalogue"]

logger = logging.getLogger(__name__)


@dataclass
class LocateReport:
    """Everything a location run produced.

    Attributes
    ----------
    catalog
        Copy of the input with the new origins.
    results
        Per input event, a :class:`LocationResult` or a :class:`LocationFailure`.
    observations
        Per input event, the :class:`Observations` used (None where the picks were unusable).
    projection
        Frame of the first event that has one (see ``projections``); kept for code written
        when one frame served the whole catalogue.
    projections
        Per input event, the local frame (:class:`~obspy_hyposvi.geo.Projection`) of its
        observations and result, None where none of its stations could be placed. Each event
        has its own frame, so that one event never moves another's (see
        :func:`~obspy_hyposvi.bridge.picks.event_projections`).
    travel_times
        The P and S travel-time models located on, by name (``"socal-1d (P, exact)"``: exact
        first arrivals of a layered model; a checkpoint's name: its network).
    skipped_picks
        Every pick left out of the observations (:class:`~obspy_hyposvi.bridge.picks.Skipped`,
        each naming its event), over all events, those not located included; in located
        events each appears as a weight-0 arrival.
    """

    catalog: Catalog
    results: list
    observations: list
    projection: object
    skipped_picks: list = field(default_factory=list)
    error_models: tuple[ErrorModelEstimate, ...] = ()
    station_terms: dict = field(default_factory=dict)
    n_passes: int = 0
    station_term_counts: dict = field(default_factory=dict)
    projections: list = field(default_factory=list)
    travel_times: tuple[str, ...] = ()

    @property
    def n_located(self) -> int:
        """Number of events that gained an origin."""
        return sum(isinstance(r, LocationResult) for r in self.results)

    @property
    def n_failed(self) -> int:
        """Number of events left without a new origin."""
        return len(self.results) - self.n_located

    @property
    def failures(self) -> list[tuple[str, str]]:
        """``(event_id, reason)`` of every event not located."""
        return [(r.event_id, r.reason) for r in self.results if isinstance(r, LocationFailure)]

    def skipped_by_event(self) -> dict[str, list[Skipped]]:
        """The records of :attr:`skipped_picks` grouped by event id, in input order."""
        out: dict[str, list[Skipped]] = {}
        for record in self.skipped_picks:
            out.setdefault(record.event_id, []).append(record)
        return out

    def summary_lines(self) -> list[str]:
        """A short human-readable summary of the run.

        Each event not located is listed with its reason and, below it, every pick left out
        of it and why; picks left out of located events are counted (each is a weight-0
        arrival of the new origin, its reason in a comment).
        """
        lines = [f"{len(self.results)} events: {self.n_located} located, "
                 f"{self.n_failed} not located"]
        if self.travel_times:
            lines.append("  travel times: " + ", ".join(self.travel_times))
        if self.error_models:
            lines.append(f"  error model ({self.n_passes} passes): "
                         + "; ".join(e.describe() for e in self.error_models))
        if self.station_terms:
            lines.append(f"  station terms applied: {len(self.station_terms)} station-phases")
        by_event = self.skipped_by_event()
        for eid, reason in self.failures:
            lines.append(f"  not located: {eid}: {reason}")
            lines += [f"    pick {r.pick_id} ({r.station or 'no station'}) left out: {r.reason}"
                      for r in by_event.get(eid, [])]
        located = [r for r in self.results if isinstance(r, LocationResult)]
        lines += [f"  unconverged (origin rejected): {r.event_id}: {r.quality_note}"
                  for r in located if not r.converged]
        outliers = [(r.event_id, len(r.pick_notes)) for r in located if r.pick_notes]
        if outliers:
            lines.append(f"  outlier picks left out: {sum(n for _, n in outliers)} in "
                         f"{len(outliers)} events (weight-0 arrivals, residual in the comment)")
            lines += [f"    {eid}: {n}" for eid, n in outliers]
        lines += [f"  posterior cut by the search box: {r.event_id}: {w}" for r in located
                  if r.converged for w in r.warnings]
        multimodal = [r for r in located if r.mode_share < 0.5]
        lines += [f"  several modes: {r.event_id}: the main one holds "
                  f"{r.mode_share:.0%} of the particles; the uncertainty covers all"
                  for r in multimodal]
        located_ids = {r.event_id for r in located}
        n_in_located = sum(len(by_event.get(eid, [])) for eid in located_ids)
        if n_in_located:
            lines.append(f"  {n_in_located} picks left out of located events (weight-0 "
                         "arrivals, the reason in each one's comment)")
        return lines


@dataclass
class PreparedCatalogue:
    """A catalogue read into observations, before any SVGD (see :meth:`Locator.prepare`).

    Attributes
    ----------
    projections
        Per input event, its local frame (None where none of its stations can be placed).
    observations
        Per input event, its observations, or None where its picks were unusable.
    failures
        ``{catalogue index: LocationFailure}`` of the events with unusable picks.
    skipped_per_event
        Per input event, the picks left out of it.
    """

    projections: list[Projection | None]
    observations: list[Observations | None]
    failures: dict[int, LocationFailure]
    skipped_per_event: list[list[Skipped]]

    @property
    def usable(self) -> list[int]:
        """Catalogue indices of the events that have observations, in order."""
        return [i for i, obs in enumerate(self.observations) if obs is not None]

    @property
    def projection(self) -> Projection | None:
        """The first event's frame that exists (the report's backward-compatible one)."""
        return next((p for p in self.projections if p is not None), None)


class Locator:
    """Probabilistic locator: SVGD over hypocentre particles with EikoNet travel times.

    Parameters
    ----------
    p_model, s_model
        Travel-time models of the two phases.
    device
        Torch device for the particles.
    svgd, likelihood, summary, search, picks, estimation
        Settings (see each class). With the default ``likelihood`` the error model is
        estimated from the catalogue (:mod:`~obspy_hyposvi.locate.catalogue`).
    station_terms
        ``{(station_id, phase): delay_s}`` subtracted from the arrival times (see
        :func:`~obspy_hyposvi.bridge.station_terms.read_station_terms`).
    estimate_station_terms
        Estimate station terms from the catalogue (on top of ``station_terms``); the result's
        :attr:`LocateReport.station_terms` holds them.
    force
        Accept P and S models trained from different velocity models (see
        :func:`~obspy_hyposvi.eikonet.pairing.check_model_pair`); refused by default.
    agency_id, author
        ``creation_info.agency_id`` and ``author`` of the origins written (default
        ``obspy_hyposvi``; see :mod:`~obspy_hyposvi.bridge.provenance`).

    Examples
    --------
    >>> locator = Locator.from_model("socal-1d")
    >>> locator.p_model.phase, locator.s_model.phase
    ('P', 'S')
    """

    def __init__(self, p_model: TravelTimeModel, s_model: TravelTimeModel, *,
                 device: str = "cpu", svgd: SVGDConfig = SVGDConfig(),
                 likelihood: LikelihoodConfig = LikelihoodConfig(),
                 summary: SummaryConfig = SummaryConfig(), search: SearchConfig = SearchConfig(),
                 picks: PickConfig | None = None,
                 estimation: EstimationConfig = EstimationConfig(),
                 station_terms: dict | None = None, estimate_station_terms: bool = False,
                 force: bool = False, agency_id: str = DEFAULT_AGENCY,
                 author: str = DEFAULT_AGENCY) -> None:
        check_model_pair(p_model, s_model, force=force)  # same velocity model, unless forced
        # checked now: a bad id must fail before the run, not when the origins are written
        self.agency_id, self.author = check_agency(agency_id), check_author(author)
        self.p_model, self.s_model = p_model, s_model
        self.device = device
        self.svgd, self.likelihood, self.summary, self.search = svgd, likelihood, summary, search
        self.estimation = estimation
        self.station_terms = dict(station_terms or {})
        self.estimate_station_terms = estimate_station_terms
        self.picks = picks if picks is not None else PickConfig()
        #: travel-time tables of the 1D models, built by the first run that needs them and
        #: reused by its later passes and later runs (``search.travel_times="table"``)
        self.tables = TableCache(search.table_spacing_km)

    @classmethod
    def from_model(cls, name_or_path: str = "socal-1d", *, device: str = "cpu",
                   exact_layered: bool = True, **settings) -> "Locator":
        """Build a locator from a bundled/user model name (or a path prefix ``.../NAME``).

        ``name_or_path`` is resolved as ``NAME-P.pt`` and ``NAME-S.pt`` (see
        :func:`~obspy_hyposvi.eikonet.pairing.model_sources`); ``settings`` (``force``
        included) are passed on to :class:`Locator`.

        Networks of a layered 1D velocity model (the bundled socal-1d included) only
        approximate that model's first arrivals, which have a closed form: by default
        (``exact_layered=True``) the locator uses those exact times over the networks' domain
        (:func:`~obspy_hyposvi.eikonet.layered.exact_counterpart`), and the networks where
        ``exact_layered=False``. 3D networks and velocity gradients are always used as they are.

        Examples
        --------
        >>> Locator.from_model("socal-1d").p_model.name
        'socal-1d (P, exact)'
        >>> Locator.from_model("socal-1d", exact_layered=False).p_model.name
        'socal-1d (P)'
        """
        p_source, s_source = model_sources(name_or_path)  # a bare file name works too
        p_model = load_model(p_source, "P", device=device)
        s_model = load_model(s_source, "S", device=device)
        if exact_layered:
            if not settings.get("force", False):  # a mixed pair is refused as trained
                check_model_pair(p_model, s_model)
            p_model = exact_counterpart(p_model) or p_model
            s_model = exact_counterpart(s_model) or s_model
        return cls(p_model, s_model, device=device, **settings)

    @classmethod
    def from_velocity_model(cls, velocity, *, max_offset_km: float = DEFAULT_MAX_OFFSET_KM,
                            depth_km: tuple[float, float] = DEFAULT_DEPTH_KM,
                            device: str = "cpu", vp_vs_ratio: float | None = None,
                            **settings) -> "Locator":
        """Build a locator on the exact first arrivals of a 1D layered velocity model (no
        network to train; :func:`~obspy_hyposvi.eikonet.layered.layered_model`).

        ``velocity`` is a :class:`~obspy_hyposvi.velocity.VelocityModel1D` or the path of a
        velocity-model file (:func:`~obspy_hyposvi.velocity.read_velocity_model`: NonLinLoc
        ``LAYER`` lines, CSV, HypoInverse CRH with ``vp_vs_ratio``, ...); ``max_offset_km``
        and ``depth_km`` bound the domain (the search box and the domain checks read it);
        ``settings`` are passed on to :class:`Locator`.

        Examples
        --------
        >>> from obspy_hyposvi.velocity import socal_1d
        >>> locator = Locator.from_velocity_model(socal_1d())
        >>> locator.p_model.name
        'socal-1d (P, exact)'
        """
        velocity = velocity_model_1d(velocity, vp_vs_ratio=vp_vs_ratio)
        p_model, s_model = (layered_model(velocity, phase, max_offset_km=max_offset_km,
                                          depth_km=depth_km, device=device)
                            for phase in ("P", "S"))
        return cls(p_model, s_model, device=device, **settings)

    @property
    def model_info(self) -> dict:
        """Provenance written into each origin."""
        meta = self.p_model.metadata
        return {"name": meta["velocity_model"].get("name", self.p_model.name),
                "velocity_sha256": meta["velocity_model"].get("sha256", ""),
                "p_model": self.p_model.name, "s_model": self.s_model.name}

    @property
    def models(self) -> tuple[TravelTimeModel, TravelTimeModel]:
        """``(p_model, s_model)``, in phase-index order."""
        return self.p_model, self.s_model

    def run(self, catalog: Catalog, inventory: Inventory, *,
            progress: Callable[[int], None] | None = None) -> LocateReport:
        """Locate every event of ``catalog``; see :class:`LocateReport`.

        ``progress`` is called with the number of events finished so far.
        """
        prepared = self.prepare(catalog, inventory)
        n_early = len(prepared.failures)

        def _progress(done: int) -> None:
            if progress is not None:
                progress(n_early + done)

        return self.report(catalog, prepared, self.run_passes(prepared, _progress))

    def run_passes(self, prepared: PreparedCatalogue,
                   progress: Callable[[int], None] | None = None,
                   locate_pass=None) -> CatalogueRun:
        """The catalogue passes over the usable events of ``prepared`` (see
        :func:`~obspy_hyposvi.locate.catalogue.locate_catalogue`): the second of the three
        steps of :meth:`run`, between :meth:`prepare` and :meth:`report`.

        ``progress`` is called with the number of usable events finished in the current
        pass; ``locate_pass`` replaces the serial SVGD of one pass (the seam
        :mod:`obspy_hyposvi.distributed` uses to spread it over Dask workers).
        """
        from .locate.engine import locate_ready

        if locate_pass is None:
            def locate_pass(events, svgd, likelihood, final=True):
                # each pass counts up to every usable event: those not in it (screened out,
                # or a pass over the few events whose outliers changed) count as done
                offset = len(prepared.usable) - len(events)

                def done(n: int) -> None:
                    if progress is not None:
                        progress(offset + n)

                return locate_ready(events, self.models, svgd=svgd, likelihood=likelihood,
                                    summary=self.summary, search=self.search,
                                    device=self.device, progress=done, tables=self.tables,
                                    light=not final)
        return locate_catalogue([prepared.observations[i] for i in prepared.usable],
                                self.models, svgd=self.svgd, likelihood=self.likelihood,
                                summary=self.summary, search=self.search,
                                estimation=self.estimation, station_terms=self.station_terms,
                                estimate_terms=self.estimate_station_terms,
                                device=self.device, locate_pass=locate_pass,
                                progress=lambda line: logger.info("%s", line))

    def prepare(self, catalog: Catalog, inventory: Inventory) -> PreparedCatalogue:
        """Check the input, choose each event's frame, turn its picks into observations: the
        first of the three steps of :meth:`run`.

        Shared by :meth:`run` and :mod:`obspy_hyposvi.distributed`, so that both see the same
        observations and report the same failures and skipped picks.
        """
        if not isinstance(catalog, Catalog):
            raise InputError(f"expected an obspy Catalog, got {type(catalog).__name__}")
        if not isinstance(inventory, Inventory):
            raise InputError(f"expected an obspy Inventory, got {type(inventory).__name__}")
        if len(catalog) == 0:
            raise InputError("the catalogue is empty: nothing to locate")
        # one station look-up for the whole catalogue: each sensor is found once per epoch
        stations = StationLookup(inventory)
        projections = event_projections(catalog, inventory, stations=stations)
        # an event none of whose stations can be placed has no frame of its own; any frame
        # serves to list why each of its picks is left out (none is projected)
        stand_in = next(p for p in projections if p is not None)
        observations: list[Observations | None] = []
        failures: dict[int, LocationFailure] = {}
        skipped_per_event: list[list[Skipped]] = []
        warned: set[str] = set()
        for i, event in enumerate(catalog):
            event_id = str(event.resource_id)
            try:
                obs, skipped = observations_from_event(event, inventory,
                                                       projections[i] or stand_in, self.picks,
                                                       min_picks=self.search.min_picks,
                                                       warned_stations=warned, stations=stations)
            except HypoSVIError as exc:
                logger.warning("event %s not located: %s", event_id, exc)
                failures[i] = LocationFailure(event_id, str(exc), type(exc).__name__)
                # an event with too few usable picks still reports why each one was dropped
                obs = None
                skipped = list(exc.skipped) if isinstance(exc, TooFewUsablePicksError) else []
            observations.append(obs)
            skipped_per_event.append(skipped)
        return PreparedCatalogue(projections=projections, observations=observations,
                                 failures=failures, skipped_per_event=skipped_per_event)

    def report(self, catalog: Catalog, prepared: PreparedCatalogue,
               run: CatalogueRun) -> LocateReport:
        """The output catalogue and report from the catalogue run over the usable events: the
        last of the three steps of :meth:`run`.

        ``run.results`` and ``run.observations`` follow ``prepared.usable``; the input
        catalogue is only read.
        """
        located = dict(zip(prepared.usable, run.results))
        final_obs = dict(zip(prepared.usable, run.observations))
        results: list = [prepared.failures.get(i, located.get(i)) for i in range(len(catalog))]
        missing = [i for i, res in enumerate(results) if res is None]
        if missing:
            raise AssertionError(f"no result for the events at catalogue indices {missing}")
        observations = [final_obs.get(i, obs) for i, obs in enumerate(prepared.observations)]
        out = Catalog(resource_id=catalog.resource_id, description=catalog.description,
                      comments=list(catalog.comments), creation_info=catalog.creation_info)
        model_info = self.model_info
        with paused_gc():  # thousands of new objects, none cyclic: see paused_gc
            for event, res, obs, skipped, frame in zip(catalog, results, observations,
                                                       prepared.skipped_per_event,
                                                       prepared.projections):
                if isinstance(res, LocationResult):
                    # add_origin(event, origin_from_result(...)) in one pass; skipped picks
                    # get weight-0 arrivals: every pick of the event is in the origin
                    out.append(located_event(event, res, obs, frame, model_info=model_info,
                                             version=__version__, skipped=skipped,
                                             agency_id=self.agency_id, author=self.author))
                else:
                    out.append(copy_event(event))
        return LocateReport(catalog=out, results=results, observations=observations,
                            projection=prepared.projection, projections=prepared.projections,
                            skipped_picks=[s for per_event in prepared.skipped_per_event
                                           for s in per_event],
                            error_models=run.error_models, station_terms=run.station_terms,
                            n_passes=run.n_passes, station_term_counts=run.station_term_counts,
                            travel_times=(self.p_model.name, self.s_model.name))

    def locate(self, catalog: Catalog, inventory: Inventory, *,
               progress: Callable[[int], None] | None = None) -> Catalog:
        """Locate every event; returns a new catalogue (the input is left untouched)."""
        return self.run(catalog, inventory, progress=progress).catalog
