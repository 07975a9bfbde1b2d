"""Shared fixtures: small checkpoints and data made in this repository, nothing downloaded."""

import os
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parent / "data"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"

# scripts that write test data, not tests: --doctest-modules (pyproject.toml) would import them
collect_ignore = ["data/make_tiny_checkpoint.py", "okada/derive_vertical_series.py"]


def pytest_configure(config):
    """One torch thread unless OMP_NUM_THREADS says otherwise.

    The tests check results, not parallel speed. On a 2-core machine whose cores are busy
    with other jobs, every parallel torch operation waits (spinning) for a descheduled thread
    (README, "Location speed"): tests/locate/test_svgd.py's Gaussian tests took 117 s of CPU
    with torch's default of 2 threads and 9.5 s with one, and the default run over 25 min.
    """
    if "OMP_NUM_THREADS" not in os.environ:
        import torch

        torch.set_num_threads(1)


@pytest.fixture
def rng():
    return np.random.default_rng(42)


@pytest.fixture(scope="session")
def tiny_model_path() -> Path:
    """Path prefix of the homogeneous (Vp 6.0, Vs 3.5 km/s) tiny checkpoints."""
    return DATA / "tiny-homogeneous"


@pytest.fixture(scope="session")
def tiny_models(tiny_model_path):
    from obspy_hyposvi.eikonet.model import load_model
    return (load_model(f"{tiny_model_path}-P.pt", "P"), load_model(f"{tiny_model_path}-S.pt", "S"))
