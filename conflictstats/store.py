"""Files on disk: atomic writes, deterministic Parquet, SHA-256 manifests, verified reads.

Every write goes to an unnamed temporary file in the target folder (O_TMPFILE on Linux,
so a killed process leaves nothing behind) and is renamed over the target only when complete.
Every read of shipped data checks the file's SHA-256 against the folder's ``SHA256SUMS``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from .errors import IntegrityError, UnreadableError

SUMS_FILE = "SHA256SUMS"
TMP_PREFIX = ".conflictstats-tmp-"
PARQUET_KEY = b"conflictstats"
MAX_READ_BYTES = 2 * 1024**3  # refuse files larger than this before reading them


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sweep_temporaries(folder: Path) -> int:
    """Remove temporary files a killed writer left in ``folder``; returns how many."""
    n = 0
    if folder.is_dir():
        for p in folder.glob(TMP_PREFIX + "*"):
            try:
                p.unlink()
                n += 1
            except OSError:
                pass
    return n


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part."""
    path = Path(path)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{TMP_PREFIX}{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = _unnamed_tmpfile(folder)
    try:
        if fd is not None:
            _write_all(fd, data)
            os.fsync(fd)
            _name_tmpfile(fd, tmp)  # the finished file gets a name only now
        else:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            _write_all(fd, data)
            os.fsync(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    finally:
        if fd is not None:
            os.close(fd)


def _unnamed_tmpfile(folder: Path) -> int | None:
    """An O_TMPFILE descriptor in ``folder`` (vanishes if we are killed), or None where unsupported."""
    if not hasattr(os, "O_TMPFILE") or _linkat() is None:
        return None
    try:
        return os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o644)
    except OSError:
        return None


_LIBC = []


def _linkat():
    if not _LIBC:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            _LIBC.append(libc.linkat)
        except (OSError, AttributeError):
            _LIBC.append(None)
    return _LIBC[0]


def _name_tmpfile(fd: int, target: Path) -> None:
    import ctypes

    at_fdcwd, at_symlink_follow = -100, 0x400
    rc = _linkat()(at_fdcwd, f"/proc/self/fd/{fd}".encode(), at_fdcwd, os.fsencode(target), at_symlink_follow)
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), str(target))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def parquet_bytes(table) -> bytes:
    """Serialise an Arrow table to Parquet with fixed options, so equal tables give equal bytes."""
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(table, buf, compression="snappy", use_dictionary=True, write_statistics=True,
                   data_page_version="1.0", version="2.6", store_schema=True,
                   write_page_checksum=True)  # a CRC per page: readers detect a changed byte
    return buf.getvalue()


def write_sums(folder: Path, hashes: dict[str, str]) -> None:
    text = "".join(f"{h}  {name}\n" for name, h in sorted(hashes.items()))
    atomic_write_bytes(Path(folder) / SUMS_FILE, text.encode())


def read_sums(folder: Path) -> dict[str, str]:
    path = Path(folder) / SUMS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise IntegrityError(f"{path}: the checksum manifest is missing, so the data cannot be verified; "
                             f"run `conflictstats build` to regenerate it.") from None
    out = {}
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 64:
            raise IntegrityError(f"{path}, line {n}: not a '<sha256>  <file>' line.")
        out[parts[1].lstrip("*")] = parts[0]
    return out


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
    if expected is None:
        raise IntegrityError(f"{path}: no checksum is recorded for this file in {SUMS_FILE}; refusing to read it.")
    got = sha256_bytes(data)
    if got != expected:
        raise IntegrityError(f"{path}: SHA-256 mismatch (expected {expected}, got {got}); the file is "
                             f"corrupt or was modified. Rebuild it with `conflictstats build` or fetch it again.")
    return data


def parquet_metadata(data_or_path) -> dict:
    """The ``conflictstats`` key-value entry of a Parquet file, as a dict (empty if absent)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = pa.BufferReader(data_or_path) if isinstance(data_or_path, (bytes, bytearray)) else data_or_path
    meta = pq.read_metadata(src).metadata or {}
    raw = meta.get(PARQUET_KEY)
    return json.loads(raw) if raw else {}


def dumps_json(obj) -> bytes:
    """Stable JSON bytes (sorted keys, fixed separators, trailing newline)."""
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def remove_stale(folder: Path, keep: Iterable[str], pattern: str) -> None:
    keep = set(keep)
    for p in Path(folder).glob(pattern):
        if p.name not in keep:
            p.unlink()
