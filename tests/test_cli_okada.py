"""``hyposvi okada``: CSV/StationXML stations, parameter/QuakeML faults, messages on bad input."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from obspy import read_inventory
from obspy.core.event import (
    Catalog,
    Event,
    FocalMechanism,
    Magnitude,
    NodalPlane,
    NodalPlanes,
    Origin,
)

from obspy_hyposvi.bridge.okada import (
    fault_from_event,
    read_stations_csv,
    stations_from_inventory,
)
from obspy_hyposvi.cli import main
from obspy_hyposvi.errors import InputError
from obspy_hyposvi.okada import RectangularFault, fault_displacement

#: a thrust near the stations of ObsPy's example inventory (Bavaria)
FAULT = {"lon_deg": 11.6, "lat_deg": 47.9, "depth_km": 12.0, "strike_deg": 70.0,
         "dip_deg": 35.0, "rake_deg": 80.0, "slip_m": 1.5, "length_km": 30.0, "width_km": 12.0}
FAULT_ARGS = ["--lon", "11.6", "--lat", "47.9", "--depth-km", "12", "--strike", "70",
              "--dip", "35", "--rake", "80", "--slip-m", "1.5", "--length-km", "30",
              "--width-km", "12"]
STATIONS_CSV = ("station,lon,lat,elevation_m\n"
                "S1,11.70,47.95,512\n"
                "S2,11.20,47.60,\n"
                "S3,12.40,48.30,820.5\n"
                "S4,11.61,47.91,0\n")
ENU = ["east_m", "north_m", "up_m"]
STRAIN = ["strain_ee", "strain_en", "strain_eu", "strain_nn", "strain_nu", "strain_uu"]


def _read_output(path: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    names = [r["station"] for r in rows]
    columns = {k: np.array([float(r[k]) for r in rows]) for k in rows[0] if k != "station"}
    return names, columns


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err


@pytest.fixture
def stations_csv(tmp_path) -> Path:
    path = tmp_path / "stations.csv"
    path.write_text(STATIONS_CSV)
    return path


def _event(strike: float = 70.0, magnitude: float = 6.0) -> Event:
    planes = NodalPlanes(nodal_plane_1=NodalPlane(strike=strike, dip=35.0, rake=80.0),
                         nodal_plane_2=NodalPlane(strike=strike + 180.0, dip=55.0, rake=97.0))
    return Event(origins=[Origin(latitude=47.9, longitude=11.6, depth=12000.0)],
                 magnitudes=[Magnitude(mag=magnitude)],
                 focal_mechanisms=[FocalMechanism(nodal_planes=planes)])


def test_csv_and_parameters_match_the_python_api(stations_csv, tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert main(["okada", "--stations", str(stations_csv), *FAULT_ARGS, "-o", str(out),
                 "--strain"]) == 0
    assert "written" in capsys.readouterr().out
    names, cols = _read_output(out)
    assert names == ["S1", "S2", "S3", "S4"]
    _, lon, lat = read_stations_csv(stations_csv)
    expected = fault_displacement(RectangularFault(**FAULT), lon, lat)
    np.testing.assert_array_equal(cols["lon"], lon)
    np.testing.assert_array_equal(cols["lat"], lat)
    got = np.stack([cols[k] for k in ENU], axis=1)
    np.testing.assert_allclose(got, expected["displacement_enu_m"], rtol=1e-14, atol=0.0)
    assert np.abs(got).max() > 1e-3  # a real signal, not zeros
    strain = expected["strain"]
    want = np.stack([strain[:, i, j] for i, j in
                     [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]], axis=1)
    np.testing.assert_allclose(np.stack([cols[k] for k in STRAIN], 1), want, rtol=1e-14,
                               atol=1e-30)


def test_no_strain_columns_unless_asked(stations_csv, tmp_path):
    out = tmp_path / "out.csv"
    assert main(["okada", "--stations", str(stations_csv), *FAULT_ARGS, "-o", str(out)]) == 0
    assert out.read_text().splitlines()[0] == "station,lon,lat,east_m,north_m,up_m"


def test_event_and_inventory_match_the_python_api(tmp_path, capsys):
    inventory = read_inventory()  # ObsPy's bundled example, 3 stations in Bavaria
    inv_path, ev_path, out = tmp_path / "st.xml", tmp_path / "ev.xml", tmp_path / "out.csv"
    inventory.write(str(inv_path), format="STATIONXML")
    Catalog(events=[_event(magnitude=5.5), _event(strike=100.0, magnitude=6.2)]).write(
        str(ev_path), format="QUAKEML")
    code = main(["okada", "--inventory", str(inv_path), "--event", str(ev_path),
                 "--event-index", "1", "--nodal-plane", "2", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    names, cols = _read_output(out)
    codes, lon, lat = stations_from_inventory(inventory)
    fault = fault_from_event(_event(strike=100.0, magnitude=6.2), nodal_plane=2)
    expected = fault_displacement(fault, lon, lat)["displacement_enu_m"]
    assert names == codes
    np.testing.assert_allclose(np.stack([cols[k] for k in ENU], 1), expected, rtol=1e-14,
                               atol=0.0)
    assert f"strike {fault.strike_deg:.1f}" in capsys.readouterr().out


@pytest.mark.parametrize(("content", "expected"), [
    ("station,lon\nA,11.0\n", "missing column(s) lat"),
    ("station,lon,lat\nA,11.0,47.0\nB,nan,47.5\n", "line 3 (station B): lon = nan is not"),
    ("station,lon,lat\nA,11.0,forty\n", "line 2 (station A): lat = 'forty' is not a number"),
    ("station,lon,lat\nA,11.0,\n", "line 2 (station A): lat is empty"),
    ("station,lon,lat\n,11.0,47.0\n", "line 2: the station name is empty"),
    ("station,lon,lat\nA,11.0,97.0\n", "line 2 (station A): lat = 97.0 is outside [-90, 90]"),
    ("station,lon,lat\nA,11,47\n\nA,12,48\n", "line 4 (station A): the station is already on"),
    ("station,lon,lat\nA,11.0,47.0,9\n", "line 2: 4 fields, the header has 3"),
    ("station,lon,lat,elevation_m\nA,11.0,47.0,inf\n", "elevation_m = inf is not a finite"),
    ("station,lon,lat\n", "has no stations"),
    ("", "missing column(s) station, lon, lat"),
])
def test_bad_station_csv_is_one_line_naming_file_and_line(tmp_path, capsys, content, expected):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["okada", "--stations", str(path), *FAULT_ARGS,
                 "-o", str(tmp_path / "o.csv")]) == 1
    err = _one_line_error(capsys)
    assert str(path) in err and expected in err, err
    assert not (tmp_path / "o.csv").exists()
    with pytest.raises(InputError, match="stations file"):
        read_stations_csv(path)


def test_unreadable_station_files(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    assert main(["okada", "--stations", str(missing), *FAULT_ARGS, "-o",
                 str(tmp_path / "o.csv")]) == 1
    assert f"cannot read stations file {missing}: file not found" in _one_line_error(capsys)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81 not text")
    assert main(["okada", "--stations", str(binary), *FAULT_ARGS, "-o",
                 str(tmp_path / "o.csv")]) == 1
    assert f"cannot read stations file {binary}" in _one_line_error(capsys)
    assert main(["okada", "--stations", str(tmp_path), *FAULT_ARGS, "-o",
                 str(tmp_path / "o.csv")]) == 1
    assert f"cannot read stations file {tmp_path}" in _one_line_error(capsys)


def test_bad_event_files(stations_csv, tmp_path, capsys):
    no_mechanism = Event(origins=[Origin(latitude=47.9, longitude=11.6, depth=1e4)],
                         magnitudes=[Magnitude(mag=6.0)])
    ev_path = tmp_path / "ev.xml"
    Catalog(events=[no_mechanism]).write(str(ev_path), format="QUAKEML")
    base = ["okada", "--stations", str(stations_csv), "-o", str(tmp_path / "o.csv")]
    assert main([*base, "--event", str(ev_path)]) == 1
    err = _one_line_error(capsys)
    assert str(ev_path) in err and "no focal mechanism" in err
    assert main([*base, "--event", str(ev_path), "--event-index", "3"]) == 1
    assert "has 1 event(s); --event-index 3 is out of range" in _one_line_error(capsys)
    garbage = tmp_path / "garbage.xml"
    garbage.write_text("not QuakeML\n")
    assert main([*base, "--event", str(garbage)]) == 1
    assert str(garbage) in _one_line_error(capsys)


def test_bad_fault_parameters_are_input_errors(stations_csv, tmp_path, capsys):
    args = list(FAULT_ARGS)
    args[args.index("--dip") + 1] = "95"
    assert main(["okada", "--stations", str(stations_csv), *args, "-o",
                 str(tmp_path / "o.csv")]) == 1
    assert "dip_deg = 95.0 must be in [0, 90]" in _one_line_error(capsys)


@pytest.mark.parametrize("argv", [
    ["--lon", "11.6", "--lat", "47.9"],                                    # parameters missing
    [*FAULT_ARGS, "--event", "ev.xml"],                                   # both fault sources
    [*FAULT_ARGS[:-1], "nan"],                                            # not finite
    [*FAULT_ARGS, "--shear-modulus-pa", "3e10"],                          # only with --event
])
def test_usage_errors_exit_2(stations_csv, tmp_path, capsys, argv):
    assert main(["okada", "--stations", str(stations_csv), *argv, "-o",
                 str(tmp_path / "o.csv")]) == 2
    assert "usage" in capsys.readouterr().err


def test_stations_are_required_once(stations_csv, tmp_path, capsys):
    out = ["-o", str(tmp_path / "o.csv")]
    assert main(["okada", *FAULT_ARGS, *out]) == 2
    assert main(["okada", "--stations", str(stations_csv), "--inventory", "x.xml",
                 *FAULT_ARGS, *out]) == 2
    assert "usage" in capsys.readouterr().err
