"""Check tables against the contract and report every failure at once, in curators' words."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd
import pandera.pandas as pa

from .errors import Failure
from .schemas import RULE_COLUMNS, Context, schema_for
from .tables import coerce

_FORMAT_WORDS = {
    "url": "must be an http(s) address",
    "language": "must be a two-letter ISO 639-1 code such as 'en'",
    "hxl": "must be an HXL hashtag such as #affected+killed",
}


def _builtin(column: str, check: str) -> tuple[str, str]:
    """Rule name and message for pandera's built-in checks."""
    if check == "field_uniqueness":
        return "unique", "must be unique; this value is used more than once"
    if check == "not_nullable":
        return "required", "a value is required here"
    if check.startswith("isin("):
        allowed = re.findall(r"'([^']*)'", check)
        return "allowed_values", "must be one of: " + ", ".join(allowed)
    if check.startswith("greater_than_or_equal_to("):
        return "non_negative", "must be zero or more"
    if check.startswith("str_matches("):
        return "format", _FORMAT_WORDS.get(column, "must be a lowercase slug (letters a-z, digits, '.', '_', '-')")
    if check.startswith("str_length("):
        n = re.findall(r"\d+", check)
        return "too_short", "must not be empty" if n and n[0] == "1" else f"must be at least {n[0]} characters"
    if check.startswith("dtype(") or check.startswith("coerce_dtype("):
        return "type", f"has the wrong type ({check})"
    return check, check


def check_table(raw: pd.DataFrame, table: str, ctx: Context | None = None,
                where: Sequence[str] | None = None, keys: Sequence[str] | None = None,
                ) -> tuple[pd.DataFrame, list[Failure]]:
    """Parse and validate one table lazily; return the parsed frame and every failure."""
    where = where if where is not None else [""] * len(raw)
    if keys is None:
        id_col = {"sources": "source_id", "figures": "figure_id", "events": "event_id",
                  "codebook": "metric"}[table]
        keys = _Keys(raw[id_col]) if id_col in raw.columns else [""] * len(raw)
    frame, failures = coerce(raw, table, where, keys)
    already = {(f.row, f.column) for f in failures}
    broken_cols = {f.column for f in failures if f.row is None}
    schema = schema_for(table, ctx)
    # Named custom checks, by the message pandera reports (built-ins report their own repr).
    custom = list(schema.checks) + [ch for col in schema.columns.values() for ch in col.checks]
    by_error = {ch.error: ch.name for ch in custom if ch.error and not ch.error.startswith(f"{ch.name}(")}
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        seen: set[tuple] = set()
        for rec in exc.failure_cases.to_dict("records"):
            idx = rec.get("index")
            row = None if idx is None or pd.isna(idx) else int(idx)
            check = str(rec["check"])
            if rec["schema_context"] == "DataFrameSchema" and check in by_error:
                rule = by_error[check]
                column = RULE_COLUMNS.get(rule, rec["column"])
                message = check
            elif rec["schema_context"] == "DataFrameSchema":
                continue  # column presence/strictness is reported by coerce()
            else:
                column = rec["column"]
                rule, message = (by_error[check], check) if check in by_error else _builtin(column, check)
            if column in broken_cols or (row, column) in already:
                continue
            if (row, column, rule) in seen:
                continue
            seen.add((row, column, rule))
            value = frame.at[row, column] if row is not None and column in frame.columns else rec["failure_case"]
            failures.append(Failure(table, row, column, rule, message, _plain(value),
                                    where[row] if row is not None else "", keys[row] if row is not None else ""))
    failures.sort(key=lambda f: (-1 if f.row is None else f.row, f.column or "", f.rule))
    return frame, failures


class _Keys:
    """Row ids looked up only for the rows that fail."""

    def __init__(self, column: pd.Series):
        self.column = column.reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.column)

    def __getitem__(self, i: int) -> str:
        v = self.column.iat[i]
        return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def _plain(v: object) -> object:
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
        return None
    if hasattr(v, "tolist"):
        return v.tolist()
    return v


def check_tables(raw: dict[str, pd.DataFrame], coverage: tuple | None = None,
                 where: dict[str, Sequence[str]] | None = None, today=None,
                 grouped_originators: bool = False,
                 ) -> tuple[dict[str, pd.DataFrame], list[Failure]]:
    """Validate a whole dataset: each table, then the rules that span tables.

    ``grouped_originators`` (curated data) requires every figure's originator to be registered.
    """
    where = where or {}
    out: dict[str, pd.DataFrame] = {}
    failures: list[Failure] = []
    base = {} if today is None else {"today": today}
    cov = {} if coverage is None else {"coverage_start": coverage[0], "coverage_end": coverage[1]}

    for table in ("codebook", "sources"):
        if table in raw:
            out[table], f = check_table(raw[table], table, Context(**cov, **base), where.get(table))
            failures += f
    published = None
    if "sources" in out:
        s = out["sources"].dropna(subset=["source_id"])
        published = dict(zip(s["source_id"], s["published"]))
    metrics = None
    if "codebook" in out:
        metrics = frozenset(out["codebook"]["metric"].dropna())
    for table in ("figures", "events"):
        if table in raw:
            ctx = Context(**cov, **base, published=published, metrics=metrics if table == "figures" else None,
                          grouped_originators=grouped_originators and table == "figures")
            out[table], f = check_table(raw[table], table, ctx, where.get(table))
            failures += f
    return out, failures
