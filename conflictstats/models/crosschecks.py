"""Cross-checks of a fitted model (the design note's): does a model with no events and no
originators, run on the fitted daily series, see the same shape?

- ``UnobservedComponents`` (statsmodels; local linear trend) on the log daily estimate: a
  smooth level that tolerates the model's own day-to-day wiggles;
- a changepoint search: the single date that best splits the log daily estimate into two
  linear pieces (least squares), and statsmodels' CUSUM test of a single linear trend.
A break the search finds far from every modelled breakpoint is worth a look; agreement is
reassuring but not proof (both read the same fitted series).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_SEGMENT_DAYS = 14


def best_changepoint(y: np.ndarray, min_seg: int = MIN_SEGMENT_DAYS) -> tuple[int, float]:
    """Index of the day that best splits ``y`` into two straight lines, and the share of the
    one-line residual sum of squares that the split removes."""
    t = np.arange(len(y), dtype=float)

    def rss(a: int, b: int) -> float:
        tt, yy = t[a:b], y[a:b]
        A = np.column_stack([np.ones_like(tt), tt])
        return float(np.sum((yy - A @ np.linalg.lstsq(A, yy, rcond=None)[0]) ** 2))

    base = rss(0, len(y))
    best = min(range(min_seg, len(y) - min_seg), key=lambda k: rss(0, k) + rss(k, len(y)))
    return best, 1.0 - (rss(0, best) + rss(best, len(y))) / max(base, 1e-12)


def cross_checks(res) -> dict:
    """The two checks on ``res.daily_frame()``; dates as ISO strings, numbers rounded."""
    import statsmodels.api as sm
    from statsmodels.stats.diagnostic import breaks_cusumolsresid

    daily = res.daily_frame()
    y = np.log(daily["estimate"].to_numpy())
    dates = pd.to_datetime(daily["date"])
    uc = sm.tsa.UnobservedComponents(y, level="local linear trend").fit(disp=False)
    level = np.exp(uc.smoothed_state[0])
    k, share = best_changepoint(y)
    X = np.column_stack([np.ones(len(y)), np.arange(len(y), dtype=float)])
    resid = sm.OLS(y, X).fit().resid
    _, cusum_p, _ = breaks_cusumolsresid(resid, ddof=2)
    modelled = [b.date for b in res.breakpoints]
    found = dates.iloc[k]
    nearest = min((abs((found - d).days) for d in modelled), default=None)
    return {
        "uc_level_first_week": round(float(level[:7].mean()), 2),
        "uc_level_last_week": round(float(level[-7:].mean()), 2),
        "model_first_week": round(float(daily["estimate"].iloc[:7].mean()), 2),
        "model_last_week": round(float(daily["estimate"].iloc[-7:].mean()), 2),
        "changepoint": found.date().isoformat(), "changepoint_rss_share": round(share, 3),
        "days_to_nearest_modelled_break": nearest, "cusum_p_value": round(float(cusum_p), 4),
    }
