"""Seeded draws of figures for curation audits, and the line that shows a figure beside its source."""

from __future__ import annotations

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
