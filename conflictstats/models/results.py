"""Results of a latent daily-count fit, in statsmodels style.

Everything is read off the Laplace approximation of the latent vector (mode and covariance):
a window's log total is a smooth function of it, so its interval is a delta-method interval on
the log scale, and every interval is positive and multiplicative. ``mean`` columns are
``exp`` of the log-scale estimate: the predictive median of the count, which is the point
that a median |log ratio| scores. Confidence intervals (``mean_ci``) are for the count on the
group's scale given the fit; prediction intervals (``obs_ci``) are for a new report of that
group: they add the group's Student-t report error (and, for a figure hedged by its
qualifier, the band's rounding variance). ``originator=None`` is the realised count itself on
the reference scale (no report is added: its prediction and confidence intervals coincide);
name the reference to get what it would itself report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from . import arguments as check
from .blocks import KINDS, LatentFit, group_kind, window_mask, window_terms
from .prediction import PredictionResults, predictive_half_width
from .trend import Breakpoint


@dataclass
class LatentResults:
    """Fitted model of one metric. Build it with :func:`conflictstats.models.fit`."""

    fit: LatentFit
    metric: str
    area: str | None
    campaign: tuple[pd.Timestamp, pd.Timestamp]
    breakpoints: list[Breakpoint]
    dropped_breakpoints: list[str]
    excluded: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    seed: int = 0
    fit_seconds: float = float("nan")

    # -- statsmodels-like attributes ----------------------------------------------------------
    @property
    def model(self):
        return self.fit.model

    @property
    def converged(self) -> bool:
        return bool(self.fit.converged)

    @property
    def reference(self) -> str:
        return self.model.groups[0]

    @property
    def nobs(self) -> int:
        return int(self.model.nobs)

    @property
    def observations(self) -> pd.DataFrame:
        return self.model.obs

    def _param_index(self) -> tuple[list[str], np.ndarray]:
        m, L = self.model, self.model.lay
        names = list(m.trend_names) + [f"log_coverage[{g}]" for g in m.groups[1:]] + \
            [f"log_coverage_mean[{k}]" for k in KINDS]
        idx = np.r_[np.arange(L.p), np.arange(L.gamma.start, L.mu.stop)]
        return names, idx

    @property
    def param_names(self) -> list[str]:
        return self._param_index()[0]

    @property
    def params(self) -> pd.Series:
        names, idx = self._param_index()
        return pd.Series(self.fit.theta[idx], index=names)

    @property
    def variance_components(self) -> pd.Series:
        """Log variances: AR deviation, day effect, coverage spread, drift, report per group."""
        return pd.Series(self.fit.V.as_dict(self.model.groups))

    def cov_params(self) -> pd.DataFrame:
        names, idx = self._param_index()
        return pd.DataFrame(self.fit.Sigma[np.ix_(idx, idx)], index=names, columns=names)

    @property
    def bse(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.cov_params().to_numpy())), index=self.param_names)

    @property
    def df_resid(self) -> int:
        return max(self.nobs - self.model.lay.p - len(self.model.groups) + 1, 1)

    def _t_quantile(self, alpha: float) -> float:
        """A t quantile (the variance components are estimated), as for GLS in statsmodels."""
        check.alpha(alpha)
        return float(stats.t.ppf(1 - alpha / 2, self.df_resid))

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Parameter intervals, columns 0 and 1 like statsmodels."""
        check.alpha(alpha)
        z = self._t_quantile(alpha)
        p, se = self.params, self.bse
        return pd.DataFrame({0: p - z * se, 1: p + z * se})

    # -- groups and windows -------------------------------------------------------------------
    def group_of(self, originator: str | None, days: int = 99) -> tuple[int | None, int]:
        """(group index or None for an unseen originator, its kind). ``originator`` may be a
        coverage-group label ("SNHR"), an originator spelling the registry maps to one, or
        None (the reference). A window of at most ``SHORT_DAYS`` days uses the group's daily
        tallies where the fit has them."""
        from .observations import DAILY_SUFFIX, SHORT_DAYS, canonical_originator, check_originator

        groups = self.model.groups
        if originator is None:
            return 0, group_kind(groups[0], DAILY_SUFFIX)
        name = str(originator).strip()
        lower = {g.lower(): i for i, g in enumerate(groups)}
        # a group label as fitted, else the registry's group of an originator spelling, named
        # the way the observations name groups
        labels = [name]
        if name.lower() not in lower:
            mapped = self.aliases.get(name, self.aliases.get(name.lower()))
            labels = [canonical_originator(mapped)] if mapped else []
            labels.append(canonical_originator(name))
        for label in labels:
            short = days <= SHORT_DAYS and not label.endswith(DAILY_SUFFIX)
            for cand in ([label + DAILY_SUFFIX] if short else []) + [label]:
                if cand.lower() in lower:
                    i = lower[cand.lower()]
                    return i, group_kind(groups[i], DAILY_SUFFIX)
        check_originator(name, groups, self.aliases)  # an unseen originator, not a typo
        # unseen: its kind from the label (a governorate tag "[SY02]" or the daily suffix) or,
        # for a plain name, from the window's length (see ``predict_many`` for how it is read)
        kind = group_kind(name, DAILY_SUFFIX)
        return None, 1 if (days <= SHORT_DAYS and kind == 0) else kind

    def _day(self, date) -> int:
        """Day index of a date in the modelled period (checked by :mod:`.arguments` first)."""
        return int((check.date(date) - self.model.day0).days)

    def predict_many(self, windows: list[tuple], alphas: tuple[float, ...] = (0.05,),
                     report_noise: bool = True,
                     rounding_var: np.ndarray | None = None) -> pd.DataFrame:
        """Predictions for many ``(start, end, originator)`` windows: ``mean``, and for each
        alpha ``ci_lower/upper`` (the count on the group's scale) and ``pi_lower/upper`` (a new
        report of that group; without ``report_noise`` the same as the CI). The first alpha's
        columns are unsuffixed, the others suffixed ``_80`` etc."""
        check.windows(self, windows)  # parseable, ordered, inside the modelled period
        for a in alphas:
            check.alpha(a)
        m, L = self.model, self.model.lay
        D = L.D
        s = np.array([self._day(w[0]) for w in windows], int)
        e = np.array([self._day(w[1]) for w in windows], int)
        gk = [self.group_of(w[2], int(b - a + 1)) for w, a, b in zip(windows, s, e)]
        gidx = np.array([-1 if g is None else g for g, _ in gk])
        lw, P = window_terms(m.x(self.fit.theta), window_mask(s, e, D))
        unseen = gidx < 0
        kinds = np.array([k for _, k in gk])
        R = m.rest_jacobian(np.where(unseen, 0, gidx), e).tolil()
        kind_means = []
        for k in np.unique(kinds[unseen]):
            # an originator the fit never saw is read as a typical one of its kind on that day:
            # the average of the fitted originators' coverage and drift (its own differs from
            # that by the spread tau between originators); without any, the kind's mean
            rows = np.flatnonzero(unseen & (kinds == k))
            members = [g for g in range(L.G) if m.kind[g] == k]
            if members:
                R[rows] = sum(m.rest_jacobian(np.full(len(rows), g), e[rows]) for g in members) / len(members)
            else:
                kind_means.append((rows, L.mu.start + k))
        J = m.jacobian_rows(P, R.tocsr())
        for rows, col in kind_means:
            J[rows, col] = 1.0
        eta = lw + J[:, L.gamma.start:] @ self.fit.theta[L.gamma.start:]
        var = np.einsum("ij,jk,ik->i", J, self.fit.Sigma, J)
        var = var + np.where(unseen, self.fit.V.tau2, 0.0)
        noise = np.zeros(len(windows))
        named = np.array([w[2] is not None for w in windows])
        if report_noise and named.any():
            sg = self.fit.V.sigma_g2
            # an unseen originator's report error: the typical scale of its kind's originators
            kind_sg = np.array([np.median(sg[m.kind == k]) if np.any(m.kind == k) else
                                np.median(sg) for k in range(len(KINDS))])
            noise = np.where(unseen, kind_sg[kinds], sg[np.where(gidx < 0, 0, gidx)])
            noise = np.where(named, noise * ((e - s + 1) / 7.0) ** -self.fit.V.kappa, 0.0)
        if rounding_var is not None:
            var = var + np.asarray(rounding_var, float)
        out = pd.DataFrame({
            "start": [pd.Timestamp(w[0]) for w in windows], "end": [pd.Timestamp(w[1]) for w in windows],
            "originator": [self.reference if w[2] is None else str(w[2]) for w in windows],
            "group": [None if g < 0 else m.groups[g] for g in gidx],
            "mean": np.exp(eta), "log_mean": eta, "log_se": np.sqrt(var)})
        for k, a in enumerate(alphas):
            sfx = "" if k == 0 else f"_{int(round(100 * (1 - a)))}"
            zc = stats.norm.ppf(1 - a / 2) * np.sqrt(var)
            out["ci_lower" + sfx] = np.exp(eta - zc)
            out["ci_upper" + sfx] = np.exp(eta + zc)
            hw = predictive_half_width(var, noise, a, self.fit.V.df) if report_noise else zc
            out["pi_lower" + sfx] = np.exp(eta - hw)
            out["pi_upper" + sfx] = np.exp(eta + hw)
        out["identified"] = out["pi_upper"] / out["pi_lower"] <= IDENTIFIED_RATIO
        return out

    def get_prediction(self, windows, originator: str | None = None) -> PredictionResults:
        """Predictions for windows (a DataFrame with ``start``, ``end`` and optionally
        ``originator``, or a list of ``(start, end)`` / ``(start, end, originator)``)."""
        check.windows(self, windows)
        return PredictionResults(self, _windows(windows, originator))

    def predict_window(self, start, end, originator: str | None = None,
                       alpha: float = 0.05, report_noise: bool = True) -> dict:
        """One window: ``mean``, ``ci_lower``, ``ci_upper``, ``pi_lower``, ``pi_upper`` (and
        ``identified``: False where the reports cannot pin the window down).

        >>> import conflictstats as cs
        >>> p = cs.fit("health_workers_killed").predict_window("2019-05-01", "2019-05-31")
        >>> 0 < p["ci_lower"] <= p["mean"] <= p["ci_upper"], p["alpha"]
        (True, 0.05)
        """
        check.prediction(self, start, end, alpha)
        p = self.predict_many([(start, end, originator)], (alpha,), report_noise).iloc[0]
        out = {k: (bool(p[k]) if k == "identified" else float(p[k])) for k in
               ("mean", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "identified")}
        return {**out, "alpha": float(alpha)}

    def daily_frame(self, alpha: float = 0.05, start=None, end=None) -> pd.DataFrame:
        """Daily counts on the reference scale with intervals, and cumulative columns from
        ``start`` (default: the campaign start)."""
        check.daily(self, start, end, alpha)
        cs, ce = self.campaign
        s0 = pd.Timestamp(start if start is not None else cs)
        e0 = pd.Timestamp(end if end is not None else ce)
        dates = pd.date_range(s0, e0, freq="D")
        p = self.predict_many([(d, d, None) for d in dates] + [(s0, d, None) for d in dates],
                              (alpha,))
        n = len(dates)
        d, c = p.iloc[:n].reset_index(drop=True), p.iloc[n:].reset_index(drop=True)
        L = self.model.lay
        days = np.array([self._day(x) for x in dates])
        trend = np.exp(self.model.X[days] @ self.fit.theta[L.beta])
        return pd.DataFrame({
            "date": dates, "estimate": d["mean"], "ci_lower": d["ci_lower"],
            "ci_upper": d["ci_upper"], "pi_lower": d["pi_lower"], "pi_upper": d["pi_upper"],
            "intensity": trend, "cum_estimate": c["mean"], "cum_ci_lower": c["ci_lower"],
            "cum_ci_upper": c["ci_upper"], "cum_pi_lower": c["pi_lower"],
            "cum_pi_upper": c["pi_upper"]})

    def weekly_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Weekly totals (reference scale) over the campaign, with CI and PI."""
        cs, ce = self.campaign
        starts = pd.date_range(cs, ce, freq="7D")
        wins = [(a, min(a + pd.Timedelta(days=6), ce), None) for a in starts]
        p = self.predict_many(wins, (alpha,))
        return p.rename(columns={"start": "week_start", "end": "week_end"}).drop(
            columns=["originator", "group"])

    # -- tables -----------------------------------------------------------------------------
    def _lincomb(self, weights: dict[str, float], alpha: float) -> tuple[float, float, float]:
        names = self.param_names
        a = np.zeros(len(names))
        for k, v in weights.items():
            a[names.index(k)] = v
        est = float(a @ self.params.to_numpy())
        se = float(np.sqrt(max(a @ self.cov_params().to_numpy() @ a, 0.0)))
        z = self._t_quantile(alpha)
        return est, est - z * se, est + z * se

    def trend_table(self, alpha: float = 0.05) -> pd.DataFrame:
        """Per breakpoint: weekly growth before and after, the jump at the break, with CIs
        (percentages ``100 * (exp(x) - 1)``; the slope change in log units per week)."""
        pct = lambda x: 100.0 * (math.exp(x) - 1.0)  # noqa: E731
        slope = {"trend_per_week": 1.0}
        if not self.breakpoints:
            est, lo, hi = self._lincomb(slope, alpha)
            return pd.DataFrame([{"breakpoint": pd.NaT, "event": "none (single log-linear trend)",
                                  "growth_before_pct": pct(est), "growth_before_ci_lower": pct(lo),
                                  "growth_before_ci_upper": pct(hi)}])
        rows = []
        for bp in self.breakpoints:
            tag = bp.date.strftime("%Y-%m-%d")
            before = self._lincomb(slope, alpha)
            slope = {**slope, f"slope_change_{tag}": 1.0}
            after = self._lincomb(slope, alpha)
            jump = self._lincomb({f"jump_{tag}": 1.0}, alpha)
            sc = self._lincomb({f"slope_change_{tag}": 1.0}, alpha)
            rows.append({
                "breakpoint": bp.date, "event": bp.label,
                "growth_before_pct": pct(before[0]), "growth_before_ci_lower": pct(before[1]),
                "growth_before_ci_upper": pct(before[2]),
                "growth_after_pct": pct(after[0]), "growth_after_ci_lower": pct(after[1]),
                "growth_after_ci_upper": pct(after[2]),
                "jump_pct": pct(jump[0]), "jump_ci_lower": pct(jump[1]), "jump_ci_upper": pct(jump[2]),
                "slope_change": sc[0], "slope_change_ci_lower": sc[1],
                "slope_change_ci_upper": sc[2]})
        return pd.DataFrame(rows)

    def coverage_table(self, alpha: float = 0.05) -> pd.DataFrame:
        """Log coverage of each group relative to the reference originator, with CIs."""
        obs = self.observations
        rows = [{"group": self.reference, "log_coverage": 0.0, "ci_lower": 0.0, "ci_upper": 0.0,
                 "ratio": 1.0, "ratio_ci_lower": 1.0, "ratio_ci_upper": 1.0,
                 "n_obs": int((obs["group"] == self.reference).sum()), "reference": True}]
        for g in self.model.groups[1:]:
            est, lo, hi = self._lincomb({f"log_coverage[{g}]": 1.0}, alpha)
            rows.append({"group": g, "log_coverage": est, "ci_lower": lo, "ci_upper": hi,
                         "ratio": math.exp(est), "ratio_ci_lower": math.exp(lo),
                         "ratio_ci_upper": math.exp(hi),
                         "n_obs": int((obs["group"] == g).sum()), "reference": False})
        return pd.DataFrame(rows)

    def cross_checks(self) -> dict:
        """UnobservedComponents and a changepoint search on the fitted daily series."""
        from .crosschecks import cross_checks

        return cross_checks(self)

    def summary(self, alpha: float = 0.05) -> str:
        from .summary import summary_text

        return summary_text(self, alpha)

    def _repr_html_(self) -> str:  # Jupyter shows the summary as tables
        from .summary import summary_html

        return summary_html(self)

    def plot(self, ax=None, alpha: float = 0.05, events: pd.DataFrame | None = None):
        from .summary import plot_daily

        return plot_daily(self, ax=ax, alpha=alpha, events=events)

    # -- refits -------------------------------------------------------------------------------
    def refit_with(self, **fixed: float) -> "LatentResults":
        """The same fit with some variance components held (by name, log scale)."""
        check.components(self, fixed)
        from . import refit

        return refit(self, fixed)

    def dispersion_sensitivity(self, start, end, factors: tuple[float, ...] = (0.25, 4.0),
                               alpha: float = 0.05) -> pd.DataFrame:
        """The window's estimate and intervals with every report scale multiplied by each
        factor (variance), the other components re-estimated: how much the intervals lean on
        the estimated report noise."""
        check.sensitivity(self, start, end, factors, alpha)
        rows = []
        for f in (1.0,) + tuple(factors):
            fixed = {f"log_sigma2_report[{g}]": float(np.log(s * f))
                     for g, s in zip(self.model.groups, self.fit.V.sigma_g2)}
            r = self if f == 1.0 else self.refit_with(**fixed)
            rows.append({"factor": f, "converged": r.converged,
                         **r.predict_window(start, end, alpha=alpha)})
        return pd.DataFrame(rows)

    def bootstrap(self, n: int = 200, seed: int | None = None) -> pd.DataFrame:
        """Parametric bootstrap: ``n`` data sets simulated from the fit, each refitted with the
        variance components held; one row of parameters per replicate."""
        check.replicates(n, seed)
        from .bootstrap import parametric_bootstrap

        return parametric_bootstrap(self, n, self.seed if seed is None else seed)

    def bootstrap_conf_int(self, draws: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
        check.alpha(alpha)
        return pd.DataFrame({0: draws.quantile(alpha / 2), 1: draws.quantile(1 - alpha / 2)})


# A window whose 95% interval spans more than this factor is "not identified from the reports".
IDENTIFIED_RATIO = 10.0


def _windows(windows, originator: str | None) -> list[tuple]:
    if isinstance(windows, pd.DataFrame):
        orig = windows["originator"] if "originator" in windows else [originator] * len(windows)
        return [(a, b, o if o is None or not pd.isna(o) else None)
                for a, b, o in zip(windows["start"], windows["end"], orig)]
    out = []
    for w in windows:
        w = tuple(w)
        out.append((w[0], w[1], w[2] if len(w) > 2 else originator))
    return out
