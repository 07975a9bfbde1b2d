"""The one way the benchmark scripts write their JSON results."""

from __future__ import annotations

import json
from pathlib import Path


def write_results(path: Path, data: dict) -> None:
    """Write ``data`` as indented JSON to ``path`` (folders created) and say where."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"written: {path}")
