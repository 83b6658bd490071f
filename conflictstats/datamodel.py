"""The v1 data model, written once: every table's columns, keys, enumerations and meanings.

Everything else is derived from this module, never restated: the pandera schemas
(:mod:`conflictstats.schemas`), the Arrow schema and public dtypes (:mod:`conflictstats.tables`),
the Frictionless Table Schemas and ``datapackage.json`` (:mod:`conflictstats.datapackage`), the
key maps, the models' frame builders, what a qualifier means numerically
(:func:`qualifier_interval`) and which event kinds can change a trend (:data:`BREAKPOINT_KINDS`).
Adding a column is one :class:`Column` in :data:`TABLE_SPECS`; adding a qualifier is one entry in
:data:`QUALIFIER_BOUNDS`. Mirrors ``shared/design/data-model.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

SCHEMA_VERSION = "1.0.0"

# --- enumerations ------------------------------------------------------------------------------

PUBLISHER_TYPES = ("un_agency", "ngo_monitor", "humanitarian_ngo", "civil_defence", "government",
                   "party_to_conflict", "news_media", "academic", "other")
ORIGINATOR_TYPES = PUBLISHER_TYPES + ("local_witness",)
DOC_TYPES = ("situation_report", "press_release", "briefing", "statement", "news_article",
             "monthly_report", "dataset", "map", "other")
COUNT_TYPES = ("flow", "stock", "incident")
DATE_PRECISIONS = ("day", "week", "month")
AREA_SCOPES = ("campaign_area", "governorate", "district", "subdistrict", "community", "nationwide")
VERIFICATIONS = ("verified", "unverified", "not_stated")
EVENT_KINDS = ("escalation", "offensive_start", "truce_announced", "truce_collapsed", "town_captured",
               "ceasefire", "mass_casualty_attack", "attack_on_facility", "other")
# Event kinds that can change the level or slope of violence, in the models' order of priority: a
# truce, its collapse or an offensive's start changes the whole front; an "escalation" is one report
# of heavier fighting (there are many). Town captures and single attacks are drawn on the plots but
# are not breakpoints (too many, too local). The models and the report both read this tuple.
BREAKPOINT_KINDS = ("offensive_start", "truce_collapsed", "truce_announced", "ceasefire", "escalation")
UNITS = ("people", "movements", "facilities", "attacks", "munitions")

# OCHA common operational dataset (COD-AB) admin-1 p-codes for Syria.
ADMIN1_PCODES = {
    "SY01": "Damascus", "SY02": "Aleppo", "SY03": "Rural Damascus", "SY04": "Homs", "SY05": "Hama",
    "SY06": "Lattakia", "SY07": "Idleb", "SY08": "Al-Hasakeh", "SY09": "Deir-ez-Zor", "SY10": "Tartous",
    "SY11": "Ar-Raqqa", "SY12": "Dar'a", "SY13": "As-Sweida", "SY14": "Quneitra",
}

# A figure's window may end a little after its document's date only by this many days
# (time zones, documents dated the morning after their cut-off).
PUBLICATION_GRACE_DAYS = 2

# --- qualifiers: what each one says about the true count, once -----------------------------------

# qualifier -> (lower bound, upper bound) of the counts a figure allows, in words that
# :func:`qualifier_interval` turns into numbers: "value" the stated number; "above"/"below" the
# next whole number past it; "rounded" the stated number's rounding band; "zero"; "open" no bound;
# "low"/"high" the range's own ends.
QUALIFIER_BOUNDS: dict[str, tuple[str, str]] = {
    "exact": ("value", "value"),
    "approximately": ("rounded", "rounded"),
    "at_least": ("value", "open"),
    "more_than": ("above", "open"),
    "almost": ("zero", "below"),
    "up_to": ("zero", "value"),
    "fewer_than": ("zero", "below"),
    "range": ("low", "high"),
}
QUALIFIERS = tuple(QUALIFIER_BOUNDS)
LOWER_BOUND_QUALIFIERS = tuple(q for q, (_, hi) in QUALIFIER_BOUNDS.items() if hi == "open")
UPPER_BOUND_QUALIFIERS = tuple(q for q, (lo, _) in QUALIFIER_BOUNDS.items() if lo == "zero")


def rounding_unit(value: float) -> float:
    """The unit a reported number is rounded to, from its trailing zeros (5,900 -> 100)."""
    v = abs(int(value))
    if v == 0:
        return 1.0
    unit = 1
    while v % 10 == 0:
        v //= 10
        unit *= 10
    return float(unit)


def rounding_half_width(value: float) -> float:
    """Half the rounding unit a reported number implies (270,000 -> 5,000), clamped.

    "About 270,000" is read as the count rounded to its last non-zero digit; the band is kept
    between 2.5% and 10% of the value so that neither "about 1,000" nor "about 12" is read as
    more (or less) precise than sources usually are.
    """
    if int(value) == 0:
        return 0.5
    unit = rounding_unit(value)
    return float(min(max(unit / 2.0, 0.025 * value, 0.5), max(0.10 * value, 0.5)))


def qualifier_interval(qualifier: str, value: float, low: float | None = None,
                       high: float | None = None, finite: bool = False) -> tuple[float, float]:
    """The interval ``[lo, hi]`` of true counts a figure allows, from its qualifier.

    ``finite=True`` bounds open ends by the number's rounding unit (a model with Gaussian bands
    needs finite ones): "at least 5,900" is then read as a count rounded down to its last non-zero
    digit, ``[5,900, 6,000]``; "almost"/"up to 500" as rounded up, ``[400, 500]``-like.
    """
    lo_word, hi_word = QUALIFIER_BOUNDS.get(qualifier, ("value", "value"))
    value = float(value)
    h = rounding_half_width(value) if "rounded" in (lo_word, hi_word) else 0.0

    def given(x: float | None) -> float:
        return value if x is None or pd.isna(x) else float(x)  # a missing end: the stated value

    lo = {"value": value, "above": value + 1, "zero": 0.0, "rounded": max(0.0, math.ceil(value - h)),
          "low": given(low)}[lo_word]
    hi = {"value": value, "below": max(value - 1, 0.0), "open": math.inf,
          "rounded": float(math.floor(value + h)), "high": given(high)}[hi_word]
    if finite:
        width = rounding_unit(value)
        if math.isinf(hi):
            hi = lo + width
        if lo_word == "zero":
            lo = max(0.0, hi - width)
    return lo, hi


# --- columns -----------------------------------------------------------------------------------

SLUG_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
URL_PATTERN = r"^https?://[^\s/$.?#][^\s]*$"
KINDS = ("str", "int", "date", "list")


@dataclass(frozen=True)
class Column:
    """One column: its kind (str, int, date, list), rules, meaning and HXL hashtag."""

    name: str
    kind: str
    description: str
    hxl: str
    nullable: bool = False
    enum: tuple[str, ...] | None = None
    unique: bool = False
    pattern: str | None = None
    pattern_words: str = "must be a lowercase slug (letters a-z, digits, '.', '_', '-')"
    min_length: int | None = None
    minimum: int | None = None
    rule: str | None = None  # a named column check of conflictstats.schemas


@dataclass(frozen=True)
class ForeignKey:
    column: str
    table: str
    target: str


@dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    key: str
    columns: tuple[Column, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    # Columns no two rows may share all of (the same document giving the same number twice).
    duplicate_key: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _id(name: str, description: str, hxl: str) -> Column:
    return Column(name, "str", description, hxl, unique=True, pattern=SLUG_PATTERN)


def _text(name: str, description: str, hxl: str, min_length: int = 1) -> Column:
    return Column(name, "str", description, hxl, min_length=min_length)



_SOURCE_REF = "source_id"
_NOTES = "Curator's remarks."

TABLE_SPECS: dict[str, TableSpec] = {t.name: t for t in (
    TableSpec("sources", "One row per public document.", "source_id", (
        _id("source_id", "Stable slug of the document.", "#meta+source+id"),
        _text("title", "The document's own title.", "#meta+title"),
        _text("publisher", "Who published the document.", "#org+publisher"),
        Column("publisher_type", "str", "Kind of publisher.", "#org+publisher+type", enum=PUBLISHER_TYPES),
        Column("doc_type", "str", "Kind of document.", "#meta+doc+type", enum=DOC_TYPES),
        Column("published", "date", "Publication date as the document gives it.", "#date+published"),
        Column("url", "str", "http(s) address where it was read.", "#meta+url", pattern=URL_PATTERN,
               pattern_words="must be an http(s) address"),
        Column("language", "str", "ISO 639-1 language code.", "#meta+lang", pattern=r"^[a-z]{2}$",
               pattern_words="must be a two-letter ISO 639-1 code such as 'en'"),
        Column("accessed", "date", "When the curator read it.", "#date+accessed"),
        Column("notes", "str", _NOTES, "#meta+notes", nullable=True),
    )),
    TableSpec("figures", "One row per reported number, with its window, qualifier and provenance.", "figure_id", (
        _id("figure_id", "Stable slug of the figure.", "#meta+id"),
        Column(_SOURCE_REF, "str", "The document that reported it (key into sources).", "#meta+source+id"),
        Column("metric", "str", "What is counted (a metric of the codebook).", "#indicator+code"),
        Column("value", "int", "The number as reported.", "#indicator+num", minimum=0),
        Column("qualifier", "str", "How the source hedged the number.", "#indicator+qualifier", enum=QUALIFIERS),
        Column("value_low", "int", "Lower end, only for ranges.", "#indicator+num+min", nullable=True, minimum=0),
        Column("value_high", "int", "Upper end, only for ranges.", "#indicator+num+max", nullable=True, minimum=0),
        Column("count_type", "str", "flow (total over the window), stock (level on period_end) or incident "
               "(one event).", "#indicator+type", enum=COUNT_TYPES),
        Column("period_start", "date", "First day covered; null when the source does not say.", "#date+start",
               nullable=True),
        Column("period_end", "date", "Last day covered (the 'as of' date).", "#date+end"),
        Column("date_precision", "str", "Precision of the window's dates.", "#date+precision",
               enum=DATE_PRECISIONS),
        _text("area", "The area as the source names it.", "#loc+name"),
        Column("area_scope", "str", "Level of the area.", "#loc+type", enum=AREA_SCOPES),
        Column("admin1_pcodes", "list", "OCHA admin-1 p-codes the area falls in.", "#adm1+code",
               rule="known_admin1_pcodes"),
        _text("originator", "Who produced the count.", "#org+originator"),
        Column("originator_type", "str", "Kind of originator.", "#org+originator+type", enum=ORIGINATOR_TYPES),
        Column("originator_group", "str", "The organisation behind the count, one name per originator "
               "(derived from originators.toml at build; models and the report compare sources by it).",
               "#org+originator+code", nullable=True),
        Column("perpetrator", "str", "Who caused the harm, as the source states it.", "#org+perpetrator",
               nullable=True),
        Column("verification", "str", "Whether the originator verified the count.", "#status+verification",
               enum=VERIFICATIONS),
        Column("locator", "str", "Where in the document the figure stands.", "#meta+locator", nullable=True),
        _text("paraphrase", "One sentence in the curator's own words.", "#description", min_length=10),
        Column("notes", "str", "Inferred dates, caveats.", "#meta+notes", nullable=True),
        Column("checked_on", "date", "The day a second reader re-read the figure against its document; "
               "null until then.", "#date+checked", nullable=True),
    ), (ForeignKey(_SOURCE_REF, "sources", "source_id"), ForeignKey("metric", "codebook", "metric")),
        duplicate_key=(_SOURCE_REF, "metric", "period_start", "period_end", "area", "value")),
    TableSpec("events", "The campaign's dated timeline; models use events as candidate breakpoints.", "event_id", (
        _id("event_id", "Stable slug of the event.", "#event+id"),
        Column("date", "date", "Day the event happened (or began).", "#date+start"),
        Column("date_end", "date", "Last day, for events that lasted.", "#date+end", nullable=True),
        Column("kind", "str", "Kind of event.", "#event+type", enum=EVENT_KINDS),
        _text("place", "Where it happened.", "#loc+name"),
        _text("description", "What happened, in the curator's words.", "#description", min_length=10),
        Column(_SOURCE_REF, "str", "The document that reported it (key into sources).", "#meta+source+id"),
    ), (ForeignKey(_SOURCE_REF, "sources", "source_id"),)),
    TableSpec("codebook", "One row per metric: what it counts and how originators differ.", "metric", (
        Column("metric", "str", "Metric name used in figures.", "#indicator+code", unique=True,
               pattern=r"^[a-z][a-z0-9_]*$"),
        _text("label", "Human-readable label.", "#indicator+name"),
        Column("unit", "str", "What one unit is.", "#indicator+unit", enum=UNITS),
        _text("definition", "What is counted.", "#description", min_length=10),
        Column("hxl", "str", "HXL hashtag with attributes.", "#meta+hxl", pattern=r"^#[a-z_]+(\+[a-z_]+)*$",
               pattern_words="must be an HXL hashtag such as #affected+killed"),
        Column("notes", "str", "How originators differ in what they count.", "#meta+notes", nullable=True),
    )),
)}

@dataclass(frozen=True)
class CuratedKey:
    """A key curators may write in a table's TOML that is not a published column: the build turns
    it into the columns it ``derives`` and drops it (the tables carry the derived values)."""

    name: str
    description: str
    derives: tuple[str, ...]


# Curated-input keys per table. ``window_phrase`` stays out of the published tables: users need
# the window, which the build writes into period_start/period_end/date_precision; the phrase
# itself is the curator's reading of the document (the notes quote the source's words).
CURATED_KEYS: dict[str, tuple[CuratedKey, ...]] = {
    "figures": (CuratedKey("window_phrase", "A relative window as the document gives it, in English words "
                           "('past two weeks', 'since last Monday'), counted back from period_end, the "
                           "statement's as-of date, by conflictstats.relativedates.resolve.",
                           ("period_start", "period_end", "date_precision")),),
}


class _PerTable(Mapping):
    """{table: fact} read from TABLE_SPECS on every access, so a changed spec shows everywhere."""

    def __init__(self, fact: Callable[[TableSpec], object]):
        self._fact = fact

    def __getitem__(self, table: str):
        return self._fact(TABLE_SPECS[table])

    def __iter__(self):
        return iter(TABLE_SPECS)

    def __len__(self) -> int:
        return len(TABLE_SPECS)


TABLES = tuple(TABLE_SPECS)
COLUMNS: Mapping[str, tuple[str, ...]] = _PerTable(lambda spec: spec.names)
PRIMARY_KEYS: Mapping[str, str] = _PerTable(lambda spec: spec.key)


def columns(table: str) -> tuple[Column, ...]:
    """The columns of a table, in order."""
    return TABLE_SPECS[table].columns


def column_kinds(table: str) -> dict[str, tuple[str, bool]]:
    """{column: (kind, nullable)} with kind one of str, int, date, list."""
    return {col.name: (col.kind, col.nullable) for col in columns(table)}


def enum_columns(table: str) -> dict[str, tuple[str, ...]]:
    """{column: allowed values} for the table's enumerated columns."""
    return {col.name: col.enum for col in columns(table) if col.enum}
