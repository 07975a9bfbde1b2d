"""Output files that are never left half-written, and output paths checked before any work.

:func:`write_atomically` writes through a temporary file in the target folder and renames it
over the target (:func:`os.replace`, atomic on POSIX and Windows within one file system): a
reader sees the old file or the new one, never a partial one, and a failure, Ctrl-C or SIGTERM
during the write leaves the old file as it was and no temporary file behind.

:func:`check_output_file` and :func:`check_output_folder` run before a long computation, so
that a missing, read-only or wrong output path is reported at once, not after the run.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from .errors import OutputError

__all__ = ["write_atomically", "check_output_file", "check_output_folder", "make_output_folder",
           "same_file"]

T = TypeVar("T")


def write_atomically(path: str | os.PathLike, write: Callable[[Path], T]) -> T:
    """Call ``write(tmp)`` on a temporary file next to ``path``, then rename it to ``path``.

    Parameters
    ----------
    path
        The file to create or replace. Its folder must exist.
    write
        Writes the whole content to the path it is given. The temporary name keeps the
        suffix of ``path``, so writers that pick a format from the suffix (matplotlib's
        ``savefig``) behave as for ``path`` itself.

    Returns
    -------
    Whatever ``write`` returns.

    Raises
    ------
    BaseException
        Whatever ``write`` raised (KeyboardInterrupt included), after the temporary file was
        removed; ``path`` is then unchanged.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_atomically(folder / "a.txt", lambda tmp: tmp.write_text("complete"))
    >>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('complete', ['a.txt'])
    """
    path = Path(path)
    # same folder, hence same file system: os.replace is then a rename, never a copy
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".partial{path.suffix}",
                                dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        result = write(tmp)
        _fsync(tmp)
        os.chmod(tmp, _target_mode(path))
        os.replace(tmp, path)
    except BaseException:  # KeyboardInterrupt and SystemExit too: never leave the temporary
        tmp.unlink(missing_ok=True)
        raise
    return result


def _fsync(path: Path) -> None:
    """Flush the file's data to disk, so that the rename never exposes an empty file."""
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _target_mode(path: Path) -> int:
    """The replaced file's permissions, or those a new file gets under the umask.

    ``mkstemp`` creates files readable by the owner only; without this a rewritten catalogue
    would stop being readable by the group.
    """
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name the same file (links and relative paths resolved).

    Examples
    --------
    >>> same_file("x/../picks.xml", "picks.xml")
    True
    """
    a, b = Path(a), Path(b)
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist: compare the resolved names
        return a.resolve() == b.resolve()


def _probe_writable(folder: Path) -> str | None:
    """None when a file can be created in ``folder``, else the reason.

    Creating a file is the only reliable test: ``os.access`` says yes to root on a
    read-only mount and ignores ACLs.
    """
    try:
        with tempfile.TemporaryFile(dir=folder):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def check_output_file(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                      overwrite: bool = False, option: str = "-o",
                      overwrite_option: str | None = "--overwrite") -> Path:
    """Check, before any work, that ``path`` can be written and is not one of the inputs.

    Parameters
    ----------
    path
        Output file to be created or replaced.
    inputs
        Input files the output must not replace.
    overwrite
        Allow the output to replace one of ``inputs``.
    option
        Name of the command-line option that set ``path``, for the messages.
    overwrite_option
        The option that sets ``overwrite``, offered as a fix; None where there is none.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    OutputError
        The folder does not exist or cannot be written, ``path`` is a folder, or ``path`` is
        one of ``inputs`` and ``overwrite`` is false. The message names the path and the fix.

    Examples
    --------
    >>> check_output_file("/no/such/folder/out.xml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    obspy_hyposvi.errors.OutputError: output /no/such/folder/out.xml: folder /no/such/folder ...
    """
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        raise OutputError(f"output {path} is a folder; give a file name with {option}")
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise OutputError(f"output {path}: folder {folder} {what}; create it or choose "
                          f"another {option}")
    for source in inputs:
        if not overwrite and same_file(path, source):
            fix = f", or pass {overwrite_option}" if overwrite_option else ""
            raise OutputError(f"output {path} is the input file {source}: it would be "
                              f"replaced; choose another {option}{fix}")
    reason = _probe_writable(folder)
    if reason is not None:
        raise OutputError(f"output {path}: cannot write in folder {folder} ({reason}); "
                          f"choose another {option} or fix the folder's permissions")
    return path


def check_output_folder(path: str | os.PathLike, *, parents: bool = False,
                        option: str = "--plot") -> Path:
    """Check, before any work, that ``path`` is a writable folder or can be created as one.

    Nothing is created: call :func:`make_output_folder` when the files are due.

    Parameters
    ----------
    path
        The output folder.
    parents
        Whether missing parent folders may be created as well; if not, the parent must
        exist.
    option
        Name of the command-line option that set ``path``, for the messages.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    OutputError
        ``path`` is an existing file, its parent is missing (``parents=False``) or a file,
        or the folder (or the nearest existing parent) cannot be written.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{option} {path} is a file, not a folder; remove it or choose "
                          f"another folder")
    existing = path
    while not existing.is_dir():
        if existing.exists():
            raise OutputError(f"{option} {path}: {existing} is a file, not a folder; "
                              f"choose another folder")
        if existing.parent == existing:
            break
        if not parents and existing == path.parent:
            raise OutputError(f"{option} {path}: folder {existing} does not exist; create "
                              f"it or choose another folder")
        existing = existing.parent
    reason = _probe_writable(existing)
    if reason is not None:
        raise OutputError(f"{option} {path}: cannot write in folder {existing} ({reason}); "
                          f"choose another folder or fix its permissions")
    return path


def make_output_folder(path: str | os.PathLike, *, parents: bool = False,
                       option: str = "--plot") -> Path:
    """Create the folder ``path`` if needed, after :func:`check_output_folder`'s checks.

    Returns
    -------
    pathlib.Path
        ``path``, now an existing folder.

    Raises
    ------
    OutputError
        As :func:`check_output_folder`.
    """
    path = check_output_folder(path, parents=parents, option=option)
    try:
        path.mkdir(parents=parents, exist_ok=True)
    except OSError as exc:  # a race with another process, or a full disk
        raise OutputError(f"{option} {path}: cannot create the folder ({exc.strerror or exc})"
                          ) from None
    return path
