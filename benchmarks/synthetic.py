"""Synthetic tables for benchmarks: the real figures tiled to any size, still valid."""

from __future__ import annotations

import numpy as np
import pandas as pd


def tiled_figures(n_rows: int) -> tuple[pd.DataFrame, dict]:
    """``n_rows`` valid figures (plain Python/NumPy values, as read from a file) and their context."""
    import conflictstats as cs
    from conflictstats.userfiles import as_raw as _as_raw

    base = _as_raw(cs.load("figures"))
    reps = -(-n_rows // len(base))
    idx = np.tile(np.arange(len(base)), reps)[:n_rows]
    df = base.iloc[idx].reset_index(drop=True)
    k = np.arange(n_rows)
    df["figure_id"] = df["figure_id"].astype(str) + "-" + pd.Series(k).astype(str)
    # Vary value so no two rows repeat a (source, metric, window, area, value) key.
    df["value"] = pd.array(np.asarray(df["value"], dtype="int64") + k * 1000, dtype="Int64")
    df["value_low"] = pd.array([None] * n_rows, dtype="Int64")
    df["value_high"] = pd.array([None] * n_rows, dtype="Int64")
    df["qualifier"] = df["qualifier"].replace({"range": "exact"})
    sources = cs.load("sources")
    context = {"published": dict(zip(sources["source_id"], sources["published"])),
               "metrics": frozenset(cs.load("codebook")["metric"])}
    return df, context
