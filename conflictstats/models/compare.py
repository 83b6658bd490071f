"""Campaigns side by side: one metric of several datasets on one time axis (days since each
campaign's start), with the model's intervals and each campaign's own largest reports."""

from __future__ import annotations

from typing import Sequence

import pandas as pd


def compare(metric: str, datasets: Sequence[str], alpha: float = 0.05) -> pd.DataFrame:
    """One row per campaign day and dataset: ``dataset``, ``day`` (0 = the campaign's start),
    ``date``, the cumulative realised count on that campaign's reference scale with its interval
    (``cum_estimate``, ``cum_ci_lower``, ``cum_ci_upper``), ``reference``, and
    ``largest_report`` (the largest figure any originator published for a window starting
    within 7 days of the campaign start and ending on that day, else missing)."""
    from conflictstats.api import load

    from . import arguments as check, fit

    check.names(datasets, "datasets")
    check.alpha(alpha)
    frames = []
    for name in datasets:
        res = fit(metric, dataset=name)
        cs, ce = res.campaign
        daily = res.daily_frame(alpha)
        figures = load("figures", dataset=name)
        f = figures[(figures["metric"].astype(str) == metric) & figures["period_start"].notna()
                    & ((figures["period_start"] - cs).abs() <= pd.Timedelta(days=7))]
        largest = f.groupby("period_end")["value"].max().astype(float)
        frames.append(pd.DataFrame({
            "dataset": name, "day": (daily["date"] - cs).dt.days, "date": daily["date"],
            "cum_estimate": daily["cum_estimate"], "cum_ci_lower": daily["cum_ci_lower"],
            "cum_ci_upper": daily["cum_ci_upper"], "reference": res.reference,
            "largest_report": daily["date"].map(largest)}))
    return pd.concat(frames, ignore_index=True)
