"""Turning raw rows into checked, typed tables, and typed tables into Arrow and back.

Column kinds come from the data model (:mod:`conflictstats.datamodel`, the single definition);
this module only knows how to read and write each kind.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import datamodel as c
from .datamodel import column_kinds
from .errors import Failure
from .failurelog import FailureLog, short



def _to_list(v: object) -> list[str]:
    if isinstance(v, str):
        return [p.strip() for p in re.split(r"[;,|]", v) if p.strip()]
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, (list, tuple)) and all(isinstance(p, str) for p in v):
        return list(v)
    raise ValueError


_KIND_WORDS = {"int": "a whole number", "date": "a date written YYYY-MM-DD", "list": "a list of codes",
               "str": "text"}


def coerce(raw: pd.DataFrame, table: str, where: Sequence[str] | None = None,
           keys: Sequence[str] | None = None, log: FailureLog | None = None, offset: int = 0,
           ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Parse every cell to its column's kind; log every cell that cannot be parsed (rows shifted
    by ``offset``, for a batch of a larger file). Returns the typed frame and, per column, the
    mask of rows already failed (so that the schema does not report them twice).

    Vectorised per column (a million-row file is parsed in seconds); only the list column
    is parsed cell by cell. Failures are built only for the rows ``log`` keeps.
    """
    kinds = column_kinds(table)
    n = len(raw)
    log = log if log is not None else FailureLog()
    broken: dict[str, np.ndarray] = {}
    where = where if where is not None else [""] * n
    keys = keys if keys is not None else [""] * n

    for extra in [col for col in raw.columns if col not in kinds]:
        used = np.flatnonzero(raw[extra].notna().to_numpy(dtype=bool))
        log.add("unknown_column", [None], lambda _, extra=extra, used=used: Failure(
            table, None, short(str(extra)), "unknown_column",
            f"column is not part of the {table} table (allowed: {', '.join(kinds)})", where=_places(where, used)),
            once=extra)
    out: dict[str, object] = {}
    for name, (kind, nullable) in kinds.items():
        if name not in raw.columns:
            if not nullable:
                log.add("missing_column", [None], lambda _, name=name: Failure(
                    table, None, name, "missing_column", "required column is missing", where=_places(where, range(n))),
                    once=name)
                broken[name] = np.ones(n, bool)  # reported once as missing, not again row by row
            out[name] = _series([None] * n, kind)
            continue
        col = raw[name].reset_index(drop=True)
        missing = _missing_mask(col, kind)
        values, bad = _PARSE[kind](col, missing)
        broken[name] = missing & ~np.bool_(nullable) | (bad != 0) & ~missing
        cells = [("required", "a value is required here", np.flatnonzero(missing) if not nullable else ()),
                 ("type", f"must be {_KIND_WORDS[kind]}", np.flatnonzero((bad == 1) & ~missing)),
                 ("date_range", f"must be a date from {DATE_MIN} to {DATE_MAX} (the dates conflictstats "
                  f"can compute with)", np.flatnonzero((bad == _OUT_OF_RANGE) & ~missing))]
        for rule, message, rows in cells:
            log.add(rule, rows, lambda i, rule=rule, message=message, col=col, name=name: Failure(
                table, offset + i, name, rule, message, None if rule == "required" else _plain_value(col.iat[i]),
                where[i], keys[i]))
        out[name] = values
    return pd.DataFrame(out, index=range(n)), broken


def _places(where: Sequence[str], rows) -> str:
    """Where a column-level failure shows: 'sources/x.toml, [[figures]] #2 and 3 other rows'
    (a batch of a larger file says only the file: ``where.whole``)."""
    if getattr(where, "whole", None):
        return where.whole
    rows = [i for i in rows if i < len(where)]
    first = next((where[i] for i in rows if where[i]), "")
    more = len(rows) - 1
    return first + (f" and {more} other row{'s' if more > 1 else ''}" if first and more else "")


def _plain_value(v: object) -> object:
    if type(v) is dt.date:
        return v.isoformat()  # as written, not datetime.date(1, 1, 1)
    if isinstance(v, dt.datetime) and v.tzinfo is None and (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0):
        return v.isoformat()[:10]
    return v.tolist() if hasattr(v, "tolist") else v


def _arrow_text(s: pd.Series):
    """The column as an Arrow string array when every present value is text, else None."""
    if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
        return None
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
        return None
    if isinstance(s.array, pd.arrays.ArrowStringArray) and pa.types.is_string(pa.array(s.array).type):
        return pa.array(s.array)  # already Arrow text: no copy
    try:
        return pa.array(s, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def _missing_mask(s: pd.Series, kind: str) -> np.ndarray:
    if kind == "list":
        return np.fromiter((v is None or (isinstance(v, float) and math.isnan(v)) for v in s), bool, len(s))
    m = s.isna().to_numpy(dtype=bool).copy()
    text = _arrow_text(s)
    if text is not None:
        blank = pc.equal(pc.utf8_trim_whitespace(text), "")
        m |= np.asarray(blank.fill_null(False), dtype=bool)
    elif s.dtype == object:
        m |= np.fromiter((isinstance(v, str) and not v.strip() for v in s), bool, len(s))
    return m


def _parse_str(s: pd.Series, missing: np.ndarray):
    text = _arrow_text(s)
    bad = np.zeros(len(s), bool)
    if text is None:
        arr = s.to_numpy(dtype=object)
        # A number or a table where text belongs (TOML `area = 42`) is a slip, not text.
        bad = np.fromiter((not (v is None or isinstance(v, str)) for v in arr), bool, len(arr)) & ~missing
        vals = pd.Series([v if isinstance(v, str) else None for v in arr], dtype=object)
        text = pa.array(vals, type=pa.string(), from_pandas=True)
    if missing.any():
        text = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text)
    # Arrow-backed text: the string checks that follow run in Arrow, not in Python.
    return pd.arrays.ArrowStringArray(text), bad


def _parse_int(s: pd.Series, missing: np.ndarray):
    if pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return pd.array(s, dtype="Int64"), np.zeros(len(s), bool)
    arr = s.to_numpy(dtype=object)
    is_bool = np.fromiter((type(v) is bool or isinstance(v, np.bool_) for v in arr), bool, len(arr))
    is_float = np.fromiter((isinstance(v, (float, np.floating, Decimal)) for v in arr), bool, len(arr))
    text = pd.Series(arr).where(~missing, "").astype(str).str.strip().str.replace(",", "", regex=False)
    ok = np.array(text.str.fullmatch(r"[+-]?\d+"), dtype=bool)
    num = pd.to_numeric(text.where(ok | is_float, None), errors="coerce")
    numbers = num.to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):  # NaN and inf are refused below, silently
        ok = (ok | (is_float & np.isfinite(numbers) & (np.mod(numbers, 1) == 0))) & ~is_bool
        # Beyond 2**53 a float no longer holds every whole number (and beyond 2**63 Int64 wraps
        # round): refuse rather than store a different number.
        ok &= ~(np.abs(numbers) > 2.0**53)
    bad = ~ok & ~missing
    keep = pd.Series(ok & ~missing)
    vals = pd.array(num.where(keep, np.nan).to_numpy(dtype=float, na_value=np.nan), dtype="Float64").astype("Int64")
    return vals, bad


# Dates are computed with as nanosecond timestamps: the days they can hold, and the code a parser
# gives a cell outside them (1 is "not a date at all").
DATE_MIN = (pd.Timestamp.min + pd.Timedelta(days=1)).date()
DATE_MAX = pd.Timestamp.max.date()
_OUT_OF_RANGE = 2


def _parse_date(s: pd.Series, missing: np.ndarray):
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        vals = pd.to_datetime(s).dt.tz_localize(None) if getattr(s.dt, "tz", None) else pd.to_datetime(s)
        parsed, bad = vals.dt.normalize(), np.zeros(len(s), np.int8)
    else:
        text = s.where(~pd.Series(missing), "").astype(str).str.strip()
        shape_ok = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}( 00:00:00)?").to_numpy(dtype=bool)
        parsed = pd.to_datetime(text.str[:10].where(shape_ok, None), format="%Y-%m-%d", errors="coerce")
        bad = (~missing & (~shape_ok | parsed.isna().to_numpy(dtype=bool))).astype(np.int8)
    # Year 1 or 9999 parse (in micro- or second units) but do not fit the nanoseconds dates are
    # computed with: a rule failure of the cell, not an overflow later.
    lo, hi = pd.Timestamp(DATE_MIN).as_unit("s"), pd.Timestamp(DATE_MAX).as_unit("s")
    outside = (parsed.notna() & ((parsed < lo) | (parsed > hi))).to_numpy(dtype=bool)
    bad[outside] = _OUT_OF_RANGE
    return parsed.where(~outside).astype("datetime64[ns]").array, bad


def _parse_list(s: pd.Series, missing: np.ndarray):
    objs = s.to_numpy(dtype=object)
    # The common case, a column of lists of strings, converts in one call; text such as
    # "SY05;SY07" (CSV) must not, as Arrow would read a string as a list of its characters.
    if not any(isinstance(v, str) for v in objs):
        try:
            arr = pa.array(objs, type=pa.list_(pa.string()), from_pandas=True)
            return pd.Series(arr.to_numpy(zero_copy_only=False), dtype="object").array, np.zeros(len(s), bool)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            pass
    vals, bad = [], np.zeros(len(s), bool)
    for i, v in enumerate(s):
        if missing[i]:
            vals.append(None)
            continue
        try:
            vals.append(_to_list(v))
        except (ValueError, TypeError):
            vals.append(None)
            bad[i] = True
    return pd.Series(vals, dtype="object").array, bad


_PARSE = {"str": _parse_str, "int": _parse_int, "date": _parse_date, "list": _parse_list}


def _series(values: list, kind: str):
    if kind == "int":
        return pd.array(values, dtype="Int64")
    if kind == "date":
        return pd.Series(pd.to_datetime(pd.Series(values, dtype="object")), dtype="datetime64[ns]").array
    if kind == "list":
        return pd.Series(values, dtype="object").array
    return pd.array([None if v is None else str(v) for v in values], dtype=pd.StringDtype("pyarrow"))


# --- public dtypes ---------------------------------------------------------------------------

def to_public(df: pd.DataFrame, table: str, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Real dtypes for users: datetime64 dates, categorical enums, nullable ints, str text."""
    enums = c.enum_columns(table)
    if table == "figures" and metrics is not None:
        enums["metric"] = tuple(metrics)
    out = {}
    for name, (kind, _nullable) in column_kinds(table).items():
        s = df[name]
        if name in enums:
            values = s.astype("object").where(s.notna(), None)
            unknown = sorted({str(v) for v in values if v is not None} - set(enums[name]))
            if unknown:  # a categorical would silently turn them into missing values
                raise ValueError(f"column '{name}' holds values outside its allowed set: {', '.join(unknown[:5])}")
            out[name] = pd.Categorical(values, categories=list(enums[name]))
        elif kind == "int":
            out[name] = s.astype("Int64")
        elif kind == "date":
            out[name] = pd.to_datetime(s).astype("datetime64[ns]")
        elif kind == "list":
            out[name] = s.map(lambda v: list(v) if v is not None and not (isinstance(v, float)) else [])
        else:
            out[name] = s.astype("string")
    return pd.DataFrame(out)


# --- Arrow -------------------------------------------------------------------------------------

_ARROW = {"str": pa.string(), "int": pa.int64(), "date": pa.date32(), "list": pa.list_(pa.string())}

def arrow_schema_problems(schema: pa.Schema, table: str) -> list[str]:
    """How a file's Arrow schema differs from the table's plain types; empty when it matches.

    Needs no pandera, so load() can refuse extra, missing, duplicated or re-typed columns (and
    extension types) before converting anything.
    """
    want = {name: _ARROW[kind] for name, (kind, _) in column_kinds(table).items()}
    names = list(schema.names)
    problems = []
    dups = sorted({n for n in names if names.count(n) > 1})
    missing = [n for n in want if n not in names]
    extra = [n for n in names if n not in want]
    if dups:
        problems.append("duplicated column(s) " + ", ".join(dups))
    if missing:
        problems.append("missing column(s) " + ", ".join(missing))
    if extra:
        problems.append("unexpected column(s) " + ", ".join(extra))
    for f in schema:
        ext = (f.metadata or {}).get(b"ARROW:extension:name")
        if isinstance(f.type, pa.ExtensionType) or ext:
            problems.append(f"column '{f.name}' uses an Arrow extension type "
                            f"({ext.decode(errors='replace') if ext else f.type})")
        elif f.name in want and not f.type.equals(want[f.name]):
            problems.append(f"column '{f.name}' is {f.type}, expected {want[f.name]}")
    return problems


def arrow_schema(table: str, metadata: dict[bytes, bytes] | None = None) -> pa.Schema:
    """Plain Arrow types only (string, int64, date32, list<string>): readable by any Parquet reader."""
    fields = [pa.field(col.name, _ARROW[col.kind], nullable=col.nullable,
                       metadata={b"description": col.description.encode()}) for col in c.columns(table)]
    return pa.schema(fields, metadata=metadata)


def to_arrow(df: pd.DataFrame, table: str, metadata: dict[bytes, bytes] | None = None) -> pa.Table:
    schema = arrow_schema(table, metadata)
    arrays = []
    for f in schema:
        s = df[f.name]
        if pa.types.is_date32(f.type):
            vals = [None if pd.isna(v) else v.date() for v in s]
        elif pa.types.is_int64(f.type):
            vals = [None if pd.isna(v) else int(v) for v in s]
        elif pa.types.is_list(f.type):
            vals = [list(v) if v is not None else None for v in s]
        else:
            vals = [None if v is None or v is pd.NA else str(v) for v in s]
        arrays.append(pa.array(vals, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)
