"""pandera schemas of the v1 contract, derived from :mod:`conflictstats.datamodel`.

Each column's type, nullability, allowed values and description come from the data model (which
also feeds the Arrow schema and the Frictionless exports). Rules that span columns are named
checks here; rules that need another table (a figure's source, the codebook's metrics, the
dataset's coverage) are added per validation by :func:`context_checks`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc

from . import datamodel as dm


def pcodes_ok(s: pd.Series) -> np.ndarray:
    """Row-wise: a non-empty list whose every element is a known admin-1 p-code (vectorised)."""
    try:
        arr = pa_arrow.array(list(s), type=pa_arrow.list_(pa_arrow.string()))
    except (pa_arrow.ArrowInvalid, pa_arrow.ArrowTypeError, TypeError):
        return np.array([isinstance(v, (list, tuple)) and len(v) > 0 and all(p in dm.ADMIN1_PCODES for p in v)
                         for v in s], dtype=bool)
    lengths = np.asarray(pc.list_value_length(arr).fill_null(0))
    ok = lengths > 0
    flat = pc.list_flatten(arr)
    if len(flat):
        known = np.asarray(pc.is_in(flat, value_set=pa_arrow.array(list(dm.ADMIN1_PCODES))).fill_null(False), dtype=bool)
        parents = np.asarray(pc.list_parent_indices(arr))
        ok[np.unique(parents[~known])] = False
    return ok


def _dataframe_rules() -> dict[str, list[pa.Check]]:
    """Rules that span columns of one table, by table (named, with a curator's message)."""

    def accessed_after_published(df: pd.DataFrame) -> pd.Series:
        return ~(df["accessed"] < df["published"])

    def start_not_after_end(df: pd.DataFrame) -> pd.Series:
        return ~(df["period_start"] > df["period_end"])

    def range_bounds(df: pd.DataFrame) -> pd.Series:
        is_range = df["qualifier"] == "range"
        ok_range = (df["value_low"] <= df["value"]) & (df["value"] <= df["value_high"])
        ok_other = df["value_low"].isna() & df["value_high"].isna()
        return (is_range & ok_range.fillna(False)) | (~is_range & ok_other)

    def incident_is_one_day(df: pd.DataFrame) -> pd.Series:
        return ~((df["count_type"] == "incident") & (df["period_start"] != df["period_end"])
                 & df["period_start"].notna())

    def no_duplicate_figure(df: pd.DataFrame) -> pd.Series:
        return ~df[list(dm.TABLE_SPECS["figures"].duplicate_key)].astype(str).duplicated(keep="first")

    def event_end_not_before_start(df: pd.DataFrame) -> pd.Series:
        return ~(df["date_end"] < df["date"])

    def rule(fn, error: str) -> pa.Check:
        return pa.Check(fn, name=fn.__name__, error=error)

    return {
        "sources": [rule(accessed_after_published, "a document cannot be read before it was published")],
        "figures": [
            rule(start_not_after_end, "period_start must not be after period_end"),
            rule(range_bounds, "a range needs value_low <= value <= value_high; other qualifiers leave both empty"),
            rule(incident_is_one_day, "an incident figure covers one day: period_start must equal period_end"),
            rule(no_duplicate_figure, "the same document already gives this metric, window, area and value"),
        ],
        "events": [rule(event_end_not_before_start, "date_end must not be before date")],
        "codebook": [],
    }


# Named column rules a Column of the data model can ask for (``Column.rule``).
COLUMN_RULES = {
    "known_admin1_pcodes": lambda: pa.Check(
        lambda s: pd.Series(pcodes_ok(s), index=s.index), name="known_admin1_pcodes",
        error="admin1_pcodes must be a non-empty list of OCHA admin-1 p-codes (SY01..SY14)"),
}
_DTYPES = {"str": str, "int": pd.Int64Dtype(), "date": pa.DateTime, "list": object}


def _column(col: dm.Column) -> pa.Column:
    """A pandera column from the data model's column (type, nullability, values, description)."""
    checks = []
    if col.minimum is not None:
        checks.append(pa.Check.ge(col.minimum))
    if col.enum:
        checks.append(pa.Check.isin(list(col.enum)))
    if col.pattern:
        checks.append(pa.Check.str_matches(col.pattern))
    if col.min_length:
        checks.append(pa.Check.str_length(min_value=col.min_length))
    if col.rule:
        checks.append(COLUMN_RULES[col.rule]())
    return pa.Column(_DTYPES[col.kind], checks, nullable=col.nullable, unique=col.unique, name=col.name,
                     description=col.description, metadata={"enum": list(col.enum)} if col.enum else None)


@lru_cache(maxsize=None)
def model(table: str) -> pa.DataFrameSchema:
    """The table's pandera schema, derived from :data:`conflictstats.datamodel.TABLE_SPECS`."""
    spec = dm.TABLE_SPECS[table]
    return pa.DataFrameSchema({col.name: _column(col) for col in spec.columns},
                              checks=_dataframe_rules()[table], strict=True, ordered=False,
                              name=spec.name, description=spec.description)


@dataclass(frozen=True)
class Context:
    """What a table's rules need to know from elsewhere: the other tables and the dataset."""

    coverage_start: dt.date | None = None
    coverage_end: dt.date | None = None
    published: dict[str, pd.Timestamp] | None = None  # source_id -> publication date
    metrics: frozenset[str] | None = None
    grouped_originators: bool = False  # curated data: every originator must be in originators.toml
    today: dt.date = field(default_factory=dt.date.today)


def context_checks(table: str, ctx: Context) -> list[pa.Check]:
    """Rules that read another table or the dataset's declared coverage."""
    checks: list[pa.Check] = []
    lo = pd.Timestamp(ctx.coverage_start) if ctx.coverage_start else None
    hi = pd.Timestamp(ctx.coverage_end) if ctx.coverage_end else None
    today = pd.Timestamp(ctx.today)

    def within(cols: tuple[str, ...]):
        def check(df: pd.DataFrame) -> pd.Series:
            ok = pd.Series(True, index=df.index)
            for col in cols:
                d = df[col]
                ok &= ~((d < lo) | (d > hi))
            return ok
        return check

    if table in ("figures", "events") and lo is not None and hi is not None:
        cols = ("period_start", "period_end") if table == "figures" else ("date", "date_end")
        checks.append(pa.Check(within(cols), name="inside_coverage",
                               error=f"dates must fall inside the dataset's coverage, {lo.date()} to {hi.date()}"))
    if table in ("figures", "events") and ctx.published is not None:
        known = set(ctx.published)
        checks.append(pa.Check(lambda df: df["source_id"].isin(known), name="source_exists",
                               error="source_id must name a document in the sources table"))
    if table == "figures" and ctx.published is not None:
        pub = pd.Series(ctx.published, dtype="datetime64[ns]")
        grace = pd.Timedelta(days=dm.PUBLICATION_GRACE_DAYS)
        checks.append(pa.Check(
            lambda df: ~(df["period_end"] > df["source_id"].map(pub) + grace),
            name="not_after_publication",
            error=f"period_end must not be after the document's publication date (+{dm.PUBLICATION_GRACE_DAYS} days)"))
    if table == "figures" and ctx.metrics is not None:
        metrics = set(ctx.metrics)
        checks.append(pa.Check(lambda df: df["metric"].isin(metrics), name="known_metric",
                               error="metric must be one of the codebook's metrics"))
    if table == "figures" and ctx.grouped_originators:
        checks.append(pa.Check(lambda df: df["originator_group"].notna(), name="originator_registered",
                               error="originator must be listed under the aliases of one [[originator]] in originators.toml"))
    if table == "sources":
        checks.append(pa.Check(lambda df: ~((df["published"] > today) | (df["accessed"] > today)),
                               name="not_in_future", error="published and accessed dates cannot be in the future"))
        if lo is not None:
            checks.append(pa.Check(lambda df: ~(df["published"] < lo), name="published_inside_coverage",
                                   error=f"a document published before the coverage start ({lo.date()}) cannot report on it"))
    return checks


def schema_for(table: str, ctx: Context | None = None) -> pa.DataFrameSchema:
    """The table's pandera schema, with the context rules added when a context is given."""
    schema = model(table)
    if ctx is not None:
        extra = context_checks(table, ctx)
        if extra:
            schema = pa.DataFrameSchema(columns=schema.columns, checks=list(schema.checks) + extra,
                                        strict=schema.strict, ordered=schema.ordered, name=schema.name)
    return schema


# The frame rule that checks a table's ``duplicate_key`` (the first row of a repeated key passes).
KEY_RULES: dict[str, str] = {"figures": "no_duplicate_figure"}

# The column a row-level rule is about, so a failure names one column rather than all of them.
RULE_COLUMNS: dict[str, str] = {
    "accessed_after_published": "accessed",
    "start_not_after_end": "period_start",
    "range_bounds": "value",
    "incident_is_one_day": "period_start",
    "no_duplicate_figure": "value",
    "event_end_not_before_start": "date_end",
    "inside_coverage": "period_end",
    "source_exists": "source_id",
    "not_after_publication": "period_end",
    "known_metric": "metric",
    "not_in_future": "published",
    "published_inside_coverage": "published",
    "originator_registered": "originator",
}
