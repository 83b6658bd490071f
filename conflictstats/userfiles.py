"""Reading tables that users hand us (CSV or Parquet) for `conflictstats validate`.

Anything that cannot be read as a table at all is an UnreadableError naming the file and
what is wrong; cells that can be read but break rules are left to the validator.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from . import datamodel as c
from .errors import UnknownNameError, UnreadableError
from .failurelog import FailureLog, short
from .limits import Limits, current, exceeded, refuse
from .manifest import MAX_READ_BYTES
from .registry import DEFAULT_DATASET
from .userbatches import Batches, check_arrow_schema, frame_batches, parquet_batches
from .suggest import check_name

MAX_BYTES = MAX_READ_BYTES


def guess_table(path: Path, columns: list[str] | None = None) -> str:
    stem = path.name.split(".")[0].lower()
    if stem in c.TABLES:
        return stem
    if columns:
        best = max(c.TABLES, key=lambda t: len(set(columns) & set(c.COLUMNS[t])))
        if set(columns) & set(c.COLUMNS[best]):
            return best
    raise UnknownNameError(f"{path}: cannot tell which table this file holds; pass --table "
                           f"({', '.join(c.TABLES)}).")


def read_csv(path: Path, limits: Limits | None = None) -> tuple[pd.DataFrame, list[str]]:
    raw = _read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableError(f"{path}: not UTF-8 text (byte {exc.start} is 0x{raw[exc.start]:02x}); "
                              f"save the CSV as UTF-8.") from None
    if not text.strip():
        raise UnreadableError(f"{path}: the file is empty.")
    if "\x00" in text:  # text files hold no NUL bytes: a binary or UTF-16 file renamed .csv
        raise UnreadableError(f"{path}: holds a NUL byte (character {text.index(chr(0))}); it is binary or "
                              f"UTF-16, not a UTF-8 CSV.")
    header = text.splitlines()[0]
    if "," not in header:
        sep = next((s for s in (";", "\t", "|") if s in header), None)
        hint = f" It looks {'tab' if sep == chr(9) else repr(sep)}-separated;" if sep else ""
        raise UnreadableError(f"{path}: the header line has no commas.{hint} conflictstats reads "
                              f"comma-separated CSV with a header row.")
    limits = limits or current()
    reader = csv.reader(io.StringIO(text, newline=""))
    body: list[list[str]] = []
    try:
        head = next(reader)
        if exceeded(limits, "columns", len(head)):
            raise refuse(str(path), "columns", len(head), limits, "columns")
        for r in reader:  # counted as read: a file of a billion short lines stops at the limit
            if r:
                body.append(r)
                if limits.rows and len(body) > limits.rows:
                    raise refuse(str(path), "rows", len(body), limits, "rows (or more)")
    except csv.Error as exc:
        raise UnreadableError(f"{path}: line {reader.line_num}: not valid CSV: {short(str(exc))}.") from None
    seen: set[str] = set()
    dups = sorted({h for h in head if h in seen or seen.add(h)})
    if dups:
        shown = ", ".join(repr(short(d, 80)) for d in dups[:10]) + (f" and {len(dups) - 10:,} more" if len(dups) > 10 else "")
        raise UnreadableError(f"{path}: the header names the column(s) {shown} more than once; each column "
                              f"must have its own name.")
    bad = [i for i, r in enumerate(body) if len(r) != len(head)]
    if bad:
        raise UnreadableError(f"{path}: line {bad[0] + 2} has {len(body[bad[0]])} fields but the header has "
                              f"{len(head)} ({len(bad)} such line{'s' if len(bad) > 1 else ''}).")
    df = pd.DataFrame(body, columns=head, dtype="object")
    return df, [f"{path.name}, line {i + 2}" for i in range(len(df))]


def read_parquet(path: Path) -> tuple[pd.DataFrame, list[str]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    raw = _read_bytes(path)
    try:
        check_arrow_schema(path, pq.read_schema(pa.BufferReader(raw)))
        table = pq.read_table(pa.BufferReader(raw), use_threads=False,  # see api.read_table_file
                              page_checksum_verification=True)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise UnreadableError(f"{path}: not a readable Parquet file ({type(exc).__name__}: "
                              f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}).") from None
    df = table.to_pandas(date_as_object=True, types_mapper=None)
    df = df.astype("object").where(df.notna(), None)
    return df, [f"{path.name}, row {i}" for i in range(len(df))]


def read_table(path: Path) -> tuple[pd.DataFrame, list[str]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path)
    if suffix in (".parquet", ".pq"):
        return read_parquet(path)
    raise UnreadableError(f"{path}: unsupported file type '{suffix}'; use .csv or .parquet.")


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableError(f"{path}: cannot be read: {exc.strerror}.") from None
    if path.is_dir():
        raise UnreadableError(f"{path}: is a folder, not a file.")
    if size > MAX_BYTES:
        raise UnreadableError(f"{path}: {size} bytes is larger than the {MAX_BYTES} bytes conflictstats reads.")
    if size == 0:
        raise UnreadableError(f"{path}: the file is empty.")
    return path.read_bytes()


def validate_path(path: Path, table: str | None = None, dataset: str = DEFAULT_DATASET,
                  limits: Limits | None = None) -> tuple[list[str], FailureLog]:
    """Check a CSV or Parquet file, or a folder of them (or a curated dataset folder), with the
    one curated-data check; returns (the tables checked, the failures).

    Table files are read in bounded batches (:mod:`conflictstats.userbatches`) within ``limits``
    (default: :func:`conflictstats.limits.current`), so a file larger than memory is checked
    too; the log keeps the first ``limits.failures_per_rule`` failures of each rule and counts all.
    """
    from .registry import dataset_info
    from .validation import check_curated

    path = Path(path)
    limits = limits or current()
    info = dataset_info(dataset)
    log = FailureLog(keep=limits.failures_per_rule or None)
    if path.is_dir() and (path / "dataset.toml").is_file():
        from .curated import read_curated

        raw, where = read_curated(path)
        for f in check_curated(raw, info, where)[1]:
            log.add(f.rule, [f.row], lambda _, f=f: f)
        return sorted(raw), log
    if path.is_dir():
        files = _folder_files(path)
        tables = [t for t in c.TABLES if t in files]
        context: dict[str, Batches] = {}
    else:
        files = {}
        batches = open_table(path, limits)
        table = table or guess_table(path, batches.columns)
        check_name("table", table, c.TABLES)
        files, tables = {table: batches}, [table]
        # Cross-table rules need the other tables: take them from beside the file, else the dataset.
        context = _context_tables(path, table, dataset, limits)
    typed: dict[str, pd.DataFrame] = {}
    for t in ("codebook", "sources", "figures", "events"):
        if t in files or t in context:
            src = files[t] if t in files else context[t]
            src = open_table(src, limits) if isinstance(src, Path) else src
            keys = check_batches(src, t, info, typed, log if t in files else FailureLog(keep=0), cross=t in files)
            if keys is not None:
                typed[t] = keys
    return tables, log


def open_table(path: Path, limits: Limits) -> Batches:
    """A user's CSV or Parquet file as bounded batches (a CSV is read whole, within the limits)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df, _ = read_csv(path, limits)
        return frame_batches(path, df, lambda i: f"{path.name}, line {i + 2}")
    if suffix in (".parquet", ".pq"):
        return parquet_batches(path, limits)
    raise UnreadableError(f"{path}: unsupported file type '{short(suffix, 20)}'; use .csv or .parquet.")


def check_batches(batches: Batches, table: str, info, typed: dict[str, pd.DataFrame], log: FailureLog,
                  cross: bool = True) -> pd.DataFrame | None:
    """Validate one table batch by batch against the tables checked before it (``typed``); the
    rules across rows run over the whole file (:mod:`conflictstats.crossrow`). Returns the key
    columns other tables' rules need (a source's publication date, the codebook's metrics)."""
    from .crossrow import CrossRows
    from .validation import check_table, known_keys, table_context, with_originator_groups

    published, metrics = known_keys(typed)
    ctx = table_context(table, info.coverage, None, published, metrics, grouped_originators=True)
    rows = CrossRows(table) if cross else None
    keep = {"sources": ["source_id", "published"], "codebook": ["metric"]}.get(table)
    kept = []
    for start, raw in batches:
        if table == "figures":
            raw = with_originator_groups(raw)
        where = _Places(batches.place, start, len(raw), batches.path.name if batches.rows > len(raw) else "")
        frame, _ = check_table(raw, table, ctx, where, log=log, offset=start)
        if rows is not None:
            rows.add(start, frame)
        if keep:
            kept.append(frame[keep])
    if rows is not None:
        rows.finish(batches, log, batches.place)
    return pd.concat(kept, ignore_index=True) if keep else None


class _Places:
    """Where each row of a batch is, named on demand ("figures.parquet, row 1200000")."""

    def __init__(self, place, start: int, n: int, whole: str = ""):
        self.place, self.start, self.n = place, start, n
        self.whole = whole  # what a failure of a whole column names, when the file has several batches

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> str:
        return self.place(self.start + i)


def _folder_files(path: Path) -> dict[str, Path]:
    files = {}
    for table in c.TABLES:
        for suffix in (".csv", ".parquet"):
            f = path / f"{table}{suffix}"
            if f.is_file():
                files[table] = f
                break
    if not files:
        raise UnreadableError(f"{path}: no table files found (expected sources.csv, figures.csv, ... or .parquet).")
    return files


def _context_tables(path: Path, table: str, dataset: str, limits: Limits) -> dict[str, Batches]:
    from .api import load

    out = {}
    needs = {"figures": ("sources", "codebook"), "events": ("sources",)}.get(table, ())
    for other in needs:
        sibling = next((path.parent / f"{other}{s}" for s in (".csv", ".parquet")
                        if (path.parent / f"{other}{s}").is_file() and path.parent / f"{other}{s}" != path), None)
        if sibling is not None:
            out[other] = open_table(sibling, limits)
        else:
            out[other] = frame_batches(Path(other), as_raw(load(other, dataset)), lambda i, o=other: f"{o}, row {i}")
    return out


def as_raw(df: pd.DataFrame) -> pd.DataFrame:
    """A loaded table back to plain Python values (None, date, int, str, list), e.g. as context
    for validation; object columns, so that pandas keeps None as None."""
    def plain(v: object) -> object:
        if v is None or v is pd.NaT or (not isinstance(v, list) and pd.isna(v)):
            return None
        return v.date() if isinstance(v, pd.Timestamp) else v

    return pd.DataFrame({col: pd.Series([plain(v) for v in df[col]], index=df.index, dtype=object)
                         for col in df.columns})
