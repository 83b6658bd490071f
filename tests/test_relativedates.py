"""relativedates: one phrase, one window, phrase by phrase; and the build deriving it from TOML."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from conflictstats.build import checked_tables
from conflictstats.errors import ValidationError
from conflictstats.registry import dataset_info
from conflictstats.relativedates import PhraseError, find_countable, resolve
from conftest import VALID, run_cli
from tomlfixtures import datasets_root, write_dataset

D = dt.date


@pytest.mark.parametrize("phrase,as_of,start,precision", [
    # N days (7N for weeks) ending on the as-of date, counted inclusively
    ("past two weeks", D(2019, 5, 11), D(2019, 4, 28), "week"),
    ("in the past two weeks", D(2019, 7, 12), D(2019, 6, 29), "week"),
    ("over the last 2 weeks", D(2019, 7, 12), D(2019, 6, 29), "week"),
    ("over ten days", D(2019, 7, 26), D(2019, 7, 17), "day"),
    ("in the past ten days", D(2019, 7, 26), D(2019, 7, 17), "day"),   # the 16 vs 17 July
    ("in the last 10 days", D(2019, 7, 26), D(2019, 7, 17), "day"),
    ("in the space of 10 days", D(2019, 7, 26), D(2019, 7, 17), "day"),
    ("past twenty-four days", D(2019, 7, 29), D(2019, 7, 6), "day"),
    ("within a week", D(2019, 5, 13), D(2019, 5, 7), "week"),
    ("just in the past week", D(2019, 5, 7), D(2019, 5, 1), "week"),
    ("the past fortnight", D(2019, 5, 31), D(2019, 5, 18), "week"),
    ("past 24 hours", D(2019, 2, 17), D(2019, 2, 16), "day"),    # a span of hours touches the day before
    ("in the past 48 hours", D(2020, 2, 5), D(2020, 2, 3), "day"),
    # months are calendar months, clipped to the month's last day
    ("in the last three months", D(2019, 7, 30), D(2019, 4, 30), "month"),
    ("in the past month", D(2019, 5, 30), D(2019, 4, 30), "month"),
    ("the past month", D(2019, 5, 31), D(2019, 4, 30), "month"),
    ("over the past three months", D(2019, 5, 31), D(2019, 2, 28), "month"),
    # a weekday: the last one before the as-of date (a week back on that weekday itself)
    ("since last Monday", D(2019, 7, 24), D(2019, 7, 22), "day"),
    ("since last Wednesday", D(2019, 7, 24), D(2019, 7, 17), "day"),
    # CURATING: "since the end of April" and "since late April" are 30 April
    ("since the end of April", D(2019, 7, 29), D(2019, 4, 30), "day"),
    ("Since late April", D(2019, 5, 4), D(2019, 4, 30), "day"),
    ("since late December", D(2020, 2, 1), D(2019, 12, 31), "day"),
    # no number to count back from: no start
    ("in recent weeks", D(2019, 5, 31), None, "day"),
    ("over the past few days", D(2019, 4, 24), None, "day"),
    ("over the past weeks", D(2019, 7, 16), None, "day"),
    ("past several weeks", D(2019, 5, 21), None, "day"),
])
def test_phrase_gives_one_window(phrase, as_of, start, precision):
    win = resolve(phrase, as_of)
    assert (win.start, win.end, win.precision) == (start, as_of, precision)
    assert resolve(phrase.upper(), as_of) == win  # case and spacing do not matter


@pytest.mark.parametrize("phrase,words", [
    ("yesterday", "not a window phrase"),
    ("in July", "not a window phrase"),
    ("last month", "calendar period"),        # April, said in May: not a window counted back
    ("past 30 hours", "whole number of days"),
    ("in the past 0 days", "counts back no time"),
])
def test_unknown_or_ambiguous_phrase_is_refused(phrase, words):
    with pytest.raises(PhraseError, match=words):
        resolve(phrase, D(2019, 5, 31))


@pytest.mark.parametrize("text,found", [
    ("UNICEF said 12 children were killed in the past two weeks.", "in the past two weeks"),
    ("Some 142,000 fled in the four days to 12 February.", "in the four days"),
    ("Casualties since last Monday", "since last monday"),
    ("over the four-month offensive", None),         # a length, not a window
    ("in the preceding hours", None),                # no number
    ("on the last day of February", None),
    ("late last month", None),                       # a calendar month
    ("ten schools were shelled in one day", None),   # one day's count, not a window
    ("since late April", None),                      # anchored to a month, not counted back
    (None, None),
])
def test_find_countable(text, found):
    assert find_countable(text) == found


def _raw_with_phrase(**fig):
    raw = copy.deepcopy(VALID)
    f = raw["figures"][0]
    f.pop("period_start")
    f.pop("date_precision")
    f.update(fig)
    return raw


def test_build_derives_the_window_from_the_phrase(tmp_path):
    """Only the phrase and the as-of date are written; the tables carry the derived window."""
    write_dataset(tmp_path, _raw_with_phrase(window_phrase="in the past week", period_end=D(2019, 5, 9)))
    with datasets_root(tmp_path):
        figs = checked_tables(dataset_info())["figures"].set_index("figure_id")
    row = figs.loc["doc-a-2019-05-10-f01"]
    assert row["period_start"].date() == D(2019, 5, 3)
    assert row["period_end"].date() == D(2019, 5, 9) and row["date_precision"] == "week"
    assert "window_phrase" not in figs.columns  # curated input only, not a published column


def test_unreadable_phrase_names_file_row_column_and_rule(tmp_path):
    write_dataset(tmp_path, _raw_with_phrase(window_phrase="a while ago"))
    with datasets_root(tmp_path), pytest.raises(ValidationError) as exc:
        checked_tables(dataset_info())
    text = str(exc.value)
    assert "sources/doc-a-2019-05-10.toml, [[figures]] #1" in text and "doc-a-2019-05-10-f01" in text
    assert "column window_phrase: [window_phrase]" in text and "'a while ago'" in text
    proc = run_cli("build", env={"CONFLICTSTATS_DATASETS": str(tmp_path)})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
