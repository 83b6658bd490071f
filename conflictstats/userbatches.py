"""Reading a user's table file in bounded batches, for validation larger than memory.

Why Arrow record batches fed to the existing pandas schemas, and not pandera on another backend:
the rules are pandas checks written once (:mod:`conflictstats.schemas`), after a parsing step
(:func:`conflictstats.tables.coerce`) that turns CSV text and Parquet cells into typed columns.
pandera's polars or pyspark backends would need every rule written again in that library's
expressions (a second copy of each rule); pandera on dask runs the same pandas schema per
partition, so it is this module plus a scheduler, and it still leaves the rules that span rows
(unique ids, duplicate figures) to be joined across partitions. Measured on 1M figures in one
run (``benchmarks/bench_outofcore.py``, ``benchmarks/results/outofcore.json``): batches of
pyarrow's ``ParquetFile.iter_batches`` peaked at 0.67 GB resident, the whole frame in memory at
3.3 GB, pandera's schema per dask partition at 2.4 GB (dask reads a whole row group, here the
file's one million rows, as one partition), in about the same time (166, 211 and 179 s on a
loaded machine). Rows that span batches are checked by :mod:`conflictstats.crossrow`.

Memory is bounded per batch: string columns are read dictionary-encoded (a repeated long value
is held once), batches are made smaller for row groups with long lists, a cell over
``cell_bytes`` is refused, and a batch whose text would decode to more than
:data:`BATCH_BYTES` is split before it is converted to Python objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import UnreadableError
from .limits import Limits, exceeded, refuse

BATCH_ROWS = 65_536
BATCH_BYTES = 128 << 20   # text and list bytes of one batch once decoded
BATCH_CELLS = 4_000_000   # list elements of one batch


class Batches:
    """A table file read as ``(first row number, raw frame)`` batches; can be read again
    (``columns`` narrows a re-read to the columns the cross-batch rules need)."""

    def __init__(self, path: Path, columns: list[str], rows: int, reader, place=None):
        self.path, self.columns, self.rows, self._reader = path, columns, rows, reader
        self.place = place or (lambda i: f"{path.name}, row {i}")

    def __iter__(self) -> Iterator[tuple[int, pd.DataFrame]]:
        return self._reader(None)

    def read(self, columns: list[str] | None) -> Iterator[tuple[int, pd.DataFrame]]:
        return self._reader(columns)


def frame_batches(path: Path, df: pd.DataFrame, place=None) -> Batches:
    """An in-memory frame (a CSV already read within its limits) as batches."""
    def read(columns):
        part = df if columns is None else df[[c for c in columns if c in df.columns]]
        for start in range(0, max(len(df), 1), BATCH_ROWS):
            yield start, part.iloc[start:start + BATCH_ROWS].reset_index(drop=True)

    return Batches(path, list(df.columns), len(df), read, place)


def parquet_batches(path: Path, limits: Limits) -> Batches:
    """A Parquet file checked from its footer (columns, rows, chunk sizes), then read in batches."""
    pf = _open(path)
    meta, schema = pf.metadata, pf.schema_arrow
    names = list(schema.names)
    check_arrow_schema(path, schema)
    if exceeded(limits, "columns", len(names)):
        raise refuse(str(path), "columns", len(names), limits, "columns")
    if exceeded(limits, "rows", meta.num_rows):
        raise refuse(str(path), "rows", meta.num_rows, limits, "rows")
    per_row = []  # list elements per row of each row group, for its batch size
    for g in range(meta.num_row_groups):
        rg = meta.row_group(g)
        values = 0
        for c in range(rg.num_columns):
            col = rg.column(c)
            if exceeded(limits, "chunk_bytes", col.total_uncompressed_size):
                raise refuse(f"{path}, row group {g}, column {col.path_in_schema}", "chunk_bytes",
                             col.total_uncompressed_size, limits, "bytes uncompressed")
            values += col.num_values
        per_row.append(values / max(rg.num_rows, 1))
    text_cols = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
                 or pa.types.is_binary(f.type)]  # read dictionary-encoded: a repeated value held once

    def read(columns):
        reader = _open(path, text_cols)
        wanted = None if columns is None else [c for c in columns if c in names]
        start = 0
        if not meta.num_rows:  # no rows: one empty batch, so that the columns are still checked
            yield 0, to_raw(pa.RecordBatch.from_pylist([], schema=schema))
        for g in range(meta.num_row_groups):
            size = int(max(1, min(BATCH_ROWS, BATCH_CELLS // max(per_row[g], 1))))
            try:
                for batch in reader.iter_batches(batch_size=size, row_groups=[g], columns=wanted,
                                                 use_threads=False):
                    for part in _split(batch, path, start, limits):
                        yield start, to_raw(part)
                        start += part.num_rows
            except (pa.ArrowException, OSError, ValueError) as exc:
                raise unreadable(path, exc) from None
    return Batches(path, names, meta.num_rows, read)


def _open(path: Path, dictionary: list[str] | None = None) -> pq.ParquetFile:
    try:
        if path.is_dir():
            raise UnreadableError(f"{path}: is a folder, not a file.")
        if path.stat().st_size == 0:
            raise UnreadableError(f"{path}: the file is empty.")
        # int96 timestamps (old Spark/Impala files) read in microseconds: year 1 stays year 1
        # (a date_range failure) instead of wrapping round to 1754 in nanoseconds.
        return pq.ParquetFile(path, read_dictionary=dictionary or None, page_checksum_verification=True,
                              coerce_int96_timestamp_unit="us")
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise unreadable(path, exc) from None


def unreadable(path: Path, exc: Exception) -> UnreadableError:
    text = str(exc).strip()
    first = text.splitlines()[0][:300] if text else ""
    if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, pa.ArrowException):
        return UnreadableError(f"{path}: cannot be read: {exc.strerror}.")
    return UnreadableError(f"{path}: not a readable Parquet file ({type(exc).__name__}: {first}).")


def check_arrow_schema(path: Path, schema: pa.Schema) -> None:
    """Refuse duplicated column names and Arrow extension types before reading any data."""
    names = list(schema.names)
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        shown = ", ".join(n[:80] for n in dups[:10]) + (f" and {len(dups) - 10:,} more" if len(dups) > 10 else "")
        raise UnreadableError(f"{path}: the column name(s) {shown} appear more than once; "
                              f"each column must have its own name.")
    for f in schema:
        ext = (f.metadata or {}).get(b"ARROW:extension:name")
        if isinstance(f.type, pa.ExtensionType) or ext:
            what = ext.decode(errors="replace")[:80] if ext else str(f.type)[:80]
            raise UnreadableError(f"{path}: column '{f.name[:80]}' uses an Arrow extension type ({what}); "
                                  f"conflictstats files use plain types only.")


def _cell_bytes(arr: pa.Array) -> np.ndarray | None:
    """Bytes of text (or list elements) in each cell, or None for other types."""
    t = arr.type
    if pa.types.is_dictionary(t):
        sizes = _cell_bytes(arr.dictionary)
        if sizes is None:
            return None
        idx = np.asarray(arr.indices.fill_null(0), dtype=np.int64)
        return sizes[idx] if len(sizes) else np.zeros(len(arr), np.int64)
    if pa.types.is_string_view(t) or pa.types.is_binary_view(t):
        return _cell_bytes(arr.cast(pa.string() if pa.types.is_string_view(t) else pa.binary()))
    if any(is_(t) for is_ in (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary,
                              pa.types.is_large_binary)):
        return np.asarray(pc.binary_length(arr).fill_null(0), dtype=np.int64)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        lengths = np.asarray(pc.list_value_length(arr).fill_null(0), dtype=np.int64)
        inner = _cell_bytes(pc.list_flatten(arr))
        if inner is None:
            return lengths * 8
        parents = np.asarray(pc.list_parent_indices(arr), dtype=np.int64)
        return lengths * 8 + np.bincount(parents, weights=inner, minlength=len(arr)).astype(np.int64)
    return None


def _split(batch: pa.RecordBatch, path: Path, start: int, limits: Limits) -> Iterator[pa.RecordBatch]:
    """The batch, refused if a cell is too large, cut so that each part's text is bounded."""
    total = np.zeros(batch.num_rows, np.int64)
    for name, arr in zip(batch.schema.names, batch.columns):
        sizes = _cell_bytes(arr)
        if sizes is None:
            continue
        if len(sizes) and exceeded(limits, "cell_bytes", int(sizes.max())):
            row = start + int(sizes.argmax())
            raise refuse(f"{path.name}, row {row}, column {name[:80]}", "cell_bytes", int(sizes.max()), limits,
                         "bytes in one cell")
        total += sizes
    at, n = 0, batch.num_rows
    cum = np.cumsum(total)
    while at < n:
        base = cum[at - 1] if at else 0
        end = int(np.searchsorted(cum, base + BATCH_BYTES, side="right"))
        end = max(end, at + 1)
        yield batch.slice(at, end - at)
        at = end


def to_raw(batch: pa.RecordBatch) -> pd.DataFrame:
    """Arrow values as the validator reads them: text as Arrow-backed strings (no Python objects;
    the text checks run in Arrow), everything else as plain Python values in object columns, with
    None for missing, as in a CSV."""
    cols = {}
    for name, arr in zip(batch.schema.names, batch.columns):
        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(arr.type.value_type)
        if pa.types.is_large_string(arr.type) or pa.types.is_string_view(arr.type):
            arr = arr.cast(pa.string())
        if pa.types.is_string(arr.type):
            cols[name] = pd.Series(pd.arrays.ArrowStringArray(arr))
            continue
        if pa.types.is_int64(arr.type):  # whole numbers stay numbers, with <NA> for missing
            cols[name] = arr.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
            continue
        if pa.types.is_date32(arr.type):  # dates as datetime64[s]: any year fits, the range is checked later
            cols[name] = arr.cast(pa.timestamp("s")).to_pandas()
            continue
        try:
            s = arr.to_pandas(date_as_object=True)
        except (pa.ArrowException, ValueError, OverflowError):  # e.g. timestamps beyond pandas' range
            s = pd.Series(arr.to_pylist(), dtype=object)
        cols[name] = s.astype(object).where(s.notna(), None)
    if not cols:
        return pd.DataFrame(index=range(batch.num_rows))
    df = pd.DataFrame(cols)
    df.columns = list(batch.schema.names)
    return df
