"""Turning raw rows into checked, typed tables, and typed tables into Arrow and back.

Column kinds come from the pandera models in :mod:`conflictstats.schemas` (the single
definition); this module only knows how to read and write each kind.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from functools import lru_cache

import pandas as pd
import pyarrow as pa

from . import contract as c
from .errors import Failure

_INT_RE = re.compile(r"^[+-]?\d+$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@lru_cache(maxsize=None)
def column_kinds(table: str) -> dict[str, tuple[str, bool]]:
    """{column: (kind, nullable)} with kind one of str, int, date, list."""
    from .schemas import MODELS  # pandera is only needed when checking, not when loading

    schema = MODELS[table].to_schema()
    kinds = {}
    for name in c.COLUMNS[table]:
        col = schema.columns[name]
        dtype = str(col.dtype)
        kind = "int" if dtype == "Int64" else "date" if dtype.startswith("datetime64") else (
            "list" if dtype == "object" else "str")
        kinds[name] = (kind, bool(col.nullable))
    return kinds


def _is_missing(v: object) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and v.strip() == ""


def _to_int(v: object) -> int:
    if isinstance(v, bool):
        raise ValueError
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and _INT_RE.match(v.strip().replace(",", "")):
        return int(v.strip().replace(",", ""))
    raise ValueError


def _to_date(v: object) -> pd.Timestamp:
    if isinstance(v, pd.Timestamp):
        return v.normalize()
    if isinstance(v, dt.datetime):
        return pd.Timestamp(v).normalize()
    if isinstance(v, dt.date):
        return pd.Timestamp(v)
    if isinstance(v, str) and _DATE_RE.match(v.strip()):
        return pd.Timestamp(dt.date.fromisoformat(v.strip()))
    raise ValueError


def _to_list(v: object) -> list[str]:
    if isinstance(v, str):
        return [p.strip() for p in re.split(r"[;,|]", v) if p.strip()]
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, (list, tuple)) and all(isinstance(p, str) for p in v):
        return list(v)
    raise ValueError


_PARSERS = {"int": _to_int, "date": _to_date, "list": _to_list}
_KIND_WORDS = {"int": "a whole number", "date": "a date written YYYY-MM-DD", "list": "a list of codes",
               "str": "text"}


def coerce(raw: pd.DataFrame, table: str, where: Sequence[str] | None = None,
           keys: Sequence[str] | None = None) -> tuple[pd.DataFrame, list[Failure]]:
    """Parse every cell to its column's kind; collect every cell that cannot be parsed."""
    kinds = column_kinds(table)
    failures: list[Failure] = []
    where = list(where) if where is not None else [""] * len(raw)
    keys = list(keys) if keys is not None else [""] * len(raw)

    for extra in [col for col in raw.columns if col not in kinds]:
        failures.append(Failure(table, None, str(extra), "unknown_column",
                                f"column is not part of the {table} table (allowed: {', '.join(kinds)})"))
    out = {}
    for name, (kind, nullable) in kinds.items():
        if name not in raw.columns:
            if nullable:
                values: list = [None] * len(raw)
            else:
                failures.append(Failure(table, None, name, "missing_column", "required column is missing"))
                values = [None] * len(raw)
            out[name] = values
            continue
        parser = _PARSERS.get(kind, str)
        values = []
        for i, v in enumerate(raw[name].tolist()):
            if _is_missing(v) if kind != "list" else (v is None or (isinstance(v, float) and math.isnan(v))):
                if not nullable:
                    failures.append(Failure(table, i, name, "required", "a value is required here",
                                            None, where[i], keys[i]))
                values.append(None)
                continue
            try:
                values.append(parser(v))
            except (ValueError, TypeError, OverflowError):
                failures.append(Failure(table, i, name, "type", f"must be {_KIND_WORDS[kind]}",
                                        v, where[i], keys[i]))
                values.append(None)
        out[name] = values
    frame = pd.DataFrame({name: _series(values, kinds[name][0]) for name, values in out.items()},
                         index=range(len(raw)))
    return frame, failures


def _series(values: list, kind: str) -> pd.Series:
    if kind == "int":
        return pd.array(values, dtype="Int64")
    if kind == "date":
        return pd.Series(pd.to_datetime(pd.Series(values, dtype="object")), dtype="datetime64[ns]").array
    if kind == "list":
        return pd.Series(values, dtype="object").array
    return pd.Series([None if v is None else str(v) for v in values], dtype="object").array


# --- public dtypes ---------------------------------------------------------------------------

ENUM_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "sources": {"publisher_type": c.PUBLISHER_TYPES, "doc_type": c.DOC_TYPES},
    "figures": {"qualifier": c.QUALIFIERS, "count_type": c.COUNT_TYPES,
                "date_precision": c.DATE_PRECISIONS, "area_scope": c.AREA_SCOPES,
                "originator_type": c.ORIGINATOR_TYPES, "verification": c.VERIFICATIONS},
    "events": {"kind": c.EVENT_KINDS},
    "codebook": {"unit": c.UNITS},
}


def to_public(df: pd.DataFrame, table: str, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Real dtypes for users: datetime64 dates, categorical enums, nullable ints, str text."""
    enums = dict(ENUM_COLUMNS[table])
    if table == "figures" and metrics is not None:
        enums["metric"] = tuple(metrics)
    out = {}
    for name, (kind, _nullable) in _kinds_light(table).items():
        s = df[name]
        if name in enums:
            out[name] = pd.Categorical(s.astype("object").where(s.notna(), None), categories=list(enums[name]))
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

# Kinds without pandera, for the light load path (must agree with the models; a test checks it).
_LIGHT_KINDS: dict[str, dict[str, str]] = {
    "sources": {"published": "date", "accessed": "date"},
    "figures": {"value": "int", "value_low": "int", "value_high": "int", "period_start": "date",
                "period_end": "date", "admin1_pcodes": "list"},
    "events": {"date": "date", "date_end": "date"},
    "codebook": {},
}


def _kinds_light(table: str) -> dict[str, tuple[str, bool]]:
    special = _LIGHT_KINDS[table]
    return {name: (special.get(name, "str"), True) for name in c.COLUMNS[table]}


def arrow_schema(table: str, metadata: dict[bytes, bytes] | None = None) -> pa.Schema:
    """Plain Arrow types only (string, int64, date32, list<string>): readable by any Parquet reader."""
    from .schemas import MODELS

    model_schema = MODELS[table].to_schema()
    fields = []
    for name, (kind, nullable) in column_kinds(table).items():
        desc = model_schema.columns[name].description or ""
        fields.append(pa.field(name, _ARROW[kind], nullable=nullable,
                               metadata={b"description": desc.encode()}))
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
