"""What the wheel ships: the package list, the bundled data of data/, and their description.

``pyproject.toml`` lists every package by name because ``obspy_hyposvi.data`` lives in the
top-level ``data/``, where setuptools' package discovery does not look; these tests keep that
list, the package-data patterns and ``data/README.md`` in step with the files.
"""

import fnmatch
from pathlib import Path

import pytest

from obspy_hyposvi.eikonet.checkpoint import load_checkpoint
from obspy_hyposvi.eikonet.model import bundled_model_dir
from obspy_hyposvi.velocity import read_velocity_model, socal_1d

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
#: Files of data/ that are not data: the package marker and its description.
NOT_DATA = {"__init__.py", "README.md"}


def _setuptools() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["tool"]["setuptools"]


def _data_files() -> list[str]:
    return sorted(p.relative_to(DATA).as_posix() for p in DATA.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.name not in NOT_DATA)


def test_every_package_folder_is_listed_and_data_maps_to_the_top_level_folder():
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "obspy_hyposvi").rglob("__init__.py")
             if "__pycache__" not in p.parts}
    config = _setuptools()
    assert set(config["packages"]) == found | {"obspy_hyposvi.data"}
    assert config["package-dir"] == {"obspy_hyposvi.data": "data"}
    assert (DATA / "__init__.py").is_file()  # a regular package: editable installs find it


def test_every_data_file_ships_and_is_described():
    patterns = _setuptools()["package-data"]["obspy_hyposvi.data"]
    readme = (DATA / "README.md").read_text()
    files = _data_files()
    assert {"models/socal-1d-P.pt", "models/socal-1d-S.pt", "examples/picks.xml"} <= set(files)
    for name in files:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name
        assert f"`{name}`" in readme, f"data/README.md does not describe {name}"


def test_bundled_data_is_found_where_the_package_looks():
    assert bundled_model_dir().resolve() == (DATA / "models").resolve()


@pytest.mark.parametrize("phase", ["P", "S"])
def test_velocity_file_is_the_model_of_the_checkpoints_and_of_the_code(phase):
    from_file = read_velocity_model(DATA / "velocity" / "socal-1d.csv")
    from_code = socal_1d()
    assert from_file.kind == from_code.kind and from_file.name == from_code.name
    assert from_file.sha256() == from_code.sha256()  # the same kind and the same floats
    stored = load_checkpoint(bundled_model_dir() / f"socal-1d-{phase}.pt")["metadata"]
    assert stored["velocity_model"]["sha256"] == from_file.sha256()
