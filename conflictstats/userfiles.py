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
from .manifest import MAX_READ_BYTES
from .registry import DEFAULT_DATASET
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


def read_csv(path: Path) -> tuple[pd.DataFrame, list[str]]:
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
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise UnreadableError(f"{path}: not valid CSV: {exc}.") from None
    head, body = rows[0], [r for r in rows[1:] if r]
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
        schema = pq.read_schema(pa.BufferReader(raw))
        names = list(schema.names)
        dups = sorted({n for n in names if names.count(n) > 1})
        if dups:
            raise UnreadableError(f"{path}: the column name(s) {', '.join(dups)} appear more than once; "
                                  f"each column must have its own name.")
        for f in schema:
            ext = (f.metadata or {}).get(b"ARROW:extension:name")
            if isinstance(f.type, pa.ExtensionType) or ext:
                what = ext.decode(errors="replace") if ext else str(f.type)
                raise UnreadableError(f"{path}: column '{f.name}' uses an Arrow extension type ({what}); "
                                      f"conflictstats files use plain types only.")
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
                  ) -> tuple[list[str], list]:
    """Check a CSV or Parquet file, or a folder of them (or a curated dataset folder), with the
    one curated-data check; returns (the tables checked, every failure)."""
    from .registry import dataset_info
    from .validation import check_curated

    path = Path(path)
    info = dataset_info(dataset)
    if path.is_dir():
        raw, where = _read_folder(path)
        _, failures = check_curated(raw, info, where)
        tables = sorted(raw)
    else:
        frame, where = read_table(path)
        table = table or guess_table(path, list(frame.columns))
        check_name("table", table, c.TABLES)
        raw = {table: frame}
        # Cross-table rules need the other tables: take them from beside the file, else the dataset.
        context = _context_tables(path, table, dataset)
        raw.update({k: v for k, v in context.items() if k != table})
        wheres = {table: where}
        _, failures = check_curated(raw, info, wheres)
        failures = [f for f in failures if f.table == table]
        tables = [table]
    return tables, failures


def _read_folder(path: Path):
    if (path / "dataset.toml").is_file():
        from .curated import read_curated

        return read_curated(path)
    raw, where = {}, {}
    for table in c.TABLES:
        for suffix in (".csv", ".parquet"):
            f = path / f"{table}{suffix}"
            if f.is_file():
                raw[table], where[table] = read_table(f)
                break
    if not raw:
        raise UnreadableError(f"{path}: no table files found (expected sources.csv, figures.csv, ... or .parquet).")
    return raw, where


def _context_tables(path: Path, table: str, dataset: str) -> dict[str, pd.DataFrame]:
    from .api import load

    out = {}
    needs = {"figures": ("sources", "codebook"), "events": ("sources",)}.get(table, ())
    for other in needs:
        sibling = next((path.parent / f"{other}{s}" for s in (".csv", ".parquet")
                        if (path.parent / f"{other}{s}").is_file() and path.parent / f"{other}{s}" != path), None)
        if sibling is not None:
            out[other] = read_table(sibling)[0]
        else:
            df = load(other, dataset)
            out[other] = as_raw(df)
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
