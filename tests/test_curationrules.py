"""The CURATING.md rules `conflictstats check` runs: each with a failing and a passing case.

Every case writes a real curated TOML dataset (tests/tomlfixtures.py) and runs the real check on
it, so a warning names the file and place a curator edits.
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from conflictstats.consistency import KINDS, check_dataset
from conftest import VALID, run_cli
from tomlfixtures import datasets_root, write_dataset

D = dt.date
CODEBOOK_EXTRA = [
    {"metric": "children_killed", "label": "Children killed", "unit": "people",
     "definition": "Children killed during the window.", "hxl": "#affected+killed+children", "notes": None},
    {"metric": "total_killed", "label": "People killed", "unit": "people",
     "definition": "All deaths during the window.", "hxl": "#affected+killed+all", "notes": None},
    {"metric": "schools_attacked", "label": "Schools attacked", "unit": "attacks",
     "definition": "Attacks on schools during the window.", "hxl": "#event+attacks+education", "notes": None},
]


def _raw():
    raw = copy.deepcopy(VALID)
    raw["codebook"] += copy.deepcopy(CODEBOOK_EXTRA)
    return raw


def _add(raw, fid, base=2, **kw):
    """A copy of VALID figure ``base`` (default: 12 killed in one strike, doc B) with changes."""
    row = dict(raw["figures"][base], figure_id=fid, **kw)
    raw["figures"].append(row)
    return row


def _warnings(tmp_path, raw, kind):
    write_dataset(tmp_path, raw)
    with datasets_root(tmp_path):
        result = check_dataset()
    return [w for w in result.warnings if w.kind == kind]


def test_every_rule_is_a_kind():
    for kind in ("paraphrase_reuse", "same_count_two_metrics", "range_value_not_printed",
                 "relative_window_without_start", "window_phrase_mismatch", "breakdown_qualifier",
                 "assumed_window"):
        assert kind in KINDS


# 1. paraphrase reuse -----------------------------------------------------------------------------

COPIED = "Rescuers said the strike on the crowded vegetable market of Maarat al-Numan killed 12."


@pytest.mark.parametrize("other,flagged", [
    (COPIED.replace("Rescuers said", "According to the White Helmets,"), True),   # 13 words in a row
    ("The White Helmets counted 12 dead after an air raid hit the town's market.", False),
])
def test_paraphrase_shared_with_another_document(tmp_path, other, flagged):
    raw = _raw()
    raw["figures"][2]["paraphrase"] = COPIED
    raw["figures"][0]["paraphrase"] = other
    ws = _warnings(tmp_path, raw, "paraphrase_reuse")
    assert bool(ws) is flagged
    if flagged:
        (w,) = ws
        assert set(w.figure_ids) == {"doc-a-2019-05-10-f01", "doc-b-2019-06-01-f02"}
        assert "share 13 consecutive words" in w.message
        assert "sources/doc-a-2019-05-10.toml, [[figures]] #1" in w.line()


def test_paraphrase_repeating_the_title(tmp_path):
    raw = _raw()
    raw["sources"][1]["title"] = "Air strike on crowded market kills twelve civilians in Idlib province town"
    raw["figures"][2]["paraphrase"] = "An air strike on crowded market kills twelve civilians in Idlib, rescuers said."
    assert [w.figure_ids for w in _warnings(tmp_path, raw, "paraphrase_reuse")] == [("doc-b-2019-06-01-f02",)]
    raw["figures"][2]["paraphrase"] = "Twelve civilians died when a market was bombed, rescuers said."
    assert _warnings(tmp_path, raw, "paraphrase_reuse") == []


def test_a_shared_place_name_is_not_a_copied_clause(tmp_path):
    """'in the north of Hama and the south of Idlib' is 10 words but only 4 are not function words."""
    raw = _raw()
    raw["figures"][2]["paraphrase"] = "Rescuers counted 12 dead in the north of Hama and the south of Idlib on 20 May."
    raw["figures"][0]["paraphrase"] = "OCHA said 150,000 fled in the north of Hama and the south of Idlib in early May."
    assert _warnings(tmp_path, raw, "paraphrase_reuse") == []


def test_paraphrases_in_one_document_may_share_words(tmp_path):
    raw = _raw()
    raw["figures"][2]["paraphrase"] = COPIED
    _add(raw, "doc-b-2019-06-01-f03", metric="children_killed", value=5, paraphrase=COPIED + " Five were children.")
    assert _warnings(tmp_path, raw, "paraphrase_reuse") == []


# 2. one count under two metrics ------------------------------------------------------------------

@pytest.mark.parametrize("metric,source,flagged", [
    ("total_killed", "doc-a-2019-05-10", True),       # another document, another metric, same unit
    ("civilians_killed", "doc-a-2019-05-10", False),  # same metric
    ("total_killed", "doc-b-2019-06-01", False),      # same document (two counts it prints)
    ("schools_attacked", "doc-a-2019-05-10", False),  # another unit: a coincidence of numbers
])
def test_same_count_under_two_metrics(tmp_path, metric, source, flagged):
    raw = _raw()
    fid = f"{source}-f09"
    _add(raw, fid, metric=metric, source_id=source, paraphrase="Test figure: twelve people died in one strike.")
    raw["sources"][0]["published"] = D(2019, 6, 1)
    ws = _warnings(tmp_path, raw, "same_count_two_metrics")
    assert bool(ws) is flagged
    if flagged:
        assert set(ws[0].figure_ids) == {"doc-b-2019-06-01-f02", fid}
        assert "12 by rescuers" in ws[0].message


def test_small_counts_under_two_metrics_are_not_flagged(tmp_path):
    raw = _raw()
    raw["figures"][2]["value"] = 2
    raw["sources"][0]["published"] = D(2019, 6, 1)
    _add(raw, "doc-a-2019-05-10-f09", metric="total_killed", source_id="doc-a-2019-05-10", value=2,
         paraphrase="Test figure: two people died in one strike.")
    assert _warnings(tmp_path, raw, "same_count_two_metrics") == []


# 3. a range's value is a printed number -----------------------------------------------------------

@pytest.mark.parametrize("value,flagged", [(190, True), (180, False), (200, False)])
def test_range_value_not_printed(tmp_path, value, flagged):
    raw = _raw()
    raw["figures"][1]["value"] = value   # between 180 and 200
    ws = _warnings(tmp_path, raw, "range_value_not_printed")
    assert [w.figure_ids for w in ws] == ([("doc-b-2019-06-01-f01",)] if flagged else [])
    if flagged:
        assert "190" in ws[0].message and "180-200" in ws[0].message


# 4. relative windows get a start and a note --------------------------------------------------------

@pytest.mark.parametrize("change,flagged", [
    ({"period_start": None, "notes": "Over 150,000 fled in the past two weeks."}, True),    # no start
    ({"paraphrase": "Test figure: over 150,000 fled in the last ten days."}, True),         # no note
    ({"notes": "'In the past two weeks' counted back from 9 May."}, False),                  # start and note
    ({"paraphrase": "Test figure: 150,000 fled over the two months March-May 2019."}, False),  # dates printed
    ({"period_start": None, "notes": "'In recent weeks': no number, so no start."}, False),  # vague window
    ({"period_start": None, "window_phrase": "in recent weeks"}, False),                     # the phrase key
])
def test_relative_window_without_start(tmp_path, change, flagged):
    raw = _raw()
    raw["figures"][0].update(change)
    ws = _warnings(tmp_path, raw, "relative_window_without_start")
    assert [w.figure_ids for w in ws] == ([("doc-a-2019-05-10-f01",)] if flagged else [])


# 5. a stored window agrees with its window_phrase ----------------------------------------------------

@pytest.mark.parametrize("start,precision,flagged", [
    (D(2019, 4, 26), "week", False),   # the 14 days ending on 9 May start on 26 April
    (D(2019, 4, 25), "week", True),    # counted back 14 days by hand: one phrase, two windows
    (D(2019, 4, 26), "day", True),     # a two-week window is given by weeks
    (None, None, False),               # derived by the build
])
def test_window_phrase_mismatch(tmp_path, start, precision, flagged):
    raw = _raw()
    raw["figures"][0].update(window_phrase="in the past two weeks", period_start=start, date_precision=precision,
                             notes="Window from the phrase.")
    ws = _warnings(tmp_path, raw, "window_phrase_mismatch")
    assert [w.figure_ids for w in ws] == ([("doc-a-2019-05-10-f01",)] if flagged else [])
    if flagged:
        assert "gives start 2019-04-26, precision week" in ws[0].message


def test_window_phrase_warning_fails_strict(tmp_path):
    raw = _raw()
    raw["figures"][0].update(window_phrase="in the past two weeks", period_start=D(2019, 4, 25))
    write_dataset(tmp_path, raw)
    proc = run_cli("check", "--strict", env={"CONFLICTSTATS_DATASETS": str(tmp_path)})
    assert proc.returncode == 1 and "[window_phrase_mismatch]" in proc.stdout
    assert "sources/doc-a-2019-05-10.toml, [[figures]] #1" in proc.stdout


# 6. parts of an "at least" total -------------------------------------------------------------------

def _total_and_part(raw, part_metric, part_qualifier, part_area="Kafr Nabl", scope="community"):
    raw["figures"][2]["qualifier"] = "at_least"   # at least 12 killed in the strike ...
    _add(raw, "doc-b-2019-06-01-f03", metric=part_metric, value=5, qualifier=part_qualifier, area=part_area,
         area_scope=scope, paraphrase="Test figure: five of them were children.")


@pytest.mark.parametrize("metric,qualifier,area,scope,flagged", [
    ("children_killed", "exact", "Kafr Nabl", "community", True),       # "including 5 children"
    ("children_killed", "at_least", "Kafr Nabl", "community", False),   # a part of a floor is a floor
    ("total_killed", "exact", "Kafr Nabl", "community", False),         # everyone: not a part of civilians
    ("civilians_killed", "exact", "Kafr Nabl market", "community", False),  # same scope: not inside
])
def test_breakdown_qualifier(tmp_path, metric, qualifier, area, scope, flagged):
    raw = _raw()
    _total_and_part(raw, metric, qualifier, area, scope)
    ws = _warnings(tmp_path, raw, "breakdown_qualifier")
    assert [w.figure_ids for w in ws] == ([("doc-b-2019-06-01-f03", "doc-b-2019-06-01-f02")] if flagged else [])


def test_breakdown_by_place_inside_the_total(tmp_path):
    raw = _raw()
    raw["figures"][2].update(area="Idlib", area_scope="governorate")
    _total_and_part(raw, "civilians_killed", "exact")   # 5 of the at-least-12 in Kafr Nabl (SY07)
    assert len(_warnings(tmp_path, raw, "breakdown_qualifier")) == 1
    raw["figures"][-1]["admin1_pcodes"] = ["SY05"]       # a place outside the total's governorate
    assert _warnings(tmp_path, raw, "breakdown_qualifier") == []


# 7. windows noted as assumed -------------------------------------------------------------------------

@pytest.mark.parametrize("start,notes,flagged", [
    (D(2019, 5, 1), "Window assumed the report's; the sentence gives none.", True),
    (None, "The sentence gives no start (the assumed 1 May start was removed).", False),
    (D(2019, 5, 1), "Per the no-assumed-day rule the start is the printed one.", False),
    (D(2019, 5, 1), "Start printed in the first paragraph.", False),
])
def test_assumed_window(tmp_path, start, notes, flagged):
    raw = _raw()
    raw["figures"][0].update(period_start=start, notes=notes)
    ws = _warnings(tmp_path, raw, "assumed_window")
    assert [w.figure_ids for w in ws] == ([("doc-a-2019-05-10-f01",)] if flagged else [])


def test_explained_rule_applies_to_the_new_kinds(tmp_path):
    raw = _raw()
    raw["figures"][1]["value"] = 190
    raw["figures"][1]["notes"] = "explained: the document prints 190 as its own central estimate"
    write_dataset(tmp_path, raw)
    with datasets_root(tmp_path):
        result = check_dataset()
    (w,) = [w for w in result.warnings if w.kind == "range_value_not_printed"]
    assert w.explained and result.unexplained == []
    proc = run_cli("check", "--strict", env={"CONFLICTSTATS_DATASETS": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout
