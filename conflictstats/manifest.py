"""Hashes and manifests, once: SHA-256, the SHA256SUMS and RELEASES files, hash checks, writes.

``SHA256SUMS`` lists ``<sha256>  <file>`` for every file of a folder (a dataset, a release, an
export, a report); ``RELEASES`` lists ``<sha256 of SHA256SUMS>  <release>`` per known release
(the trust anchors of :mod:`conflictstats.fetch`). One parser reads both, one function compares
a hash with the recorded one and words the mismatch, and one function writes a folder's files
only where their bytes changed. Every module that reads or writes these files uses this one.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .errors import IntegrityError, UnreadableError
from .store import atomic_write_bytes

SUMS_FILE = "SHA256SUMS"
ANCHORS = "RELEASES"
_HEX = re.compile(r"[0-9a-f]{64}")
MAX_READ_BYTES = 2 * 1024**3  # refuse files larger than this before reading them


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def hash_matches(what: object, got: str, expected: str | None, advice: str = "") -> str | None:
    """None when ``got`` is the recorded ``expected`` hash, else the one mismatch message."""
    if expected is not None and got == expected:
        return None
    if expected is None:
        return f"{what}: no checksum is recorded for this file in {SUMS_FILE}; refusing to read it."
    return f"{what}: SHA-256 mismatch (expected {expected}, got {got})" + (f"; {advice}" if advice else "")


def require_hash(what: object, got: str, expected: str | None, advice: str = "") -> None:
    """Raise IntegrityError with :func:`hash_matches`'s message unless the hashes agree."""
    problem = hash_matches(what, got, expected, advice)
    if problem:
        raise IntegrityError(problem)


def parse_listing(text: str, where: object, value: str = "file") -> dict[str, str]:
    """``{name: sha256}`` from SHA256SUMS text (``value="file"``) or ``{release: sha256}`` from
    RELEASES text (``value="release"``); blank lines and ``#`` comments are skipped there.

    A name is one plain file or release name (no folders, not SHA256SUMS itself), so a listing
    can never point outside its folder.
    """
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if value == "release" and (not line.strip() or line.startswith("#")):
            continue
        parts = line.split()
        name = parts[1].lstrip("*") if len(parts) == 2 else ""
        if (len(parts) != 2 or not _HEX.fullmatch(parts[0].lower()) or "/" in name or "\\" in name
                or name in ("", ".", "..", SUMS_FILE)):
            what = "<sha256 of SHA256SUMS>  <release>" if value == "release" else "<sha256>  <file>"
            raise IntegrityError(f"{where}, line {n}: not a '{what}' line.")
        out[name] = parts[0].lower()
    if not out and value == "file":
        raise IntegrityError(f"{where}: lists no files.")
    return out


def read_sums(folder: Path) -> dict[str, str]:
    """The SHA256SUMS of a folder; IntegrityError when it is missing or malformed."""
    path = Path(folder) / SUMS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise IntegrityError(f"{path}: the checksum manifest is missing, so the data cannot be verified; "
                             f"run `conflictstats build` to regenerate it.") from None
    return parse_listing(text, path)


def read_anchors(folder: Path) -> dict[str, str]:
    """{release: sha256 of its SHA256SUMS} from a dataset's RELEASES file (empty if none)."""
    path = Path(folder) / ANCHORS
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    return parse_listing(text, path, value="release")


def sums_text(hashes: dict[str, str]) -> str:
    return "".join(f"{h}  {name}\n" for name, h in sorted(hashes.items()))


def write_if_changed(folder: Path, files: dict[str, bytes]) -> list[str]:
    """Write each ``{relative name: bytes}`` atomically where the file's bytes differ; the names written."""
    changed = []
    for name, data in files.items():
        target = Path(folder) / name
        if not target.is_file() or target.read_bytes() != data:
            atomic_write_bytes(target, data)
            changed.append(name)
    return changed


def write_sums(folder: Path, hashes: dict[str, str]) -> None:
    """The folder's SHA256SUMS for ``{file: sha256}``."""
    write_if_changed(folder, {SUMS_FILE: sums_text(hashes).encode()})


def write_with_sums(folder: Path, files: dict[str, bytes]) -> list[str]:
    """Write changed files, then the SHA256SUMS that lists them all (last: a folder with it is complete)."""
    changed = write_if_changed(folder, files)
    write_sums(folder, {name: sha256_bytes(data) for name, data in files.items()})
    return changed


def read_verified(path: Path, expected: str | None) -> bytes:
    """The file's bytes, refused when they do not match the recorded SHA-256."""
    try:
        size = Path(path).stat().st_size
        if size > MAX_READ_BYTES:
            raise UnreadableError(f"{path}: {size} bytes is larger than the {MAX_READ_BYTES} bytes "
                                  f"conflictstats reads.")
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UnreadableError(f"{path}: cannot be read: {exc.strerror}.") from None
    require_hash(path, sha256_bytes(data) if expected is not None else "", expected,
                 "the file is corrupt or was modified. Rebuild it with `conflictstats build` or fetch it again.")
    return data
