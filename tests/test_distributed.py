"""Locating over a Dask cluster gives the serial run's catalogue and report."""

from __future__ import annotations

import copy
import subprocess
import sys
import types
import zlib

import numpy as np
import pytest
import torch
from obspy import Catalog
from obspy.core.event import Event, Pick, ResourceIdentifier

from obspy_hyposvi.bridge.examples import example_dir
from obspy_hyposvi.bridge.picks import read_catalog, read_inventory
from obspy_hyposvi.eikonet.model import bundled_model_dir
from obspy_hyposvi.locate.engine import LocationFailure, SearchConfig
from obspy_hyposvi.locate.result import LocationResult
from obspy_hyposvi.locate.svgd import SVGDConfig
from obspy_hyposvi.locator import Locator

pytestmark = pytest.mark.skipif(
    not (bundled_model_dir() / "socal-1d-P.pt").is_file(),
    reason="bundled socal-1d checkpoints not present")

EXAMPLES = example_dir()
#: Few particles and epochs, two events per SVGD batch: the plumbing, not the accuracy.
SETTINGS = {"svgd": SVGDConfig(n_particles=16, n_epochs=8, seed=5),
            "search": SearchConfig(batch_size=2)}


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    # threads, not processes: starts in about a second, and the tests can count model loads
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def inventory():
    return read_inventory(EXAMPLES / "stations.xml")


@pytest.fixture(scope="module")
def catalog():
    """The six example events, one with an extra unusable pick, and one event with too few
    usable picks in the middle."""
    events = read_catalog(EXAMPLES / "picks.xml")
    first = events[0]
    bogus = first.picks[0].copy()
    bogus.resource_id = ResourceIdentifier("smi:local/test/pick/bogus-phase")
    bogus.phase_hint = "PKP"
    first.picks.append(bogus)
    sparse = Event(resource_id=ResourceIdentifier("smi:local/test/event/sparse"),
                   picks=[_copy_pick(p, k) for k, p in enumerate(events[1].picks[:3])])
    return Catalog(list(events[:3]) + [sparse] + list(events[3:]))


def _copy_pick(pick: Pick, k: int) -> Pick:
    out = pick.copy()
    out.resource_id = ResourceIdentifier(f"smi:local/test/pick/sparse/{k}")
    return out


@pytest.fixture(scope="module")
def serial(catalog, inventory):
    return Locator.from_model("socal-1d", **SETTINGS).run(catalog, inventory)


def _origin_fields(origin):
    """What a location run decides; resource ids and creation times differ between runs."""
    arrivals = [(str(a.pick_id), a.phase, a.distance, a.azimuth, a.time_residual,
                 a.time_weight, [c.text for c in a.comments]) for a in origin.arrivals]
    return (origin.latitude, origin.longitude, origin.depth, origin.time,
            origin.depth_errors.uncertainty, origin.quality.azimuthal_gap,
            origin.origin_uncertainty.confidence_ellipsoid.semi_major_axis_length, arrivals)


def test_same_catalogue_and_report_as_serial(client, catalog, inventory, serial):
    from obspy_hyposvi.distributed import run_distributed

    before = copy.deepcopy(catalog)
    done = []
    report = run_distributed(catalog, inventory, model="socal-1d", client=client, chunk_size=2,
                             progress=done.append, **SETTINGS)
    assert catalog == before  # the input is never modified
    # progress counts the events of each pass of the catalogue run (prior, estimated, ...)
    assert done[-1] == len(catalog) and max(done) == len(catalog)

    # results gathered back in input order, identical to the serial run's (same batches)
    assert [type(r) for r in report.results] == [type(r) for r in serial.results]
    assert isinstance(report.results[3], LocationFailure)
    for ours, theirs in zip(report.results, serial.results):
        assert ours.event_id == theirs.event_id
        if isinstance(ours, LocationResult):
            np.testing.assert_array_equal(ours.hypocentre_xyz_km, theirs.hypocentre_xyz_km)
            np.testing.assert_array_equal(ours.particles_xyz_km, theirs.particles_xyz_km)
            assert ours.origin_time_s == theirs.origin_time_s
        else:
            assert ours == theirs
    assert report.skipped_picks == serial.skipped_picks
    assert report.summary_lines() == serial.summary_lines()
    assert report.projection.crs == serial.projection.crs

    assert [str(e.resource_id) for e in report.catalog] == [str(e.resource_id) for e in catalog]
    for ours, theirs in zip(report.catalog, serial.catalog):
        assert len(ours.origins) == len(theirs.origins)
        if ours.preferred_origin_id is not None and len(ours.origins) > 0:
            assert _origin_fields(ours.preferred_origin()) == _origin_fields(
                theirs.preferred_origin())


def test_one_model_load_per_worker(client, catalog, inventory, monkeypatch):
    import distributed

    from obspy_hyposvi import distributed as hyposvi_distributed

    loads: list[str] = []
    original = Locator.from_model.__func__

    def counting(cls, *args, **kwargs):
        try:
            loads.append(distributed.get_worker().address)
        except ValueError:  # the client's own load
            loads.append("client")
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(Locator, "from_model", classmethod(counting))
    # drop what earlier tests cached on the workers, so that this test sees the first loads
    client.run(lambda dask_worker: dask_worker.__dict__.pop(
        hyposvi_distributed._CACHE_ATTRIBUTE, None))
    for _ in range(2):
        hyposvi_distributed.run_distributed(catalog[:4], inventory, client=client, chunk_size=2,
                                            **SETTINGS)
    on_workers = [who for who in loads if who != "client"]
    assert loads.count("client") == 2  # one per call, for the search boxes and provenance
    assert len(on_workers) == len(set(on_workers)) >= 1  # never twice on one worker


def test_locate_distributed_returns_the_catalogue(client, catalog, inventory, serial):
    from obspy_hyposvi.distributed import locate_distributed

    located = locate_distributed(catalog[:2], inventory, client=client, **SETTINGS)
    assert len(located) == 2
    # the error model is estimated from the catalogue given: compare with the same two events
    alone = Locator.from_model("socal-1d", **SETTINGS).run(catalog[:2], inventory)
    for ours, theirs in zip(located, alone.catalog):
        assert _origin_fields(ours.preferred_origin()) == _origin_fields(
            theirs.preferred_origin())


def test_exact_layered_times_over_dask_equal_the_serial_run(client, catalog, inventory):
    """The velocity model travels in the model key (no file on the workers); the workers'
    exact travel times give the serial run's origins."""
    from obspy_hyposvi.distributed import exact_model_key, run_distributed
    from obspy_hyposvi.velocity import socal_1d

    events = catalog[:3]
    key = exact_model_key(socal_1d(), max_offset_km=200.0)
    report = run_distributed(events, inventory, model=key, client=client, chunk_size=2,
                             **SETTINGS)
    alone = Locator.from_velocity_model(socal_1d(), max_offset_km=200.0,
                                        **SETTINGS).run(events, inventory)
    assert report.n_located == alone.n_located == 3
    for ours, theirs in zip(report.catalog, alone.catalog):
        assert _origin_fields(ours.preferred_origin()) == _origin_fields(
            theirs.preferred_origin())
    assert report.results[0].extra.get("n_epochs") == alone.results[0].extra.get("n_epochs")


def test_chunk_size_must_keep_the_batches(catalog, inventory):
    pytest.importorskip("distributed")
    from obspy_hyposvi.distributed import run_distributed

    with pytest.raises(ValueError, match="chunk_size=3 is not a multiple of "
                                         "SearchConfig.batch_size=2"):
        run_distributed(catalog, inventory, chunk_size=3, **SETTINGS)
    with pytest.raises(ValueError, match="chunk_size=0"):
        run_distributed(catalog, inventory, chunk_size=0, **SETTINGS)


def test_without_dask_the_error_says_how_to_install(monkeypatch, catalog, inventory):
    from obspy_hyposvi.distributed import run_distributed

    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    with pytest.raises(ImportError, match=r"pip install obspy_hyposvi\[distributed\]"):
        run_distributed(catalog, inventory, **SETTINGS)


@pytest.mark.parametrize("device, worker_index, n_devices, expected", [
    ("cuda", 0, 2, "cuda:0"),
    ("cuda", 1, 2, "cuda:1"),
    ("cuda", 2, 2, "cuda:0"),  # more workers than GPUs: round-robin
    ("cuda", 5, 4, "cuda:1"),
    ("cuda", 3, 1, "cuda:0"),
    ("cuda:1", 0, 2, "cuda:1"),  # an explicit GPU stays that GPU on every worker
    ("cuda:1", 3, 4, "cuda:1"),
    ("cpu", 1, 2, "cpu"),
    ("cpu", 1, 0, "cpu"),  # the GPU count does not matter off CUDA
])
def test_worker_device_maps_bare_cuda_round_robin(device, worker_index, n_devices, expected):
    from obspy_hyposvi.distributed import worker_device

    assert worker_device(device, worker_index, n_devices) == expected


def test_worker_device_needs_a_gpu_for_cuda():
    from obspy_hyposvi.distributed import worker_device

    with pytest.raises(ValueError, match="n_devices=0"):
        worker_device("cuda", 0, 0)


@pytest.mark.parametrize("name, expected", [
    (0, 0), (3, 3),  # LocalCluster
    ("3", 3),  # dask worker --name 3
    ("gpu-1", 1),  # dask worker --nworkers 2 --name gpu
    ("SLURMCluster-3-0", 0),  # dask-jobqueue: job 3, its first worker
    ("tcp://127.0.0.1:40119", zlib.crc32(b"tcp://127.0.0.1:40119")),  # the default: address
    ("node-a", zlib.crc32(b"node-a")),
])
def test_worker_index_from_the_worker_name(name, expected):
    from obspy_hyposvi.distributed import _worker_index

    assert _worker_index(name) == expected


def _device_here(device: str) -> tuple:
    """Task run on one worker: its name and the device it resolves ``device`` to."""
    from distributed import get_worker

    from obspy_hyposvi.distributed import _task_device

    worker = get_worker()
    return worker.name, _task_device(device, worker)  # as _locate_chunk resolves it


def _resolved_on_each_worker(client, device: str) -> dict:
    """``{worker name: resolved device}``, from one task pinned to each worker."""
    futures = [client.submit(_device_here, device, workers=[address], pure=False)
               for address in client.scheduler_info()["workers"]]
    return dict(client.gather(futures))


def test_each_worker_resolves_its_own_gpu(client, monkeypatch):
    # the workers are threads of this process (processes=False): they see this torch.cuda
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert _resolved_on_each_worker(client, "cuda") == {0: "cuda:0", 1: "cuda:1"}
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert _resolved_on_each_worker(client, "cuda") == {0: "cuda:0", 1: "cuda:0"}
    assert _resolved_on_each_worker(client, "cuda:1") == {0: "cuda:1", 1: "cuda:1"}
    # a dask-cuda worker's own GPU is its cuda:0 (its CUDA_VISIBLE_DEVICES starts with it)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setitem(sys.modules, "dask_cuda", types.ModuleType("dask_cuda"))
    assert _resolved_on_each_worker(client, "cuda") == {0: "cuda:0", 1: "cuda:0"}


def test_cpu_stays_cpu_on_every_worker(client, monkeypatch):
    from obspy_hyposvi.errors import HypoSVIError

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)  # not read for "cpu"
    assert _resolved_on_each_worker(client, "cpu") == {0: "cpu", 1: "cpu"}
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    with pytest.raises(HypoSVIError, match="sees no CUDA device"):
        _resolved_on_each_worker(client, "cuda")


def _cached_devices(client) -> dict:
    """``{worker name: sorted devices of its cached locators}``; empties the caches after."""
    from obspy_hyposvi.distributed import _CACHE_ATTRIBUTE

    def devices(dask_worker):
        cache = dask_worker.__dict__.pop(_CACHE_ATTRIBUTE, None)
        return sorted({device for _, device in cache.locators}) if cache else []

    names = {address: info["name"]
             for address, info in client.scheduler_info()["workers"].items()}
    return {names[address]: found for address, found in client.run(devices).items()}


def test_cpu_run_caches_its_models_under_cpu(client, catalog, inventory):
    from obspy_hyposvi.distributed import run_distributed

    _cached_devices(client)  # drop what earlier tests cached
    run_distributed(catalog[:4], inventory, client=client, chunk_size=2, device="cpu",
                    **SETTINGS)
    cached = _cached_devices(client)
    assert any(cached.values())  # some worker located a chunk
    assert all(found in ([], ["cpu"]) for found in cached.values())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_two_workers_on_cuda_match_the_serial_cuda_run(client, catalog, inventory):
    from obspy_hyposvi.distributed import run_distributed

    serial = Locator.from_model("socal-1d", device="cuda", **SETTINGS).run(catalog, inventory)
    _cached_devices(client)  # drop what earlier tests cached
    report = run_distributed(catalog, inventory, client=client, chunk_size=2, device="cuda",
                             **SETTINGS)
    # worker k of the LocalCluster resolved "cuda" to GPU k mod n_gpus
    n_gpus = torch.cuda.device_count()
    for name, found in _cached_devices(client).items():
        assert found in ([], [f"cuda:{name % n_gpus}"])
    # the same SVGD batches (batch_size=2) on GPUs of one model: equal up to float round-off
    # (CUDA kernels need not be bit-reproducible), far below any location's spread
    assert [type(r) for r in report.results] == [type(r) for r in serial.results]
    for ours, theirs in zip(report.results, serial.results):
        assert ours.event_id == theirs.event_id
        if isinstance(ours, LocationResult):
            np.testing.assert_allclose(ours.hypocentre_xyz_km, theirs.hypocentre_xyz_km,
                                       rtol=0, atol=1e-3)  # km
            np.testing.assert_allclose(ours.origin_time_s, theirs.origin_time_s,
                                       rtol=0, atol=1e-4)  # s


def test_importing_the_package_does_not_import_dask():
    code = ("import sys, obspy_hyposvi, obspy_hyposvi.distributed, obspy_hyposvi.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_a_network_key_keeps_the_networks_of_a_layered_model():
    """Workers build their locator from the model key: the networks travel as a prefixed key,
    and a plain name gives the exact times of its layered model (as Locator.from_model)."""
    from obspy_hyposvi.distributed import _locator_for, _model_key

    key = _model_key("network:socal-1d")
    assert key.startswith("network:")
    assert _locator_for(key, "cpu").p_model.name == "socal-1d (P)"
    assert _locator_for(_model_key("socal-1d"), "cpu").p_model.name == "socal-1d (P, exact)"
