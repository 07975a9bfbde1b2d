"""Posterior samples (.npz round trip) and the solution table of a run."""

from __future__ import annotations

import csv
import dataclasses
import io

import numpy as np
import pytest
from obspy import Catalog

from obspy_hyposvi.bridge.samples import (
    EVENT_FIELDS,
    FORMAT_VERSION,
    PARTICLE_FIELDS,
    read_samples,
    write_samples,
)
from obspy_hyposvi.bridge.table import solution_rows, table_csv, table_lines, write_table
from obspy_hyposvi.errors import InputError
from obspy_hyposvi.locate.posterior import PLACED_LOG_PROB
from obspy_hyposvi.locate.result import LocationResult
from obspy_hyposvi.locate.svgd import SVGDConfig
from obspy_hyposvi.locator import Locator

from .conftest import T0, make_event, make_inventory, make_pick

#: Few particles and epochs: these tests check the bookkeeping, not the location.
FAST = SVGDConfig(n_particles=8, n_epochs=2)


def _sparse_event():
    """Two usable picks: not locatable."""
    from obspy.core.event import Event

    return Event(resource_id="smi:local/test/event/sparse", picks=[
        make_pick("XX.S01..HHZ", "P", T0 + 2.0), make_pick("XX.S02..HHZ", "P", T0 + 2.5)])


@pytest.fixture(scope="module")
def report():
    """One located event and one not located, with the bundled model at tiny settings."""
    locator = Locator.from_model("socal-1d", svgd=FAST)
    return locator.run(Catalog([make_event(), _sparse_event()]), make_inventory())


# ---------------------------------------------------------------------------------------------
# samples


def test_result_keeps_each_particle(report):
    result = report.results[0]
    n = len(result.particles_xyz_km)
    assert result.particle_log_prob.shape == result.particle_origin_time_s.shape == (n,)
    labels = result.particle_mode_label
    assert np.array_equal(labels == 0, result.cluster_mask)
    assert np.array_equal(labels >= 0, result.placed_mask)


def test_samples_round_trip(tmp_path, report):
    path = tmp_path / "samples.npz"
    assert write_samples(report, path) == 1  # the located event only
    samples = read_samples(path)
    assert samples.format_version == FORMAT_VERSION and samples.n_events == 1
    event, result, obs = report.catalog[0], report.results[0], report.observations[0]
    assert samples.events["event_id"].tolist() == [str(event.resource_id)]
    assert samples.events["origin_id"].tolist() == [str(event.preferred_origin_id)]
    assert samples.events["catalog_index"].tolist() == [0]
    assert samples.events["crs"].tolist() == [report.projections[0].crs]
    particles = samples.event(str(event.resource_id))
    xyz = result.particles_xyz_km
    np.testing.assert_array_equal(particles["depth_km"], xyz[:, 2])
    np.testing.assert_array_equal(particles["x_km"], xyz[:, 0])
    lon, lat, _ = report.projections[0].to_lonlat(xyz[:, 0], xyz[:, 1])
    np.testing.assert_allclose(particles["longitude_deg"], lon, rtol=0, atol=1e-12)
    np.testing.assert_allclose(particles["latitude_deg"], lat, rtol=0, atol=1e-12)
    # absolute origin times, POSIX s: float64 holds them to well below a microsecond
    expected = obs.reference_time.timestamp + result.particle_origin_time_s
    np.testing.assert_allclose(particles["origin_time"], expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(particles["log_posterior"], result.particle_log_prob)
    np.testing.assert_array_equal(particles["mode_label"], result.particle_mode_label)
    np.testing.assert_array_equal(particles["in_dominant"], result.cluster_mask)
    placed = particles["log_posterior"] >= particles["log_posterior"].max() - PLACED_LOG_PROB
    if placed.sum() > 3:  # the posterior module's rule, when enough particles are placed
        np.testing.assert_array_equal(particles["placed"], placed)
    # the mean of the dominant mode is the hypocentre
    np.testing.assert_allclose(xyz[particles["in_dominant"]].mean(axis=0),
                               result.hypocentre_xyz_km, atol=1e-9)


def test_samples_file_is_plain_numpy(tmp_path, report):
    path = tmp_path / "samples.data"  # any suffix: the name is kept as given
    write_samples(report, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samples.data"]
    with np.load(path, allow_pickle=False) as archive:
        assert set(PARTICLE_FIELDS + EVENT_FIELDS) <= set(archive.files)
        assert str(archive["format"]) == "obspy_hyposvi posterior samples"


def test_samples_without_per_particle_values(tmp_path, report):
    result = dataclasses.replace(report.results[0], particle_log_prob=None,
                                 particle_origin_time_s=None, particle_mode_label=None)
    older = dataclasses.replace(report, results=[result, report.results[1]])
    write_samples(older, tmp_path / "s.npz")
    particles = read_samples(tmp_path / "s.npz").event(0)
    assert np.isnan(particles["log_posterior"]).all() and np.isnan(particles["origin_time"]).all()
    np.testing.assert_array_equal(particles["in_dominant"], result.cluster_mask)


def test_samples_of_a_run_that_located_nothing(tmp_path, report):
    nothing = dataclasses.replace(report, results=[report.results[1]],
                                  catalog=Catalog([report.catalog[1]]))
    assert write_samples(nothing, tmp_path / "s.npz") == 0
    samples = read_samples(tmp_path / "s.npz")
    assert samples.n_events == 0 and samples.particles["depth_km"].shape == (0,)


def test_read_samples_refuses_other_files(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(InputError, match="not an obspy_hyposvi posterior samples file"):
        read_samples(tmp_path / "other.npz")
    with pytest.raises(InputError, match="cannot read"):
        read_samples(tmp_path / "missing.npz")
    (tmp_path / "text.npz").write_text("not numpy")
    with pytest.raises(InputError, match="cannot read"):
        read_samples(tmp_path / "text.npz")


def test_unknown_event_key(tmp_path, report):
    write_samples(report, tmp_path / "s.npz")
    samples = read_samples(tmp_path / "s.npz")
    with pytest.raises(KeyError):
        samples.event("smi:local/nothing")
    with pytest.raises(KeyError):
        samples.event(5)
    assert [eid for eid, _ in samples] == [str(report.catalog[0].resource_id)]


# ---------------------------------------------------------------------------------------------
# solution table


def test_rows_read_from_the_origins_written(report):
    rows = solution_rows(report)
    assert [r.number for r in rows] == [1, 2]
    row, origin = rows[0], report.catalog[0].preferred_origin()
    assert isinstance(report.results[0], LocationResult)
    assert row.latitude_deg == origin.latitude and row.depth_km == origin.depth / 1e3
    # errors back in km: one sigma of the posterior (68.27 %)
    cov = np.asarray(report.results[0].covariance_km2)
    assert row.err_depth_km == pytest.approx(np.sqrt(cov[2, 2]))
    assert row.err_lat_km == pytest.approx(np.sqrt(cov[1, 1]), rel=0.02)  # grid vs geographic
    assert row.rms_s == pytest.approx(origin.quality.standard_error)
    assert row.phases_used == origin.quality.used_phase_count
    assert row.status == origin.evaluation_status
    assert rows[1].status == "not located" and "picks" in rows[1].note
    assert rows[1].latitude_deg is None


def test_printed_table(report):
    lines = table_lines(solution_rows(report))
    assert "68.27 % confidence" in lines[0]
    header = lines[1].split()
    assert header[:3] == ["#", "event", "origin"] and header[-2:] == ["phases", "status"]
    first = lines[2].split()
    assert first[0] == "1" and first[1] == "1"  # the last part of smi:local/test/event/1
    assert first[2].startswith("2020-01-01T") and len(first[2]) == 22  # to 0.01 s
    sparse = next(line for line in lines if line.split()[:2] == ["2", "sparse"])
    assert sparse.rstrip().endswith("not located")


def test_csv_table(tmp_path, report):
    rows = solution_rows(report)
    write_table(rows, tmp_path / "table.csv")
    text = (tmp_path / "table.csv").read_text()
    assert text == table_csv(rows)
    records = list(csv.DictReader(io.StringIO(text)))
    assert [r["event_id"] for r in records] == [str(e.resource_id) for e in report.catalog]
    assert float(records[0]["depth_km"]) == pytest.approx(rows[0].depth_km)
    assert records[1]["latitude_deg"] == "" and records[1]["status"] == "not located"
