"""Segmented log-linear trend: design matrix and breakpoints from the events table.

Why segmented: the questions asked of these data are "did killing rise after the truce
collapsed, and by how much?". With ``log lambda_t = b0 + b1 t + sum_k (j_k 1(t >= tau_k) +
s_k (t - tau_k)+)`` the jump ``j_k`` and slope change ``s_k`` at each dated event are
parameters with intervals. Time is in weeks, centred on the campaign midpoint, so that ``b0``
is the log daily intensity mid-campaign and slopes are log growth per week.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Event kinds that can change the level or slope of violence; town captures and single
# attacks are drawn on the plots but are not breakpoints (too many, too local).
BREAK_KINDS = ("offensive_start", "escalation", "truce_announced", "truce_collapsed",
               "ceasefire")
MIN_GAP_DAYS = 14
MIN_EDGE_DAYS = 14
MAX_BREAKS = 3


@dataclass
class Breakpoint:
    date: pd.Timestamp
    label: str


def candidate_breakpoints(events: pd.DataFrame | None) -> list[Breakpoint]:
    """Breakpoint candidates: one per date among the events whose kind can shift the trend."""
    if events is None or len(events) == 0:
        return []
    ev = events[events["kind"].astype(str).isin(BREAK_KINDS)].sort_values(["date", "event_id"])
    out: dict[pd.Timestamp, str] = {}
    for d, eid, kind in zip(ev["date"], ev["event_id"], ev["kind"].astype(str)):
        d = pd.Timestamp(d).normalize()
        out.setdefault(d, f"{kind}: {eid}")
    return [Breakpoint(d, lab) for d, lab in out.items()]


def select_breakpoints(cands: list[Breakpoint], day0: pd.Timestamp, n_days: int,
                       starts: np.ndarray, ends: np.ndarray) -> tuple[list[Breakpoint], list[str]]:
    """Keep the candidates the data can identify; say why each other one was dropped.

    A break needs at least ``MIN_EDGE_DAYS`` to the domain edges, ``MIN_GAP_DAYS`` to the
    previous kept break, and at least two distinct window boundaries (a window start or the day
    after a window end) on each side within its segment: without boundaries inside a segment
    its slope is not identified by window totals.
    """
    bounds = np.unique(np.concatenate([starts, ends + 1]))
    bounds = bounds[(bounds > 0) & (bounds < n_days)]
    kept: list[Breakpoint] = []
    dropped: list[str] = []
    prev = 0
    for bp in cands:
        tau = (bp.date - day0).days
        if tau < MIN_EDGE_DAYS or tau > n_days - MIN_EDGE_DAYS:
            dropped.append(f"{bp.date.date()} ({bp.label}): within {MIN_EDGE_DAYS} days of the "
                           "modelled period's edge")
            continue
        if tau - prev < MIN_GAP_DAYS and kept:
            dropped.append(f"{bp.date.date()} ({bp.label}): within {MIN_GAP_DAYS} days of the "
                           "previous breakpoint")
            continue
        left = np.sum((bounds > prev) & (bounds < tau))
        right = np.sum((bounds > tau) & (bounds < n_days))
        if left < 2 or right < 2:
            dropped.append(f"{bp.date.date()} ({bp.label}): too few reported window boundaries "
                           "around it to identify a jump and a slope change")
            continue
        if len(kept) >= MAX_BREAKS:
            dropped.append(f"{bp.date.date()} ({bp.label}): at most {MAX_BREAKS} breakpoints "
                           "(first by date kept)")
            continue
        kept.append(bp)
        prev = tau
    # the last segment must also hold two boundaries
    while kept:
        tau = (kept[-1].date - day0).days
        if np.sum((bounds > tau) & (bounds < n_days)) >= 2:
            break
        bp = kept.pop()
        dropped.append(f"{bp.date.date()} ({bp.label}): too few window boundaries after it")
    return kept, dropped


def design(day0: pd.Timestamp, n_days: int, breaks: list[Breakpoint],
           centre: pd.Timestamp) -> tuple[np.ndarray, list[str]]:
    """Daily design matrix ``[1, t, 1(t>=tau_k), (t-tau_k)+ ...]`` (t in weeks) and names."""
    d = np.arange(n_days, dtype=float)
    t = (d - (centre - day0).days) / 7.0
    cols = [np.ones(n_days), t]
    names = ["log_level", "trend_per_week"]
    for k, bp in enumerate(breaks, start=1):
        tau = (bp.date - day0).days
        cols.append((d >= tau).astype(float))
        cols.append(np.clip(d - tau, 0, None) / 7.0)
        tag = bp.date.strftime("%Y-%m-%d")
        names += [f"jump_{tag}", f"slope_change_{tag}"]
    return np.column_stack(cols), names
