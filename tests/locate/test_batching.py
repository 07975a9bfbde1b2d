"""Batch sizes of the SVGD runs: fixed, or chosen from the device's free memory."""

import pytest
import torch

from obspy_hyposvi.locate.engine import CPU_BATCH_SIZE, SearchConfig


def test_fixed_batch_size_is_used_as_given_everywhere():
    search = SearchConfig(batch_size=5)
    assert search.events_per_batch(100, 150, 30, torch.device("cpu")) == 5
    assert search.events_per_batch(100, 150, 30, torch.device("cuda")) == 5
    assert search.fixed_batch_size == 5


def test_auto_batch_on_a_cpu_is_the_cpu_default():
    search = SearchConfig()
    assert search.batch_size == "auto"
    assert search.events_per_batch(1000, 150, 30, torch.device("cpu")) == CPU_BATCH_SIZE
    assert search.fixed_batch_size == CPU_BATCH_SIZE


def test_auto_batch_on_a_gpu_follows_its_free_memory(monkeypatch):
    free = {"bytes": 80 * 2**30}
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (free["bytes"],
                                                                         140 * 2**30))
    search, gpu = SearchConfig(), torch.device("cuda")
    # 150 particles x 31^2 slot pairs x 32 bytes = 4.6 MB per event: half of 80 GiB holds ~9300
    big = search.events_per_batch(100_000, 150, 30, gpu)
    assert 8000 < big < 10_000
    assert search.events_per_batch(500, 150, 30, gpu) == 500  # never more than the events
    # four times the picks, sixteen times the pairs: a sixteenth of the events
    assert search.events_per_batch(100_000, 150, 123, gpu) == pytest.approx(big / 16, rel=0.05)
    free["bytes"] = 1000
    assert search.events_per_batch(100, 150, 30, gpu) == 1  # at least one event per batch


@pytest.mark.parametrize("bad", [0, -3, "big", 2.5])
def test_batch_size_must_be_auto_or_a_positive_integer(bad):
    with pytest.raises(ValueError, match=r"batch_size must be 'auto' or an int in \[1, inf\)"):
        SearchConfig(batch_size=bad)
