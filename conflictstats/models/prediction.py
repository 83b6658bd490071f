"""Window predictions in statsmodels' shape: ``res.get_prediction(windows).summary_frame()``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

_U_NODES: dict[float, np.ndarray] = {}


def predictive_half_width(var_gauss: np.ndarray, scale2: np.ndarray, alpha: float,
                          df: float) -> np.ndarray:
    """Half-width ``q`` with ``P(|N(0, var_gauss) + sqrt(scale2) T_df| <= q) = 1 - alpha``.

    The prediction error of a report is the Gaussian estimation part plus the Student-t report
    error. A t is a normal scale mixture (``T = Z / sqrt(u)``, ``u ~ Gamma(df/2, rate df/2)``),
    so the sum is a normal mixture over ``u``; its two-sided quantile is found by bisection
    over 400 equal-probability nodes of ``u``.
    """
    var_gauss = np.asarray(var_gauss, float)
    scale2 = np.asarray(scale2, float)
    if df not in _U_NODES:
        _U_NODES[df] = stats.gamma.ppf((np.arange(400) + 0.5) / 400, a=df / 2, scale=2 / df)
    u = _U_NODES[df]
    s = np.sqrt(var_gauss[:, None] + scale2[:, None] / u[None, :]) + 1e-12
    lo = np.zeros(len(var_gauss))
    hi = stats.norm.ppf(1 - alpha / 2 / 400) * s.max(axis=1) + 1e-9
    for _ in range(60):
        mid = (lo + hi) / 2
        inside = np.mean(2 * stats.norm.cdf(mid[:, None] / s) - 1, axis=1)
        below = inside < 1 - alpha
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return (lo + hi) / 2


class PredictionResults:
    """Predictions for a list of windows; ``summary_frame(alpha)`` gives one row per window."""

    def __init__(self, results, windows: list[tuple]):
        self.results = results
        self.windows = windows

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Columns ``mean``, ``mean_ci_lower``, ``mean_ci_upper`` (the count on the group's
        scale), ``obs_ci_lower``, ``obs_ci_upper`` (a new report of that group),
        ``originator``, ``group`` (None: an originator the fit has not seen, predicted with the
        spread of coverage between originators), ``start``, ``end``, ``identified``."""
        p = self.results.predict_many(self.windows, (alpha,))
        return pd.DataFrame({
            "mean": p["mean"], "mean_ci_lower": p["ci_lower"], "mean_ci_upper": p["ci_upper"],
            "obs_ci_lower": p["pi_lower"], "obs_ci_upper": p["pi_upper"],
            "originator": p["originator"], "group": p["group"], "start": p["start"],
            "end": p["end"], "identified": p["identified"]})

    def _repr_html_(self) -> str:  # Jupyter shows the 95% summary frame
        return self.summary_frame().to_html()

    @property
    def predicted_mean(self) -> np.ndarray:
        return self.results.predict_many(self.windows)["mean"].to_numpy()
