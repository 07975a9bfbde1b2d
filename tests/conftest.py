"""Shared fixtures: small checkpoints and data made in this repository, nothing downloaded."""

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parent / "data"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


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
