"""The report as a list of blocks, rendered twice (HTML and Markdown) so both say the same.

Inline text may hold two bits of markup, understood by both renderers: ``[label](url)`` links
and ```code``` spans. Everything else is plain text and is escaped by each renderer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

NOT_AVAILABLE = "Not available in this build"
INLINE = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)|`([^`]+)`")


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str


@dataclass(frozen=True)
class Para:
    text: str
    note: bool = False  # a caption-like aside ("not available in this build", ...)


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    numeric: tuple[bool, ...] = ()  # right-align these columns


@dataclass(frozen=True)
class Figure:
    path: str  # relative to the report folder, e.g. "figures/overview-months.svg"
    alt: str
    caption: str


@dataclass(frozen=True)
class Items:
    items: tuple[str, ...]
    ordered: bool = False


Block = Heading | Para | Table | Figure | Items


@dataclass
class Document:
    title: str
    subtitle: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)


def table(columns: list[str], rows: list[list[object]], caption: str = "",
          numeric: list[bool] | None = None) -> Table:
    """A Table from plain lists; cells become strings here so both renderers agree."""
    num = tuple(numeric) if numeric is not None else tuple(False for _ in columns)
    return Table(tuple(columns), tuple(tuple(str(c) for c in r) for r in rows), caption, num)


def slug(text: str) -> str:
    """An anchor id from a heading's text."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def fmt_int(x: float | int | None) -> str:
    """A count with thousands separators ("12,345"); a dash when missing."""
    if _missing(x):
        return "–"
    return f"{int(round(float(x))):,}"


def fmt_num(x: float | None, digits: int = 2) -> str:
    """A float with fixed decimals; a dash when missing."""
    if _missing(x):
        return "–"
    return f"{float(x):.{digits}f}"


def fmt_pct(x: float | None, digits: int = 1, signed: bool = True) -> str:
    """A percentage ("+12.3%"); a dash when missing."""
    if _missing(x):
        return "–"
    return f"{float(x):+.{digits}f}%" if signed else f"{float(x):.{digits}f}%"


def fmt_date(d) -> str:
    """ISO date (YYYY-MM-DD) of a date or Timestamp; a dash when missing."""
    if _missing(d):
        return "–"
    return d.strftime("%Y-%m-%d")


def _missing(x: object) -> bool:
    return x is None or bool(pd.isna(x))


def prose(name: str, **values: object) -> list[str]:
    """The paragraphs of ``text/<name>.md`` beside this module (blank-line separated; line breaks
    inside a paragraph are spaces), with ``{placeholders}`` filled from ``values``."""
    from importlib import resources

    text = resources.files(__package__).joinpath("text", f"{name}.md").read_text(encoding="utf-8")
    return [" ".join(par.split()).format(**values) for par in text.split("\n\n") if par.strip()]
