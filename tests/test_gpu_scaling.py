"""``benchmarks/gpu_scaling.py --quick --device cpu`` end to end (slow; not in the default run).

Checks the run and its JSON, not the figures: every part measured at least one size, the
Table 3 rows carry the paper's and the issue's figures, and the provenance (device name,
torch version, date) is recorded. The same script runs on a lent GPU through
``scripts/gpu_check.sh``.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_scaling.py"
#: The quick run's own budget is 90 s; the limit leaves room for imports on a busy machine.
TIMEOUT_S = 600

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("gpu_scaling") / "gpu_scaling.json"
    env = {k: v for k, v in os.environ.items() if k != "OUT"}  # --output decides
    run = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--device", "cpu",
                          "--threads", "1", "--output", str(out)], check=False,
                         capture_output=True, text=True, timeout=TIMEOUT_S, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "table3" in run.stdout and "training" in run.stdout
    return json.loads(out.read_text())


def test_provenance_recorded(result):
    assert result["complete"] and result["quick"]
    assert result["device"] == "cpu" and result["device_name"]
    assert result["torch"] == torch.__version__
    assert datetime.datetime.fromisoformat(result["date_utc"]).tzinfo is not None
    assert result["total_s"] <= result["budget_s"]


def test_every_part_measured(result):
    assert set(result["parts"]) == {"throughput", "locator_run", "table3", "training"}
    for name, part in result["parts"].items():
        measured = [row for row in part["rows"] if "seconds" in row]
        assert measured, (name, part["rows"])
        assert all(row["seconds"] > 0 for row in measured)


def test_throughput_and_run_rows(result):
    for row in result["parts"]["throughput"]["rows"]:
        assert row["n_located"] == row["n_events"] == row["size"]
        assert row["events_per_s"] == pytest.approx(row["n_events"] / row["seconds"], rel=1e-2)
        assert row["peak_gib"] is None  # GPU memory only
    run = result["parts"]["locator_run"]["rows"][0]
    assert run["n_located"] == run["n_events"] and run["n_passes"] >= 3  # error model 'auto'


def test_table3_beside_paper(result):
    rows = {row["n_picks"]: row for row in result["parts"]["table3"]["rows"]
            if "seconds" in row}
    assert rows[32]["paper_v100_s"] == 6.0 and rows[32]["issue_h200_s"] == 3.2
    assert rows[128]["paper_v100_s"] == 17.0


def test_training_seconds_per_step(result):
    rows = [row for row in result["parts"]["training"]["rows"] if "s_per_step" in row]
    assert all(row["s_per_step"] > 0 for row in rows)
    at_2048 = [row for row in rows if row["batch_size"] == 2048]
    assert at_2048 and at_2048[0]["bundled_P_recipe_s_projected"] > 0
