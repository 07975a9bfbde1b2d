"""The public entry point: locate an ObsPy Catalog against an Inventory.

Ties the ObsPy bridge (picks in, origins out) to the compute layer (batched SVGD). The input
catalogue is never modified: the result is a copy in which every located event gains one new,
preferred :class:`~obspy.core.event.Origin`; events that cannot be located are kept unchanged
and listed, with the reason, in the :class:`LocateReport`.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Callable

from obspy import Catalog, Inventory

from . import __version__
from .bridge.origins import add_origin, origin_from_result
from .bridge.picks import PickConfig, Skipped, observations_from_event, projection_for
from .eikonet.model import TravelTimeModel, load_model
from .errors import HypoSVIError, InputError
from .locate.likelihood import LikelihoodConfig
from .locate.locate import LocationFailure, SearchConfig, locate_events
from .locate.observations import Observations
from .locate.result import LocationResult
from .locate.summary import SummaryConfig
from .locate.svgd import SVGDConfig

__all__ = ["Locator", "LocateReport"]

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
        The local projection used.
    skipped_picks
        Every pick left out of the observations (:class:`~obspy_hyposvi.bridge.picks.Skipped`),
        over all events; in located events each appears as a weight-0 arrival.
    """

    catalog: Catalog
    results: list
    observations: list
    projection: object
    skipped_picks: list = field(default_factory=list)

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

    def summary_lines(self) -> list[str]:
        """A short human-readable summary of the run."""
        lines = [f"{len(self.results)} events: {self.n_located} located, {self.n_failed} not located"]
        lines += [f"  not located: {eid}: {reason}" for eid, reason in self.failures]
        if self.skipped_picks:
            lines.append(f"  {len(self.skipped_picks)} picks left out (see the log for each)")
        return lines


class Locator:
    """Probabilistic locator: SVGD over hypocentre particles with EikoNet travel times.

    Parameters
    ----------
    p_model, s_model
        Travel-time models of the two phases.
    device
        Torch device for the particles.
    svgd, likelihood, summary, search, picks
        Settings (see each class).

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
                 picks: PickConfig | None = None) -> None:
        self.p_model, self.s_model = p_model, s_model
        self.device = device
        self.svgd, self.likelihood, self.summary, self.search = svgd, likelihood, summary, search
        self.picks = picks if picks is not None else PickConfig(min_picks=search.min_picks)

    @classmethod
    def from_model(cls, name_or_path: str = "socal-1d", *, device: str = "cpu",
                   **settings) -> "Locator":
        """Build a locator from a bundled/user model name (or a path prefix ``.../NAME``).

        ``name_or_path`` is resolved as ``NAME-P.pt`` and ``NAME-S.pt`` (see
        :func:`~obspy_hyposvi.eikonet.model.load_model`); ``settings`` are passed on to
        :class:`Locator`.
        """
        name = str(name_or_path)
        if name.endswith(("-P.pt", "-S.pt")):
            name = name[:-5]
        p_model = load_model(name + "-P.pt" if "/" in name else name, "P", device=device)
        s_model = load_model(name + "-S.pt" if "/" in name else name, "S", device=device)
        return cls(p_model, s_model, device=device, **settings)

    @property
    def model_info(self) -> dict:
        """Provenance written into each origin."""
        meta = self.p_model.metadata
        return {"name": meta["velocity_model"].get("name", self.p_model.name),
                "velocity_sha256": meta["velocity_model"].get("sha256", ""),
                "p_model": self.p_model.name, "s_model": self.s_model.name}

    def run(self, catalog: Catalog, inventory: Inventory, *,
            progress: Callable[[int], None] | None = None) -> LocateReport:
        """Locate every event of ``catalog``; see :class:`LocateReport`."""
        if not isinstance(catalog, Catalog):
            raise InputError(f"expected an obspy Catalog, got {type(catalog).__name__}")
        if not isinstance(inventory, Inventory):
            raise InputError(f"expected an obspy Inventory, got {type(inventory).__name__}")
        if len(catalog) == 0:
            raise InputError("the catalogue is empty: nothing to locate")
        projection = projection_for(catalog, inventory)
        observations: list[Observations | None] = []
        early: dict[int, LocationFailure] = {}
        skipped_per_event: list[list[Skipped]] = []
        warned: set[str] = set()
        for i, event in enumerate(catalog):
            event_id = str(event.resource_id)
            try:
                obs, skipped = observations_from_event(event, inventory, projection, self.picks,
                                                       warned_stations=warned)
            except HypoSVIError as exc:
                logger.warning("event %s not located: %s", event_id, exc)
                early[i] = LocationFailure(event_id, str(exc), type(exc).__name__)
                obs, skipped = None, []
            observations.append(obs)
            skipped_per_event.append(skipped)
        usable = [(i, o) for i, o in enumerate(observations) if o is not None]
        n_early = len(early)

        def _progress(done: int) -> None:
            if progress is not None:
                progress(n_early + done)

        located = locate_events([o for _, o in usable], (self.p_model, self.s_model),
                                svgd=self.svgd, likelihood=self.likelihood, summary=self.summary,
                                search=self.search, device=self.device, progress=_progress)
        results: list = [None] * len(catalog)
        for i, failure in early.items():
            results[i] = failure
        for (i, _), res in zip(usable, located):
            results[i] = res
        out = Catalog(resource_id=catalog.resource_id, description=catalog.description,
                      comments=list(catalog.comments), creation_info=catalog.creation_info)
        for event, res, obs, skipped in zip(catalog, results, observations, skipped_per_event):
            if isinstance(res, LocationResult):
                # skipped picks get weight-0 arrivals: every pick of the event is in the origin
                origin = origin_from_result(res, obs, projection, model_info=self.model_info,
                                            version=__version__, skipped=skipped)
                out.append(add_origin(event, origin))
            else:
                out.append(event.copy())
        return LocateReport(catalog=out, results=results, observations=observations,
                            projection=projection,
                            skipped_picks=[s for per_event in skipped_per_event for s in per_event])

    def locate(self, catalog: Catalog, inventory: Inventory, *,
               progress: Callable[[int], None] | None = None) -> Catalog:
        """Locate every event; returns a new catalogue (the input is left untouched)."""
        with warnings.catch_warnings():
            return self.run(catalog, inventory, progress=progress).catalog
