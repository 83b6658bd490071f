"""Files on disk: atomic writes and deterministic Parquet (hashes and manifests: :mod:`.manifest`).

Every write goes to an unnamed temporary file in the target folder (O_TMPFILE on Linux,
so a killed process leaves nothing behind) and is renamed over the target only when complete.
"""

from __future__ import annotations

import io
import json
import os
import secrets
from pathlib import Path


TMP_PREFIX = ".conflictstats-tmp-"
PARQUET_KEY = b"conflictstats"


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
