"""pandera models of the v1 contract: the single definition of every table's columns.

Each column carries its type, nullability, allowed values and a description (used for the
Frictionless exports in ``schemas/`` and ``datapackage.json``). Rules that span columns are
named checks; rules that need another table (a figure's source, the codebook's metrics, the
dataset's coverage) are added per validation by :func:`context_checks`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc
from pandera.typing import Series

from . import contract as c

URL_PATTERN = r"^https?://[^\s/$.?#][^\s]*$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"


def _enum(values: tuple[str, ...]) -> dict:
    return {"isin": list(values), "metadata": {"enum": list(values)}}


def pcodes_ok(s: pd.Series) -> np.ndarray:
    """Row-wise: a non-empty list whose every element is a known admin-1 p-code (vectorised)."""
    try:
        arr = pa_arrow.array(list(s), type=pa_arrow.list_(pa_arrow.string()))
    except (pa_arrow.ArrowInvalid, pa_arrow.ArrowTypeError, TypeError):
        return np.array([isinstance(v, (list, tuple)) and len(v) > 0 and all(p in c.ADMIN1_PCODES for p in v)
                         for v in s], dtype=bool)
    lengths = np.asarray(pc.list_value_length(arr).fill_null(0))
    ok = lengths > 0
    flat = pc.list_flatten(arr)
    if len(flat):
        known = np.asarray(pc.is_in(flat, value_set=pa_arrow.array(list(c.ADMIN1_PCODES))).fill_null(False), dtype=bool)
        parents = np.asarray(pc.list_parent_indices(arr))
        ok[np.unique(parents[~known])] = False
    return ok


class SourcesModel(pa.DataFrameModel):
    """One row per public document."""

    source_id: Series[str] = pa.Field(unique=True, str_matches=SLUG_PATTERN,
                                      description="Stable slug of the document.")
    title: Series[str] = pa.Field(str_length={"min_value": 1}, description="The document's own title.")
    publisher: Series[str] = pa.Field(str_length={"min_value": 1}, description="Who published the document.")
    publisher_type: Series[str] = pa.Field(**_enum(c.PUBLISHER_TYPES), description="Kind of publisher.")
    doc_type: Series[str] = pa.Field(**_enum(c.DOC_TYPES), description="Kind of document.")
    published: Series[pa.DateTime] = pa.Field(description="Publication date as the document gives it.")
    url: Series[str] = pa.Field(str_matches=URL_PATTERN, description="http(s) address where it was read.")
    language: Series[str] = pa.Field(str_matches=r"^[a-z]{2}$", description="ISO 639-1 language code.")
    accessed: Series[pa.DateTime] = pa.Field(description="When the curator read it.")
    notes: Series[str] = pa.Field(nullable=True, description="Curator's remarks.")

    @pa.dataframe_check(name="accessed_after_published",
                        error="a document cannot be read before it was published")
    def _accessed_after_published(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["accessed"] < df["published"])

    class Config:
        strict = True
        ordered = False


class FiguresModel(pa.DataFrameModel):
    """One row per reported number, with its window, qualifier and provenance."""

    figure_id: Series[str] = pa.Field(unique=True, str_matches=SLUG_PATTERN, description="Stable slug of the figure.")
    source_id: Series[str] = pa.Field(description="The document that reported it (key into sources).")
    metric: Series[str] = pa.Field(description="What is counted (a metric of the codebook).")
    value: Series[pd.Int64Dtype] = pa.Field(ge=0, description="The number as reported.")
    qualifier: Series[str] = pa.Field(**_enum(c.QUALIFIERS), description="How the source hedged the number.")
    value_low: Series[pd.Int64Dtype] = pa.Field(ge=0, nullable=True, description="Lower end, only for ranges.")
    value_high: Series[pd.Int64Dtype] = pa.Field(ge=0, nullable=True, description="Upper end, only for ranges.")
    count_type: Series[str] = pa.Field(**_enum(c.COUNT_TYPES),
                                       description="flow (total over the window), stock (level on period_end) or incident (one event).")
    period_start: Series[pa.DateTime] = pa.Field(nullable=True, description="First day covered; null when the source does not say.")
    period_end: Series[pa.DateTime] = pa.Field(description="Last day covered (the 'as of' date).")
    date_precision: Series[str] = pa.Field(**_enum(c.DATE_PRECISIONS), description="Precision of the window's dates.")
    area: Series[str] = pa.Field(str_length={"min_value": 1}, description="The area as the source names it.")
    area_scope: Series[str] = pa.Field(**_enum(c.AREA_SCOPES), description="Level of the area.")
    admin1_pcodes: Series[object] = pa.Field(description="OCHA admin-1 p-codes the area falls in.")
    originator: Series[str] = pa.Field(str_length={"min_value": 1}, description="Who produced the count.")
    originator_type: Series[str] = pa.Field(**_enum(c.ORIGINATOR_TYPES), description="Kind of originator.")
    originator_group: Series[str] = pa.Field(
        nullable=True, description="The organisation behind the count, one name per originator "
        "(derived from originators.toml at build; models and the report compare sources by it).")
    perpetrator: Series[str] = pa.Field(nullable=True, description="Who caused the harm, as the source states it.")
    verification: Series[str] = pa.Field(**_enum(c.VERIFICATIONS), description="Whether the originator verified the count.")
    locator: Series[str] = pa.Field(nullable=True, description="Where in the document the figure stands.")
    paraphrase: Series[str] = pa.Field(str_length={"min_value": 10}, description="One sentence in the curator's own words.")
    notes: Series[str] = pa.Field(nullable=True, description="Inferred dates, caveats.")

    @pa.check("admin1_pcodes", name="known_admin1_pcodes",
              error="admin1_pcodes must be a non-empty list of OCHA admin-1 p-codes (SY01..SY14)")
    def _pcodes(cls, s: Series[object]) -> Series[bool]:
        return pd.Series(pcodes_ok(s), index=s.index)

    @pa.dataframe_check(name="start_not_after_end", error="period_start must not be after period_end")
    def _window(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["period_start"] > df["period_end"])

    @pa.dataframe_check(name="range_bounds",
                        error="a range needs value_low <= value <= value_high; other qualifiers leave both empty")
    def _range(cls, df: pd.DataFrame) -> Series[bool]:
        is_range = df["qualifier"] == "range"
        ok_range = (df["value_low"] <= df["value"]) & (df["value"] <= df["value_high"])
        ok_other = df["value_low"].isna() & df["value_high"].isna()
        return (is_range & ok_range.fillna(False)) | (~is_range & ok_other)

    @pa.dataframe_check(name="incident_is_one_day",
                        error="an incident figure covers one day: period_start must equal period_end")
    def _incident(cls, df: pd.DataFrame) -> Series[bool]:
        return ~((df["count_type"] == "incident") & (df["period_start"] != df["period_end"])
                 & df["period_start"].notna())

    @pa.dataframe_check(name="no_duplicate_figure",
                        error="the same document already gives this metric, window, area and value")
    def _duplicates(cls, df: pd.DataFrame) -> Series[bool]:
        key = ["source_id", "metric", "period_start", "period_end", "area", "value"]
        return ~df[key].astype(str).duplicated(keep="first")

    class Config:
        strict = True
        ordered = False


class EventsModel(pa.DataFrameModel):
    """The campaign's dated timeline; models use events as candidate breakpoints."""

    event_id: Series[str] = pa.Field(unique=True, str_matches=SLUG_PATTERN, description="Stable slug of the event.")
    date: Series[pa.DateTime] = pa.Field(description="Day the event happened (or began).")
    date_end: Series[pa.DateTime] = pa.Field(nullable=True, description="Last day, for events that lasted.")
    kind: Series[str] = pa.Field(**_enum(c.EVENT_KINDS), description="Kind of event.")
    place: Series[str] = pa.Field(str_length={"min_value": 1}, description="Where it happened.")
    description: Series[str] = pa.Field(str_length={"min_value": 10}, description="What happened, in the curator's words.")
    source_id: Series[str] = pa.Field(description="The document that reported it (key into sources).")

    @pa.dataframe_check(name="event_end_not_before_start", error="date_end must not be before date")
    def _span(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["date_end"] < df["date"])

    class Config:
        strict = True
        ordered = False


class CodebookModel(pa.DataFrameModel):
    """One row per metric: what it counts and how originators differ."""

    metric: Series[str] = pa.Field(unique=True, str_matches=r"^[a-z][a-z0-9_]*$", description="Metric name used in figures.")
    label: Series[str] = pa.Field(str_length={"min_value": 1}, description="Human-readable label.")
    unit: Series[str] = pa.Field(**_enum(c.UNITS), description="What one unit is.")
    definition: Series[str] = pa.Field(str_length={"min_value": 10}, description="What is counted.")
    hxl: Series[str] = pa.Field(str_matches=r"^#[a-z_]+(\+[a-z_]+)*$", description="HXL hashtag with attributes.")
    notes: Series[str] = pa.Field(nullable=True, description="How originators differ in what they count.")

    class Config:
        strict = True
        ordered = False


MODELS: dict[str, type[pa.DataFrameModel]] = {
    "sources": SourcesModel,
    "figures": FiguresModel,
    "events": EventsModel,
    "codebook": CodebookModel,
}


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
        grace = pd.Timedelta(days=c.PUBLICATION_GRACE_DAYS)
        checks.append(pa.Check(
            lambda df: ~(df["period_end"] > df["source_id"].map(pub) + grace),
            name="not_after_publication",
            error=f"period_end must not be after the document's publication date (+{c.PUBLICATION_GRACE_DAYS} days)"))
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
    schema = MODELS[table].to_schema()
    if ctx is not None:
        extra = context_checks(table, ctx)
        if extra:
            schema = pa.DataFrameSchema(
                columns=schema.columns, checks=list(schema.checks) + extra,
                strict=schema.strict, ordered=schema.ordered, name=schema.name,
            )
    return schema


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
