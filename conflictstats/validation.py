"""Check tables against the contract and report every failure at once, in curators' words."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pandera.pandas as pa

from . import datamodel as dm
from .errors import Failure, ValidationError
from .schemas import RULE_COLUMNS, Context, schema_for
from .tables import coerce

def _rule_of(check: pa.Check, column: dm.Column | None) -> tuple[str, str]:
    """Rule name and curator's message of one pandera check, from the check object itself."""
    if check.error and check.name and not check.error.startswith(f"{check.name}("):
        return check.name, check.error  # a named rule of conflictstats.schemas
    stats = check.statistics or {}
    if check.name == "isin":
        return "allowed_values", "must be one of: " + ", ".join(map(str, stats.get("allowed_values", ())))
    if check.name == "greater_than_or_equal_to":
        return "non_negative", "must be zero or more"
    if check.name == "str_matches" and column is not None:
        return "format", column.pattern_words
    if check.name == "str_length":
        n = stats.get("min_value") or 1
        return "too_short", "must not be empty" if n == 1 else f"must be at least {n} characters"
    return str(check.name), str(check.error or check.name)


# Checks pandera runs without a Check object (check_number is empty): rule and message.
_BUILTIN = {"field_uniqueness": ("unique", "must be unique; this value is used more than once"),
            "not_nullable": ("required", "a value is required here")}


def check_table(raw: pd.DataFrame, table: str, ctx: Context | None = None,
                where: Sequence[str] | None = None, keys: Sequence[str] | None = None,
                ) -> tuple[pd.DataFrame, list[Failure]]:
    """Parse and validate one table lazily; return the parsed frame and every failure."""
    where = where if where is not None else [""] * len(raw)
    if keys is None:
        id_col = dm.PRIMARY_KEYS[table]
        keys = _Keys(raw[id_col]) if id_col in raw.columns else [""] * len(raw)
    frame, failures = coerce(raw, table, where, keys)
    already = {(f.row, f.column) for f in failures}
    broken_cols = {f.column for f in failures if f.row is None}
    schema = schema_for(table, ctx)
    spec = {col.name: col for col in dm.columns(table)}
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        seen: set[tuple] = set()
        for rec in exc.failure_cases.to_dict("records"):
            idx, number = rec.get("index"), rec.get("check_number")
            row = None if idx is None or pd.isna(idx) else int(idx)
            has_number = number is not None and not pd.isna(number)
            if rec["schema_context"] == "DataFrameSchema":
                if not has_number:
                    continue  # column presence/strictness is reported by coerce()
                rule, message = _rule_of(schema.checks[int(number)], None)
                column = RULE_COLUMNS.get(rule, rec["column"])
            else:
                column = rec["column"]
                if has_number:
                    rule, message = _rule_of(schema.columns[column].checks[int(number)], spec.get(column))
                else:
                    rule, message = _BUILTIN.get(str(rec["check"]), ("type", f"has the wrong type ({rec['check']})"))
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


def check_curated(raw: dict[str, pd.DataFrame], info, where: dict[str, Sequence[str]] | None = None,
                  today=None) -> tuple[dict[str, pd.DataFrame], list[Failure]]:
    """The one check of a dataset's tables, used by ``build``, ``check`` and ``validate`` alike.

    Figures get their ``originator_group`` from the shared originator registry where they do not
    carry one, and every figure's originator must be registered; then every rule of the data
    model runs against ``info``'s coverage (``info`` is the dataset's DatasetInfo).
    """
    from .registry import originator_groups
    from .relativedates import apply_phrases

    phrase_failures: list[Failure] = []
    if "figures" in raw:
        figures, phrase_failures = apply_phrases(raw["figures"], dm.CURATED_KEYS["figures"][0].name,
                                                 (where or {}).get("figures"))
        raw = {**raw, "figures": figures}
    if "figures" in raw and len(raw["figures"]):
        figures = raw["figures"].copy()
        groups = originator_groups()
        names = figures["originator"] if "originator" in figures else pd.Series([None] * len(figures))
        found = [groups.get(n) if isinstance(n, str) else None for n in names]
        given = figures["originator_group"] if "originator_group" in figures else pd.Series([None] * len(figures))
        figures["originator_group"] = [g if isinstance(g, str) and g.strip() else f for g, f in zip(given, found)]
        raw = {**raw, "figures": figures}
    typed, failures = check_tables(raw, info.coverage, where, today=today, grouped_originators=True)
    return typed, phrase_failures + failures


def require_valid(raw: dict[str, pd.DataFrame], info, where=None, today=None, what: str = "") -> dict[str, pd.DataFrame]:
    """The checked tables; raises ValidationError listing every failure of :func:`check_curated`."""
    typed, failures = check_curated(raw, info, where, today)
    if failures:
        raise ValidationError(failures, what=what or f"dataset {info.name} ({info.path})")
    return typed
