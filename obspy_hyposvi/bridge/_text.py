"""Lines of a text phase file, for the format readers of :mod:`obspy_hyposvi.bridge`."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TextIO

from ..errors import InputError

__all__ = ["read_head", "read_lines"]


def read_lines(source: str | Path | TextIO, what: str) -> tuple[str, list[str]]:
    """The lines of a text file (without line ends), and a name for messages.

    Parameters
    ----------
    source
        A path, or an open text file (read from its current position).
    what
        What the file holds, for messages ("NLLOC_OBS file").

    Returns
    -------
    name, lines

    Raises
    ------
    InputError
        The file is missing, unreadable, or not text.

    Examples
    --------
    >>> import io
    >>> read_lines(io.StringIO("a\\nb\\r\\n"), "test file")
    ('<stream>', ['a', 'b'])
    """
    if isinstance(source, io.TextIOBase) or hasattr(source, "read"):
        name = str(getattr(source, "name", "<stream>"))
        return name, source.read().splitlines()
    path = Path(source)
    if not path.is_file():
        raise InputError(f"cannot read {what} {path}: file not found")
    try:
        # latin-1 never fails: legacy phase files carry stray bytes in remark columns
        text = path.read_text(encoding="latin-1")
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc}") from exc
    if "\x00" in text:
        raise InputError(f"cannot read {what} {path}: binary file, not text")
    return str(path), text.splitlines()


def read_head(path: str | Path, max_bytes: int = 65536) -> list[str] | None:
    """The first lines of a file (at most ``max_bytes``; the last, maybe cut, line dropped
    when the file is longer), for format detection; None when it cannot be read as text.

    Examples
    --------
    >>> read_head("/nonexistent") is None
    True
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError:
        return None
    if b"\x00" in data:
        return None
    lines = data[:max_bytes].decode("latin-1").splitlines()
    return lines[:-1] if len(data) > max_bytes and len(lines) > 1 else lines
