"""LocationResult -> Origin: units, uncertainties, quality, arrivals, QuakeML/SC3ML output."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from obspy import Catalog, read_events
from obspy.geodetics import gps2dist_azimuth, kilometer2degrees

from obspy_hyposvi.bridge.origins import (
    NAMESPACE,
    add_origin,
    origin_from_result,
    write_catalog,
)
from obspy_hyposvi.bridge.picks import observations_from_event, read_catalog, read_inventory
from obspy_hyposvi.errors import InputError
from obspy_hyposvi.geo import Projection

from .conftest import make_result

#: 68.27 % is taken as exactly one sigma; the tolerance only absorbs float rounding.
ONE_SIGMA_RTOL = 1e-4
#: QuakeML stores floats as text: a write/read round trip keeps about 15 digits.
ROUNDTRIP_RTOL = 1e-12
#: First-order meridian convergence (dlon * sin(lat)) is good to ~0.002 deg 2 deg off-centre.
CONVERGENCE_ATOL_DEG = 0.01

MODEL_INFO = {"name": "socal-1d", "velocity_sha256": "ab12cd34" * 8, "phase_models": "P,S"}
VERSION = "0.1.0"


@pytest.fixture
def observations(event_with_picks, inventory, projection):
    obs, skipped = observations_from_event(event_with_picks, inventory, projection)
    assert skipped == []
    return obs


def _hypocentre_at(projection, lon, lat, depth_km=10.0):
    x, y, _ = projection.to_xyz_km(lon, lat)
    return [float(x), float(y), depth_km]


@pytest.fixture
def result(observations, projection):
    # on the zone's central meridian (117 W): grid north is geographic north
    return make_result(observations, hypocentre_xyz_km=_hypocentre_at(projection, -117.0, 34.0))


@pytest.fixture
def origin(result, observations, projection):
    return origin_from_result(result, observations, projection, model_info=MODEL_INFO,
                              version=VERSION)


# ---------------------------------------------------------------------------------------------
# position, time and errors


def test_position_time_and_units(origin, result, observations):
    assert origin.latitude == pytest.approx(34.0, abs=1e-9)
    assert origin.longitude == pytest.approx(-117.0, abs=1e-9)
    assert origin.depth == pytest.approx(10_000.0)  # km -> m
    assert origin.depth_type == "from location"
    assert origin.time == observations.reference_time + result.origin_time_s
    assert origin.time_errors.uncertainty == pytest.approx(0.08, rel=ONE_SIGMA_RTOL)


def test_errors_in_m_and_degrees_with_confidence_level(origin):
    assert origin.depth_errors.uncertainty == pytest.approx(1500.0, rel=ONE_SIGMA_RTOL)
    # 1D marginals from the covariance: sqrt(0.36) km north, sqrt(0.64) km east
    assert origin.latitude_errors.uncertainty == pytest.approx(kilometer2degrees(0.6),
                                                               rel=ONE_SIGMA_RTOL)
    lon_deg = kilometer2degrees(0.8) / math.cos(math.radians(34.0))
    assert origin.longitude_errors.uncertainty == pytest.approx(lon_deg, rel=ONE_SIGMA_RTOL)
    for errors in (origin.time_errors, origin.latitude_errors, origin.longitude_errors,
                   origin.depth_errors):
        assert errors.confidence_level == 68.27


def test_errors_scaled_to_stated_confidence_level(observations, projection):
    result = make_result(observations, confidence_level=95.0,
                         hypocentre_xyz_km=_hypocentre_at(projection, -117.0, 34.0))
    origin = origin_from_result(result, observations, projection, model_info={},
                                version=VERSION)
    # 95 % two-sided: 1.95996 sigma
    assert origin.depth_errors.uncertainty == pytest.approx(1500.0 * 1.959964, rel=1e-6)
    assert origin.time_errors.uncertainty == pytest.approx(0.08 * 1.959964, rel=1e-6)
    assert origin.depth_errors.confidence_level == 95.0
    assert origin.origin_uncertainty.confidence_level == 95.0


def test_origin_uncertainty_converted_km_to_m(origin):
    unc = origin.origin_uncertainty
    assert unc.preferred_description == "confidence ellipsoid"
    assert unc.confidence_level == 68.27
    assert unc.max_horizontal_uncertainty == pytest.approx(1200.0)
    assert unc.min_horizontal_uncertainty == pytest.approx(800.0)
    assert unc.azimuth_max_horizontal_uncertainty == pytest.approx(30.0, abs=1e-6)
    ell = unc.confidence_ellipsoid
    assert ell.semi_major_axis_length == pytest.approx(2500.0)
    assert ell.semi_minor_axis_length == pytest.approx(900.0)
    assert ell.semi_intermediate_axis_length == pytest.approx(1400.0)
    assert ell.major_axis_azimuth == pytest.approx(40.0, abs=1e-6)
    assert ell.major_axis_plunge == 60.0
    assert ell.major_axis_rotation == 15.0


def test_azimuths_rotated_from_grid_to_geographic_north(observations, projection):
    """2 deg east of the central meridian at 34 N, grid north is ~1.12 deg east of north."""
    result = make_result(observations, hypocentre_xyz_km=_hypocentre_at(projection, -115.0, 34.0))
    origin = origin_from_result(result, observations, projection, model_info={},
                                version=VERSION)
    convergence = 2.0 * math.sin(math.radians(34.0))
    unc = origin.origin_uncertainty
    assert unc.azimuth_max_horizontal_uncertainty == pytest.approx(
        30.0 + convergence, abs=CONVERGENCE_ATOL_DEG)
    assert unc.confidence_ellipsoid.major_axis_azimuth == pytest.approx(
        40.0 + convergence, abs=CONVERGENCE_ATOL_DEG)
    assert origin.extra["meridian_convergence_deg"]["value"] == pytest.approx(
        convergence, abs=CONVERGENCE_ATOL_DEG)
    # lengths do not change with the rotation
    assert unc.confidence_ellipsoid.semi_major_axis_length == pytest.approx(2500.0)


# ---------------------------------------------------------------------------------------------
# arrivals and quality


def test_one_arrival_per_pick(origin, observations, result):
    assert len(origin.arrivals) == observations.n_picks
    assert [str(a.pick_id) for a in origin.arrivals] == observations.pick_ids
    assert [a.phase for a in origin.arrivals] == observations.phase_hints
    np.testing.assert_allclose([a.time_residual for a in origin.arrivals], result.residual_s)
    np.testing.assert_allclose([a.time_weight for a in origin.arrivals], result.weight)
    assert all(a.takeoff_angle == 110.0 for a in origin.arrivals)


def test_arrival_distance_and_azimuth_from_event_to_station(origin):
    by_station = {str(a.pick_id).split("/")[3]: a for a in origin.arrivals}
    # S01 due north, S02 east, S03 south, S04 west of the hypocentre at (117 W, 34 N)
    for seed, lat, lon, azimuth in (("XX.S01..HHZ", 34.2, -117.0, 0.0),
                                    ("XX.S02..HHZ", 34.0, -116.78, 90.0),
                                    ("XX.S03.10.HHZ", 33.8, -117.0, 180.0),
                                    ("XX.S04..HHZ", 34.0, -117.22, 270.0)):
        arrival = by_station[seed]
        dist_m, az, _ = gps2dist_azimuth(34.0, -117.0, lat, lon)
        assert arrival.distance == pytest.approx(kilometer2degrees(dist_m / 1e3), rel=1e-6)
        # a great circle leaving due east/west is within 0.1 deg of 90/270 at these offsets
        wrapped = (arrival.azimuth - azimuth + 180.0) % 360.0 - 180.0
        assert wrapped == pytest.approx(0.0, abs=0.1)


def test_distances_and_azimuths_match_obspy_geodesics_at_regional_offsets():
    """The vectorised WGS84 geodesics give what ObsPy's gps2dist_azimuth (Vincenty) gives,
    station by station, out to ~1000 km and on every side of the event (azimuth in [0, 360))."""
    from obspy_hyposvi.bridge.origins import _distances_azimuths_deg

    rng = np.random.default_rng(3)
    lon, lat = -150.0, 61.3
    station_lon = lon + rng.uniform(-15.0, 15.0, 300)
    station_lat = lat + rng.uniform(-8.0, 8.0, 300)
    distance, azimuth = _distances_azimuths_deg(lon, lat, station_lon, station_lat)
    for k in range(300):
        dist_m, az, _ = gps2dist_azimuth(lat, lon, station_lat[k], station_lon[k])
        # 1e-8 deg is ~1 mm: the two algorithms agree far better than any location
        assert distance[k] == pytest.approx(kilometer2degrees(dist_m / 1e3), abs=1e-8)
        assert 0.0 <= azimuth[k] < 360.0
        assert (azimuth[k] - az + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=1e-8)


def test_quality_counts_gaps_and_distances(observations, projection):
    weight = np.ones(observations.n_picks)
    weight[4] = 0.0  # S05's only pick unused
    takeoff = np.full(observations.n_picks, 110.0)
    takeoff[0] = np.nan  # unknown take-off angle is left out, not written as NaN
    result = make_result(observations, weight=weight, takeoff_deg=takeoff,
                         hypocentre_xyz_km=_hypocentre_at(projection, -117.0, 34.0))
    origin = origin_from_result(result, observations, projection, model_info={},
                                version=VERSION)
    q = origin.quality
    assert (q.associated_phase_count, q.used_phase_count) == (8, 7)
    assert (q.associated_station_count, q.used_station_count) == (6, 5)
    used = weight > 0
    rms = math.sqrt(np.mean(result.residual_s[used] ** 2))
    assert q.standard_error == pytest.approx(rms)
    # used stations at about 0 (S01), 90 (S02), 180 (S03), 220 (S06) and 270 (S04) deg
    assert q.azimuthal_gap == pytest.approx(90.0, abs=0.2)
    assert q.secondary_azimuthal_gap == pytest.approx(180.0, abs=0.2)
    distances = [a.distance for a, u in zip(origin.arrivals, used) if u]
    assert q.minimum_distance == pytest.approx(min(distances))
    assert q.maximum_distance == pytest.approx(max(distances))
    assert q.ground_truth_level is None
    assert origin.arrivals[0].takeoff_angle is None
    assert origin.arrivals[4].time_weight == 0.0


def test_no_used_pick_gives_open_gap_and_no_rms(observations, projection, result):
    result = make_result(observations, weight=np.zeros(observations.n_picks))
    origin = origin_from_result(result, observations, projection, model_info={},
                                version=VERSION)
    assert origin.quality.used_phase_count == 0
    assert origin.quality.standard_error is None
    assert origin.quality.azimuthal_gap == 360.0
    assert origin.quality.minimum_distance is None


def test_mismatched_result_is_rejected(observations, projection):
    result = make_result(observations, weight=np.ones(3))
    with pytest.raises(InputError, match=r"result.weight has shape \(3,\), expected \(8,\)"):
        origin_from_result(result, observations, projection, model_info={}, version=VERSION)


# ---------------------------------------------------------------------------------------------
# provenance and extra


def test_provenance(origin):
    assert str(origin.method_id) == "smi:local/obspy_hyposvi/hyposvi-svgd-edt/0.1.0"
    # the model's name; its sha256 stays in extra
    assert str(origin.earth_model_id) == "smi:local/obspy_hyposvi/earth_model/socal-1d"
    assert origin.extra["model"]["value"]["velocity_sha256"]["value"] == "ab12cd34" * 8
    assert origin.evaluation_mode == "automatic"
    assert origin.evaluation_status == "preliminary"
    info = origin.creation_info
    assert (info.agency_id, info.author, info.version) == ("obspy_hyposvi", "obspy_hyposvi",
                                                           VERSION)
    assert info.creation_time is not None
    assert str(origin.resource_id).startswith("smi:local/obspy_hyposvi/origin/")


def test_unconverged_location_gives_a_rejected_origin_that_says_why(
        observations, projection, result):
    import dataclasses

    note = "particles did not gather: the dominant cluster holds 12% of them"
    bad = dataclasses.replace(result, converged=False, quality_note=note)
    origin = origin_from_result(bad, observations, projection, model_info=MODEL_INFO,
                                version=VERSION)
    assert origin.evaluation_status == "rejected"
    assert any(note in c.text for c in origin.comments)
    assert origin.extra["converged"]["value"] is False


def test_no_sha_no_earth_model_id(observations, projection, result):
    origin = origin_from_result(result, observations, projection, model_info={},
                                version=VERSION)
    assert origin.earth_model_id is None


def test_extra_in_hyposvi_namespace(origin):
    extra = origin.extra
    assert all(item["namespace"] == NAMESPACE for item in extra.values())
    assert extra["n_particles"]["value"] == 150
    assert extra["cluster_fraction"]["value"] == 0.8
    assert extra["kde_bandwidth_km"]["value"] == 0.35
    assert extra["n_cluster_particles"]["value"] == 120
    assert extra["model"]["value"]["name"]["value"] == "socal-1d"


# ---------------------------------------------------------------------------------------------
# add_origin


def test_add_origin_copies_and_keeps_everything(event_with_picks, origin):
    before = copy.deepcopy(event_with_picks)
    located = add_origin(event_with_picks, origin)
    assert event_with_picks == before  # input never mutated
    assert located is not event_with_picks
    assert len(located.origins) == 2
    assert located.origins[0] == before.origins[0]
    assert located.picks == before.picks
    assert located.magnitudes == before.magnitudes
    assert located.comments == before.comments
    assert located.preferred_origin_id == origin.resource_id
    assert located.preferred_origin() is located.origins[-1]
    assert located.origins[-1] is not origin and located.origins[-1] == origin
    # arrivals point at the copy's picks
    pick = located.origins[-1].arrivals[0].pick_id.get_referred_object()
    assert pick is located.picks[0]


def _event_with_skipped_picks(event):
    """The test event plus one pick for each reason a pick is left out."""
    from .conftest import T0, make_pick

    event.picks += [
        make_pick("XX.S03..HHE", "PKP", T0 + 5.0),        # not a P or S phase
        make_pick("XX.S04..HHE", None, T0 + 5.5),         # no phase hint
        make_pick("XX.NOPE..HHZ", "P", T0 + 2.1),         # station not in the inventory
        make_pick("XX.S01..HHE", "P", T0 + 2.05, 0.5),    # duplicate P at S01 (larger error)
        make_pick("XX.S05..HHN", "S", T0 + 86400.0),      # a day off: absurd time
    ]
    return event


def test_skipped_picks_get_weight_zero_arrivals(tmp_path, event_with_picks, inventory,
                                                projection):
    event = _event_with_skipped_picks(event_with_picks)
    obs, skipped = observations_from_event(event, inventory, projection)
    assert obs.n_picks == 8 and len(skipped) == 5
    result = make_result(obs, hypocentre_xyz_km=_hypocentre_at(projection, -117.0, 34.0))
    origin = origin_from_result(result, obs, projection, model_info={}, version=VERSION,
                                skipped=skipped)
    # every pick of the event appears once, none silently dropped
    assert sorted(str(a.pick_id) for a in origin.arrivals) == sorted(
        str(p.resource_id) for p in event.picks)
    by_pick = {str(a.pick_id): a for a in origin.arrivals}
    for record in skipped:
        arrival = by_pick[record.pick_id]
        assert arrival.time_weight == 0.0
        assert arrival.time_residual is None and arrival.takeoff_angle is None
        assert arrival.phase == record.phase_hint
        assert [c.text for c in arrival.comments] == [
            f"not used by obspy_hyposvi: {record.reason}"]
    assert [by_pick[r.pick_id].phase for r in skipped] == ["PKP", "", "P", "S", "P"]
    used = [a for a in origin.arrivals if a.time_weight > 0]
    assert [str(a.pick_id) for a in used] == obs.pick_ids
    # a skipped pick whose station is known has the distance and azimuth of that station's
    # used pick (the day-off S05 pick too); only the unknown station XX.NOPE has none
    used_at = {station: a for station, a in zip(obs.station_ids, used)}
    for record in skipped:
        arrival = by_pick[record.pick_id]
        station = ".".join(record.station.split(".")[:2])
        if station == "XX.NOPE":
            assert arrival.distance is None and arrival.azimuth is None
            continue
        assert arrival.distance == pytest.approx(used_at[station].distance, rel=1e-9)
        assert arrival.azimuth == pytest.approx(used_at[station].azimuth, abs=1e-6)
    q = origin.quality
    assert (q.associated_phase_count, q.used_phase_count) == (13, 8)
    assert (q.associated_station_count, q.used_station_count) == (7, 6)  # + XX.NOPE

    path = tmp_path / "located.xml"
    write_catalog(Catalog([add_origin(event, origin)]), path, validate=True)
    back = read_events(str(path))[0].preferred_origin()
    weights = {str(a.pick_id): a.time_weight for a in back.arrivals}
    assert len(weights) == len(event.picks)
    assert all(weights[r.pick_id] == 0.0 for r in skipped)
    distances = {str(a.pick_id): a.distance for a in back.arrivals}
    assert sum(distances[r.pick_id] is not None for r in skipped) == 4
    sc3ml = tmp_path / "located.sc3ml"
    write_catalog(Catalog([add_origin(event, origin)]), sc3ml, format="SC3ML", validate=True)


def test_locator_writes_an_arrival_for_every_pick(event_with_picks, inventory):
    from obspy_hyposvi.locate.svgd import SVGDConfig
    from obspy_hyposvi.locator import Locator

    event = _event_with_skipped_picks(event_with_picks)
    locator = Locator.from_model("socal-1d", svgd=SVGDConfig(n_particles=8, n_epochs=2))
    report = locator.run(Catalog([event]), inventory)
    assert report.n_located == 1 and len(report.skipped_picks) == 5
    origin = report.catalog[0].preferred_origin()
    assert len(origin.arrivals) == len(event.picks)
    zero = {str(a.pick_id) for a in origin.arrivals if a.time_weight == 0.0}
    # weight 0: the skipped picks, and the picks the run took as outliers (2 epochs locate
    # badly), each of those with its residual in a comment
    result, obs = report.results[0], report.observations[0]
    outliers = {obs.pick_ids[i] for i in result.pick_notes}
    assert zero == {s.pick_id for s in report.skipped_picks} | outliers
    for arrival in origin.arrivals:
        if str(arrival.pick_id) in outliers:
            assert arrival.time_residual is not None
            assert "outlier: residual" in arrival.comments[0].text


# ---------------------------------------------------------------------------------------------
# written files


def test_quakeml_validates_and_round_trips(tmp_path, event_with_picks, origin):
    path = tmp_path / "located.xml"
    write_catalog(Catalog([add_origin(event_with_picks, origin)]), path, validate=True)
    text = path.read_text()
    assert f'xmlns:hyposvi="{NAMESPACE}"' in text
    assert "<hyposvi:n_particles>150</hyposvi:n_particles>" in text
    event = read_events(str(path))[0]
    back = event.preferred_origin()
    assert back.resource_id == origin.resource_id
    assert back.depth == pytest.approx(origin.depth, rel=ROUNDTRIP_RTOL)
    assert back.depth_errors.uncertainty == pytest.approx(origin.depth_errors.uncertainty,
                                                          rel=ROUNDTRIP_RTOL)
    assert back.depth_errors.confidence_level == 68.27
    assert back.latitude_errors.uncertainty == pytest.approx(origin.latitude_errors.uncertainty,
                                                             rel=ROUNDTRIP_RTOL)
    assert back.time == origin.time
    ell = back.origin_uncertainty.confidence_ellipsoid
    assert ell.semi_major_axis_length == pytest.approx(2500.0)
    assert len(back.arrivals) == len(origin.arrivals)
    for a, b in zip(back.arrivals, origin.arrivals):
        assert a.pick_id == b.pick_id and a.phase == b.phase
        assert a.distance == pytest.approx(b.distance, rel=ROUNDTRIP_RTOL)
        assert a.time_residual == pytest.approx(b.time_residual, rel=ROUNDTRIP_RTOL)
    assert back.quality.used_phase_count == origin.quality.used_phase_count
    assert back.extra["cluster_fraction"]["value"] == "0.8"  # extra is read back as text
    assert len(event.origins) == 2 and len(event.picks) == 8


def test_plain_obspy_write_validates(tmp_path, event_with_picks, origin):
    """Without our nsmap ObsPy names the namespace ns0: still valid QuakeML."""
    path = tmp_path / "plain.xml"
    Catalog([add_origin(event_with_picks, origin)]).write(str(path), format="QUAKEML",
                                                          validate=True)
    assert NAMESPACE in path.read_text()


def test_sc3ml_write_validates(tmp_path, event_with_picks, origin):
    path = tmp_path / "located.sc3ml"
    # "SC3ML" is written as ObsPy's SCML (SC3ML is deprecated there, with a warning)
    write_catalog(Catalog([add_origin(event_with_picks, origin)]), path, format="SC3ML",
                  validate=True)
    assert "http://geofon.gfz-potsdam.de/ns/seiscomp" in path.read_text()
    event = read_events(str(path), format="SCML")[0]
    located = [o for o in event.origins if o.resource_id == origin.resource_id][0]
    assert located.depth == pytest.approx(origin.depth)
    assert len(located.arrivals) == len(origin.arrivals)


def test_write_failure_names_the_file(tmp_path, event_with_picks):
    with pytest.raises(InputError, match="no_such_dir"):
        write_catalog(Catalog([event_with_picks]), tmp_path / "no_such_dir" / "x.xml")


# ---------------------------------------------------------------------------------------------
# real data


def test_realdata_origin_written_next_to_nonlinloc(tmp_path, realdata):
    catalog = read_catalog(realdata / "catalog.xml")
    inventory = read_inventory(realdata / "inventory.xml")
    projection = Projection("EPSG:32605")
    event = catalog[0]
    obs, skipped = observations_from_event(event, inventory, projection)
    result = make_result(obs, hypocentre_xyz_km=_hypocentre_at(projection, -149.94892,
                                                               61.335856, 44.9))
    origin = origin_from_result(result, obs, projection, model_info=MODEL_INFO,
                                version=VERSION)
    before = copy.deepcopy(event)
    located = add_origin(event, origin)
    assert event == before
    assert located.origins[0] == event.origins[0]  # NonLinLoc's solution kept
    assert origin.depth == pytest.approx(44_900.0)
    # arrival distances agree with NonLinLoc's for the same hypocentre and picks
    nll = {str(a.pick_id): a for a in event.origins[0].arrivals}
    for arrival in origin.arrivals:
        # NonLinLoc writes distance 0 for the picks it did not use
        if str(arrival.pick_id) in nll and nll[str(arrival.pick_id)].distance > 0:
            assert arrival.distance == pytest.approx(nll[str(arrival.pick_id)].distance,
                                                     abs=2e-3)
    assert origin.quality.used_station_count == len(set(obs.station_ids))
    path = tmp_path / "anchorage.xml"
    write_catalog(Catalog([located]), path, validate=True)
    back = read_events(str(path))[0]
    assert len(back.origins) == 2 and back.preferred_origin().depth == pytest.approx(44_900.0)
    assert len(back.picks) == len(event.picks)
