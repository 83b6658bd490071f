"""Relative windows ("in the past two weeks", "since last Monday") turned into dates by one function.

Curators used to count such windows back by hand, and the same phrase got different starts in
different files (a "past ten days" on 16 July in three copies of a story and 17 July in two). A
figure may instead carry the phrase (the curated key ``window_phrase``) with its as-of date as
``period_end``; :func:`resolve` derives the window, so one phrase always gives one window.

The rule, once (the curators' convention of release 2019.2.1): a window of N days or weeks is
the N days (7N for weeks) that end on the as-of date, counted inclusively ("the last 10 days" as
of 26 July is 17-26 July); N months start on the same day N calendar months earlier (clipped to
the month's last day: "the last three months" as of 30 July starts on 30 April); N hours (a
multiple of 24) reach back N/24 days from the as-of date, as a span of hours ending during the
as-of day touches the day before ("the past 24 hours" as of 17 February is 16-17 February).
``date_precision`` is the phrase's unit (day for days and hours, week, month); the window ends
on the as-of date. "Since last Monday" starts on the last Monday before the as-of date; "since
the end of April" and "since late April" on 30 April (the latest April on or before the as-of
date). A phrase with no number to count back from ("in recent weeks", "over the past few days")
gives no start.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

_UNITS = {"day": ("days", 1, "day"), "hour": ("hours", 1, "day"), "week": ("days", 7, "week"),
          "fortnight": ("days", 14, "week"), "month": ("months", 1, "month")}
_SMALL = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
          "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_NUMBER_WORDS = {w: i for i, w in enumerate(_SMALL)} | _TENS | {"a": 1, "an": 1}
_WEEKDAYS = [d.lower() for d in calendar.day_name]
_MONTHS = [m.lower() for m in calendar.month_name[1:]]

_NUM = r"(?:\d+|(?:" + "|".join(_TENS) + r")(?: (?:" + "|".join(_SMALL[1:10]) + r"))?|" + "|".join(_SMALL) + r"|an?)"
_UNIT = r"(?:days?|hours?|weeks?|fortnight|months?)"
_FILLER = re.compile(r"\b(?:just|only|alone|some)\b")
# "past/last/previous [N] unit", optionally after in/over/during/within/for and "the".
_BACK = re.compile(rf"(?:(?:in|over|during|within|for) )?(?:the )?(?:past|last|previous|preceding) "
                   rf"(?:(?P<n>{_NUM}) )?(?P<unit>{_UNIT})")
# "in/over/within N units" ("over ten days", "within a week", "in the space of 10 days").
_SPAN = re.compile(rf"(?:in|over|within|during) (?:the )?(?:space of )?(?P<n2>{_NUM}) (?P<unit2>{_UNIT})")
_WEEKDAY = re.compile(r"since last (?P<day>" + "|".join(_WEEKDAYS) + r")")
_MONTH_END = re.compile(r"since (?:the end of|late) (?P<month>" + "|".join(_MONTHS) + r")")
# No number to count back from: a window without a start.
_VAGUE = re.compile(rf"(?:(?:in|over|during|within) )?(?:the )?(?:(?:past|last|recent|previous) )?"
                    rf"(?:(?:few|several|recent) )?(?:days|weeks|months)")


class PhraseError(ValueError):
    """A window phrase that :func:`resolve` does not read; the message says what it does read."""


@dataclass(frozen=True)
class Window:
    """A figure's window: ``start`` None when the phrase gives no start."""

    start: dt.date | None
    end: dt.date
    precision: str


SUPPORTED = ("'past/last/previous N days|weeks|months' (also 'the past week', 'in the last three months'), "
             "'over/in/within N days|weeks|months', 'since last <weekday>', 'since the end of <month>', "
             "'since late <month>', or a window without a number ('in recent weeks', 'past few days')")


def normalise(phrase: str) -> str:
    """Lowercase words separated by single spaces; hyphens and punctuation dropped; fillers removed."""
    text = re.sub(r"[^\w\s]", " ", phrase.casefold().replace("-", " "))
    return re.sub(r"\s+", " ", _FILLER.sub(" ", text)).strip()


def _number(word: str | None) -> int:
    if word is None:
        return 1
    if word.isdigit():
        return int(word)
    parts = word.split()
    return sum(_NUMBER_WORDS[p] for p in parts)


def _counted_back(n: int, unit: str, as_of: dt.date, phrase: str) -> Window:
    kind, size, precision = _UNITS[unit.rstrip("s")]
    if n < 1:
        raise PhraseError(f"'{phrase}' counts back no time")
    if unit.startswith("hour"):
        if n % 24:
            raise PhraseError(f"'{phrase}' is not a whole number of days; write the window's dates instead")
        start = as_of - dt.timedelta(days=n // 24)
    elif kind == "months":
        start = (pd.Timestamp(as_of) - pd.DateOffset(months=n * size)).date()
    else:
        start = as_of - dt.timedelta(days=n * size - 1)  # N days ending on the as-of date
    return Window(start, as_of, precision)


def resolve(phrase: str, as_of: dt.date) -> Window:
    """The window a relative phrase gives, ending on ``as_of`` (the statement's as-of date).

    Raises :class:`PhraseError` for a phrase outside the supported forms.
    """
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    text = normalise(phrase)
    m = _BACK.fullmatch(text)
    if m and m.group("n") is None and m.group("unit").endswith("s"):
        return Window(None, as_of, "day")  # "the past weeks": no number to count back
    if m:
        if m.group("n") is None and not re.search(r"\b(?:the|past)\b", text):
            raise PhraseError(f"'{phrase}' names a calendar period rather than a window counted back; write "
                              f"'the past {m.group('unit')}' or the window's dates")
        return _counted_back(_number(m.group("n")), m.group("unit"), as_of, phrase)
    m = _SPAN.fullmatch(text)
    if m:
        return _counted_back(_number(m.group("n2")), m.group("unit2"), as_of, phrase)
    m = _WEEKDAY.fullmatch(text)
    if m:
        back = (as_of.weekday() - _WEEKDAYS.index(m.group("day"))) % 7 or 7
        return Window(as_of - dt.timedelta(days=back), as_of, "day")
    m = _MONTH_END.fullmatch(text)
    if m:
        month = _MONTHS.index(m.group("month")) + 1
        year = as_of.year if month <= as_of.month else as_of.year - 1
        start = dt.date(year, month, calendar.monthrange(year, month)[1])
        return Window(start, as_of, "day")
    if _VAGUE.fullmatch(text) and text not in ("days", "weeks", "months"):
        return Window(None, as_of, "day")
    raise PhraseError(f"'{phrase}' is not a window phrase conflictstats reads; use {SUPPORTED}, "
                      f"or write period_start and period_end")


_FIND = re.compile(r"\b(?:" + "|".join(p.pattern for p in (_BACK, _SPAN, _WEEKDAY)) + r")\b")


def find_countable(text: object) -> str | None:
    """The first relative window in free text with a number to count back from ("past two weeks",
    "the past month", "since last Monday"), else None.

    Not returned: windows without a number ("past weeks", "the preceding hours"), "last week" or
    "last month" without "the" (usually a calendar period), "the last day" (usually of a month),
    a number before a singular unit ("the four-month offensive" names a length, not a window), and
    "in one day".
    """
    if not isinstance(text, str):
        return None
    for m in _FIND.finditer(normalise(text)):
        found, n, unit = m.group(0), m.group("n") or m.group("n2"), m.group("unit") or m.group("unit2")
        if found.startswith("since"):
            return found
        if n is None:
            if unit in ("week", "month", "fortnight") and re.search(r"\b(?:the|past)\b", found):
                return found
        elif unit == "day" and _number(n) == 1:
            continue  # "in one day": the length of a single day's count, not a window counted back
        elif (_number(n) == 1) == (not unit.endswith("s")) or unit == "fortnight":
            return found
    return None


def _as_date(v: object) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v.strip()):
        try:
            return dt.date.fromisoformat(v.strip())
        except ValueError:
            return None
    return None


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip()) or v is pd.NaT


def apply_phrases(figures: pd.DataFrame, key: str, where=None) -> tuple[pd.DataFrame, list]:
    """Raw figures with the windows their ``key`` phrases give, and that key dropped.

    A start or precision the file leaves out is derived from the phrase and ``period_end`` (the
    as-of date); one the file gives is kept, and `check` flags it when it differs. A phrase the
    resolver does not read is a failure naming the file, row, column and rule.
    """
    from .errors import Failure

    if key not in figures.columns:
        return figures, []
    out = figures.drop(columns=[key]).copy()
    for col in ("period_start", "date_precision"):
        if col not in out.columns:
            out[col] = None
        out[col] = out[col].astype(object)
    failures = []
    ids = out["figure_id"] if "figure_id" in out.columns else pd.Series([""] * len(out))
    for i, phrase in enumerate(figures[key]):
        if _blank(phrase):
            continue
        place = where[i] if where is not None and i < len(where) else ""
        as_of = _as_date(out["period_end"].iat[i]) if "period_end" in out.columns else None
        if not isinstance(phrase, str) or as_of is None:
            if not isinstance(phrase, str):
                failures.append(Failure("figures", i, key, "window_phrase", "must be text", phrase, place,
                                        str(ids.iat[i])))
            continue  # a missing or malformed period_end is reported by the schema
        try:
            win = resolve(phrase, as_of)
        except PhraseError as exc:
            failures.append(Failure("figures", i, key, "window_phrase", str(exc), phrase, place, str(ids.iat[i])))
            continue
        if _blank(out["period_start"].iat[i]) and win.start is not None:
            out.iat[i, out.columns.get_loc("period_start")] = win.start
        if _blank(out["date_precision"].iat[i]):
            out.iat[i, out.columns.get_loc("date_precision")] = win.precision
    return out, failures
