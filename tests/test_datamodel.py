"""One definition per fact: the data model reaches every output, and the old contradictions are gone."""

from __future__ import annotations

import copy
import dataclasses
import math

import pandas as pd
import pytest

from conflictstats import datamodel as dm
from conflictstats.curated import raw_tables
from conftest import VALID, run_cli
from tomlfixtures import NAME, write_dataset


@pytest.fixture
def extra_column(monkeypatch):
    """The figures spec with one more column (a nullable date), as a one-line edit would add it."""
    from conflictstats import schemas

    spec = dm.TABLE_SPECS["figures"]
    col = dm.Column("reviewed_on", "date", "Test column added by monkeypatch.", "#date+reviewed", nullable=True)
    monkeypatch.setitem(dm.TABLE_SPECS, "figures", dataclasses.replace(spec, columns=spec.columns + (col,)))
    schemas.model.cache_clear()
    yield col
    schemas.model.cache_clear()


def test_a_new_column_reaches_every_output(extra_column):
    from conflictstats.datapackage import table_schema
    from conflictstats.models._common import figures_frame
    from conflictstats.schemas import model
    from conflictstats.tables import arrow_schema, to_arrow, to_public
    from conflictstats.validation import check_tables

    name = extra_column.name
    assert name in dm.COLUMNS["figures"]
    assert model("figures").columns[name].nullable
    assert arrow_schema("figures").field(name).type.equals(__import__("pyarrow").date32())
    field = next(f for f in table_schema("figures")["fields"] if f["name"] == name)
    assert field["type"] == "date" and field["hxl"] == "#date+reviewed"
    raw = copy.deepcopy(VALID)
    raw["figures"][0][name] = "2019-06-01"
    typed, failures = check_tables(raw_tables(raw), None)
    assert failures == []
    public = to_public(typed["figures"], "figures")
    assert public[name].dtype == "datetime64[ns]" and public[name].notna().sum() == 1
    assert to_arrow(typed["figures"], "figures").schema.field(name).nullable
    assert name in figures_frame(raw["figures"]).columns


def test_checked_on_is_in_the_shipped_data():
    import conflictstats as cs

    figures = cs.load("figures")
    assert figures["checked_on"].dtype == "datetime64[ns]"
    assert dm.TABLE_SPECS["figures"].column("checked_on").nullable


# --- qualifiers: one numeric meaning -------------------------------------------------------------

def test_almost_means_one_thing_in_consistency_models_and_charts():
    from conflictstats.consistency import _bounds
    from conflictstats.models.observations import _finite_interval, figure_interval
    from conflictstats.report import charts

    row = pd.Series({"qualifier": "almost", "value": 500, "value_low": None, "value_high": None})
    meaning = dm.qualifier_interval("almost", 500)
    assert meaning == (0.0, 499.0)  # below the stated number
    assert _bounds(row) == meaning == figure_interval("almost", 500)
    assert _finite_interval("almost", 500, None, None) == dm.qualifier_interval("almost", 500, finite=True)
    assert "almost" in charts.UPPER_MARK and "almost" not in charts.LOWER_MARK


@pytest.mark.parametrize("qualifier,value,expected", [
    ("exact", 120, (120, 120)), ("at_least", 500, (500, math.inf)), ("more_than", 500, (501, math.inf)),
    ("up_to", 500, (0, 500)), ("fewer_than", 500, (0, 499)), ("range", 190, (180, 200)),
])
def test_qualifier_intervals(qualifier, value, expected):
    assert dm.qualifier_interval(qualifier, value, 180, 200) == expected


def test_finite_bands_keep_the_models_numbers():
    assert dm.qualifier_interval("at_least", 5900, finite=True) == (5900, 6000)
    assert dm.qualifier_interval("almost", 500, finite=True) == (399, 499)
    lo, hi = dm.qualifier_interval("approximately", 270000)
    assert (lo, hi) == (263250, 276750)  # the 2.5% floor of the band


def test_every_qualifier_has_a_meaning_and_a_bound_side():
    assert set(dm.QUALIFIERS) == set(dm.QUALIFIER_BOUNDS)
    assert set(dm.LOWER_BOUND_QUALIFIERS) == {"at_least", "more_than"}
    assert set(dm.UPPER_BOUND_QUALIFIERS) == {"almost", "up_to", "fewer_than"}


# --- event kinds: the report says exactly the models' breakpoint candidates --------------------

def test_report_trend_events_are_the_models_breakpoints():
    from conflictstats.models.trend import BREAK_KINDS
    from conflictstats.report.context import KEY_EVENT_KINDS

    assert tuple(KEY_EVENT_KINDS) == tuple(BREAK_KINDS) == dm.BREAKPOINT_KINDS
    assert "town_captured" not in KEY_EVENT_KINDS and "escalation" in KEY_EVENT_KINDS
    assert set(dm.BREAKPOINT_KINDS) <= set(dm.EVENT_KINDS)


def test_committed_report_names_the_breakpoint_kinds():
    from conftest import ROOT

    text = (ROOT / "reports" / "idlib-2019" / "report.md").read_text(encoding="utf-8")
    kinds = ", ".join(k.replace("_", " ") for k in dm.BREAKPOINT_KINDS)
    assert f"can change the trend ({kinds})" in text


# --- one curated-data check: build, check and validate agree --------------------------------------

def test_unregistered_originator_fails_build_check_and_validate_alike(tmp_path):
    raw = copy.deepcopy(VALID)
    root = tmp_path / "datasets"
    folder = write_dataset(root, raw)
    text = (root / "originators.toml").read_text(encoding="utf-8")
    (root / "originators.toml").write_text(text.replace('aliases = ["rescuers"]', 'aliases = ["someone else"]'),
                                           encoding="utf-8")
    env = {"CONFLICTSTATS_DATASETS": str(root)}
    message = "originator must be listed under the aliases of one [[originator]] in originators.toml"
    outputs = {}
    for cmd in (["build", "--out", str(tmp_path / "out")], ["check"], ["validate", str(folder)]):
        proc = run_cli(*cmd, env=env)
        assert proc.returncode == 1, (cmd, proc.stdout, proc.stderr)
        out = proc.stdout + proc.stderr
        assert message in out and "[originator_registered]" in out and "rescuers" in out, out
        outputs[cmd[0]] = [line.strip() for line in out.splitlines() if "originator_registered" in line]
    assert outputs["build"] == outputs["check"] == outputs["validate"]
    assert NAME in str(folder)
