"""The rules of CURATING.md that a machine can check cheaply, as `conflictstats check` warnings.

Each function takes the figures as rows (``DataFrame.itertuples``) and yields ``(kind, message,
figure_ids)``; :mod:`conflictstats.consistency` turns them into warnings with the files to edit.
They warn rather than reject: a curator reads the document and either fixes the figure or
explains it (``explained: <why>`` in its notes).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Iterator, Mapping
from difflib import SequenceMatcher

import pandas as pd

from .datamodel import AREA_SCOPES, LOWER_BOUND_QUALIFIERS
from .relativedates import PhraseError, find_countable, resolve

Finding = tuple[str, str, tuple[str, ...]]

REUSE_RUN = 8  # consecutive words shared with another paraphrase or the title that make a copied clause ...
REUSE_CONTENT = 5  # ... of which this many are not function words ("the north of Hama and the south of" is a place)
FUNCTION_WORDS = frozenset(
    "a an the of and or in on at to from for by with as that this these those is was were be been had has have "
    "it its their his her which who whom than then since into out over under between among about after before "
    "during per s".split())
SAME_COUNT_MIN = 5  # smallest value for which one count under two metrics is flagged
RULE_KINDS = ("paraphrase_reuse", "same_count_two_metrics", "range_value_not_printed",
              "relative_window_without_start", "window_phrase_mismatch", "breakdown_qualifier",
              "assumed_window")


def _day(ts) -> str:
    return "none" if ts is None or pd.isna(ts) else pd.Timestamp(ts).date().isoformat()


def _key_day(ts):
    return None if ts is None or pd.isna(ts) else pd.Timestamp(ts)


def words(text: object) -> list[str]:
    """Lowercase words, numbers without thousands separators ("1,000" and "1.000" -> "1000")."""
    if not isinstance(text, str):
        return []
    return re.findall(r"\w+", re.sub(r"(?<=\d)[,.](?=\d{3}\b)", "", text.casefold()))


def longest_run(a: list[str], b: list[str]) -> list[str]:
    """The longest run of consecutive words two texts share."""
    m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return a[m.a:m.a + m.size]


def _clause(run: list[str] | tuple[str, ...]) -> bool:
    """A run long and full enough to be a copied clause rather than a shared place name or phrase."""
    return len(run) >= REUSE_RUN and sum(w not in FUNCTION_WORDS for w in run) >= REUSE_CONTENT


def paraphrase_reuse(rows: list, titles: Mapping[str, str], run: int = REUSE_RUN) -> Iterator[Finding]:
    """Paraphrases sharing a clause (``run`` or more consecutive words, ``REUSE_CONTENT`` of them not
    function words) with the document's title, or with another figure's paraphrase in a different
    document (the same clause of a shared story copied twice)."""
    tokens = {r.figure_id: words(r.paraphrase) for r in rows}
    index: dict[tuple[str, ...], set[str]] = {}
    for r in rows:
        w = tokens[r.figure_id]
        for i in range(len(w) - run + 1):
            if _clause(w[i:i + run]):
                index.setdefault(tuple(w[i:i + run]), set()).add(r.figure_id)
        shared = longest_run(w, words(titles.get(r.source_id)))
        if _clause(shared):
            yield ("paraphrase_reuse", f"{r.figure_id}: the paraphrase repeats {len(shared)} consecutive words of "
                   f"its document's title: '{' '.join(shared)}'", (r.figure_id,))
    doc = {r.figure_id: r.source_id for r in rows}
    pairs = {tuple(sorted((a, b))) for ids in index.values() if len(ids) > 1
             for a in ids for b in ids if doc[a] != doc[b]}
    for a, b in sorted(pairs):
        shared = longest_run(tokens[a], tokens[b])
        yield ("paraphrase_reuse", f"{a} and {b} (another document) share {len(shared)} consecutive words in their "
               f"paraphrases: '{' '.join(shared)}'; a clause copied from a source", (a, b))


def same_count_two_metrics(rows: list, units: Mapping[str, str], who) -> Iterator[Finding]:
    """The same originator, value and window in two documents under two different metrics of one
    unit (people, attacks, ...). Counts below ``SAME_COUNT_MIN`` coincide too often to flag."""
    groups: dict[tuple, list] = {}
    for r in rows:
        if int(r.value) >= SAME_COUNT_MIN:
            key = (who(r), int(r.value), _key_day(r.period_start), _key_day(r.period_end), units.get(r.metric))
            groups.setdefault(key, []).append(r)
    for members in groups.values():
        involved = sorted({x.figure_id for x in members for y in members
                           if x.metric != y.metric and x.source_id != y.source_id})
        if involved:
            first = members[0]
            metrics = ", ".join(f"{r.metric} ({r.figure_id})" for r in members if r.figure_id in involved)
            yield ("same_count_two_metrics", f"{int(first.value):,} by {first.originator} from "
                   f"{_day(first.period_start)} to {_day(first.period_end)} is filed under different metrics in "
                   f"different documents: {metrics}", tuple(involved))


def range_value_not_printed(rows: list) -> Iterator[Finding]:
    """A range whose value is neither of its printed ends (a midpoint the document does not print)."""
    for r in rows:
        if r.qualifier == "range" and int(r.value) not in {int(v) for v in (r.value_low, r.value_high) if pd.notna(v)}:
            yield ("range_value_not_printed", f"{r.figure_id}: range {_int(r.value_low)}-{_int(r.value_high)} has "
                   f"value {int(r.value):,}, a number the document does not print; the value is the lower end",
                   (r.figure_id,))


def _int(v) -> str:
    return "?" if v is None or pd.isna(v) else f"{int(v):,}"


_MONTH_NAMES = "|".join(calendar.month_name[1:])
_DATED = re.compile(rf"\b\d{{1,2}} (?:{_MONTH_NAMES})\b|\b(?:{_MONTH_NAMES}) \d{{1,2}}\b|\b(?:{_MONTH_NAMES}) \d{{4}}\b",
                    re.IGNORECASE)


def relative_window_without_start(rows: list, phrases: Mapping[str, str]) -> Iterator[Finding]:
    """A figure whose paraphrase or notes carry a relative window with a number ("past two weeks")
    but which has no start, or no note saying how the start was counted (unless the paraphrase
    prints the window's dates)."""
    for r in rows:
        if r.figure_id in phrases or r.count_type == "incident":
            continue
        found = find_countable(r.paraphrase) or find_countable(r.notes)
        if found is None:
            continue
        if pd.isna(r.period_start):
            yield ("relative_window_without_start", f"{r.figure_id}: '{found}' is a relative window, but the figure "
                   f"has no period_start; count it back from the as-of date (or write window_phrase)", (r.figure_id,))
        elif (not isinstance(r.notes, str) or not r.notes.strip()) and not _DATED.search(str(r.paraphrase)):
            yield ("relative_window_without_start", f"{r.figure_id}: '{found}' is a relative window, but no note says "
                   f"how period_start was counted", (r.figure_id,))


def window_phrase_mismatch(rows: list, phrases: Mapping[str, str]) -> Iterator[Finding]:
    """A figure whose stored window differs from the one its window_phrase gives."""
    for r in rows:
        phrase = phrases.get(r.figure_id)
        if not phrase or pd.isna(r.period_end):
            continue
        try:
            win = resolve(phrase, pd.Timestamp(r.period_end).date())
        except PhraseError:
            continue  # validation reports it
        stored = (_day(r.period_start), r.date_precision)
        derived = (_day(win.start), win.precision)
        if stored != derived:
            yield ("window_phrase_mismatch", f"{r.figure_id}: window_phrase '{phrase}' as of {_day(r.period_end)} "
                   f"gives start {derived[0]}, precision {derived[1]}; the file has start {stored[0]}, "
                   f"precision {stored[1]}", (r.figure_id,))


_SCOPE_RANK = {"nationwide": 0, "campaign_area": 1, "governorate": 2, "district": 3, "subdistrict": 4, "community": 5}
assert set(_SCOPE_RANK) == set(AREA_SCOPES)


def _hxl_parts(tag: object) -> tuple[str, frozenset[str]]:
    parts = str(tag or "").split("+")
    return parts[0], frozenset(parts[1:])


def _is_part(part, total, hxl: Mapping[str, str]) -> bool:
    """``part`` counts a subset of what ``total`` counts, in the same place: a narrower metric (its
    HXL hashtag adds attributes to the total's, children within civilians; "+all" marks a count of
    everyone), or the same metric in a narrower area inside the total's governorates."""
    if part.metric == total.metric:
        inside = set(_codes(part.admin1_pcodes)) <= set(_codes(total.admin1_pcodes))
        return (inside and _norm(part.area) != _norm(total.area)
                and _SCOPE_RANK.get(part.area_scope, 0) > _SCOPE_RANK.get(total.area_scope, 0))
    (ptag, pattrs), (ttag, tattrs) = _hxl_parts(hxl.get(part.metric)), _hxl_parts(hxl.get(total.metric))
    return (bool(ptag) and ptag == ttag and "all" not in pattrs and pattrs > tattrs - {"all"}
            and _norm(part.area) == _norm(total.area))


def _codes(v) -> tuple[str, ...]:
    return () if v is None or (isinstance(v, float) and v != v) else tuple(str(c) for c in v)


def _norm(v: object) -> str:
    return re.sub(r"\s+", " ", str(v).casefold().strip()) if isinstance(v, str) else ""


def breakdown_qualifier(rows: list, hxl: Mapping[str, str], who) -> Iterator[Finding]:
    """An exact part of an "at least"/"more than" total in the same document and window: a part of
    a floor is a floor (CURATING: breakdowns)."""
    by_doc: dict[tuple, list] = {}
    for r in rows:
        by_doc.setdefault((r.source_id, who(r), _key_day(r.period_start), _key_day(r.period_end)), []).append(r)
    for members in by_doc.values():
        totals = [t for t in members if t.qualifier in LOWER_BOUND_QUALIFIERS]
        for p in members:
            if p.qualifier != "exact":
                continue
            total = next((t for t in totals if int(p.value) < int(t.value) and _is_part(p, t, hxl)), None)
            if total is not None:
                yield ("breakdown_qualifier", f"{p.figure_id}: exact {int(p.value):,} ({p.metric}, '{p.area}') looks "
                       f"like a part of {total.figure_id}'s {total.qualifier} {int(total.value):,} ({total.metric}, "
                       f"'{total.area}'); a part of a floor is at_least unless the document qualifies it",
                       (p.figure_id, total.figure_id))


_ASSUMED = re.compile(r"\b(?:window|start|period_start|day|date)s?\b[^.;]{0,25}(?<!no-)\bassumed\b|"
                      r"(?<!no-)\bassumed\b[^.;]{0,25}\b(?:window|start|period_start|day|date)s?\b", re.IGNORECASE)


def assumed_window(rows: list) -> Iterator[Finding]:
    """A start the notes say was only assumed: decide it from the document (no start if it gives none)."""
    for r in rows:
        notes = r.notes if isinstance(r.notes, str) else ""
        if pd.isna(r.period_start):
            continue
        m = _ASSUMED.search(notes)
        if m and "removed" not in notes[m.start():m.end() + 40]:
            yield ("assumed_window", f"{r.figure_id}: the notes say the window was assumed ('{m.group(0)}'); "
                   f"decide it from the document, leaving period_start out if it gives none", (r.figure_id,))


def all_findings(rows: list, titles: Mapping[str, str], codebook: pd.DataFrame | None,
                 phrases: Mapping[str, str], who) -> Iterable[Finding]:
    """Every finding of the rules above, rule by rule; ``codebook`` gives each metric's unit and HXL
    hashtag, ``who`` a figure's originator as one organisation."""
    book = codebook if codebook is not None else pd.DataFrame(columns=["metric", "unit", "hxl"])
    units, hxl = dict(zip(book["metric"], book["unit"])), dict(zip(book["metric"], book["hxl"]))
    yield from paraphrase_reuse(rows, titles)
    yield from same_count_two_metrics(rows, units, who)
    yield from range_value_not_printed(rows)
    yield from relative_window_without_start(rows, phrases)
    yield from window_phrase_mismatch(rows, phrases)
    yield from breakdown_qualifier(rows, hxl, who)
    yield from assumed_window(rows)
