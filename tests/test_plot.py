"""Figures in longitude and latitude: ellipses where the origin says, stations labelled with
their codes, one residual point per pick, maps that contain the event at the latitude's aspect.

Small synthetic results only: no location is run here.
"""

from __future__ import annotations

import numpy as np
import pytest

from obspy_hyposvi.geo import Projection
from obspy_hyposvi.locate.engine import LocationFailure
from obspy_hyposvi.locate.observations import Observations
from obspy_hyposvi.locate.result import LocationResult
from obspy_hyposvi.locate.summary import confidence_ellipsoid, horizontal_ellipse, sigma_scale
from obspy_hyposvi.plot import catalog_figure, event_figure, plot_catalog, plot_event

PNG_MAGIC = b"\x89PNG"
#: The ellipses are 181-point polygons through the projection: their axes come back to within
#: the projection's round trip (mm), far below any error drawn.
ELLIPSE_ATOL_KM = 1e-3
#: Aspect 1/cos(latitude) from a sphere of radius 6371 km, at the figure's centre latitude.
ASPECT_RTOL = 1e-3

#: A point near Anza, southern California, in UTM zone 11 (km).
CENTRE_KM = np.array([530.0, 3700.0, 8.0])
STATION_IDS = ["CI.AAA", "CI.BBB", "CI.CCC", "CI.DDD", "AZ.EEE"]


@pytest.fixture
def projection():
    return Projection("EPSG:32611")


def _result(centre, seed=0, event_id="ev", n_picks=4, cov=None, **fields) -> LocationResult:
    rng = np.random.default_rng(seed)
    if cov is None:
        cov = np.array([[0.3, 0.1, 0.0], [0.1, 0.2, 0.05], [0.0, 0.05, 0.9]])
    particles = np.vstack([rng.multivariate_normal(centre, cov, 60),
                           rng.uniform(-20.0, 20.0, (10, 3)) + centre])
    mask = np.r_[np.ones(60, bool), np.zeros(10, bool)]
    values = {
        "event_id": event_id, "hypocentre_xyz_km": np.asarray(centre, float), "covariance_km2": cov,
        "origin_time_s": 0.0, "origin_time_uncertainty_s": 0.05,
        "ellipsoid": confidence_ellipsoid(cov, 68.27),
        "horizontal_uncertainty_km": horizontal_ellipse(cov, 68.27), "confidence_level": 68.27,
        "travel_time_s": np.zeros(n_picks), "residual_s": np.zeros(n_picks),
        "weight": np.ones(n_picks), "takeoff_deg": np.zeros(n_picks),
        "particles_xyz_km": particles, "cluster_mask": mask, "placed_mask": mask.copy()}
    values.update(fields)
    return LocationResult(**values)


def _observations(centre=CENTRE_KM, event_id="ev", ids=True) -> Observations:
    """Five stations, a P pick at each and an S pick at the first three (8 picks)."""
    offsets = np.array([[-30.0, -20.0, -0.5], [25.0, -15.0, -1.0], [20.0, 30.0, 0.0],
                        [-25.0, 25.0, -1.5], [5.0, 40.0, -0.2]])
    stations = np.asarray(centre, float) * [1, 1, 0] + offsets
    xyz = np.vstack([stations, stations[:3]])
    phase = np.r_[np.zeros(5, int), np.ones(3, int)]
    return Observations(event_id=event_id, station_xyz_km=xyz, phase_idx=phase,
                        arrival_s=np.arange(8.0), sigma_s=np.full(8, 0.05),
                        station_ids=(STATION_IDS + STATION_IDS[:3]) if ids else [])


def _axis(fig, label):
    (ax,) = [a for a in fig.axes if a.get_label() == label]
    return ax


def _lines(ax, gid):
    return [line for line in ax.get_lines() if line.get_gid() == gid]


def _lonlat(projection, xy_km):
    lon, lat, _ = projection.to_lonlat(xy_km[0], xy_km[1])
    return float(lon), float(lat)


def test_map_ellipse_is_the_origins_horizontal_ellipse_in_lonlat(projection):
    cov = np.array([[0.5, 0.3, 0.0], [0.3, 0.4, 0.1], [0.0, 0.1, 1.2]])
    result = _result(CENTRE_KM, cov=cov, n_picks=8)
    fig = event_figure(result, _observations(), projection)
    ax = _axis(fig, "map")
    for level in (68.27, 90.0):
        (line,) = _lines(ax, f"ellipse-{level:g}")
        lon, lat = line.get_data()
        # drawn in degrees around the hypocentre's longitude and latitude
        hlon, hlat = _lonlat(projection, CENTRE_KM)
        assert lon.min() < hlon < lon.max() and lat.min() < hlat < lat.max()
        assert np.all(np.abs(lon - hlon) < 0.05) and np.all(np.abs(lat - hlat) < 0.05)
        # back in km: centred on the hypocentre, with the origin's semi-axes
        x, y, _ = projection.to_xyz_km(lon, lat)
        radius = np.hypot(x - CENTRE_KM[0], y - CENTRE_KM[1])
        major, minor, azimuth = horizontal_ellipse(cov, level)
        np.testing.assert_allclose([radius.max(), radius.min()], [major, minor], rtol=0,
                                   atol=ELLIPSE_ATOL_KM)
        far = np.argmax(radius)
        seen = np.degrees(np.arctan2(x[far] - CENTRE_KM[0], y[far] - CENTRE_KM[1])) % 180.0
        assert seen == pytest.approx(azimuth, abs=1.0)
    assert result.horizontal_uncertainty_km[0] == pytest.approx(
        horizontal_ellipse(cov, 68.27)[0])


def test_zoom_and_sections_contain_the_event_at_true_scale(projection):
    result = _result(CENTRE_KM, n_picks=8)
    truth = CENTRE_KM + [0.4, -0.3, 0.6]
    fig = event_figure(result, _observations(), projection, truth_xyz_km=truth)
    hlon, hlat = _lonlat(projection, CENTRE_KM)
    ax_map, ax_lon, ax_lat = (_axis(fig, n) for n in ("map", "longitude-depth",
                                                      "latitude-depth"))
    for ax in (ax_map, ax_lon, ax_lat):
        assert ax.get_lines()  # something drawn
    assert ax_map.get_xlim()[0] < hlon < ax_map.get_xlim()[1]
    assert ax_map.get_ylim()[0] < hlat < ax_map.get_ylim()[1]
    # the zoom is an event-scale window: a few km, not the network's 70 km
    width_km = np.diff(ax_map.get_ylim())[0] * 6371.0 * np.pi / 180.0
    assert 1.0 < width_km < 10.0
    # map aspect 1 / cos(latitude); sections share the map's horizontal limits
    assert ax_map.get_aspect() == pytest.approx(1.0 / np.cos(np.radians(hlat)), rel=ASPECT_RTOL)
    assert ax_lon.get_xlim() == pytest.approx(ax_map.get_xlim())
    assert ax_lat.get_xlim() == pytest.approx(ax_map.get_ylim())
    # depth grows downwards and holds the hypocentre, the truth and the 90 % ellipse
    bottom, top = ax_lon.get_ylim()
    assert bottom > top and bottom > truth[2] > CENTRE_KM[2] > top
    (ellipse,) = _lines(ax_lon, "ellipse-90")
    depth = ellipse.get_ydata()
    half = sigma_scale(90.0, 2) * np.sqrt(result.covariance_km2[2, 2])
    np.testing.assert_allclose([depth.min(), depth.max()],
                               [CENTRE_KM[2] - half, CENTRE_KM[2] + half], atol=1e-2)
    assert bottom > depth.max() and depth.min() > top
    # a km of depth is drawn as long as a km of longitude
    km_per_deg_lon = 6371.0 * np.pi / 180.0 * np.cos(np.radians(hlat))
    assert ax_lon.get_aspect() == pytest.approx(1.0 / km_per_deg_lon, rel=ASPECT_RTOL)
    (star,) = _lines(ax_map, "truth")
    assert star.get_xdata()[0] == pytest.approx(_lonlat(projection, truth)[0])


def test_degree_ticks_name_the_hemisphere(projection):
    fig = event_figure(_result(CENTRE_KM, n_picks=8), _observations(), projection)
    fig.canvas.draw()
    ax = _axis(fig, "network")
    assert ax.get_xlabel() == "longitude (°)" and ax.get_ylabel() == "latitude (°)"
    xticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    yticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert xticks and all(t.endswith("°W") for t in xticks)
    assert yticks and all(t.endswith("°N") for t in yticks)
    # as many decimals as the step needs: 0.1 degree steps give one
    assert all(len(t.split(".")[-1]) <= 4 for t in xticks + yticks)
    # zoomed ticks: distinct labels, however small the step
    zoom = [t.get_text() for t in _axis(fig, "map").get_xticklabels() if t.get_text()]
    assert len(set(zoom)) == len(zoom) >= 2


def test_stations_are_triangles_labelled_with_their_codes(projection):
    obs = _observations()
    weight = np.ones(8)
    weight[[3, 4]] = 0.0  # DDD and EEE: their only picks left out
    fig = event_figure(_result(CENTRE_KM, n_picks=8, weight=weight), obs, projection)
    ax = _axis(fig, "network")
    labels = {t.get_text(): t.xy for t in ax.texts if t.get_gid() == "station-label"}
    assert sorted(labels) == ["AAA", "BBB", "CCC", "DDD", "EEE"]
    for k, code in enumerate(["AAA", "BBB", "CCC", "DDD", "EEE"]):
        assert labels[code] == pytest.approx(_lonlat(projection, obs.station_xyz_km[k]))
    used = [c for c in ax.collections if c.get_gid() == "stations"]
    unused = [c for c in ax.collections if c.get_gid() == "stations-unused"]
    assert len(used[0].get_offsets()) == 3 and len(unused[0].get_offsets()) == 2
    # the network map holds every station and the epicentre
    lon, lat = np.array(list(labels.values())).T
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert np.all((x0 < lon) & (lon < x1) & (y0 < lat) & (lat < y1))
    (epicentre,) = _lines(ax, "epicentre")
    assert epicentre.get_xydata()[0] == pytest.approx(_lonlat(projection, CENTRE_KM))


def test_residual_panel_has_one_point_per_pick(projection):
    obs = _observations()
    residual = np.array([0.02, -0.03, 0.01, 0.00, 0.04, 2.5, -0.05, -0.2])
    weight = np.ones(8)
    weight[[5, 7]] = 0.0  # S at AAA far off, S at CCC an outlier nearer
    notes = {5: "outlier: ...", 7: "outlier: ..."}
    result = _result(CENTRE_KM, n_picks=8, residual_s=residual, weight=weight,
                     pick_notes=notes, sigma_s=np.full(8, 0.06))
    fig = event_figure(result, obs, projection)
    ax = _axis(fig, "residuals")
    points = {c.get_gid(): c.get_offsets() for c in ax.collections
              if str(c.get_gid()).startswith("residual-")}
    assert sum(len(p) for p in points.values()) == obs.n_picks
    assert len(points["residual-P-used"]) == 5
    assert len(points["residual-S-used"]) == 1
    assert len(points["residual-S-excluded"]) == 2
    # distance from the epicentre, residual as given
    used_p = points["residual-P-used"]
    distance = np.hypot(*(obs.station_xyz_km[:5, :2] - CENTRE_KM[:2]).T)
    np.testing.assert_allclose(np.asarray(used_p), np.column_stack([distance, residual[:5]]))
    # the far outlier sits on the edge with its value written, the other where it is
    low, high = ax.get_ylim()
    excluded = np.asarray(points["residual-S-excluded"])
    assert np.all((low <= excluded[:, 1]) & (excluded[:, 1] <= high))
    assert -0.2 in excluded[:, 1] and low < -0.2
    texts = [t.get_text() for t in ax.texts]
    assert any("AAA" in t and "+2.50 s" in t for t in texts)
    assert any(t.startswith("CCC") for t in texts)
    assert "6 of 8 picks used" in ax.get_title()


def test_summary_states_the_solution(projection):
    result = _result(CENTRE_KM, n_picks=8)
    fig = event_figure(result, _observations(), projection, levels=(68.27, 95.0))
    text = _axis(fig, "summary").texts[0].get_text()
    lon, lat = _lonlat(projection, CENTRE_KM)
    assert f"{lat:.5f}" in text and f"{lon:.5f}" in text
    major, minor, _ = horizontal_ellipse(result.covariance_km2, 95.0)
    assert f"95 % ellipse: {major:.2f} x {minor:.2f} km" in text
    assert "EPSG:32611" in text and "picks used 8/8" in text
    assert _lines(_axis(fig, "map"), "ellipse-95") and not _lines(_axis(fig, "map"), "ellipse-90")


def test_event_figure_without_projection_stays_in_km(tmp_path):
    fig = event_figure(_result([1.0, 2.0, 5.0]), None, None)
    ax = _axis(fig, "map")
    assert ax.get_xlabel() == "x east (km)"
    assert ax.get_xlim()[0] < 1.0 < ax.get_xlim()[1]
    out = plot_event(_result([1.0, 2.0, 5.0]), None, None, tmp_path / "event.pdf")
    assert out.stat().st_size > 1000


def test_plot_event_writes_png(tmp_path, projection):
    out = plot_event(_result(CENTRE_KM, n_picks=8), _observations(), projection,
                     tmp_path / "sub" / "event.png", truth_xyz_km=CENTRE_KM + 0.3)
    assert out.read_bytes()[:4] == PNG_MAGIC


def test_plot_event_rejects_a_bad_level(projection):
    with pytest.raises(ValueError, match="levels"):
        event_figure(_result(CENTRE_KM, n_picks=8), _observations(), projection,
                     levels=(68.27, 120.0))


def test_catalog_map_has_an_ellipse_per_event_in_its_own_frame(projection):
    alaska = Projection("EPSG:32606")
    far_km = np.array([350.0, 6800.0, 20.0])  # in UTM 6 (Alaska)
    results = [_result(CENTRE_KM, 1, "a", n_picks=8), LocationFailure("b", "too few picks"),
               _result(far_km, 2, "c", n_picks=8)]
    observations = [_observations(CENTRE_KM, "a"), None, _observations(far_km, "c")]
    frames = [projection, None, alaska]
    fig = catalog_figure(results, observations, frames)
    ax = _axis(fig, "map")
    for k, (centre, frame) in enumerate(((CENTRE_KM, projection), (far_km, alaska))):
        k = 2 * k  # catalogue index: the failure is skipped
        (dot,) = _lines(ax, f"event-{k}")
        assert dot.get_xydata()[0] == pytest.approx(_lonlat(frame, centre))
        (ellipse,) = _lines(ax, f"ellipse-{k}")
        x, y, _ = frame.to_xyz_km(*ellipse.get_data())
        major, minor, _ = results[k].horizontal_uncertainty_km
        radius = np.hypot(x - centre[0], y - centre[1])
        np.testing.assert_allclose([radius.max(), radius.min()], [major, minor],
                                   atol=ELLIPSE_ATOL_KM)
    numbers = sorted(t.get_text() for t in ax.texts if t.get_gid() == "event-label")
    assert numbers == ["1", "3"]  # catalogue order, as hyposvi locate --plot names figures
    codes = [t.get_text() for t in ax.texts if t.get_gid() == "station-label"]
    assert sorted(codes) == ["AAA", "BBB", "CCC", "DDD", "EEE"]  # once each
    # both sections hold both events' depths
    for name in ("longitude-depth", "latitude-depth"):
        bottom, top = _axis(fig, name).get_ylim()
        assert bottom > 20.0 and top < 8.0


def test_catalog_ellipse_scale_is_stated(projection):
    results = [_result(CENTRE_KM, 1, "a", n_picks=8)]
    plain = catalog_figure(results, [_observations()], projection)
    scaled = catalog_figure(results, [_observations()], projection, ellipse_scale=10.0)

    def size(fig):
        (line,) = _lines(_axis(fig, "map"), "ellipse-0")
        return np.ptp(line.get_xdata())

    assert size(scaled) == pytest.approx(10.0 * size(plain), rel=1e-6)
    labels = _axis(scaled, "map").get_legend_handles_labels()[1]
    assert "68.27 % ellipses (x 10)" in labels
    with pytest.raises(ValueError, match="ellipse_scale"):
        catalog_figure(results, [_observations()], projection, ellipse_scale=0.0)


def test_plot_catalog_skips_failures(tmp_path, projection):
    results = [_result(CENTRE_KM, 1, "a"), LocationFailure("b", "too few picks"),
               _result(CENTRE_KM + [5.0, -3.0, 4.0], 2, "c")]
    observations = [_observations(event_id="a", ids=False), None,
                    _observations(event_id="c", ids=False)]
    truth = np.array([CENTRE_KM + 0.2, [np.nan] * 3, CENTRE_KM + [5.1, -2.9, 3.0]])
    out = plot_catalog(results, observations, projection, tmp_path / "catalog.png",
                       truth_xyz_km=truth)
    assert out.read_bytes()[:4] == PNG_MAGIC


def test_plot_catalog_with_nothing_located(tmp_path):
    out = plot_catalog([LocationFailure("a", "no picks")], [None], None, tmp_path / "empty.png")
    assert out.is_file()
