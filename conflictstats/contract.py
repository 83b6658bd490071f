"""The v1 data contract: every enumeration, column list and dataset-wide fact in one place.

Everything else (pandera schemas, Frictionless exports, the curator guide, the CLI) reads
these names from here, so that a new metric or qualifier is added exactly once.
Mirrors ``shared/design/data-model.md``.
"""

from __future__ import annotations

SCHEMA_VERSION = "1.0.0"

PUBLISHER_TYPES = (
    "un_agency",
    "ngo_monitor",
    "humanitarian_ngo",
    "civil_defence",
    "government",
    "party_to_conflict",
    "news_media",
    "academic",
    "other",
)
ORIGINATOR_TYPES = PUBLISHER_TYPES + ("local_witness",)
DOC_TYPES = (
    "situation_report",
    "press_release",
    "briefing",
    "statement",
    "news_article",
    "monthly_report",
    "dataset",
    "map",
    "other",
)
QUALIFIERS = (
    "exact",
    "approximately",
    "at_least",
    "more_than",
    "almost",
    "up_to",
    "fewer_than",
    "range",
)
COUNT_TYPES = ("flow", "stock", "incident")
DATE_PRECISIONS = ("day", "week", "month")
AREA_SCOPES = (
    "campaign_area",
    "governorate",
    "district",
    "subdistrict",
    "community",
    "nationwide",
)
VERIFICATIONS = ("verified", "unverified", "not_stated")
EVENT_KINDS = (
    "escalation",
    "offensive_start",
    "truce_announced",
    "truce_collapsed",
    "town_captured",
    "ceasefire",
    "mass_casualty_attack",
    "attack_on_facility",
    "other",
)
UNITS = ("people", "movements", "facilities", "attacks", "munitions")

# OCHA common operational dataset (COD-AB) admin-1 p-codes for Syria.
ADMIN1_PCODES = {
    "SY01": "Damascus",
    "SY02": "Aleppo",
    "SY03": "Rural Damascus",
    "SY04": "Homs",
    "SY05": "Hama",
    "SY06": "Lattakia",
    "SY07": "Idleb",
    "SY08": "Al-Hasakeh",
    "SY09": "Deir-ez-Zor",
    "SY10": "Tartous",
    "SY11": "Ar-Raqqa",
    "SY12": "Dar'a",
    "SY13": "As-Sweida",
    "SY14": "Quneitra",
}

TABLES = ("sources", "figures", "events", "codebook")

# Column order of each table, exactly as the contract names them.
COLUMNS = {
    "sources": (
        "source_id", "title", "publisher", "publisher_type", "doc_type", "published",
        "url", "language", "accessed", "notes",
    ),
    "figures": (
        "figure_id", "source_id", "metric", "value", "qualifier", "value_low", "value_high",
        "count_type", "period_start", "period_end", "date_precision", "area", "area_scope",
        "admin1_pcodes", "originator", "originator_type", "originator_group", "perpetrator", "verification",
        "locator", "paraphrase", "notes",
    ),
    "events": (
        "event_id", "date", "date_end", "kind", "place", "description", "source_id",
    ),
    "codebook": (
        "metric", "label", "unit", "definition", "hxl", "notes",
    ),
}

# A figure's window may end a little after its document's date only by this many days
# (time zones, documents dated the morning after their cut-off).
PUBLICATION_GRACE_DAYS = 2
