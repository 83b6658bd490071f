"""Naive baselines and the scores shared by the backtest and the simulation.

Why baselines: a model that cannot beat "carry the last total forward" or "interpolate between
reported totals" on figures it did not see is not worth its complexity. Both baselines get a
Poisson interval around their point prediction: the interval a reader who takes the number at
face value would implicitly use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

SCORE_KEYS = ("coverage_80", "coverage_95", "median_abs_log_ratio", "interval_score")


def _poisson_interval(pred: float) -> tuple[float, float, float, float]:
    m = max(pred, 1e-9)
    return (float(stats.poisson.ppf(0.10, m)), float(stats.poisson.ppf(0.90, m)),
            float(stats.poisson.ppf(0.025, m)), float(stats.poisson.ppf(0.975, m)))


def _days(a: pd.Timestamp, b: pd.Timestamp) -> int:
    return int((b - a).days) + 1


def carry_forward(train: pd.DataFrame, target: pd.Series) -> float:
    """The originator's nearest earlier total, scaled by window length.

    ``train`` needs columns group, start, end, value. Falls back to the nearest total of the
    same originator at any time, then to any originator's nearest earlier total.
    """
    n = _days(target["start"], target["end"])
    same = train[train["group"] == target["group"]]
    for pool in (same[same["end"] <= target["end"]], same,
                 train[train["end"] <= target["end"]], train):
        if len(pool):
            # nearest end; ties: the same start as the target, then the longest window
            key = pd.DataFrame({
                "dist": (pool["end"] - target["end"]).abs().dt.days,
                "samestart": (pool["start"] != target["start"]).astype(int),
                "neglen": -(pool["end"] - pool["start"]).dt.days}, index=pool.index)
            best = pool.loc[key.sort_values(["dist", "samestart", "neglen"]).index[0]]
            return float(best["value"]) * n / _days(best["start"], best["end"])
    return float("nan")


def interpolate(train: pd.DataFrame, target: pd.Series) -> float:
    """Linear interpolation on the originator's running total (one series with one start).

    Uses the series of the same group with the most points among those starting on or before
    the target's start; the target is ``C(end) - C(start - 1)`` with ``C`` piecewise linear
    through ``(series start - 1, 0)`` and the reported totals, extended linearly past the last
    one. Without such a series it falls back to :func:`carry_forward`.
    """
    same = train[(train["group"] == target["group"]) & (train["start"] <= target["start"])]
    if not len(same):
        return carry_forward(train, target)
    counts = same.groupby("start").size().sort_values(ascending=False)
    st = counts.index[0]
    ser = same[same["start"] == st].groupby("end")["value"].max().sort_index()
    x = np.concatenate([[-1.0], (ser.index - st).days.to_numpy(dtype=float)])
    y = np.concatenate([[0.0], ser.to_numpy(dtype=float)])
    y = np.maximum.accumulate(y)

    def C(day: float) -> float:
        if day <= x[-1]:
            return float(np.interp(day, x, y))
        slope = (y[-1] - y[-2]) / max(x[-1] - x[-2], 1.0)
        return float(y[-1] + slope * (day - x[-1]))

    b = float((target["end"] - st).days)
    a = float((target["start"] - st).days) - 1.0
    return max(C(b) - (C(a) if a >= 0 else 0.0), 0.0)


def baseline_prediction(kind: str, train: pd.DataFrame, target: pd.Series) -> dict:
    pred = carry_forward(train, target) if kind == "carry_forward" else interpolate(train, target)
    if not np.isfinite(pred):
        return {"mean": np.nan, "lo80": np.nan, "hi80": np.nan, "lo95": np.nan, "hi95": np.nan}
    lo80, hi80, lo95, hi95 = _poisson_interval(pred)
    return {"mean": pred, "lo80": lo80, "hi80": hi80, "lo95": lo95, "hi95": hi95}


def scores(pred: pd.DataFrame) -> dict:
    """Coverage of the 80%/95% intervals, median |log(pred/obs)| and mean 95% interval score.

    A hedged figure ("more than 1,800", "about 270,000") stands for a band of counts
    (``obs_lo``..``obs_hi``, see ``observations._finite_interval``); coverage is scored against
    the band's midpoint, the value the likelihood reads (its rounding variance is part of the
    model's prediction interval). ``coverage_95_overlap`` (the interval overlaps the band: too
    lenient) and ``coverage_95_point`` (the reported number itself: too strict for "at least")
    bracket it. ``pred`` has columns obs, mean, lo80, hi80, lo95, hi95. The interval score is
    Gneiting and Raftery's (width plus 2/alpha times the miss), in the metric's units; the
    relative version divides each by the observed value so metrics of different sizes compare.
    """
    p = pred.dropna(subset=["mean"])
    if not len(p):
        return {k: float("nan") for k in SCORE_KEYS} | {"n": 0}
    y = p["obs"].to_numpy(float)
    ylo = p["obs_lo"].to_numpy(float) if "obs_lo" in p else y
    yhi = p["obs_hi"].to_numpy(float) if "obs_hi" in p else y
    ym = (ylo + yhi) / 2
    a = 0.05
    miss_lo = np.clip(p["lo95"].to_numpy() - ym, 0, None)
    miss_hi = np.clip(ym - p["hi95"].to_numpy(), 0, None)
    isc = (p["hi95"].to_numpy() - p["lo95"].to_numpy()) + 2 / a * (miss_lo + miss_hi)
    lr = np.abs(np.log(np.maximum(p["mean"].to_numpy(float), 0.5) / np.maximum(y, 0.5)))

    def cover(lo, hi, v):
        return float(np.mean((p[lo].to_numpy() <= v) & (v <= p[hi].to_numpy())))

    return {
        "coverage_80": cover("lo80", "hi80", ym),
        "coverage_95": cover("lo95", "hi95", ym),
        "coverage_95_overlap": float(np.mean((p["lo95"].to_numpy() <= yhi)
                                             & (ylo <= p["hi95"].to_numpy()))),
        "coverage_95_point": cover("lo95", "hi95", y),
        "median_abs_log_ratio": float(np.median(lr)),
        "interval_score": float(np.mean(isc)),
        "relative_interval_score": float(np.mean(isc / np.maximum(y, 1.0))),
        "n": int(len(p)),
    }
