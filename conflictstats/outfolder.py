"""Whole output folders (an export, a report): locked, staged, then swapped into place.

Why: a folder is only useful when its README, SHA256SUMS and data describe the same run. Two
runs writing one folder at once, or a run killed half-way, would leave a mixed folder. So a
writer locks the folder that holds it (a second run waits), writes every file into a staging
folder beside it, and swaps that with the old folder only when it is complete. A folder is
replaced only when it is empty or was written whole by conflictstats (every file in it listed
in its SHA256SUMS), so a user's own files are never deleted. Disk errors (a read-only or full
disk) become :class:`~conflictstats.errors.UnreadableError` (exit 2) naming the folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import UnreadableError
from .manifest import SUMS_FILE, write_with_sums
from .store import TMP_PREFIX

LOCK_WAIT_SECONDS = 600.0  # how long a second writer waits for the first before giving up
_STAGING = ".conflictstats-staging-"
_OLD = ".conflictstats-old-"


@contextlib.contextmanager
def locked(out: Path, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold an exclusive lock on the folder that holds ``out`` (created if needed); a second
    writer there waits up to ``wait`` seconds. The lock is flock(2) on the folder itself, so no
    lock file is left anywhere and a killed writer's lock goes with it. Where there is no flock
    (Windows), the staging folder and the swap alone keep the folder whole."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    parent = Path(os.path.abspath(out)).parent
    parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(parent, os.O_RDONLY)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise UnreadableError(f"{out}: another conflictstats run has been writing here for over "
                                          f"{wait:.0f} s; try again when it has finished.") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def write_folder(out: Path | str, files: dict[str, bytes]) -> None:
    """Write ``{relative name: bytes}`` and their SHA256SUMS as the whole content of ``out``."""
    target = Path(os.path.abspath(out))
    try:
        with locked(target):
            _recover(target)
            _check_replaceable(target, out)
            if target.is_dir() and (Path.cwd() == target or target in Path.cwd().parents
                                    or not os.access(target.parent, os.W_OK)):
                _write_in_place(target, files)  # the folder itself cannot be swapped
                return
            staging = target.parent / f"{_STAGING}{target.name}-{os.getpid()}-{secrets.token_hex(4)}"
            try:
                staging.mkdir(parents=True)
                write_with_sums(staging, files)
                if target.exists():
                    _exchange(staging, target)  # staging now holds the previous folder
                else:
                    os.rename(staging, target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise unwritable(Path(out), exc) from None


def unwritable(out: Path, exc: OSError) -> UnreadableError:
    """The message for an output folder the disk refuses (read-only, full, not a folder)."""
    where = exc.filename or out
    return UnreadableError(f"{out}: cannot write here ({where}: {exc.strerror or exc}); choose a folder you can "
                           f"write to with --out.")


def _exchange(a: Path, b: Path) -> None:
    """Swap two folders in one step (Linux renameat2 RENAME_EXCHANGE: readers see the old folder
    or the new one, never none); elsewhere two renames, undone if the second fails."""
    rc = -1
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        at_fdcwd, rename_exchange = -100, 2
        rc = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    except (OSError, AttributeError):
        pass
    if rc == 0:
        return
    old = b.parent / f"{_OLD}{b.name}-{os.getpid()}-{secrets.token_hex(4)}"
    os.rename(b, old)
    try:
        os.rename(a, b)
    except OSError:
        os.rename(old, b)
        raise
    os.rename(old, a)


def _recover(target: Path) -> None:
    """Undo what a killed writer of ``target`` left beside it: its folder moved aside but not
    replaced (put back), and staging folders (removed). Runs under the lock, so no writer is active."""
    if not target.parent.is_dir():
        return
    mine = re.compile(rf"({re.escape(_OLD)}|{re.escape(_STAGING)}){re.escape(target.name)}-[0-9]+-[0-9a-f]{{8}}")
    for left in sorted(p for p in target.parent.iterdir() if mine.fullmatch(p.name)):
        if left.name.startswith(_OLD) and not target.exists():
            os.rename(left, target)
        else:
            shutil.rmtree(left, ignore_errors=True)


def _write_in_place(target: Path, files: dict[str, bytes]) -> None:
    """Each file atomically, SHA256SUMS last; then the files of the previous output that this
    one does not have (only names inside the folder)."""
    previous = _listed(target)
    write_with_sums(target, files)
    root = target.resolve()
    for name in sorted(previous - set(files) - {SUMS_FILE}):
        path = (target / name).resolve()
        if root in path.parents and path.is_file():
            path.unlink()


def require_folder(target: Path, shown_as: Path | str) -> None:
    """Refuse an output path that is an existing file rather than a folder (or nothing yet)."""
    if target.exists() and not target.is_dir():
        raise UnreadableError(f"{shown_as}: exists and is not a folder; --out must name a folder.")


def _check_replaceable(target: Path, shown_as: Path | str) -> None:
    require_folder(target, shown_as)
    if not target.is_dir():
        return
    listed = _listed(target) | {SUMS_FILE}
    foreign = []
    for p in target.rglob("*"):
        name = p.relative_to(target).as_posix()
        if not p.is_dir() and not p.name.startswith(TMP_PREFIX) and name not in listed:
            foreign.append(name)
            if len(foreign) > 5:
                break
    if foreign:
        shown = ", ".join(sorted(foreign)[:5]) + (" and more" if len(foreign) > 5 else "")
        raise UnreadableError(f"{shown_as}: holds files conflictstats did not write ({shown}); an output folder "
                              f"is replaced only when it is empty or an earlier output of conflictstats. Choose "
                              f"a new or empty folder with --out.")


def _listed(folder: Path) -> set[str]:
    """Names in the folder's SHA256SUMS (empty when it has none or it cannot be read)."""
    try:
        text = (folder / SUMS_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return set()
    return {parts[1].lstrip("*") for parts in (line.split() for line in text.splitlines()) if len(parts) == 2}
