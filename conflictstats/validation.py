"""Check tables against the contract and report every failure at once, in curators' words."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pandera.pandas as pa

from . import datamodel as dm
from .errors import Failure, ValidationError
from .failurelog import FailureLog
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
                log: FailureLog | None = None, offset: int = 0,
                ) -> tuple[pd.DataFrame, list[Failure]]:
    """Parse and validate one table lazily; return the parsed frame and every failure.

    With a ``log`` (a batch of a larger file: rows numbered from ``offset``), failures go to the
    log, which keeps only the first few per rule, and the returned list is empty.
    """
    where = where if where is not None else [""] * len(raw)
    if keys is None:
        id_col = dm.PRIMARY_KEYS[table]
        keys = _Keys(raw[id_col]) if id_col in raw.columns else [""] * len(raw)
    own = log is None
    log = FailureLog() if own else log
    frame, broken = coerce(raw, table, where, keys, log, offset)
    schema = schema_for(table, ctx)
    spec = {col.name: col for col in dm.columns(table)}
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        _log_schema_failures(exc.failure_cases, schema, spec, frame, broken, table, where, keys, log, offset)
    if own:
        return frame, log.sorted()
    return frame, []


def _log_schema_failures(cases: pd.DataFrame, schema: pa.DataFrameSchema, spec: dict, frame: pd.DataFrame,
                         broken: dict[str, np.ndarray], table: str, where, keys, log: FailureLog,
                         offset: int) -> None:
    """pandera's failure cases, one group per check (not per record: a frame-wide rule lists
    every column of every failing row), as curators' failures; cells coerce() already reported
    are left out."""
    cases = cases.assign(check_number=cases["check_number"].astype("Float64"),
                         index=pd.to_numeric(cases["index"], errors="coerce").astype("Float64"))
    frame_wide = cases["schema_context"] == "DataFrameSchema"
    cases = cases[~(frame_wide & cases["check_number"].isna())]  # presence/strictness: coerce() reported it
    cases = cases.assign(column=cases["column"].where(~frame_wide.loc[cases.index], None))
    for (context, column, check, number), group in cases.groupby(
            ["schema_context", "column", "check", "check_number"], dropna=False, sort=False):
        has_number = not pd.isna(number)
        if context == "DataFrameSchema":
            rule, message = _rule_of(schema.checks[int(number)], None)
            column = RULE_COLUMNS.get(rule, None)
        elif has_number:
            rule, message = _rule_of(schema.columns[column].checks[int(number)], spec.get(column))
        else:
            rule, message = _BUILTIN.get(str(check), ("type", f"has the wrong type ({check})"))
        idx = group["index"]
        if idx.isna().all():
            if column in broken and broken[column].all():
                continue
            first = group["failure_case"].iloc[0]
            log.add(rule, [None], lambda _, rule=rule, message=message, column=column, first=first: Failure(
                table, None, column, rule, message, _plain(first)), once=column)
            continue
        rows = np.unique(idx.dropna().to_numpy(dtype="int64"))
        if column in broken:
            rows = rows[~broken[column][rows]]
        log.add(rule, rows, lambda i, rule=rule, message=message, column=column: Failure(
            table, offset + i, column, rule, message,
            _plain(frame.at[i, column]) if column in frame.columns else None, where[i], keys[i]))


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
    for table in ("codebook", "sources"):
        if table in raw:
            out[table], f = check_table(raw[table], table, table_context(table, coverage, today), where.get(table))
            failures += f
    published, metrics = known_keys(out)
    for table in ("figures", "events"):
        if table in raw:
            ctx = table_context(table, coverage, today, published, metrics, grouped_originators)
            out[table], f = check_table(raw[table], table, ctx, where.get(table))
            failures += f
    return out, failures


def table_context(table: str, coverage: tuple | None = None, today=None, published: dict | None = None,
                  metrics: frozenset | None = None, grouped_originators: bool = False) -> Context:
    """What ``table``'s rules need from the dataset and the other tables (see :func:`known_keys`)."""
    base = {} if today is None else {"today": today}
    cov = {} if coverage is None else {"coverage_start": coverage[0], "coverage_end": coverage[1]}
    if table not in ("figures", "events"):
        return Context(**cov, **base)
    return Context(**cov, **base, published=published, metrics=metrics if table == "figures" else None,
                   grouped_originators=grouped_originators and table == "figures")


def known_keys(typed: dict[str, pd.DataFrame]) -> tuple[dict | None, frozenset | None]:
    """(source_id -> publication date, the codebook's metrics) from typed sources and codebook,
    or None for a table not given (then the rules that need it are not run)."""
    published = metrics = None
    if "sources" in typed:
        s = typed["sources"].dropna(subset=["source_id"])
        published = dict(zip(s["source_id"], s["published"]))
    if "codebook" in typed:
        metrics = frozenset(typed["codebook"]["metric"].dropna())
    return published, metrics


def with_originator_groups(figures: pd.DataFrame) -> pd.DataFrame:
    """Figures with ``originator_group`` taken from the shared originator registry where they do
    not carry one (curated data; unregistered originators stay empty and fail a rule)."""
    from .registry import originator_groups

    figures = figures.copy()
    groups = originator_groups()
    missing = pd.Series([None] * len(figures), index=figures.index, dtype=object)
    names = figures["originator"] if "originator" in figures else missing
    found = names.map(lambda n: groups.get(n) if isinstance(n, str) else None, na_action="ignore")
    given = figures["originator_group"] if "originator_group" in figures else missing
    if isinstance(given.dtype, pd.StringDtype):  # text or missing only: decided in Arrow
        has = (given.notna() & given.str.strip().ne("")).fillna(False).to_numpy(dtype=bool)
    else:
        has = np.fromiter((isinstance(g, str) and bool(g.strip()) for g in given), bool, len(given))
    figures["originator_group"] = pd.Series(np.where(has, given.astype(object), found.astype(object)),
                                            index=figures.index, dtype=object)
    figures["originator_group"] = figures["originator_group"].where(figures["originator_group"].notna(), None)
    return figures


def check_curated(raw: dict[str, pd.DataFrame], info, where: dict[str, Sequence[str]] | None = None,
                  today=None) -> tuple[dict[str, pd.DataFrame], list[Failure]]:
    """The one check of a dataset's tables, used by ``build``, ``check`` and ``validate`` alike.

    Figures get their ``originator_group`` from the shared originator registry where they do not
    carry one, and every figure's originator must be registered; then every rule of the data
    model runs against ``info``'s coverage (``info`` is the dataset's DatasetInfo).
    """
    from .relativedates import apply_phrases

    phrase_failures: list[Failure] = []
    if "figures" in raw:
        figures, phrase_failures = apply_phrases(raw["figures"], dm.CURATED_KEYS["figures"][0].name,
                                                 (where or {}).get("figures"))
        raw = {**raw, "figures": with_originator_groups(figures)}
    typed, failures = check_tables(raw, info.coverage, where, today=today, grouped_originators=True)
    return typed, phrase_failures + failures


def require_valid(raw: dict[str, pd.DataFrame], info, where=None, today=None, what: str = "") -> dict[str, pd.DataFrame]:
    """The checked tables; raises ValidationError listing every failure of :func:`check_curated`."""
    typed, failures = check_curated(raw, info, where, today)
    if failures:
        raise ValidationError(failures, what=what or f"dataset {info.name} ({info.path})")
    return typed
