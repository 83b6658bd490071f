"""Observation builder: nesting, qualifiers, exclusions (no model fitting, fast)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from conflictstats.models._common import figures_frame
from conflictstats.models.observations import (
    POOLED, build_observations, canonical_originator, figure_interval, rounding_unit)

CAMPAIGN = (pd.Timestamp("2019-04-26"), pd.Timestamp("2019-08-31"))


def fig(fid, value, start, end, originator="SNHR", qualifier="exact", count_type="flow",
        scope="campaign_area", pcodes=("SY07",), source=None, **kw):
    return {"figure_id": fid, "source_id": source or f"doc-{fid}", "metric": "civilians_killed",
            "value": value, "qualifier": qualifier, "count_type": count_type,
            "period_start": start, "period_end": end, "date_precision": "day", "area": "Idlib",
            "area_scope": scope, "admin1_pcodes": list(pcodes), "originator": originator,
            "originator_type": "ngo_monitor", "verification": "not_stated",
            "paraphrase": "test", **kw}


def test_running_totals_become_increments_when_asked():
    f = figures_frame([fig("a", 100, "2019-04-29", "2019-05-10"),
                       fig("b", 250, "2019-04-29", "2019-05-20"),
                       fig("c", 400, "2019-04-29", "2019-05-31")])
    inc = build_observations(f, "civilians_killed", campaign=CAMPAIGN, increments=True).obs
    assert list(inc["value"]) == [100, 150, 150]
    assert list(inc["start"].dt.strftime("%m-%d")) == ["04-29", "05-11", "05-21"]
    assert list(inc["lo"]) == list(inc["hi"]) == [100, 150, 150]
    tot = build_observations(f, "civilians_killed", campaign=CAMPAIGN).obs
    assert list(tot["value"]) == [100, 250, 400]
    assert (tot["start"] == pd.Timestamp("2019-04-29")).all()


def test_qualifiers_map_to_censored_and_banded_terms():
    assert figure_interval("exact", 120) == (120, 120)
    assert figure_interval("at_least", 500) == (500, math.inf)
    assert figure_interval("more_than", 500) == (501, math.inf)
    assert figure_interval("up_to", 500) == (0.0, 500)
    lo, hi = figure_interval("approximately", 270000)
    assert lo < 270000 < hi and hi - lo <= 0.2 * 270000
    assert figure_interval("range", 190, 180, 200) == (180, 200)
    assert rounding_unit(5900) == 100 and rounding_unit(544) == 1
    f = figures_frame([fig("a", 5900, "2019-05-01", "2019-05-31", qualifier="at_least")])
    o = build_observations(f, "civilians_killed", campaign=CAMPAIGN).obs.iloc[0]
    assert (o["flo"], o["fhi"]) == (5900, 6000)


def test_stocks_incidents_and_outside_areas_are_excluded_with_reasons():
    f = figures_frame([
        fig("flow", 100, "2019-05-01", "2019-05-31"),
        fig("stock", 100, "2019-05-01", "2019-05-31", count_type="stock"),
        fig("incident", 12, "2019-05-05", "2019-05-05", count_type="incident"),
        fig("nation", 900, "2019-05-01", "2019-05-31", scope="nationwide", pcodes=()),
        fig("homs", 50, "2019-05-01", "2019-05-31", scope="governorate", pcodes=("SY04",)),
        fig("early", 50, "2019-02-01", "2019-05-31"),
    ])
    ob = build_observations(f, "civilians_killed", campaign=CAMPAIGN)
    assert list(ob.obs["figure_id"]) == ["flow"]
    reasons = dict(zip(ob.excluded["figure_id"], ob.excluded["reason"]))
    assert set(reasons) == {"stock", "incident", "nation", "homs", "early"}
    assert "stock" in reasons["stock"] and "incident" in reasons["incident"]
    assert "before the campaign" in reasons["early"]


def test_duplicates_revisions_and_missing_starts_are_recorded():
    f = figures_frame([
        fig("a", 100, "2019-04-29", "2019-05-10", source="s1"),
        fig("a-copy", 100, "2019-04-29", "2019-05-10", source="s2"),
        fig("b", 90, "2019-04-29", "2019-05-20", source="s3"),  # goes down: a revision
        fig("c", 300, None, "2019-06-20", source="s4"),
    ])
    ob = build_observations(f, "civilians_killed", campaign=CAMPAIGN)
    assert set(ob.obs["figure_id"]) == {"a", "c"}
    reasons = dict(zip(ob.excluded["figure_id"], ob.excluded["reason"]))
    assert "same originator and window" in reasons["a-copy"]
    assert "goes down" in reasons["b"]
    c = ob.obs.set_index("figure_id").loc["c"]
    assert c["start"] == CAMPAIGN[0] and "assumed campaign start" in c["note"]


def test_originator_spellings_share_a_group_and_rare_ones_are_pooled():
    assert canonical_originator("Syrian Observatory for Human Rights (via Zaman Alwasl)") == "SOHR"
    assert canonical_originator("OCHA (Mark Lowcock)") == "OCHA"
    rows = [fig(f"s{i}", 100 + i, "2019-05-01", f"2019-05-{10 + i}", originator=o)
            for i, o in enumerate(["SOHR", "Syrian Observatory for Human Rights", "SOHR",
                                   "a lone witness"])]
    ob = build_observations(figures_frame(rows), "civilians_killed", campaign=CAMPAIGN)
    assert sorted(ob.obs["group"].unique()) == sorted(["SOHR", POOLED])
    gov = build_observations(figures_frame(
        [fig(f"g{i}", 10 + i, "2019-05-01", f"2019-05-{10 + i}", scope="governorate",
             pcodes=("SY05",)) for i in range(3)]), "civilians_killed", campaign=CAMPAIGN)
    assert gov.obs["group"].unique().tolist() == ["SNHR [SY05]"]


@pytest.mark.parametrize("area, expected", [("SY05", {"hama"}), ("Idlib", {"idlib"})])
def test_explicit_area_selection(area, expected):
    f = figures_frame([fig("idlib", 10, "2019-05-01", "2019-05-31"),
                       {**fig("hama", 10, "2019-05-01", "2019-05-31", scope="governorate",
                              pcodes=("SY05",)), "area": "Hama"}])
    ob = build_observations(f, "civilians_killed", area=area, campaign=CAMPAIGN)
    assert set(ob.obs["figure_id"]) == expected


def test_small_governorate_series_are_excluded_not_pooled_with_campaign_totals():
    rows = [fig(f"s{i}", 100 + i, "2019-05-01", f"2019-05-{10 + i}", originator="SOHR")
            for i in range(3)]
    rows += [fig("lone", 300, "2019-05-01", "2019-05-20", originator="a lone witness"),
             fig("gov", 7, "2019-05-01", "2019-05-20", scope="governorate", pcodes=("SY05",),
                 originator="a local council")]
    ob = build_observations(figures_frame(rows), "civilians_killed", campaign=CAMPAIGN)
    assert set(ob.obs["group"]) == {"SOHR", POOLED}
    assert "gov" not in set(ob.obs["figure_id"])
    reason = ob.excluded.set_index("figure_id").loc["gov", "reason"]
    assert "governorate-level series" in reason
