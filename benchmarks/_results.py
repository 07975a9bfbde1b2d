"""What the benchmark scripts share: writing JSON results, reading training history."""

from __future__ import annotations

import json
from pathlib import Path


def write_results(path: Path, data: dict) -> None:
    """Write ``data`` as indented JSON to ``path`` (folders created) and say where."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"written: {path}")


def training_seconds(training: dict) -> float:
    """Seconds of all training stages of a checkpoint: a model fine-tuned by
    ``train_bundled.py`` keeps the earlier runs' settings under ``fine_tuned_from``."""
    total = 0.0
    while training:
        total += float(training.get("seconds", 0.0))
        training = training.get("fine_tuned_from")
    return total
