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

from ..datamodel import BREAKPOINT_KINDS

# Event kinds that can change the level or slope of violence, in order of priority: one
# definition, in the data model (the report labels exactly these).
BREAK_KINDS = BREAKPOINT_KINDS
MIN_GAP_DAYS = 14
MIN_EDGE_DAYS = 14
MAX_BREAKS = 4


@dataclass
class Breakpoint:
    date: pd.Timestamp
    label: str
    priority: int = 0


def candidate_breakpoints(events: pd.DataFrame | None) -> list[Breakpoint]:
    """Breakpoint candidates: one per date among the events whose kind can shift the trend
    (the highest-priority kind names the date)."""
    if events is None or len(events) == 0:
        return []
    ev = events[events["kind"].astype(str).isin(BREAK_KINDS)].copy()
    ev["_prio"] = ev["kind"].astype(str).map(BREAK_KINDS.index)
    ev = ev.sort_values(["date", "_prio", "event_id"])
    out: dict[pd.Timestamp, Breakpoint] = {}
    for d, eid, kind, prio in zip(ev["date"], ev["event_id"], ev["kind"].astype(str),
                                  ev["_prio"]):
        d = pd.Timestamp(d).normalize()
        out.setdefault(d, Breakpoint(d, f"{kind}: {eid}", int(prio)))
    return list(out.values())


def select_breakpoints(cands: list[Breakpoint], day0: pd.Timestamp, n_days: int,
                       starts: np.ndarray, ends: np.ndarray) -> tuple[list[Breakpoint], list[str]]:
    """Keep the candidates the data can identify; say why each other one was dropped.

    Candidates are taken by kind priority (truces, collapses, offensive starts before
    escalations), then by date. A break needs at least ``MIN_EDGE_DAYS`` to the domain edges,
    ``MIN_GAP_DAYS`` to every kept break, and at least two distinct window boundaries (a window
    start or the day after a window end) strictly inside each of the two segments it creates:
    without boundaries inside a segment its slope is not identified by window totals. At most
    ``MAX_BREAKS`` are kept.
    """
    bounds = np.unique(np.concatenate([starts, ends + 1]))
    bounds = bounds[(bounds > 0) & (bounds < n_days)]
    kept: list[Breakpoint] = []
    dropped: list[str] = []

    def tau(bp: Breakpoint) -> int:
        return (bp.date - day0).days

    for bp in sorted(cands, key=lambda b: (b.priority, b.date)):
        t = tau(bp)
        if t < MIN_EDGE_DAYS or t > n_days - MIN_EDGE_DAYS:
            dropped.append(f"{bp.date.date()} ({bp.label}): within {MIN_EDGE_DAYS} days of the "
                           "modelled period's edge")
            continue
        near = [k for k in kept if abs(tau(k) - t) < MIN_GAP_DAYS]
        if near:
            dropped.append(f"{bp.date.date()} ({bp.label}): within {MIN_GAP_DAYS} days of the "
                           f"breakpoint {near[0].date.date()} (kept first by kind, then date)")
            continue
        if len(kept) >= MAX_BREAKS:
            dropped.append(f"{bp.date.date()} ({bp.label}): at most {MAX_BREAKS} breakpoints "
                           "(kept first by kind, then date)")
            continue
        left = max([tau(k) for k in kept if tau(k) < t], default=0)
        right = min([tau(k) for k in kept if tau(k) > t], default=n_days)
        if (np.sum((bounds > left) & (bounds < t)) < 2
                or np.sum((bounds > t) & (bounds < right)) < 2):
            dropped.append(f"{bp.date.date()} ({bp.label}): too few reported window boundaries "
                           "around it to identify a jump and a slope change")
            continue
        kept.append(bp)
    return sorted(kept, key=lambda b: b.date), dropped


def design(day0: pd.Timestamp, n_days: int, breaks: list[Breakpoint],
           centre: pd.Timestamp, data_end: int | None = None) -> tuple[np.ndarray, list[str]]:
    """Daily design matrix ``[1, t, 1(t>=tau_k), (t-tau_k)+ ...]`` (t in weeks) and names.

    Past ``data_end`` (the last reported day) the trend holds its level: a growth rate is
    not extrapolated beyond the reports that estimate it (a fit on the first weeks of a
    campaign would otherwise compound its latest slope into every later day).
    """
    d = np.arange(n_days, dtype=float)
    if data_end is not None:
        d = np.minimum(d, float(data_end))
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
