"""Fixtures of the Okada tests: the shared reference directory (../shared beside the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# tests/okada/conftest.py -> parents[2] is the repository root; CI clones shared/ beside it
SHARED_OKADA = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "okada"


def on_ci() -> bool:
    """True where the environment variable ``CI`` is set (not empty, "0" or "false").

    CI services set ``CI=true`` (GitHub Actions, GitLab CI, ...), and ``.ci/run`` sets it when
    unset. There the reference data is part of the checkout, so its absence is an error.
    """
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def okada_reference_dir() -> Path:
    """The Fortran reference cases: skipped without them on a developer's machine, failed on CI
    (a skip there would hide that the reference comparison no longer runs)."""
    if not SHARED_OKADA.is_dir():
        message = (f"Okada reference data not found at {SHARED_OKADA.resolve()} "
                   "(clone the shared materials beside the repository as ../shared)")
        if on_ci():
            pytest.fail(f"{message}; CI is set, so this is an error, not a skip", pytrace=False)
        pytest.skip(message)
    return SHARED_OKADA
