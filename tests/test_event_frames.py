"""Each event is located in its own frame (issue 10): adding an Alaska event to a Southern
California catalogue must not move the California event's frame, observations or origin."""

from __future__ import annotations

import numpy as np
import pytest
from obspy import Catalog, Inventory

from obspy_hyposvi.bridge.origins import NAMESPACE
from obspy_hyposvi.bridge.picks import event_projections, observations_from_event, projection_for
from obspy_hyposvi.bridge.synthetic import synthetic_catalog
from obspy_hyposvi.locate.likelihood import ErrorModel, LikelihoodConfig
from obspy_hyposvi.locate.result import LocationResult
from obspy_hyposvi.locate.svgd import SVGDConfig
from obspy_hyposvi.locator import Locator
from obspy_hyposvi.plot import plot_catalog

#: Tiny SVGD: the frames are under test, not the posterior.
SVGD = SVGDConfig(n_particles=16, n_epochs=8)
#: A fixed error model: an estimated one would depend on the whole catalogue.
LIKELIHOOD = LikelihoodConfig(error_model=ErrorModel(fraction=0.0, min_s=0.05, max_s=0.05))


def _region(tiny_models, seed: int, centre: tuple[float, float], network: str):
    catalog, inventory, _ = synthetic_catalog(1, 8, seed=seed, center_lonlat=centre,
                                              aperture_km=40.0, p_model=tiny_models[0],
                                              s_model=tiny_models[1], network_code=network)
    return catalog, inventory


@pytest.fixture
def socal(tiny_models):
    return _region(tiny_models, 1, (-116.5, 33.5), "SC")


@pytest.fixture
def alaska(tiny_models):
    return _region(tiny_models, 2, (-148.5, 61.3), "AK")


def _together(*regions) -> tuple[Catalog, Inventory]:
    catalog = Catalog(events=[e for cat, _ in regions for e in cat])
    inventory = Inventory(networks=[n for _, inv in regions for n in inv], source="test")
    return catalog, inventory


def test_a_far_event_leaves_the_frame_and_observations_alone(socal, alaska):
    catalog, inventory = _together(socal, alaska)
    frames = event_projections(catalog, inventory)
    assert [f.crs for f in frames] == ["EPSG:32611", "EPSG:32606"]
    assert frames[0].crs == projection_for(socal[0], socal[1]).crs
    # the old catalogue-wide frame moved the California event out of its zone
    assert projection_for(catalog, inventory).crs != "EPSG:32611"
    alone, _ = observations_from_event(socal[0][0], socal[1], event_projections(*socal)[0])
    mixed, _ = observations_from_event(catalog[0], inventory, frames[0])
    np.testing.assert_array_equal(alone.station_xyz_km, mixed.station_xyz_km)


def test_an_event_without_placeable_stations_gets_no_frame(socal, alaska):
    catalog, inventory = _together(socal, alaska)
    frames = event_projections(catalog, socal[1])  # the Alaska stations are unknown
    assert frames[0].crs == "EPSG:32611" and frames[1] is None


def test_same_origin_alone_and_beside_a_far_event(tiny_models, socal, alaska, tmp_path):
    locator = Locator(*tiny_models, svgd=SVGD, likelihood=LIKELIHOOD)
    alone = locator.run(*socal)
    mixed = locator.run(*_together(socal, alaska))
    assert [p.crs for p in mixed.projections] == ["EPSG:32611", "EPSG:32606"]
    assert mixed.projection.crs == "EPSG:32611"  # the first event's, as before
    a, b = alone.results[0], mixed.results[0]
    assert isinstance(a, LocationResult) and isinstance(b, LocationResult)
    np.testing.assert_allclose(a.hypocentre_xyz_km, b.hypocentre_xyz_km, rtol=0, atol=1e-3)
    first, second = (r.catalog[0].preferred_origin() for r in (alone, mixed))
    assert first.latitude == pytest.approx(second.latitude, abs=1e-5)
    assert first.longitude == pytest.approx(second.longitude, abs=1e-5)
    assert first.depth == pytest.approx(second.depth, abs=1.0)  # m
    # each origin states its frame
    frames = [e.preferred_origin().extra["projection"] for e in mixed.catalog]
    assert [f["value"] for f in frames] == ["EPSG:32611", "EPSG:32606"]
    assert all(f["namespace"] == NAMESPACE for f in frames)
    # the Alaska origin is in Alaska: its frame mapped it back
    assert mixed.catalog[1].preferred_origin().latitude == pytest.approx(61.3, abs=0.5)
    out = plot_catalog(mixed.results, mixed.observations, mixed.projections,
                       tmp_path / "catalog.png")
    assert out.stat().st_size > 0
