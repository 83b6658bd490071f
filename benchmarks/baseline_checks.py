"""A hand-written, vectorised pandas check of the figures rules: the plain baseline that
`check_table` (pandera plus curator-friendly failure reports) is measured against."""

from __future__ import annotations

import pandas as pd

from conflictstats import datamodel as c


def check_figures_plain(df: pd.DataFrame, published: dict, metrics: frozenset, coverage) -> int:
    """Parse the typed columns and evaluate every figures rule; returns the number of failing cells."""
    bad = 0
    value = pd.to_numeric(df["value"], errors="coerce")
    low = pd.to_numeric(df["value_low"], errors="coerce")
    high = pd.to_numeric(df["value_high"], errors="coerce")
    start = pd.to_datetime(df["period_start"], errors="coerce")
    end = pd.to_datetime(df["period_end"], errors="coerce")
    bad += int(value.isna().sum() + (value < 0).sum())
    bad += int(df["figure_id"].duplicated().sum())
    bad += int((~df["figure_id"].astype(str).str.fullmatch(r"[a-z0-9][a-z0-9._-]*")).sum())
    for col, allowed in (("qualifier", c.QUALIFIERS), ("count_type", c.COUNT_TYPES),
                         ("date_precision", c.DATE_PRECISIONS), ("area_scope", c.AREA_SCOPES),
                         ("originator_type", c.ORIGINATOR_TYPES), ("verification", c.VERIFICATIONS)):
        bad += int((~df[col].isin(allowed)).sum())
    bad += int((~df["metric"].isin(metrics)).sum())
    bad += int((start > end).sum())
    is_range = df["qualifier"] == "range"
    bad += int((is_range & ~((low <= value) & (value <= high)).fillna(False)).sum())
    bad += int((~is_range & (low.notna() | high.notna())).sum())
    bad += int(((df["count_type"] == "incident") & start.notna() & (start != end)).sum())
    key = ["source_id", "metric", "period_start", "period_end", "area", "value"]
    bad += int(df[key].astype(str).duplicated().sum())
    lo, hi = pd.Timestamp(coverage[0]), pd.Timestamp(coverage[1])
    bad += int(((start < lo) | (start > hi) | (end < lo) | (end > hi)).sum())
    pub = df["source_id"].map(pd.Series(published, dtype="datetime64[ns]"))
    bad += int(pub.isna().sum() + (end > pub + pd.Timedelta(days=c.PUBLICATION_GRACE_DAYS)).sum())
    lengths = df["admin1_pcodes"].map(len)
    flat = df["admin1_pcodes"].explode()
    bad += int((lengths == 0).sum() + (~flat.isin(list(c.ADMIN1_PCODES))).sum())
    for col in ("area", "originator", "paraphrase"):
        bad += int((df[col].astype(str).str.len() == 0).sum())
    return bad
