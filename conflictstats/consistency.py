"""`conflictstats check`: cross-figure warnings that are not schema errors, for curators to review.

Sources revise themselves and quote several counts at once, so these are reported rather than
rejected. Three kinds of warning:

- ``decreasing_cumulative``: a running total (count_type ``flow``) from one originator (its
  ``originator_group`` from originators.toml, so spellings of one name agree) with one start date, for one metric, perpetrator and area, that is lower on a later ``period_end`` than
  on an earlier one. Qualifiers are read as the data model's intervals
  (``datamodel.qualifier_interval``), so "at least 103" followed by "more than 100" is no decrease;
  "at least 175" followed by exactly 170 is, and so is "almost 170" (at most 169). Areas are compared by scope and
  admin-1 p-codes for campaign areas, governorates and nationwide figures, and by the area's
  name (case and spacing ignored) for districts, sub-districts and communities.
- ``conflicting_values``: one document giving two different values for the same count: metric,
  window (both dates known), area, originator, perpetrator, count type and verification.
- ``window_after_document``: a figure whose window ends after its document's publication date
  (the schema allows a few days of grace for documents dated after their cut-off).

Then the rules of CURATING.md a machine can check (:mod:`conflictstats.curationrules`): copied
paraphrases, one count under two metrics, a range value the document does not print, relative
windows without a start, a window that differs from its ``window_phrase``, exact parts of an
"at least" total, and windows noted as assumed.

The explained rule: a warning is *explained* when the ``notes`` of at least one figure it names
contain one of the markers ``explained:`` or ``revision:`` (any case), followed by the reason,
e.g. ``notes = "revision: SNHR corrected its May toll downwards on 3 June."``. Explained warnings
are listed separately, with the note, so a reviewer can still read them. The shipped data must
carry no unexplained warning; ``--strict`` makes the command exit 1 when there is one.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from .curationrules import RULE_KINDS, all_findings
from .datamodel import CURATED_KEYS, qualifier_interval
from .registry import DEFAULT_DATASET, dataset_info

EXPLAIN_MARKERS = ("explained:", "revision:")
KINDS = ("decreasing_cumulative", "conflicting_values", "window_after_document") + RULE_KINDS
WINDOW_PHRASE = CURATED_KEYS["figures"][0].name
_NAMED_AREA_SCOPES = ("district", "subdistrict", "community")


@dataclass(frozen=True)
class ConsistencyWarning:
    """One thing a curator should look at; ``figure_ids`` are the figures it is about."""

    kind: str
    message: str
    figure_ids: tuple[str, ...]
    places: tuple[str, ...] = ()
    explanation: str | None = None  # the note carrying the marker, when explained

    @property
    def explained(self) -> bool:
        return self.explanation is not None

    def line(self) -> str:
        text = f"[{self.kind}] {self.message}"
        if self.places:
            text += " (" + _compact(self.places) + ")"
        if self.explanation:
            text += f"\n      note: {self.explanation}"
        return text


@dataclass
class CheckResult:
    dataset: str
    n_figures: int
    warnings: list[ConsistencyWarning] = field(default_factory=list)

    @property
    def explained(self) -> list[ConsistencyWarning]:
        return [w for w in self.warnings if w.explained]

    @property
    def unexplained(self) -> list[ConsistencyWarning]:
        return [w for w in self.warnings if not w.explained]


def _compact(places: tuple[str, ...]) -> str:
    """'f.toml, [[figures]] #4; f.toml, [[figures]] #5' -> 'f.toml, [[figures]] #4, #5'."""
    by_file: dict[str, list[str]] = {}
    for p in places:
        head, _, tail = p.rpartition(" #")
        if head:
            by_file.setdefault(head, []).append("#" + tail)
        else:
            by_file.setdefault(p, [])
    return "; ".join(f"{head} {', '.join(nums)}" if nums else head for head, nums in by_file.items())


def explanation(notes: object) -> str | None:
    """The note if it carries an explain marker, else None."""
    if not isinstance(notes, str):
        return None
    low = notes.casefold()
    return notes.strip() if any(m in low for m in EXPLAIN_MARKERS) else None


def _norm(v: object) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    return re.sub(r"\s+", " ", str(v).casefold().strip())


def _who(row) -> str:
    """The originator as one organisation: its originators.toml group when known, else its name."""
    group = getattr(row, "originator_group", None)
    return _norm(group) if _norm(group) else _norm(row.originator)


def _area_key(row) -> tuple:
    if row.area_scope in _NAMED_AREA_SCOPES:
        return (row.area_scope, _norm(row.area))
    codes = row.admin1_pcodes
    return (row.area_scope, tuple(sorted(str(p) for p in codes)) if codes is not None else ())


def _bounds(row) -> tuple[float, float]:
    """The interval the figure allows for the true count: what the data model says its qualifier means."""
    return qualifier_interval(row.qualifier, row.value, row.value_low, row.value_high)


def _day(ts) -> str:
    return pd.Timestamp(ts).date().isoformat()


def _fig(row) -> str:
    q = "" if row.qualifier == "exact" else f"{row.qualifier} "
    return f"{q}{int(row.value):,} as of {_day(row.period_end)} ({row.figure_id})"


def find_warnings(figures: pd.DataFrame, sources: pd.DataFrame, where: dict[str, str] | None = None,
                  codebook: pd.DataFrame | None = None,
                  phrases: dict[str, str] | None = None) -> list[ConsistencyWarning]:
    """Every warning for typed figures and sources tables; ``where`` maps figure_id to its place,
    ``phrases`` figure_id to its curated ``window_phrase``; ``codebook`` gives the metrics' units
    and HXL hashtags (which metric is a part of which)."""
    where = where or {}
    rows = list(figures.itertuples(index=False))
    notes = {r.figure_id: explanation(r.notes) for r in rows}

    def make(kind: str, message: str, ids: Iterable[str]) -> ConsistencyWarning:
        ids = tuple(ids)
        note = next((notes[i] for i in ids if notes.get(i)), None)
        return ConsistencyWarning(kind, message, ids, tuple(where[i] for i in ids if i in where), note)

    out: list[ConsistencyWarning] = []

    # 1. running totals that go down
    series: dict[tuple, list] = {}
    for r in rows:
        if r.count_type == "flow" and pd.notna(r.period_start):
            key = (r.metric, _who(r), r.period_start, _norm(r.perpetrator), _area_key(r))
            series.setdefault(key, []).append(r)
    for members in series.values():
        members.sort(key=lambda r: (r.period_end, _bounds(r)[0], r.figure_id))
        for late in members:
            # One warning per figure that falls below the highest floor of an earlier one.
            earlier = [e for e in members if e.period_end < late.period_end]
            if not earlier:
                continue
            early = max(earlier, key=lambda e: (_bounds(e)[0], e.period_end))
            if _bounds(late)[1] < _bounds(early)[0]:
                out.append(make("decreasing_cumulative",
                                f"{early.metric} counted by {early.originator} since {_day(early.period_start)} "
                                f"in '{early.area}' goes down: {_fig(early)} then {_fig(late)}",
                                (early.figure_id, late.figure_id)))

    # 2. one document, one count, two values
    groups: dict[tuple, list] = {}
    for r in rows:
        if pd.notna(r.period_start):
            key = (r.source_id, r.metric, r.period_start, r.period_end, _norm(r.area), _who(r),
                   _norm(r.perpetrator), r.count_type, r.verification)
            groups.setdefault(key, []).append(r)
    for members in groups.values():
        if len({int(r.value) for r in members}) > 1:
            members.sort(key=lambda r: r.figure_id)
            first = members[0]
            values = ", ".join(f"{int(r.value):,} ({r.figure_id})" for r in members)
            out.append(make("conflicting_values",
                            f"{first.source_id} gives {len(members)} different values for {first.metric} by "
                            f"{first.originator} in '{first.area}' from {_day(first.period_start)} to "
                            f"{_day(first.period_end)}: {values}",
                            (r.figure_id for r in members)))

    # 3. windows ending after the document's date (within the schema's grace)
    published = dict(zip(sources["source_id"], sources["published"]))
    for r in rows:
        pub = published.get(r.source_id)
        if pub is not None and pd.notna(pub) and r.period_end > pub:
            out.append(make("window_after_document",
                            f"{r.figure_id} covers up to {_day(r.period_end)}, after its document "
                            f"{r.source_id} was published on {_day(pub)}", (r.figure_id,)))

    # 4. the rules of CURATING.md a machine can check
    titles = dict(zip(sources["source_id"], sources["title"]))
    for kind, message, ids in all_findings(rows, titles, codebook, phrases or {}, _who):
        out.append(make(kind, message, ids))

    out.sort(key=lambda w: (KINDS.index(w.kind), w.figure_ids))
    return out


def check_dataset(dataset: str = DEFAULT_DATASET) -> CheckResult:
    """Read a dataset's curated text, validate it, and list its consistency warnings.

    Reads the TOML rather than the Parquet so each warning names the file a curator must edit.
    Schema errors come first: they raise ValidationError.
    """
    from .curated import read_curated
    from .validation import require_valid

    info = dataset_info(dataset)
    raw, where = read_curated(info.path)
    typed = require_valid(raw, info, where, what=f"dataset {info.name} ({info.path}); fix these before `check`")
    ids = [str(v) for v in raw["figures"]["figure_id"]] if "figure_id" in raw["figures"] else []
    places = dict(zip(ids, where["figures"]))
    figures = typed["figures"]
    phrases = {}
    if WINDOW_PHRASE in raw["figures"]:
        phrases = {i: p for i, p in zip(ids, raw["figures"][WINDOW_PHRASE]) if isinstance(p, str) and p.strip()}
    return CheckResult(info.name, len(figures),
                       find_warnings(figures, typed["sources"], places, typed["codebook"], phrases))


def summary(result: CheckResult) -> str:
    """The printed report: counts per kind, then unexplained and explained warnings apart."""
    n, u, e = len(result.warnings), len(result.unexplained), len(result.explained)
    lines = [f"{result.dataset}: {result.n_figures} figures checked; {n} warning{'s' if n != 1 else ''}: "
             f"{u} unexplained, {e} explained"]
    unexp = Counter(w.kind for w in result.unexplained)
    expl = Counter(w.kind for w in result.explained)
    for kind in KINDS:
        lines.append(f"  {kind:<30} {unexp[kind]:>4} unexplained {expl[kind]:>4} explained")
    for title, items in (("UNEXPLAINED", result.unexplained), ("EXPLAINED", result.explained)):
        lines.append("")
        lines.append(f"{title} ({len(items)})")
        lines += [f"  - {w.line()}" for w in items] or ["  (none)"]
    if result.unexplained:
        lines.append("")
        lines.append("To explain a warning after reviewing it, add 'explained: <why>' (or 'revision: <why>' "
                     "for a source's own correction) to the notes of one of the figures it names.")
    return "\n".join(lines)
