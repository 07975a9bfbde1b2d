"""Tests of obspy_hyposvi.velocity.io: the readers and their error messages."""

from pathlib import Path

import numpy as np
import pytest

from obspy_hyposvi.errors import InputError, VelocityModelError
from obspy_hyposvi.velocity import (
    Layered1D,
    Nodes1D,
    model_from_dict,
    read_csv_model,
    read_hypoinverse_model,
    read_nlloc_layers,
    read_velocity_model,
    socal_1d,
)

DATA = Path(__file__).resolve().parents[1] / "data"
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
NLL_SAMPLE = SHARED / "realdata" / "nll_southern_alaska_2018" / "raw" / "nlloc_sample.in"
# values in the fixtures are written with 4 decimals
FIXTURE_ATOL = 1e-4


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


# -- CSV ----------------------------------------------------------------------------------
def test_csv_layered_matches_socal_1d():
    model = read_velocity_model(DATA / "velocity_socal_layers.csv")
    ref = socal_1d()
    assert isinstance(model, Layered1D)
    np.testing.assert_allclose(model.depth_km, ref.depth_km)
    np.testing.assert_allclose(model.vp_kmps, ref.vp_kmps)
    np.testing.assert_allclose(model.vs_kmps, ref.vs_kmps, atol=FIXTURE_ATOL)


def test_csv_nodes_default_and_extra_columns():
    model = read_csv_model(DATA / "velocity_nodes.csv")
    assert isinstance(model, Nodes1D)
    np.testing.assert_allclose(model.velocity([-1.5, 5.0, 20.0], "P"), [4.5, 5.5, 6.5])
    assert model.name == "velocity_nodes"


def test_csv_kind_argument_and_conflict(tmp_path):
    path = write(tmp_path, "m.csv", "depth_km,vp,vs\n0,5,3\n10,6,3.5\n")
    assert isinstance(read_csv_model(path, kind="layered"), Layered1D)
    with pytest.raises(InputError, match=r"velocity_socal_layers.csv, line 2: the file says kind"):
        read_csv_model(DATA / "velocity_socal_layers.csv", kind="nodes")


def test_csv_vp_vs_ratio(tmp_path):
    path = write(tmp_path, "m.csv", "depth_km,vp_kmps\n0,5.19\n10,6.92\n")
    model = read_csv_model(path, vp_vs_ratio=1.73)
    np.testing.assert_allclose(model.vs_kmps, [3.0, 4.0])
    with pytest.raises(VelocityModelError,
                       match=r"m.csv, line 1: missing column\(s\) vs.*vp_vs_ratio"):
        read_csv_model(path)
    with pytest.raises(InputError, match="must not be given"):
        read_csv_model(DATA / "velocity_nodes.csv", vp_vs_ratio=1.73)


def test_csv_round_trip_through_to_dict():
    model = read_csv_model(DATA / "velocity_nodes.csv")
    again = model_from_dict(model.to_dict())
    assert again.sha256() == model.sha256()


@pytest.mark.parametrize("text, match", [
    ("depth_km,vp,vs\n0,5,3\n0,6,3.5\n",
     r"bad.csv, line 3: depths must increase strictly, got 0.0 km after 0.0 km on line 2"),
    ("depth_km,vp,vs\n0,5,3\n10,6,3.5\n5,7,4\n", r"bad.csv, line 4: depths must increase"),
    ("depth_km,vp,vs\n0,5,3\n10,-6,3.5\n", r"bad.csv, line 3: vp must be positive, got -6.0"),
    ("depth_km,vp,vs\n0,5,0\n", r"bad.csv, line 2: vs must be positive, got 0.0"),
    ("depth_km,vp,vs\n0,5,3\n10,nan,3.5\n", r"bad.csv, line 3: vp is nan, not a finite number"),
    ("depth_km,vp,vs\n0,5,3\n10,6\n",
     r"bad.csv, line 3: missing column\(s\): 2 values, the header needs 3"),
    ("depth_km,vp\n0,5\n", r"bad.csv, line 1: missing column\(s\) vs"),
    ("depth,velocity\n0,5\n", r"bad.csv, line 1: missing column\(s\) vp, vs"),
    ("0,5,3\n10,6,3.5\n", r"bad.csv, line 1: no header line"),
    ("depth_km,vp,vs\n0,five,3\n", r"bad.csv, line 2: vp 'five' is not a number"),
    ("# kind: spline\ndepth_km,vp,vs\n0,5,3\n", r"bad.csv, line 1: unknown kind 'spline'"),
    ("depth_km,vp,vs\n", r"bad.csv: no velocity rows found"),
    ("", r"bad.csv: empty file"),
])
def test_csv_bad_input(tmp_path, text, match):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(VelocityModelError, match=match):
        read_velocity_model(path)


def test_unreadable_files(tmp_path):
    with pytest.raises(InputError, match=r"missing.csv: velocity model file not found"):
        read_velocity_model(tmp_path / "missing.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(InputError, match=r"binary.csv: not a text file"):
        read_velocity_model(binary)
    with pytest.raises(InputError, match=r"cannot tell the velocity model format"):
        read_velocity_model(write(tmp_path, "model.txt", "hello\n"))


# -- NonLinLoc ----------------------------------------------------------------------------
def test_nlloc_real_file_from_shared():
    if not NLL_SAMPLE.exists():
        pytest.skip(f"shared NonLinLoc sample not found at {NLL_SAMPLE}")
    model = read_velocity_model(NLL_SAMPLE)  # format from the LAYER lines
    assert isinstance(model, Layered1D)
    np.testing.assert_allclose(model.depth_km, [0, 4, 9, 14, 19, 24, 33, 49, 66])
    np.testing.assert_allclose(model.vp_kmps, [5.3, 5.6, 6.2, 6.9, 7.4, 7.7, 7.9, 8.1, 8.3])
    np.testing.assert_allclose(model.vs_kmps[[0, -1]], [3.01, 4.72])
    assert "NonLinLoc" in model.source


def test_nlloc_gradients_become_exact_nodes():
    model = read_nlloc_layers(DATA / "velocity_gradients.in")
    assert isinstance(model, Nodes1D)
    z = np.array([-2.0, 0.0, 1.999, 2.0, 10.0, 19.99, 20.0, 30.0, 45.0, 60.0])
    expected_vp = np.array([4.0, 5.0, 5.9995, 6.0, 6.0, 6.0, 6.5, 6.7, 7.0, 7.0])
    # the jump at 20 km becomes a ramp 1 m thick, so 19.99 km is still in the upper layer
    np.testing.assert_allclose(model.velocity(z, "P"), expected_vp, atol=1e-9)
    # the last layer's gradient holds down to the VGGRID bottom, -5 + 50 * 1 = 45 km
    assert model.depth_km[-1] == pytest.approx(45.0)
    np.testing.assert_allclose(model.velocity([30.0], "S"), [3.75 + 0.01 * 10])


def test_nlloc_bottom_argument_and_missing_bottom(tmp_path):
    text = "LAYER 0.0 5.0 0.1 2.9 0.05 2.7 0\n"
    path = write(tmp_path, "g.in", text)
    with pytest.raises(VelocityModelError, match=r"g.in, line 1: the last LAYER has a gradient"):
        read_nlloc_layers(path)
    model = read_nlloc_layers(path, bottom_depth_km=10.0)
    np.testing.assert_allclose(model.velocity([5.0, 10.0, 20.0], "P"), [5.5, 6.0, 6.0])


@pytest.mark.parametrize("text, match", [
    ("LAYER 0 5 0 3 0 2.7 0\nLAYER 0 6 0 3.5 0 2.8 0\n", r"bad.in, line 2: depths must increase"),
    ("LAYER 0 5 0 3 0 2.7 0\nLAYER 5 -6 0 3.5 0 2.8 0\n", r"bad.in, line 2: vp must be positive"),
    ("LAYER 0 5 0 3 0 2.7 0\nLAYER 5 6 0 nan 0 2.8 0\n", r"bad.in, line 2: VsTop is nan"),
    ("# comment\nLAYER 0 5 0 3\n", r"bad.in, line 2: missing column\(s\): LAYER needs"),
    ("LAYER 0 5 x 3 0 2.7 0\n", r"bad.in, line 1: VpGrad 'x' is not a number"),
    # the gradient makes vp negative at the layer's bottom: reported on that layer's line
    ("LAYER 0 5 -1 3 0 2.7 0\nLAYER 10 6 0 3.5 0 2.8 0\n",
     r"bad.in, line 1: vp must be positive, got -4.99"),
    ("CONTROL 1 54321\n", r"bad.in: no LAYER lines found"),
])
def test_nlloc_bad_input(tmp_path, text, match):
    path = write(tmp_path, "bad.in", text)
    with pytest.raises(VelocityModelError, match=match):
        read_nlloc_layers(path)


def test_nlloc_rejects_vp_vs_ratio():
    with pytest.raises(InputError, match="vp_vs_ratio must not be given"):
        read_velocity_model(DATA / "velocity_gradients.in", vp_vs_ratio=1.73)


# -- HypoInverse --------------------------------------------------------------------------
def test_crh_with_ratio_and_fixed_columns():
    model = read_velocity_model(DATA / "velocity_socal.crh", vp_vs_ratio=1.73)
    ref = socal_1d()
    assert isinstance(model, Layered1D)
    assert model.name == "SOC southern California test model"
    np.testing.assert_allclose(model.depth_km, ref.depth_km)  # ' 6.7016.00' is read by columns
    np.testing.assert_allclose(model.vp_kmps, ref.vp_kmps)
    np.testing.assert_allclose(model.vs_kmps, ref.vs_kmps)


def test_crh_with_s_file():
    model = read_hypoinverse_model(DATA / "velocity_socal.crh",
                                   s_path=DATA / "velocity_socal_s.crh")
    np.testing.assert_allclose(model.vs_kmps, [3.18, 3.64, 3.87, 4.51])


def test_cre_negative_depth_and_reference_elevation():
    model = read_velocity_model(DATA / "velocity_elev.cre", vp_vs_ratio=1.78,
                                reference_elevation_km=0.5)
    np.testing.assert_allclose(model.depth_km, [-1.5, -0.5, 5.0])
    assert "CRE" in model.source


def test_hypoinverse_argument_errors(tmp_path):
    with pytest.raises(InputError, match="pass exactly one of vp_vs_ratio"):
        read_velocity_model(DATA / "velocity_socal.crh")
    with pytest.raises(VelocityModelError, match=r"velocity_socal_s.crh: S layer depths"):
        read_hypoinverse_model(DATA / "velocity_elev.cre", s_path=DATA / "velocity_socal_s.crh")
    crh = write(tmp_path, "neg.crh", "NEG\n 3.00 -1.00\n 5.50 0.00\n")
    with pytest.raises(VelocityModelError,
                       match=r"neg.crh, line 2: negative depth -1.0 km in a CRH"):
        read_hypoinverse_model(crh, vp_vs_ratio=1.78)


@pytest.mark.parametrize("text, match", [
    ("", r"bad.crh, line 1: expected a title line"),
    ("TTL\n", r"bad.crh: no 'velocity depth' lines"),
    ("TTL\n 5.50 0.00\n 6.30 0.00\n", r"bad.crh, line 3: depths must increase"),
    ("TTL\n 5.50 0.00\n 0.00 5.00\n", r"bad.crh, line 3: vp must be positive"),
    ("TTL\n 5.50 0.00\n nan 5.00\n", r"bad.crh, line 3: expected 'velocity depth' numbers"),
    ("TTL\n 5.50\n", r"bad.crh, line 2: missing column"),
])
def test_hypoinverse_bad_input(tmp_path, text, match):
    path = write(tmp_path, "bad.crh", text)
    with pytest.raises(VelocityModelError, match=match):
        read_velocity_model(path, vp_vs_ratio=1.78)


def test_unknown_format():
    with pytest.raises(InputError, match="unknown velocity model format 'xyz'"):
        read_velocity_model(DATA / "velocity_nodes.csv", format="xyz")
