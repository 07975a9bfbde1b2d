"""End to end on real data: NonLinLoc's southern Alaska sample (slow; not in the default run).

Runs ``benchmarks/alaska_nonlinloc.py --quick`` on checkpoints trained beforehand (``python
benchmarks/alaska_nonlinloc.py --train``) and checks the run, not the benchmark's figures:
every event located, the picks of the five stations without coordinates skipped (weight-0
arrivals) rather than fatal, and the mainshock, the best-recorded event, close to NonLinLoc's.
Skipped when the data (``../shared/realdata``, GPL-3, never copied into the repository) or the
checkpoints are missing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "alaska_nonlinloc.py"
DATA = ROOT.parent / "shared" / "realdata" / "nll_southern_alaska_2018"
MODELS = ROOT / "benchmarks" / ".cache" / "alaska"
#: The five picked stations the inventory has no coordinates for.
NO_COORDINATES = ["NP040_D0", "NP0521", "NP_ABBK1", "NP_AHOU1", "NP_AMJG1"]
#: Mainshock (35 NonLinLoc phases, 36 km to 244 km): a quick run (60 particles x 80 epochs)
#: must land within this of NonLinLoc's epicentre, km; a few km covers the two locators'
#: different pick sets (NonLinLoc ignores stations beyond its grid) and search settings.
MAINSHOCK_EPICENTRE_KM = 5.0
#: ... and of its depth (45 km; NonLinLoc's 68 % semi-axis is 6 km, mostly vertical), km.
MAINSHOCK_DEPTH_KM = 10.0

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> dict:
    if not (DATA / "obspy" / "catalog.xml").is_file():
        pytest.skip(f"no real data at {DATA}")
    if not all((MODELS / f"alaska-nll-1d-{ph}.pt").is_file() for ph in "PS"):
        pytest.skip(f"no trained checkpoints in {MODELS}: run "
                    "python benchmarks/alaska_nonlinloc.py --train")
    out = tmp_path_factory.mktemp("alaska") / "alaska.json"
    run = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--models", str(MODELS),
                          "--output", str(out)], check=False, capture_output=True, text=True,
                         timeout=1800)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(out.read_text())


def test_every_event_located(result):
    run = result["runs"]["all_picks"]
    assert run["n_located"] == run["n_events"] == 7
    assert run["failures"] == []


def test_stations_without_coordinates_skipped_not_fatal(result):
    run = result["runs"]["all_picks"]
    assert run["stations_without_coordinates"] == NO_COORDINATES
    n_skipped = sum(e["ours"]["n_weight0_arrivals"] for e in run["events"])
    assert n_skipped == len(run["skipped_picks"]) == 9
    for event in run["events"]:
        assert event["ours"]["n_picks_used"] + event["ours"]["n_weight0_arrivals"] == \
            event["n_picks_in"]


def test_mainshock_close_to_nonlinloc(result):
    mainshock = result["runs"]["all_picks"]["events"][0]
    assert mainshock["epicentral_km"] < MAINSHOCK_EPICENTRE_KM
    assert abs(mainshock["depth_diff_km"]) < MAINSHOCK_DEPTH_KM
