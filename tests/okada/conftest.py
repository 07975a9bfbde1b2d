"""Fixtures of the Okada tests: the shared reference directory (../shared beside the repo)."""

from __future__ import annotations

from pathlib import Path

import pytest

# tests/okada/conftest.py -> parents[2] is the repository root; CI clones shared/ beside it
SHARED_OKADA = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "okada"


@pytest.fixture(scope="session")
def okada_reference_dir() -> Path:
    if not SHARED_OKADA.is_dir():
        pytest.skip(f"Okada reference data not found at {SHARED_OKADA.resolve()} "
                    "(clone the shared materials beside the repository as ../shared)")
    return SHARED_OKADA
