"""Tests of obspy_hyposvi.velocity.grid3d: Grid3D validation, interpolation, I/O and the demo."""

import json

import numpy as np
import pytest
import torch

from obspy_hyposvi.errors import InputError, OutsideModelDomainError, VelocityModelError
from obspy_hyposvi.geo import Projection
from obspy_hyposvi.velocity import (
    Grid3D,
    basin_demo_model,
    grid3d_from_dict,
    read_velocity_model,
    socal_1d,
)

# trilinear interpolation reproduces linear fields to round-off
LINEAR_ATOL = 1e-12
# float32 torch path against float64 numpy
FLOAT32_RTOL = 1e-6


def linear_grid(crs="EPSG:32611"):
    x = np.linspace(0.0, 10.0, 6)
    y = np.linspace(-5.0, 5.0, 5)
    z = np.linspace(-2.0, 20.0, 12)
    xx, yy, zz = np.meshgrid(x, y, z, indexing="ij")
    vp = 5.0 + 0.01 * xx - 0.02 * yy + 0.1 * zz
    return Grid3D(x_km=x, y_km=y, z_km=z, vp_kmps=vp, vs_kmps=vp / 1.75, crs=crs, name="linear")


def exact_linear(xyz):
    return 5.0 + 0.01 * xyz[:, 0] - 0.02 * xyz[:, 1] + 0.1 * xyz[:, 2]


@pytest.fixture
def rng():
    return np.random.default_rng(42)


def random_points(rng, grid, n=500):
    (x0, x1), (y0, y1), (z0, z1) = grid.bounds_km
    return np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n), rng.uniform(z0, z1, n)])


def test_trilinear_is_exact_on_linear_field(rng):
    grid = linear_grid()
    pts = random_points(rng, grid)
    np.testing.assert_allclose(grid.velocity(pts, "P"), exact_linear(pts), atol=LINEAR_ATOL)
    np.testing.assert_allclose(grid.velocity(pts, "S"), exact_linear(pts) / 1.75, atol=LINEAR_ATOL)
    # the upper corner, exactly on the last node
    corner = np.array([[10.0, 5.0, 20.0]])
    np.testing.assert_allclose(grid.velocity(corner, "P"), exact_linear(corner))


def test_torch_matches_numpy(rng):
    grid = linear_grid()
    pts = random_points(rng, grid)
    for dtype, rtol in ((torch.float64, LINEAR_ATOL), (torch.float32, FLOAT32_RTOL)):
        out = grid.velocity_torch(torch.tensor(pts, dtype=dtype), "P")
        assert out.dtype == dtype and out.shape == (pts.shape[0],)
        np.testing.assert_allclose(out.double().numpy(), grid.velocity(pts, "P"), rtol=rtol)


def test_outside_raises_or_clamps():
    grid = linear_grid()
    pts = np.array([[5.0, 0.0, 5.0], [11.0, 0.0, 5.0]])
    with pytest.raises(OutsideModelDomainError, match=r"\[11.0, 0.0, 5.0\] km \(row 1\)"):
        grid.velocity(pts, "P")
    with pytest.raises(OutsideModelDomainError, match="row 1"):
        grid.velocity_torch(torch.tensor(pts), "P")
    clamped = grid.velocity(pts, "P", outside="clamp")
    np.testing.assert_allclose(clamped[1], exact_linear(np.array([[10.0, 0.0, 5.0]]))[0])
    torch_clamped = grid.velocity_torch(torch.tensor(pts), "P", outside="clamp")
    np.testing.assert_allclose(torch_clamped.numpy(), clamped)
    assert grid.contains(pts).tolist() == [True, False]


def test_bounding_box_and_metadata():
    grid = linear_grid()
    assert grid.bounds_km == ((0.0, 10.0), (-5.0, 5.0), (-2.0, 20.0))
    np.testing.assert_allclose(grid.spacing_km, [2.0, 2.5, 2.0])
    meta = grid.to_dict()
    json.dumps(meta)  # JSON-safe
    assert meta["shape"] == [6, 5, 12] and meta["axes"]["z_km"]["spacing"] == 2.0
    assert meta["sha256"] == grid.sha256()
    other = Grid3D(x_km=grid.x_km, y_km=grid.y_km, z_km=grid.z_km, vp_kmps=grid.vp_kmps + 1e-9,
                   vs_kmps=grid.vs_kmps, crs=grid.crs)
    assert other.sha256() != grid.sha256()


def test_npz_round_trip_and_from_dict(tmp_path):
    grid = linear_grid()
    path = tmp_path / "linear.npz"
    grid.save_npz(path)
    loaded = read_velocity_model(path)
    assert isinstance(loaded, Grid3D)
    assert loaded.sha256() == grid.sha256() and loaded.crs == "EPSG:32611"
    meta = loaded.to_dict()
    assert meta["file"] == "linear.npz"
    assert grid3d_from_dict(meta, tmp_path).sha256() == grid.sha256()
    # a changed file is detected
    np.savez(path, x_km=grid.x_km, y_km=grid.y_km, z_km=grid.z_km, vp=grid.vp_kmps * 1.01,
             vs=grid.vs_kmps, crs="EPSG:32611")
    with pytest.raises(VelocityModelError, match="linear.npz: the grid's sha256 does not match"):
        grid3d_from_dict(meta, tmp_path)


def test_npz_lonlat_is_resampled(tmp_path):
    lon = np.linspace(-118.0, -117.0, 11)
    lat = np.linspace(33.5, 34.5, 11)
    depth = np.array([-2.0, 4.0, 10.0, 16.0])
    vp = np.broadcast_to(5.0 + 0.1 * depth, (11, 11, 4)) + 0.5 * (lon[:, None, None] + 117.5)
    path = tmp_path / "geo.npz"
    np.savez(path, lon_deg=lon, lat_deg=lat, depth_km=depth, vp=vp)
    with pytest.raises(InputError, match="geo.npz: the grid has lon/lat axes; pass a Projection"):
        Grid3D.from_npz(path, vp_vs_ratio=1.73)
    proj = Projection("EPSG:32611")
    grid = Grid3D.from_npz(path, projection=proj, vp_vs_ratio=1.73)
    assert grid.crs == "EPSG:32611" and "resampled" in grid.source
    # every node maps back inside the lon/lat box, where the field is linear in lon and depth
    xx, yy = np.meshgrid(grid.x_km, grid.y_km, indexing="ij")
    node_lon, node_lat, _ = proj.to_lonlat(xx.ravel(), yy.ravel())
    assert node_lon.min() >= lon[0] - 1e-9 and node_lat.max() <= lat[-1] + 1e-9
    expected = 5.0 + 0.1 * 10.0 + 0.5 * (node_lon + 117.5)
    np.testing.assert_allclose(grid.vp_kmps[:, :, 2].ravel(), expected, atol=1e-9)
    assert 7.0 < grid.spacing_km[0] < 10.0  # 0.1 deg of longitude at 34 N is about 9.2 km


@pytest.mark.parametrize("change, match", [
    ({"vp": "nan"}, r"bad.npz\): vp_kmps is not finite at index \(1, 2, 3\), x/y/z = \(2.0"),
    ({"vp": "negative"}, r"bad.npz\): vp_kmps must be positive, got -1.0 at index \(1, 2, 3\)"),
    ({"vs": "shape"}, r"bad.npz\): vs_kmps has shape \(6, 5, 11\)"),
    ({"z_km": "nonmonotonic"}, r"bad.npz\): axis z_km must increase strictly"),
    ({"z_km": "uneven"}, r"bad.npz\): axis z_km must be evenly spaced"),
    ({"crs": "missing"}, r"bad.npz: projected axes x/y/z need a 'crs'"),
    ({"crs": "EPSG:4326"}, r"bad.npz\): CRS 'EPSG:4326' is not a projected CRS"),
    ({"vp": "missing"}, r"bad.npz: no 'vp' \(or 'vp_kmps'\) array"),
])
def test_npz_bad_input(tmp_path, change, match):
    grid = linear_grid()
    arrays = dict(x_km=grid.x_km, y_km=grid.y_km, z_km=grid.z_km.copy(), vp=grid.vp_kmps.copy(),
                  vs=grid.vs_kmps, crs="EPSG:32611")
    (key, how), = change.items()
    if how == "nan":
        arrays[key][1, 2, 3] = np.nan
    elif how == "negative":
        arrays[key][1, 2, 3] = -1.0
    elif how == "shape":
        arrays[key] = arrays[key][:, :, :-1]
    elif how == "nonmonotonic":
        arrays[key][4] = arrays[key][3]
    elif how == "uneven":
        arrays[key][4] += 0.5
    elif how == "missing":
        del arrays[key]
    else:
        arrays[key] = how
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(VelocityModelError, match=match):
        Grid3D.from_npz(path)


def test_npz_unreadable(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_text("not a zip")
    with pytest.raises(InputError, match=r"junk.npz: cannot read as an .npz velocity grid"):
        Grid3D.from_npz(path)


def test_from_1d_matches_model_at_nodes():
    model = socal_1d()
    z = np.arange(-3.0, 41.0, 1.0)
    grid = Grid3D.from_1d(model, [0.0, 5.0], [0.0, 5.0], z, "EPSG:32611")
    pts = np.column_stack([np.full(z.size, 2.5), np.full(z.size, 2.5), z])
    np.testing.assert_allclose(grid.velocity(pts, "S"), model.velocity(z, "S"))


def test_basin_demo_model():
    grid = basin_demo_model(spacing_km=2.0)
    assert grid.bounds_km[0] == (0.0, 120.0) and grid.bounds_km[2][0] == -3.0
    # far from the basin: socal-1d
    far = np.array([[5.0, 5.0, 1.0], [5.0, 5.0, 21.0], [5.0, 5.0, 35.0]])
    np.testing.assert_allclose(grid.velocity(far, "P"), [5.5, 6.7, 7.8])
    np.testing.assert_allclose(grid.velocity(far, "S"), np.array([5.5, 6.7, 7.8]) / 1.73)
    # basin centre: slow, Vp rising with depth, Vp/Vs of sediments (> 1.73)
    centre = np.array([[60.0, 60.0, z] for z in (-1.0, 1.0, 3.0)])
    vp, vs = grid.velocity(centre, "P"), grid.velocity(centre, "S")
    np.testing.assert_allclose(vp, [2.5, 2.9, 3.7])
    assert np.all(np.diff(vp) > 0) and np.all(vp / vs > 1.8)  # Brocher: 2.54 at the top
    # the basin is 40 km x 25 km: 22 km from the centre along x is outside, 11 km along y inside
    np.testing.assert_allclose(grid.velocity([[82.0, 60.0, 1.0], [60.0, 71.0, 1.0]], "P"),
                               [5.5, 2.9])
    assert grid.velocity_range("P") == (2.5, 7.8)
