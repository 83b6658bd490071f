"""Every schema rule, with a passing case (the valid fixture) and a failing case."""

from __future__ import annotations

import datetime as dt

import pytest

from conflictstats.validation import check_tables
from conftest import COVERAGE
from conflictstats.curated import raw_tables as frames

TODAY = dt.date(2026, 11, 25)


def failures_of(raw):
    _, failures = check_tables(frames(raw), COVERAGE, today=TODAY)
    return failures


def test_valid_fixture_passes(valid_raw):
    assert failures_of(valid_raw) == []


def _set(table, i, col, value):
    def mutate(raw):
        raw[table][i][col] = value
    return mutate


def _dup(table, i):
    def mutate(raw):
        raw[table].append(dict(raw[table][i]))
    return mutate


def _drop(table, col):
    def mutate(raw):
        for row in raw[table]:
            row.pop(col, None)
    return mutate


def _add_col(table, col):
    def mutate(raw):
        for row in raw[table]:
            row[col] = "x"
    return mutate


def _dup_figure_other_id(raw):
    row = dict(raw["figures"][0])
    row["figure_id"] = "doc-a-2019-05-10-f99"
    raw["figures"].append(row)


CASES = [
    # sources
    ("sources", _set("sources", 1, "source_id", "doc-a-2019-05-10"), "source_id", "unique"),
    ("sources", _set("sources", 0, "source_id", "Doc A!"), "source_id", "format"),
    ("sources", _set("sources", 0, "title", ""), "title", "required"),
    ("sources", _set("sources", 0, "publisher_type", "blog"), "publisher_type", "allowed_values"),
    ("sources", _set("sources", 0, "doc_type", "tweet"), "doc_type", "allowed_values"),
    ("sources", _set("sources", 0, "published", "10 May 2019"), "published", "type"),
    ("sources", _set("sources", 0, "url", "ftp://example.org/a"), "url", "format"),
    ("sources", _set("sources", 0, "language", "English"), "language", "format"),
    ("sources", _set("sources", 0, "accessed", dt.date(2019, 5, 1)), "accessed", "accessed_after_published"),
    ("sources", _set("sources", 0, "published", dt.date(2030, 1, 1)), "published", "not_in_future"),
    ("sources", _set("sources", 0, "published", dt.date(2018, 1, 1)), "published", "published_inside_coverage"),
    ("sources", _drop("sources", "url"), "url", "missing_column"),
    ("sources", _add_col("sources", "colour"), "colour", "unknown_column"),
    # figures
    ("figures", _dup("figures", 0), "figure_id", "unique"),
    ("figures", _set("figures", 0, "value", -5), "value", "non_negative"),
    ("figures", _set("figures", 0, "value", "12.5"), "value", "type"),
    ("figures", _set("figures", 0, "value", None), "value", "required"),
    ("figures", _set("figures", 0, "qualifier", "roughly"), "qualifier", "allowed_values"),
    ("figures", _set("figures", 0, "count_type", "total"), "count_type", "allowed_values"),
    ("figures", _set("figures", 0, "date_precision", "year"), "date_precision", "allowed_values"),
    ("figures", _set("figures", 0, "area_scope", "region"), "area_scope", "allowed_values"),
    ("figures", _set("figures", 0, "originator_type", "tv"), "originator_type", "allowed_values"),
    ("figures", _set("figures", 0, "verification", "yes"), "verification", "allowed_values"),
    ("figures", _set("figures", 0, "admin1_pcodes", ["SY99"]), "admin1_pcodes", "known_admin1_pcodes"),
    ("figures", _set("figures", 0, "admin1_pcodes", []), "admin1_pcodes", "known_admin1_pcodes"),
    ("figures", _set("figures", 0, "period_start", dt.date(2019, 5, 30)), "period_start", "start_not_after_end"),
    ("figures", _set("figures", 1, "value_high", 175), "value", "range_bounds"),
    ("figures", _set("figures", 0, "value_low", 100), "value", "range_bounds"),
    ("figures", _set("figures", 2, "period_start", dt.date(2019, 5, 19)), "period_start", "incident_is_one_day"),
    ("figures", _dup_figure_other_id, "value", "no_duplicate_figure"),
    ("figures", _set("figures", 0, "period_start", dt.date(2019, 1, 1)), "period_end", "inside_coverage"),
    ("figures", _set("figures", 0, "source_id", "no-such-doc"), "source_id", "source_exists"),
    ("figures", _set("figures", 0, "period_end", dt.date(2019, 5, 20)), "period_end", "not_after_publication"),
    ("figures", _set("figures", 0, "metric", "cows_killed"), "metric", "known_metric"),
    ("figures", _set("figures", 0, "paraphrase", "short"), "paraphrase", "too_short"),
    ("figures", _set("figures", 0, "period_end", "2019-13-01"), "period_end", "type"),
    # events
    ("events", _dup("events", 0), "event_id", "unique"),
    ("events", _set("events", 0, "kind", "battle"), "kind", "allowed_values"),
    ("events", _set("events", 0, "date_end", dt.date(2019, 5, 1)), "date_end", "event_end_not_before_start"),
    ("events", _set("events", 0, "date", dt.date(2020, 1, 1)), "period_end", "inside_coverage"),
    ("events", _set("events", 0, "source_id", "nowhere"), "source_id", "source_exists"),
    # codebook
    ("codebook", _dup("codebook", 0), "metric", "unique"),
    ("codebook", _set("codebook", 0, "unit", "kg"), "unit", "allowed_values"),
    ("codebook", _set("codebook", 0, "hxl", "affected killed"), "hxl", "format"),
]


@pytest.mark.parametrize("table,mutate,column,rule", CASES,
                         ids=[f"{t}-{r}-{c}-{i}" for i, (t, _, c, r) in enumerate(CASES)])
def test_rule_fails(valid_raw, table, mutate, column, rule):
    mutate(valid_raw)
    failures = failures_of(valid_raw)
    hits = [f for f in failures if f.table == table and f.rule == rule]
    assert hits, f"expected rule {rule} on {table}; got {[(f.table, f.column, f.rule) for f in failures]}"
    if rule != "inside_coverage":
        assert any(f.column == column for f in hits)
    # A failure's line names the place, the column and the rule in words.
    assert f"[{rule}]" in hits[0].line()


def test_every_named_rule_is_exercised():
    """The named checks of the models and context all appear in CASES (a new rule needs a test)."""
    from conflictstats.schemas import RULE_COLUMNS, model

    tested = {rule for _, _, _, rule in CASES} | {"originator_registered"}
    assert set(RULE_COLUMNS) <= tested
    assert "known_admin1_pcodes" in tested and model("figures")


def test_originator_registered(valid_raw):
    """Curated data: each figure's originator must be grouped in originators.toml."""
    for row in valid_raw["figures"]:
        row["originator_group"] = "OCHA"
    _, failures = check_tables(frames(valid_raw), COVERAGE, today=TODAY, grouped_originators=True)
    assert failures == []
    valid_raw["figures"][1]["originator_group"] = None
    _, failures = check_tables(frames(valid_raw), COVERAGE, today=TODAY, grouped_originators=True)
    assert [(f.rule, f.column, f.row) for f in failures] == [("originator_registered", "originator", 1)]


def test_all_failures_reported_at_once(valid_raw):
    valid_raw["figures"][0]["value"] = -1
    valid_raw["figures"][1]["metric"] = "nope"
    valid_raw["sources"][0]["url"] = "mailto:x@y"
    rules = {f.rule for f in failures_of(valid_raw)}
    assert {"non_negative", "known_metric", "format"} <= rules
