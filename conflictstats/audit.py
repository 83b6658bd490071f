"""Seeded draws of figures for curation audits, the line that shows a figure beside its source,
and the latest audit's error rate as its record states it (the report quotes it, never retypes it).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

AUDIT_SEED = 20190831  # the ceasefire date; fixed so the drawn sample can be re-derived


def draw(figures: pd.DataFrame, n: int, seed: int = AUDIT_SEED) -> pd.DataFrame:
    """``n`` figures drawn without replacement, reproducibly: ids are sorted before drawing."""
    ordered = figures.sort_values("figure_id", kind="stable").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    picks = np.sort(rng.choice(len(ordered), size=min(n, len(ordered)), replace=False))
    return ordered.iloc[picks].reset_index(drop=True)


def figure_line(fig: pd.Series, source: pd.Series) -> str:
    """One figure and the document it came from, for a person to check against the source."""
    start = "?" if pd.isna(fig["period_start"]) else fig["period_start"].date().isoformat()
    return (f"{fig['figure_id']}: {fig['metric']} = {fig['value']} ({fig['qualifier']}), "
            f"{start}..{fig['period_end'].date().isoformat()}, {fig['area']}, by {fig['originator']} | "
            f"{source['publisher']}, \"{source['title']}\", {source['published'].date().isoformat()}, {source['url']}")


# An audit record (AUDIT*.md in the dataset folder) opens each audit with a level-1 heading naming
# the release audited ("# Audit of <dataset> release <release> ...") and states
# "- **Date:** YYYY-MM-DD" and "- **Error rate:** E of the N figures ..."; a file holding several
# audits keeps the newest on top.
AUDIT_FILES = "AUDIT*.md"
_DATE = re.compile(r"\*\*Date:\*\*\s*(\d{4}-\d{2}-\d{2})")
_RELEASE = re.compile(r"\A[^\n]*\brelease (\d+(?:\.\d+)+)")
_RATE = re.compile(r"\*\*Error rate:\*\*\s*(\d+) of the (\d+) figures")


@dataclass(frozen=True)
class AuditRecord:
    """One audit as its record states it: errors among the figures whose documents were re-found."""

    file: str
    date: dt.date
    errors: int
    checked: int
    release: str | None = None  # the release audited, as the heading names it

    @property
    def rate(self) -> float:
        return self.errors / self.checked if self.checked else float("nan")


def audit_records(folder: Path) -> list[AuditRecord]:
    """Every audit stated in the folder's audit files, in file order (newest first within a file)."""
    out = []
    for path in sorted(Path(folder).glob(AUDIT_FILES)):
        for section in re.split(r"(?m)^# ", path.read_text(encoding="utf-8")):
            date, rate, release = _DATE.search(section), _RATE.search(section), _RELEASE.search(section)
            if date and rate:
                out.append(AuditRecord(path.name, dt.date.fromisoformat(date.group(1)), int(rate.group(1)),
                                       int(rate.group(2)), release.group(1) if release else None))
    return out


def latest_audit(folder: Path) -> AuditRecord | None:
    """The most recent audit: the latest date, then the latest release audited, then the first stated."""
    records = audit_records(folder)

    def order(r: AuditRecord) -> tuple:
        return r.date, tuple(int(p) for p in r.release.split(".")) if r.release else ()

    return max(records, key=order) if records else None
