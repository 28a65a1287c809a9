"""Output paths: checked before any simulation starts; files written atomically,
exactly, and with the user's umask.

Every command that writes checks its output paths first (:func:`output_dir` for
``--out DIR``, :func:`output_file` for ``--trace FILE`` and ``workloads record
--out FILE``): it creates the missing folders, as ``run --out`` always did, and
makes sure it can write there, so that a long run never ends in a traceback. A
problem is one line naming the option and the path (:class:`OutputPathError`,
exit status 2). Nothing is created beside the requested path: a directory's
writability is probed inside it, a file's inside the folder the user named for it.

Files are written to a temporary name in their own folder and renamed when
complete (:func:`atomic_write`); their mode follows the umask (``0o666 & ~umask``),
like any file a program opens for writing. Tables are written by :func:`write_csv`
with every number exact: integers as integers, other floats as the shortest text
that reads back to the same double.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from tlmsim.errors import TlmsimError


class OutputPathError(TlmsimError):
    """An output path that cannot be written: ``OPTION PATH: problem``."""


def _error(option: str, path: str | os.PathLike, problem: str) -> OutputPathError:
    return OutputPathError(f"{option} {os.fspath(path)}: {problem}")


def umask() -> int:
    """The process umask, read without changing it (Linux: /proc/self/status)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (not thread-safe, but brief)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a newly written file gets: ``0o666`` less the umask."""
    return 0o666 & ~umask()


def _strerror(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _probe(directory: Path, option: str, path: str | os.PathLike) -> None:
    """Create and remove a temporary file in ``directory`` (an existing folder)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tlmsim-probe-")
    except OSError as exc:
        raise _error(option, path, f"cannot write into {directory} ({_strerror(exc)})") from None
    os.close(fd)
    os.unlink(tmp)


def _nearest_existing(p: Path) -> Path:
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _precheck(p: Path, want_dir: bool, option: str, path: str | os.PathLike) -> Path:
    """Checks that create nothing; return the folder that must be writable."""
    if want_dir:
        if p.exists() and not p.is_dir():
            raise _error(option, path, "is a file; expected a directory")
        folder = p
    else:
        if p.is_dir() or os.fspath(path).endswith(("/", os.sep)):
            raise _error(option, path, "is a directory; expected a file name")
        folder = p.parent
    existing = _nearest_existing(folder)
    if existing.exists() and not existing.is_dir():
        raise _error(option, path, f"has a file on its way ({existing}); expected a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise _error(option, path, f"cannot write into {existing} (permission denied or read-only)")
    return folder


def _create(folder: Path, option: str, path: str | os.PathLike) -> None:
    """Create ``folder`` (and its missing parents) and probe that a file can be made in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _error(option, path, f"cannot create the directory {folder} ({_strerror(exc)})") from None
    _probe(folder, option, path)


def check_outputs(dirs: list[tuple[str, str | os.PathLike]] = (),
                  files: list[tuple[str, str | os.PathLike]] = ()) -> None:
    """Check every output path, given as (option, path), before anything runs:
    first without creating anything, then create the missing folders and probe
    each (a temporary file made and removed in the directory, or in a file's
    folder). Raises :class:`OutputPathError`."""
    folders = [(_precheck(Path(p), True, o, p), o, p) for o, p in dirs]
    folders += [(_precheck(Path(p), False, o, p), o, p) for o, p in files]
    for folder, option, path in folders:
        _create(folder, option, path)


def output_dir(path: str | os.PathLike, option: str = "--out") -> Path:
    """Check that ``path`` is, or can be made, a writable directory; create it."""
    check_outputs(dirs=[(option, path)])
    return Path(path)


def output_file(path: str | os.PathLike, option: str) -> Path:
    """Check that the file ``path`` can be written (its folder is created); an
    existing file is replaced when the new one is complete."""
    check_outputs(files=[(option, path)])
    return Path(path)


def atomic_write(path: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, give it the umask's
    mode and rename it to ``path``; the temporary file never outlives a failure."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def exact_float(v: float) -> str:
    """A float as exact text: an integral value below 2**53 as an integer
    (``2954690``), any other as Python's shortest round-trip repr (``17443957.8``)."""
    v = float(v)
    if v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    return repr(v)


def write_csv(df, path: str | os.PathLike) -> Path:
    """Write a DataFrame as CSV (no index, ``\\n`` line ends, exact numbers), atomically."""
    return atomic_write(path, lambda tmp: df.to_csv(tmp, index=False, float_format=exact_float,
                                                    lineterminator="\n"))
