"""Locate a catalogue over a Dask cluster (DESIGN.md section 10).

This module owns the scale-out of :meth:`Locator.run <obspy_hyposvi.locator.Locator.run>`:
the client reads the picks, chooses the projection and screens the events exactly as the serial
path does; the events that SVGD can locate go to the workers in chunks; the results come back
in input order and become origins on the client. The output catalogue and the
:class:`~obspy_hyposvi.locator.LocateReport` (failures, skipped picks, observations) are the
same as the serial run's.

- **One model load per worker.** A worker loads the travel-time models of a model name on the
  first chunk that needs them and keeps them for every later chunk and call (cached on the
  worker, keyed by model name and device). The client loads them once too: it needs their
  valid domain for the search boxes and their provenance for the origins. A model given as a
  path must be readable at the same path on every worker.
- **Same results as the serial path.** Each event's initial particles are seeded by the run
  seed and the event id, and a chunk is cut into the same SVGD batches (``SearchConfig.
  batch_size`` events) as :meth:`~obspy_hyposvi.locator.Locator.run` uses. The same events
  and settings therefore give identical locations, provided the workers run torch with the
  same number of threads and the same library build as the serial run (reductions over
  several threads can change float round-off). Dask's own worker processes use one thread
  (its ``OMP_NUM_THREADS=1`` default).
- **One GPU per worker.** A bare ``device="cuda"`` is resolved on each worker by
  :func:`worker_device`: worker ``k`` of ``n`` visible GPUs uses ``cuda:{k % n}``, so that the
  workers of a ``LocalCluster`` (named 0, 1, ...) spread over the GPUs instead of all using
  ``cuda:0``. An explicit ``"cuda:1"`` or ``"cpu"`` is used as given on every worker; a
  dask-cuda worker, whose own GPU is its ``cuda:0``, uses ``cuda:0``. On GPUs of one model,
  which GPU runs a chunk does not change its arithmetic; with ``SearchConfig(batch_size=
  "auto")`` on a GPU, though, the serial run batches by free memory and the workers by chunk,
  so the locations then equal the serial run's within float round-off only.

Dask is optional: importing this module does not import it; calling
:func:`run_distributed` or :func:`locate_distributed` without it raises an ``ImportError``
that says ``pip install obspy_hyposvi[distributed]``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from obspy import Catalog, Inventory

from .eikonet.layered import DEFAULT_DEPTH_KM, DEFAULT_MAX_OFFSET_KM
from .eikonet.pairing import model_sources
from .errors import HypoSVIError
from .locate.likelihood import LikelihoodConfig
from .locate.engine import ReadyEvent, SearchConfig, locate_ready
from .locate.result import LocationResult
from .locate.summary import SummaryConfig
from .locate.svgd import SVGDConfig
from .locator import LocateReport, Locator

__all__ = ["INSTALL_HINT", "locate_distributed", "run_distributed", "worker_device",
           "exact_model_key"]

#: Prefix of a ``model`` key that names exact layered travel times, not checkpoints.
_EXACT = "exact:"
#: Prefix of a ``model`` key whose checkpoints are used as networks even where their velocity
#: model is layered (``Locator.from_model(..., exact_layered=False)``).
_NETWORK = "network:"


def exact_model_key(velocity, *, max_offset_km: float = DEFAULT_MAX_OFFSET_KM,
                    depth_km: tuple[float, float] = DEFAULT_DEPTH_KM) -> str:
    """The ``model`` of :func:`run_distributed` for the exact first arrivals of a 1D layered
    velocity model (:meth:`Locator.from_velocity_model`): the model itself travels in the key
    (JSON), so no worker needs a file.

    Examples
    --------
    >>> from obspy_hyposvi.velocity import socal_1d
    >>> exact_model_key(socal_1d()).startswith("exact:")
    True
    """
    return _EXACT + json.dumps({"velocity_model": velocity.to_dict(),
                                "max_offset_km": float(max_offset_km),
                                "depth_km": [float(d) for d in depth_km]}, sort_keys=True)


def _locator_for(model: str, device: str, **settings) -> Locator:
    """A locator of a model key: checkpoints by name or path, or exact layered times."""
    if model.startswith(_EXACT):
        from .velocity import model_from_dict

        spec = json.loads(model[len(_EXACT):])
        return Locator.from_velocity_model(model_from_dict(spec["velocity_model"]),
                                           max_offset_km=spec["max_offset_km"],
                                           depth_km=tuple(spec["depth_km"]), device=device,
                                           **settings)
    if model.startswith(_NETWORK):
        return Locator.from_model(model[len(_NETWORK):], device=device, exact_layered=False,
                                  **settings)
    return Locator.from_model(model, device=device, **settings)


logger = logging.getLogger(__name__)

#: What to run when Dask is missing.
INSTALL_HINT = "pip install obspy_hyposvi[distributed]"

#: Attribute of a Dask worker that holds its :class:`_WorkerCache`.
_CACHE_ATTRIBUTE = "_obspy_hyposvi_cache"


def _import_distributed():
    """The ``distributed`` package, or an ``ImportError`` that says how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            "locating over a Dask cluster needs dask.distributed, which is not installed "
            f"({exc}); install it with: {INSTALL_HINT}") from exc
    return distributed


@dataclass(frozen=True)
class _Job:
    """What a worker needs to locate a chunk: the model to load and the SVGD settings."""

    model: str
    device: str
    svgd: SVGDConfig
    likelihood: LikelihoodConfig
    summary: SummaryConfig
    search: SearchConfig
    final: bool = True  # False: an intermediate pass, light summaries


class _WorkerCache:
    """Locators of one worker keyed by ``(model, device)``, the device as resolved on the worker
    (``"cuda:1"``, not ``"cuda"``); loads each at most once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.locators: dict[tuple[str, str], Locator] = {}

    def locator(self, model: str, device: str) -> Locator:
        # the lock keeps two threads of one worker from loading the same models twice
        with self._lock:
            key = (model, device)
            if key not in self.locators:
                logger.info("loading travel-time models %s on %s", model, device)
                # the client checked the P/S pair before any task (refused, or forced)
                self.locators[key] = _locator_for(model, device, force=True)
            return self.locators[key]


def worker_device(device: str, worker_index: int, n_devices: int) -> str:
    """The torch device of Dask worker ``worker_index``: a bare ``"cuda"`` goes round-robin
    over the GPUs the worker sees; any other device is kept as given.

    Parameters
    ----------
    device
        The run's device: ``"cpu"``, ``"cuda"`` (any GPU: one per worker), or an explicit
        ``"cuda:1"`` (that GPU on every worker).
    worker_index
        The worker's index, 0 for the first worker (a ``LocalCluster`` names its workers
        0, 1, ...; see :func:`_worker_index` for other names). Any integer: only its remainder
        by ``n_devices`` counts.
    n_devices
        GPUs visible to the worker (``torch.cuda.device_count()``); read only for ``"cuda"``.

    Returns
    -------
    str
        ``f"cuda:{worker_index % n_devices}"`` for ``"cuda"``, else ``device``.

    Raises
    ------
    ValueError
        ``device`` is ``"cuda"`` and ``n_devices`` < 1.

    Examples
    --------
    >>> [worker_device("cuda", k, 2) for k in range(4)]
    ['cuda:0', 'cuda:1', 'cuda:0', 'cuda:1']
    >>> worker_device("cuda:1", 0, 2), worker_device("cpu", 3, 2)
    ('cuda:1', 'cpu')
    """
    if device != "cuda":
        return device
    if n_devices < 1:
        raise ValueError(f"n_devices={n_devices}: device 'cuda' needs at least one visible GPU")
    return f"cuda:{worker_index % n_devices}"


def _worker_index(name: Any) -> int:
    """A stable index from a Dask worker's name, for :func:`worker_device`.

    - an integer, or a string of digits (``dask worker --name 3``): that integer. A
      ``LocalCluster`` (and the ``--workers`` option of ``hyposvi locate``) names its workers
      0..N-1, so N workers on N GPUs get one GPU each;
    - a name ending in ``-<digits>``: those digits (``dask worker --nworkers 2 --name gpu``
      names its workers ``gpu-0`` and ``gpu-1``; dask-jobqueue's names end so too);
    - any other name (by default a worker is named by its address, ``tcp://host:port``): the
      CRC-32 of the name. It is stable across processes and runs (Python's ``hash`` of a
      string is not), but two such workers may land on the same GPU; name the workers
      0..N-1, or give each an explicit device, to place them.
    """
    if isinstance(name, int) and not isinstance(name, bool):
        return name
    text = str(name)
    if text.isascii() and text.isdigit():
        return int(text)
    match = re.search(r"-(\d+)$", text)
    if match:
        return int(match.group(1))
    return zlib.crc32(text.encode())


def _resolve_device(device: str, worker: Any) -> str:
    """The device ``worker`` runs ``device`` on (:func:`worker_device`, from its name and the
    GPUs it sees).

    Raises
    ------
    HypoSVIError
        ``device`` is ``"cuda"`` and the worker sees no GPU.
    """
    if device != "cuda":
        return device  # no torch.cuda call: a CPU run never touches the CUDA runtime
    if "dask_cuda" in sys.modules:
        # a dask-cuda worker (LocalCUDACluster, dask-cuda-worker) lists its own GPU first in
        # its CUDA_VISIBLE_DEVICES, rotated per worker: its cuda:0 is its own GPU, and
        # cuda:{index} would point several workers at one GPU
        return "cuda:0"
    import torch

    n_devices = torch.cuda.device_count()
    if n_devices < 1:
        raise HypoSVIError(f"Dask worker {worker.name!r} ({worker.address}) sees no CUDA "
                           "device for device='cuda'; run the workers on GPU machines, or "
                           "use device='cpu'")
    return worker_device(device, _worker_index(worker.name), n_devices)


def _current_worker() -> Any:
    """The Dask worker running this task; None outside a worker (e.g. under Dask's
    synchronous scheduler)."""
    from distributed import get_worker

    try:
        return get_worker()
    except ValueError:  # not running on a worker
        return None


def _task_device(device: str, worker: Any) -> str:
    """The device ``worker`` (:func:`_current_worker`) resolves ``device`` to
    (:func:`_resolve_device`); ``device`` as given outside a worker."""
    return device if worker is None else _resolve_device(device, worker)


def _on_device(device: str) -> AbstractContextManager:
    """``torch.cuda.device(device)`` for a CUDA device with an index, else a no-op context."""
    import torch

    torch_device = torch.device(device)
    if torch_device.type != "cuda" or torch_device.index is None:
        return nullcontext()
    return torch.cuda.device(torch_device)


def _worker_locator(model: str, device: str, worker: Any) -> Locator:
    """The cached :class:`Locator` of ``worker`` (:func:`_current_worker`), on ``device`` as
    resolved on it (a fresh one outside a worker)."""
    if worker is None:
        return _locator_for(model, device, force=True)  # checked on the client
    # dict.setdefault is atomic: concurrent first tasks of one worker share one cache
    cache = worker.__dict__.setdefault(_CACHE_ATTRIBUTE, _WorkerCache())
    return cache.locator(model, device)


def _locate_chunk(job: _Job, chunk: Sequence[ReadyEvent]) -> list[LocationResult]:
    """Worker task: SVGD on a chunk of screened events, in ``job.search.batch_size`` batches."""
    worker = _current_worker()
    device = _task_device(job.device, worker)
    # the worker's GPU as torch's current device too: anything that takes the current device
    # (a CUDA context, a default stream) then opens on that GPU, not on every worker's cuda:0
    with _on_device(device):
        locator = _worker_locator(job.model, device, worker)
        return locate_ready(chunk, locator.models, svgd=job.svgd, likelihood=job.likelihood,
                            summary=job.summary, search=job.search, device=device,
                            tables=locator.tables, light=not job.final)


def _model_key(model: str | Path) -> str:
    """A bundled/user model name as given; a path made absolute, so that workers started
    elsewhere find the same file; an :func:`exact_model_key` as it is."""
    if str(model).startswith(_EXACT):
        return str(model)
    if str(model).startswith(_NETWORK):
        return _NETWORK + _model_key(str(model)[len(_NETWORK):])
    p_source, _ = model_sources(model)
    if p_source.endswith("-P.pt"):  # checkpoint files, a bare file name included
        return str(Path(p_source).resolve())
    return p_source


def _check_chunk_size(chunk_size: int | None, search: SearchConfig) -> int:
    """Events per chunk: ``search.batch_size`` by default, else a multiple of it."""
    batch = search.fixed_batch_size
    if chunk_size is None:
        return batch
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size!r}: must be an integer >= 1")
    if chunk_size % batch:
        raise ValueError(
            f"chunk_size={chunk_size} is not a multiple of SearchConfig.batch_size="
            f"{batch}: the chunks would batch events differently from the serial "
            "run and change the results at float round-off; use a multiple of the batch size "
            "or a smaller batch_size")
    return chunk_size


@contextmanager
def _client_for(client: Any, distributed) -> Iterator[Any]:
    """``client``; else the current default client; else a temporary ``LocalCluster``."""
    if client is not None:
        yield client
        return
    try:
        current = distributed.get_client()
    except ValueError:  # no client started in this process
        current = None
    if current is not None:
        yield current
        return
    logger.info("no Dask client given: starting a local cluster for this run")
    with distributed.LocalCluster(processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as local:
        yield local


def run_distributed(catalog: Catalog, inventory: Inventory, *, model: str | Path = "socal-1d",
                    client: Any = None, chunk_size: int | None = None, device: str = "cpu",
                    progress: Callable[[int], None] | None = None, exact_layered: bool = True,
                    **settings: Any) -> LocateReport:
    """Locate every event of ``catalog`` over a Dask cluster; see :meth:`Locator.run`.

    Parameters
    ----------
    catalog
        Events with picks; never modified.
    inventory
        Station metadata.
    model
        Bundled/user model name or path prefix of ``NAME-P.pt``/``NAME-S.pt``, as for
        :meth:`Locator.from_model`; a path must be readable on every worker. Or
        :func:`exact_model_key` of a layered 1D velocity model: its exact travel times.
    client
        A ``distributed.Client``. None uses the current default client, or starts a local
        cluster (one single-threaded worker process per core) for this call.
    chunk_size
        Locatable events per task. None: one SVGD batch (``SearchConfig.batch_size``, 16 by
        default). Must be a multiple of the batch size, so that the results equal the serial
        run's. Smaller chunks spread a small catalogue over more workers.
    device
        Torch device of the workers (and of the client's model load). ``"cuda"`` gives each
        worker one GPU: worker ``k`` of a ``LocalCluster`` (named 0..N-1) uses
        ``cuda:{k % n_gpus}`` (:func:`worker_device`; other worker names: see
        :func:`_worker_index`); an explicit ``"cuda:1"`` puts every worker on that GPU.
    progress
        Called with the number of events finished so far, as chunks come back.
    exact_layered
        As for :meth:`Locator.from_model`: networks of a layered 1D velocity model give way
        to its exact first arrivals (default); False locates on the networks.
    **settings
        ``svgd``, ``likelihood``, ``summary``, ``search`` and ``picks``, as for
        :class:`Locator`.

    Returns
    -------
    LocateReport
        As :meth:`Locator.run` returns for the same events and settings.

    Raises
    ------
    ImportError
        Dask's distributed scheduler is not installed (:data:`INSTALL_HINT`).
    ValueError
        ``chunk_size`` is not a positive multiple of the batch size.
    obspy_hyposvi.errors.HypoSVIError
        As :meth:`Locator.run` (an empty catalogue, no picked station in the inventory, a
        model that cannot be loaded on the client or on a worker).

    Examples
    --------
    >>> from distributed import Client, LocalCluster  # doctest: +SKIP
    >>> from obspy import read_events, read_inventory
    >>> cluster = LocalCluster(n_workers=4, threads_per_worker=1)  # doctest: +SKIP
    >>> with Client(cluster) as client:  # doctest: +SKIP
    ...     report = run_distributed(read_events("picks.xml"), read_inventory("stations.xml"),
    ...                              model="socal-1d", client=client)
    >>> print("\\n".join(report.summary_lines()))  # doctest: +SKIP
    """
    distributed = _import_distributed()
    if not exact_layered and not str(model).startswith(_EXACT):
        model = _NETWORK + str(model)
    # on the client: the models' domain gives the search boxes, their metadata the provenance
    locator = _locator_for(str(model), device, **settings)
    chunk_size = _check_chunk_size(chunk_size, locator.search)
    prepared = locator.prepare(catalog, inventory)
    n_done = len(prepared.failures)
    if progress is not None and n_done:
        progress(n_done)
    with _client_for(client, distributed) as active:
        def dask_pass(events: Sequence[ReadyEvent], svgd, likelihood,
                      final: bool = True) -> list[LocationResult]:
            # one pass of the catalogue run: chunks of whole SVGD batches, one task each
            job = _Job(model=_model_key(model), device=device, svgd=svgd,
                       likelihood=likelihood, summary=locator.summary, search=locator.search,
                       final=final)
            chunks = [list(events[k:k + chunk_size]) for k in range(0, len(events), chunk_size)]
            # as the serial run: events not in this pass count as done
            offset = n_done + len(prepared.usable) - len(events)
            return _run_chunks(active, distributed, job, chunks, offset, progress)

        run = locator.run_passes(prepared, locate_pass=dask_pass)
    return locator.report(catalog, prepared, run)


def _run_chunks(client: Any, distributed, job: _Job, chunks: list[list[ReadyEvent]],
                n_done: int, progress: Callable[[int], None] | None) -> list[LocationResult]:
    """Submit one task per chunk; the results of all chunks, in input order."""
    futures = [client.submit(_locate_chunk, job, chunk, pure=False) for chunk in chunks]
    size = {future.key: len(chunk) for future, chunk in zip(futures, chunks)}
    by_key: dict[Any, list[LocationResult]] = {}
    try:
        for future in distributed.as_completed(futures):
            by_key[future.key] = future.result()  # a failed chunk raises its error here
            n_done += size[future.key]
            if progress is not None:
                progress(n_done)
    except BaseException:
        client.cancel(futures)
        raise
    return [result for future in futures for result in by_key[future.key]]


def locate_distributed(catalog: Catalog, inventory: Inventory, *,
                       model: str | Path = "socal-1d", client: Any = None,
                       chunk_size: int | None = None, device: str = "cpu",
                       progress: Callable[[int], None] | None = None,
                       **settings: Any) -> Catalog:
    """Locate every event over a Dask cluster; returns a new catalogue (see
    :meth:`Locator.locate`). Arguments as for :func:`run_distributed`.

    Examples
    --------
    >>> from obspy_hyposvi.distributed import locate_distributed
    >>> located = locate_distributed(catalog, inventory, client=client)  # doctest: +SKIP
    """
    return run_distributed(catalog, inventory, model=model, client=client,
                           chunk_size=chunk_size, device=device, progress=progress,
                           **settings).catalog
