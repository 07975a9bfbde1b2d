"""SeisComP-ready origins: agency/author, method and model ids, the confidence circle, SCML
versions, SeisComP's km for latitude/longitude errors, and validation on write."""

from __future__ import annotations

import math

import numpy as np
import pytest
from obspy import Catalog, UTCDateTime, read_events
from obspy.core.event import Event, Origin, QuantityError

from obspy_hyposvi.bridge.origins import add_origin, origin_from_result, write_catalog
from obspy_hyposvi.bridge.picks import observations_from_event
from obspy_hyposvi.bridge.provenance import check_agency, check_author, earth_model_id
from obspy_hyposvi.bridge.scml import (
    DEFAULT_SCML_VERSION,
    LATLON_KM_TEXT,
    schema_errors,
    scml_versions,
    to_seiscomp_units,
)
from obspy_hyposvi.errors import InputError, OutputError
from obspy_hyposvi.locate.horizontal import circle_probability, circular_uncertainty_km

from .conftest import make_result

MODEL_INFO = {"name": "socal-1d", "velocity_sha256": "ab12cd34" * 8}
#: make_result's covariance: sigma east 0.8 km, north 0.6 km (68.27 %: one sigma).
SIGMA_EAST_KM, SIGMA_NORTH_KM = 0.8, 0.6
#: Values pass through XML as text (about 15 digits) and a km <-> degree conversion.
ROUNDTRIP_RTOL = 1e-9


@pytest.fixture
def observations(event_with_picks, inventory, projection):
    obs, _ = observations_from_event(event_with_picks, inventory, projection)
    return obs


@pytest.fixture
def origin(observations, projection):
    # on UTM zone 11's central meridian (117 W): grid north is geographic north
    x, y, _ = projection.to_xyz_km(-117.0, 34.0)
    result = make_result(observations, hypocentre_xyz_km=[float(x), float(y), 10.0])
    return origin_from_result(result, observations, projection, model_info=MODEL_INFO,
                              version="0.1.0", agency_id="GFZ", author="analyst@gfz")


@pytest.fixture
def located(event_with_picks, origin):
    return Catalog([add_origin(event_with_picks, origin)])


# ---------------------------------------------------------------------------------------------
# provenance


def test_agency_author_method_and_model(origin):
    info = origin.creation_info
    assert (info.agency_id, info.author, info.version) == ("GFZ", "analyst@gfz", "0.1.0")
    assert all(c.creation_info.author == "analyst@gfz" for c in origin.comments)
    assert str(origin.method_id) == "smi:local/obspy_hyposvi/hyposvi-svgd-edt/0.1.0"
    assert str(origin.earth_model_id) == "smi:local/obspy_hyposvi/earth_model/socal-1d"
    assert origin.extra["method"]["value"] == "hyposvi-svgd-edt"
    settings = [c.text for c in origin.comments if "method hyposvi-svgd-edt" in c.text]
    assert len(settings) == 1
    assert "150 particles, 175 epochs" in settings[0]
    assert f"velocity model sha256 {'ab12cd34' * 8}" in settings[0]


def test_gaussian_likelihood_names_its_method(observations, projection):
    result = make_result(observations, extra={"likelihood": "gaussian", "n_particles": 8})
    origin = origin_from_result(result, observations, projection, model_info={},
                                version="1.2.3")
    assert str(origin.method_id) == "smi:local/obspy_hyposvi/hyposvi-svgd-gaussian/1.2.3"
    assert origin.earth_model_id is None


def test_model_name_made_a_valid_id():
    assert earth_model_id({"name": "Hadley & Kanamori 1D"}) == (
        "smi:local/obspy_hyposvi/earth_model/Hadley___Kanamori_1D")


@pytest.mark.parametrize("check, text, message", [
    (check_agency, "  ", "empty"),
    (check_agency, "x" * 65, "at most 64"),
    (check_author, "y" * 129, "at most 128"),
])
def test_agency_and_author_limits(check, text, message):
    with pytest.raises(InputError, match=message):
        check(text)
    assert check(" GFZ ") == "GFZ"


def test_locator_refuses_a_bad_agency_before_any_work(tiny_models):
    from obspy_hyposvi.locator import Locator

    with pytest.raises(InputError, match="agency id is empty"):
        Locator(*tiny_models, agency_id="")


# ---------------------------------------------------------------------------------------------
# the confidence circle


@pytest.mark.parametrize("cov", [np.diag([4.0, 1.0]), np.array([[2.0, 1.5], [1.5, 2.0]]),
                                 np.diag([1e-10, 9.0])])
def test_circle_holds_its_level(cov):
    radius = circular_uncertainty_km(cov, 68.27)
    a, b = np.sqrt(np.linalg.eigvalsh(cov)[::-1].clip(0))
    assert circle_probability(radius, a, b) == pytest.approx(0.6827, abs=1e-8)
    # between the 1D interval along the major axis and the isotropic circle of sigma a
    assert a * 0.9999 <= radius <= a * math.sqrt(-2 * math.log(1 - 0.6827)) * 1.0001
    # Monte Carlo: the share of samples inside (200 000 draws: 0.001 standard error)
    draws = np.random.default_rng(3).multivariate_normal([0, 0], cov, 200_000)
    assert np.mean(np.hypot(*draws.T) <= radius) == pytest.approx(0.6827, abs=0.005)


def test_horizontal_uncertainty_is_the_circle(origin):
    unc = origin.origin_uncertainty
    cov = np.array([[0.64, 0.1], [0.1, 0.36]])
    assert unc.horizontal_uncertainty == pytest.approx(circular_uncertainty_km(cov, 68.27) * 1e3)
    assert unc.min_horizontal_uncertainty < unc.horizontal_uncertainty
    assert unc.horizontal_uncertainty < unc.max_horizontal_uncertainty


# ---------------------------------------------------------------------------------------------
# SCML: versions, SeisComP's units, every pick, arrival and origin read back


def test_versions_from_0_12_to_the_newest_obspy_writes():
    from obspy.io.seiscomp.event import SCHEMA_VERSION

    versions = scml_versions()
    assert versions[0] == DEFAULT_SCML_VERSION == "0.12"
    assert versions[-1] == max(SCHEMA_VERSION, key=lambda v: tuple(map(int, v.split("."))))


@pytest.mark.parametrize("version", scml_versions())
def test_scml_validates_and_reads_back_in_seiscomp_units(tmp_path, located, origin, version):
    path = tmp_path / f"located-{version}.xml"
    write_catalog(located, path, format="SCML", validate=True, scml_version=version)
    assert f"schema/{version}" in path.read_text()[:400]
    assert schema_errors(path, "SCML") == []
    event = read_events(str(path), format="SCML")[0]
    source = located[0]
    assert len(event.picks) == len(source.picks) == 8
    assert len(event.origins) == len(source.origins) == 2
    back = event.preferred_origin()
    assert str(back.resource_id) == str(origin.resource_id)
    assert len(back.arrivals) == len(origin.arrivals) == 8
    assert {str(a.pick_id) for a in back.arrivals} == {str(p.resource_id) for p in event.picks}
    # SeisComP's units: latitude/longitude errors in km (the XSLT copies them as they are)
    assert back.latitude_errors.uncertainty == pytest.approx(SIGMA_NORTH_KM, rel=1e-6)
    assert back.longitude_errors.uncertainty == pytest.approx(SIGMA_EAST_KM, rel=1e-6)
    assert back.latitude_errors.confidence_level == 68.27
    # depth, its error and the horizontal uncertainties go to km and back to m (the XSLT's)
    assert back.depth == pytest.approx(origin.depth, rel=ROUNDTRIP_RTOL)
    assert back.depth_errors.uncertainty == pytest.approx(origin.depth_errors.uncertainty,
                                                          rel=ROUNDTRIP_RTOL)
    for name in ("horizontal_uncertainty", "max_horizontal_uncertainty",
                 "min_horizontal_uncertainty"):
        assert getattr(back.origin_uncertainty, name) == pytest.approx(
            getattr(origin.origin_uncertainty, name), rel=ROUNDTRIP_RTOL)
    assert back.origin_uncertainty.confidence_ellipsoid.semi_major_axis_length == (
        pytest.approx(2500.0))
    assert (back.creation_info.agency_id, back.creation_info.author) == ("GFZ", "analyst@gfz")
    assert str(back.method_id) == str(origin.method_id)
    assert str(back.earth_model_id) == str(origin.earth_model_id)
    units = next(c.text for c in back.comments if "confidence" in c.text)
    assert LATLON_KM_TEXT in units and "degrees" not in units


def test_scml_leaves_the_catalogue_and_other_origins_alone(tmp_path, located, origin):
    located[0].origins[0].latitude_errors = QuantityError(uncertainty=0.05)  # not ours
    write_catalog(located, tmp_path / "out.xml", format="SC3ML", validate=True)
    assert origin.latitude_errors.uncertainty == pytest.approx(
        SIGMA_NORTH_KM / 111.19492664455873)
    assert located[0].preferred_origin().latitude_errors.uncertainty == (
        origin.latitude_errors.uncertainty)
    event = read_events(str(tmp_path / "out.xml"), format="SCML")[0]
    old = next(o for o in event.origins if str(o.resource_id).endswith("origin/old"))
    assert old.latitude_errors.uncertainty == 0.05


def test_to_seiscomp_units_scales_longitude_by_cos_latitude(origin):
    copy = to_seiscomp_units(Catalog([Event(origins=[origin])]))[0].origins[0]
    cos_lat = math.cos(math.radians(origin.latitude))
    assert copy.longitude_errors.uncertainty == pytest.approx(
        origin.longitude_errors.uncertainty * 111.19492664455873 * cos_lat)


def test_quakeml_keeps_degrees(tmp_path, located, origin):
    write_catalog(located, tmp_path / "out.xml", validate=True)
    back = read_events(str(tmp_path / "out.xml"))[0].preferred_origin()
    assert back.latitude_errors.uncertainty == pytest.approx(origin.latitude_errors.uncertainty)
    assert back.origin_uncertainty.horizontal_uncertainty == pytest.approx(
        origin.origin_uncertainty.horizontal_uncertainty)


@pytest.mark.parametrize("format, version, message", [
    ("SCML", "0.11", "0.12, 0.13"),
    ("SCML", "9.9", "cannot be written"),
    ("QUAKEML", "0.12", "applies to SCML output"),
])
def test_bad_scml_version(tmp_path, located, format, version, message):
    with pytest.raises(InputError, match=message):
        write_catalog(located, tmp_path / "out.xml", format=format, scml_version=version)
    assert not (tmp_path / "out.xml").exists()


@pytest.mark.parametrize("format", ["SCML", "QUAKEML"])
def test_invalid_output_is_refused_and_the_old_file_kept(tmp_path, format):
    path = tmp_path / "out.xml"
    path.write_text("previous")
    invalid = Catalog([Event(origins=[Origin(time=UTCDateTime(0))])])  # no latitude
    with pytest.raises(OutputError, match="does not validate .*line \\d+"):
        write_catalog(invalid, path, format=format, validate=True)
    assert path.read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.xml"]  # no temporary left
    write_catalog(invalid, path, format=format)  # without validate=True it is written
    assert path.read_text() != "previous"
