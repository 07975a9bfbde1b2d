"""Station terms as a plain CSV file: ``station,phase,delay_s,n_picks``.

A station term is the static delay of one station's picks of one phase against the
travel-time model, s (positive: the picks come late). It is subtracted from the pick times
before locating, as NonLinLoc's ``LOCDELAY`` and HypoInverse's station delays are. ``station``
is ``NET.STA`` as the locator names stations; ``n_picks`` (optional when reading) is how many
picks the estimate rests on.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Mapping

from ..errors import InputError
from ..safe_write import write_atomically

__all__ = ["read_station_terms", "write_station_terms"]

_HEADER = ["station", "phase", "delay_s", "n_picks"]


def read_station_terms(path: str | Path) -> dict[tuple[str, str], float]:
    """``{(station, phase): delay_s}`` from a station-terms CSV.

    Raises
    ------
    InputError
        The file is missing, lacks the ``station,phase,delay_s`` columns, or a row has a phase
        other than P or S or a delay that is not a finite number (the message names the line).
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"cannot read station terms {path}: {exc.strerror or exc}") from None
    rows = csv.DictReader(text.splitlines())
    missing = {"station", "phase", "delay_s"} - set(rows.fieldnames or ())
    if missing:
        raise InputError(f"{path}: station terms need the columns station,phase,delay_s "
                         f"(missing {', '.join(sorted(missing))})")
    terms: dict[tuple[str, str], float] = {}
    for line, row in enumerate(rows, start=2):
        phase = (row["phase"] or "").strip().upper()
        try:
            delay = float(row["delay_s"])
        except (TypeError, ValueError):
            delay = math.nan
        if phase not in ("P", "S") or not math.isfinite(delay):
            raise InputError(f"{path}, line {line}: expected a P or S term with a finite "
                             f"delay in s, got phase {row['phase']!r}, delay {row['delay_s']!r}")
        terms[(row["station"].strip(), phase)] = delay
    return terms


def write_station_terms(path: str | Path, terms: Mapping[tuple[str, str], float],
                        counts: Mapping[tuple[str, str], int] | None = None) -> None:
    """Write ``{(station, phase): delay_s}`` (with optional pick counts), atomically."""
    counts = counts or {}
    lines = [",".join(_HEADER)]
    for (station, phase), delay in sorted(terms.items()):
        n = counts.get((station, phase))
        lines.append(f"{station},{phase},{delay:.4f},{'' if n is None else n}")
    text = "\n".join(lines) + "\n"
    write_atomically(Path(path), lambda tmp: tmp.write_text(text))
