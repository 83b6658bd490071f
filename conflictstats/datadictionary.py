"""The data dictionary as Markdown, generated from the data model and each dataset's codebook.

The documentation site (``docs/hooks.py``) inserts it, so the dictionary can never drift from
:mod:`conflictstats.datamodel` (columns, kinds, rules, HXL) or from the shipped codebooks.
"""

from __future__ import annotations

from . import datamodel as c

_KIND_WORDS = {"str": "text", "int": "whole number", "date": "date (YYYY-MM-DD)", "list": "list of text"}


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _rules(col: c.Column) -> str:
    rules = []
    if not col.nullable:
        rules.append("required")
    if col.unique:
        rules.append("unique")
    if col.enum:
        rules.append("one of " + ", ".join(f"`{v}`" for v in col.enum))
    if col.pattern:
        rules.append(col.pattern_words)
    if col.min_length and col.min_length > 1:
        rules.append(f"at least {col.min_length} characters")
    if col.minimum is not None:
        rules.append(f"at least {col.minimum}")
    if col.rule == "known_admin1_pcodes":
        rules.append("OCHA admin-1 p-codes of Syria (SY01 to SY14)")
    return "; ".join(rules)


def tables_markdown() -> str:
    """One section per table: its meaning, key, foreign keys and a row per column.

    >>> text = tables_markdown()
    >>> "| `qualifier` |" in text and "#indicator+qualifier" in text
    True
    """
    out = [f"Schema version {c.SCHEMA_VERSION}.", ""]
    for spec in c.TABLE_SPECS.values():
        out += [f"## {spec.name}", "", spec.description, "", f"Key: `{spec.key}`."]
        for fk in spec.foreign_keys:
            out.append(f"`{fk.column}` refers to `{fk.table}.{fk.target}`.")
        out += ["", "| column | kind | meaning | rules | HXL |", "|---|---|---|---|---|"]
        for col in spec.columns:
            kind = _KIND_WORDS[col.kind] + (", may be empty" if col.nullable else "")
            out.append(f"| `{col.name}` | {kind} | {_cell(col.description)} | {_cell(_rules(col))} | "
                       f"`{col.hxl}` |")
        out.append("")
    return "\n".join(out)


def qualifiers_markdown() -> str:
    """What each qualifier says about the true count (from :data:`datamodel.QUALIFIER_BOUNDS`)."""
    words = {"value": "the stated number", "above": "the next whole number above it",
             "below": "the next whole number below it", "rounded": "the stated number's rounding band",
             "zero": "0", "open": "no upper bound", "low": "`value_low`", "high": "`value_high`"}
    rows = ["| qualifier | lowest count | highest count |", "|---|---|---|"]
    rows += [f"| `{q}` | {words[lo]} | {words[hi]} |" for q, (lo, hi) in c.QUALIFIER_BOUNDS.items()]
    return "\n".join(rows)


def codebook_markdown(dataset: str) -> str:
    """The metrics of one dataset's codebook: label, unit, HXL, definition and notes."""
    from .api import load

    book = load("codebook", dataset)
    rows = ["| metric | label | unit | HXL | definition | how originators differ |", "|---|---|---|---|---|---|"]
    for r in book.itertuples(index=False):
        notes = "" if r.notes is None or str(r.notes) in ("nan", "<NA>") else r.notes
        rows.append(f"| `{r.metric}` | {_cell(r.label)} | {r.unit} | `{r.hxl}` | {_cell(r.definition)} | "
                    f"{_cell(notes)} |")
    return "\n".join(rows)


def data_dictionary() -> str:
    """The whole dictionary: every table, the qualifiers, and each shipped dataset's codebook."""
    from .registry import dataset_info, list_datasets

    parts = [tables_markdown(), "## Qualifiers", "", qualifiers_markdown(), ""]
    for name in list_datasets():
        info = dataset_info(name)
        parts += [f"## Codebook of {name} (release {info.release})", "", codebook_markdown(name), ""]
    return "\n".join(parts)
