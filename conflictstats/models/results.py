"""Results of a composite-link fit, in statsmodels style.

Intervals: parameter CIs are Wald intervals from the observed information of the Gaussian
composite-link likelihood, whose covariance carries the daily overdispersion and the
dependence between reports of the same days (what makes Poisson Wald intervals under-cover).
Intervals for derived quantities come from drawing the parameters from their asymptotic normal
law; prediction intervals add the conditional day, recording and report noise. Every draw comes from a seeded
``numpy.random.Generator`` keyed on the query, so results are reproducible and independent of
call order.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ._blas import single_thread_blas
from .composite import REPORT_DF, CompositeLinkModel
from .trend import Breakpoint


_U_NODES: dict[float, np.ndarray] = {}


def predictive_half_width(var_gauss: np.ndarray, scale2: np.ndarray, alpha: float,
                          df: float = REPORT_DF) -> np.ndarray:
    """Half-width ``q`` with ``P(|N(0, var_gauss) + sqrt(scale2) T_df| <= q) = 1 - alpha``.

    The prediction error of a reported figure is the Gaussian day/recording/estimation part
    plus the Student-t report error. A t is a normal scale mixture (``T = Z / sqrt(u)``,
    ``u ~ Gamma(df/2, rate df/2)``), so the sum is a normal mixture over ``u``; its two-sided
    quantile is found by bisection over 400 equal-probability nodes of ``u``.
    """
    var_gauss = np.asarray(var_gauss, float)
    scale2 = np.asarray(scale2, float)
    if df not in _U_NODES:
        _U_NODES[df] = stats.gamma.ppf((np.arange(400) + 0.5) / 400, a=df / 2, scale=2 / df)
    u = _U_NODES[df]
    s = np.sqrt(var_gauss[:, None] + scale2[:, None] / u[None, :])
    lo = np.zeros(len(var_gauss))
    hi = stats.norm.ppf(1 - alpha / 2 / 400) * s.max(axis=1) + 1e-9
    for _ in range(60):
        mid = (lo + hi) / 2
        inside = np.mean(2 * stats.norm.cdf(mid[:, None] / s) - 1, axis=1)
        below = inside < 1 - alpha
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return (lo + hi) / 2


@dataclass
class CompositeResults:
    """Fitted composite-link model. Build it with :func:`conflictstats.models.fit`."""

    model: CompositeLinkModel
    sm_results: object
    cov: np.ndarray
    free: np.ndarray
    converged: bool
    warnings: list[str]
    metric: str
    area: str | None
    campaign: tuple[pd.Timestamp, pd.Timestamp]
    breakpoints: list[Breakpoint]
    dropped_breakpoints: list[str]
    excluded: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    seed: int = 0
    n_draws: int = 2000
    fit_seconds: float = float("nan")

    # -- statsmodels-like attributes ----------------------------------------------------------
    @property
    def param_names(self) -> list[str]:
        return list(self.model.exog_names)

    @property
    def params(self) -> pd.Series:
        return pd.Series(np.asarray(self.sm_results.params, float), index=self.param_names)

    @property
    def bse(self) -> pd.Series:
        return pd.Series(np.sqrt(np.clip(np.diag(self.cov), 0, None)), index=self.param_names)

    def cov_params(self) -> pd.DataFrame:
        return pd.DataFrame(self.cov, index=self.param_names, columns=self.param_names)

    @property
    def llf(self) -> float:
        return float(self.model.loglike(self.params.to_numpy()))

    @property
    def nobs(self) -> int:
        return int(len(self.model.obs_table))

    @property
    def observations(self) -> pd.DataFrame:
        return self.model.obs_table

    @property
    def reference(self) -> str:
        return self.model.groups[0]

    @property
    def df_resid(self) -> int:
        """Observations minus free parameters: the degrees of freedom of the t quantile."""
        return max(self.nobs - int(np.sum(self.free)), 1)

    def _t_quantile(self, alpha: float) -> float:
        """Parameter intervals use a t quantile: the covariance is estimated (dispersions),
        as for a GLS fit in statsmodels; with a normal quantile the intervals of the break
        parameters covered 91.8% instead of 95% in the 200-run simulation."""
        return float(stats.t.ppf(1 - alpha / 2, self.df_resid))

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals with a t quantile (``df_resid``), columns 0 and 1 like statsmodels."""
        z = self._t_quantile(alpha)
        p, se = self.params, self.bse
        return pd.DataFrame({0: p - z * se, 1: p + z * se})

    # -- simulation machinery -----------------------------------------------------------------
    def _rng(self, *key) -> np.random.Generator:
        h = zlib.crc32(repr(key).encode())
        return np.random.default_rng([self.seed, h])

    def _param_draws(self) -> np.ndarray:
        if not hasattr(self, "_draws_cache"):
            rng = self._rng("params")
            p = self.params.to_numpy()
            z = rng.standard_normal((self.n_draws, len(p)))
            evals, evecs = np.linalg.eigh((self.cov + self.cov.T) / 2)
            root = evecs * np.sqrt(np.clip(evals, 0, None))
            self._draws_cache = p + z @ root.T
        return self._draws_cache

    def _day_index(self, date) -> int:
        return int((pd.Timestamp(date).normalize() - self.model.day0).days)

    def _X(self, days: np.ndarray) -> np.ndarray:
        """Trend design for any day indices (extrapolates beyond the fitted period)."""
        from .trend import design

        n = int(max(days.max() + 1, 1))
        lo = int(min(days.min(), 0))
        X, _ = design(self.model.day0 + pd.Timedelta(days=lo), n - lo, self.breakpoints,
                      self._centre())
        return X[days - lo]

    def _centre(self) -> pd.Timestamp:
        cs, ce = self.campaign
        return cs + (ce - cs) / 2

    def _lam(self, days: np.ndarray, params: np.ndarray) -> np.ndarray:
        """Daily intensity on the reference scale, shape (n_params_sets, n_days)."""
        X = self._X(days)
        k = self.model.k_trend
        eta = np.atleast_2d(params)[:, :k] @ X.T
        return np.exp(np.clip(eta, -30, 30))

    def _group_index(self, originator: str | None) -> int:
        if originator is None:
            return 0
        groups = self.model.groups
        if originator in groups:
            return groups.index(originator)
        low = [g.lower() for g in groups]
        if originator.lower() in low:
            return low.index(originator.lower())
        raise KeyError(f"originator {originator!r} not in the fitted coverage groups: {groups}")

    def _log_cov(self, params: np.ndarray, g: int) -> np.ndarray:
        p = np.atleast_2d(params)
        if g == 0:
            return np.zeros(len(p))
        return p[:, self.model.k_trend + g - 1]

    # -- predictions ------------------------------------------------------------------------
    def predict_many(self, windows: list[tuple], alphas: tuple[float, ...] = (0.05,),
                     report_noise: bool = True, key: str = "many",
                     rounding_var: np.ndarray | None = None) -> pd.DataFrame:
        """Predictions for many ``(start, end, originator)`` windows at once.

        For each window: ``mean`` (conditional mean given every observation, at the estimate),
        ``expected`` (the intensity-only mean, ignoring what was reported about those days),
        and for each alpha the CI (delta-method uncertainty of the conditional mean from the
        parameter covariance) and the PI (that plus the conditional day, recording and report
        variance, the report error Student-t; floored at 0). ``originator=None`` is the
        realised count on the reference scale. ``rounding_var`` (one per window) adds the
        variance of the rounding a figure's qualifier implies, for a PI of the figure's
        midpoint rather than of the count.
        """
        tg = [(self._day_index(s), self._day_index(e),
               None if o is None else self._group_index(o)) for s, e, o in windows]
        for s, e, _ in tg:
            if e < s:
                raise ValueError("end before start")
            if s < 0 or e >= self.model.X.shape[0]:
                raise ValueError(
                    f"window {s}..{e} (days from {self.model.day0.date()}) is outside the "
                    f"modelled period of {self.model.X.shape[0]} days")
        with single_thread_blas():
            return self._predict_many(windows, tg, alphas, report_noise, rounding_var)

    def _predict_many(self, windows, tg, alphas, report_noise, rounding_var) -> pd.DataFrame:
        theta = self.params.to_numpy()
        m_hat, v_hat, m0_hat, r2 = self.model.predictive(theta, tg, report_noise)
        if rounding_var is not None:
            v_hat = v_hat + np.asarray(rounding_var, float)
        # delta method: gradients of the conditional and unconditional means by central
        # differences over the free parameters (deterministic, and 50x cheaper than draws)
        G = np.zeros((len(theta), len(tg)))
        G0 = np.zeros_like(G)
        for j in np.where(self.free)[0]:
            h = 1e-4 * max(1.0, abs(theta[j]))
            tp, tm = theta.copy(), theta.copy()
            tp[j] += h
            tm[j] -= h
            mp, _, m0p, _ = self.model.predictive(tp, tg, report_noise)
            mm, _, m0m, _ = self.model.predictive(tm, tg, report_noise)
            G[j] = (mp - mm) / (2 * h)
            G0[j] = (m0p - m0m) / (2 * h)
        # clipped at 0: a pseudo-inverse covariance (reported as a warning) can be indefinite
        var_m = np.maximum(np.einsum("it,ij,jt->t", G, self.cov, G), 0.0)
        var_m0 = np.maximum(np.einsum("it,ij,jt->t", G0, self.cov, G0), 0.0)
        nu = REPORT_DF
        out = pd.DataFrame({"start": [w[0] for w in windows], "end": [w[1] for w in windows],
                            "originator": [self.model.groups[g] if g is not None else None
                                           for _, _, g in tg],
                            "mean": np.maximum(m_hat, 0.0), "sd_mean": np.sqrt(var_m),
                            "sd_pred": np.sqrt(v_hat + var_m + r2 * nu / (nu - 2)),
                            "expected": m0_hat})
        for a in alphas:
            z = stats.norm.ppf(1 - a / 2)
            q = predictive_half_width(v_hat + var_m, r2, a)
            tag = "" if a == alphas[0] else f"_{int(round(100 * (1 - a)))}"
            out[f"ci_lower{tag}"] = np.maximum(m_hat - z * np.sqrt(var_m), 0.0)
            out[f"ci_upper{tag}"] = np.maximum(m_hat + z * np.sqrt(var_m), 0.0)
            out[f"pi_lower{tag}"] = np.maximum(m_hat - q, 0.0)
            out[f"pi_upper{tag}"] = np.maximum(m_hat + q, 0.0)
            out[f"expected_ci_lower{tag}"] = np.maximum(m0_hat - z * np.sqrt(var_m0), 0.0)
            out[f"expected_ci_upper{tag}"] = m0_hat + z * np.sqrt(var_m0)
        return out

    def predict_window(self, start, end, originator: str | None = None, alpha: float = 0.05,
                       report_noise: bool = True) -> dict:
        """Mean, confidence and prediction interval of the total over ``[start, end]``.

        ``originator=None``: the realised count on the reference originator's scale (what its
        count would be with no recording or report error). With an originator: what that
        originator would report for the window, given everything reported (its own earlier and
        later running totals pin most of it down). ``mean`` and the CI/PI condition on all
        figures; ``expected`` (with ``expected_ci_*``) is the trend's mean alone.
        """
        row = self.predict_many([(start, end, originator)], (alpha,), report_noise,
                                key="window").iloc[0]
        keys = ("mean", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "expected",
                "expected_ci_lower", "expected_ci_upper")
        out = {k: float(row[k]) for k in keys}
        out.update({"start": pd.Timestamp(start), "end": pd.Timestamp(end),
                    "originator": row["originator"] or self.reference, "alpha": alpha})
        return out

    def daily_frame(self, alpha: float = 0.05, start=None, end=None) -> pd.DataFrame:
        """Daily counts on the reference scale with CI and PI, plus cumulative columns.

        ``estimate`` is the realised daily count's conditional mean given all figures,
        ``intensity`` the trend alone; cumulative columns count from ``start`` (default: the
        campaign start).
        """
        cs, ce = self.campaign
        s0 = pd.Timestamp(start if start is not None else cs)
        e0 = pd.Timestamp(end if end is not None else ce)
        dates = pd.date_range(s0, e0, freq="D")
        wins = [(d, d, None) for d in dates] + [(s0, d, None) for d in dates]
        p = self.predict_many(wins, (alpha,), report_noise=False, key="daily")
        n = len(dates)
        d, c = p.iloc[:n].reset_index(drop=True), p.iloc[n:].reset_index(drop=True)
        lam = self._lam(np.array([self._day_index(x) for x in dates]),
                        self.params.to_numpy())[0]
        return pd.DataFrame({
            "date": dates, "estimate": d["mean"], "ci_lower": d["ci_lower"],
            "ci_upper": d["ci_upper"], "pi_lower": d["pi_lower"], "pi_upper": d["pi_upper"],
            "intensity": lam, "cum_estimate": c["mean"], "cum_ci_lower": c["ci_lower"],
            "cum_ci_upper": c["ci_upper"], "cum_pi_lower": c["pi_lower"],
            "cum_pi_upper": c["pi_upper"]})

    def weekly_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Weekly totals (reference scale) over the campaign, with CI and PI."""
        cs, ce = self.campaign
        rows: list[tuple] = []
        d = cs
        while d <= ce:
            w_end = min(d + pd.Timedelta(days=6), ce)
            rows.append((d, w_end, None))
            d = w_end + pd.Timedelta(days=1)
        p = self.predict_many(rows, (alpha,), report_noise=False, key="weekly")
        return p.rename(columns={"start": "week_start", "end": "week_end"}).drop(
            columns=["originator"])

    # -- tables -----------------------------------------------------------------------------
    def _lincomb(self, weights: dict[str, float], alpha: float) -> tuple[float, float, float]:
        names = self.param_names
        a = np.zeros(len(names))
        for k, v in weights.items():
            a[names.index(k)] = v
        est = float(a @ self.params.to_numpy())
        se = float(np.sqrt(max(a @ self.cov @ a, 0.0)))
        z = self._t_quantile(alpha)
        return est, est - z * se, est + z * se

    def trend_table(self, alpha: float = 0.05) -> pd.DataFrame:
        """Per breakpoint: weekly growth before and after, the jump at the break, with CIs.

        Growth and jumps are shown as percentages (``100 * (exp(x) - 1)``); the slope change is
        in log units per week.
        """
        pct = lambda x: 100.0 * (math.exp(x) - 1.0)  # noqa: E731
        rows = []
        slope = {"trend_per_week": 1.0}
        if not self.breakpoints:
            est, lo, hi = self._lincomb(slope, alpha)
            rows.append({"breakpoint": pd.NaT, "event": "none (single log-linear trend)",
                         "growth_before_pct": pct(est), "growth_before_ci_lower": pct(lo),
                         "growth_before_ci_upper": pct(hi)})
            return pd.DataFrame(rows)
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
                "jump_pct": pct(jump[0]), "jump_ci_lower": pct(jump[1]),
                "jump_ci_upper": pct(jump[2]),
                "slope_change": sc[0], "slope_change_ci_lower": sc[1],
                "slope_change_ci_upper": sc[2]})
        return pd.DataFrame(rows)

    def refit_with(self, **fixed: float) -> "CompositeResults":
        """The same model refitted with some parameters held (by name), from this estimate."""
        import copy
        import dataclasses

        from .composite import fit_model

        m = copy.copy(self.model)
        m.fixed = {**getattr(self.model, "fixed", {}), **fixed}
        start = self.params.copy()
        for k, v in fixed.items():
            start[k] = v
        sm, cov, free, conv, msgs = fit_model(m, start.to_numpy())
        return dataclasses.replace(self, model=m, sm_results=sm, cov=cov, free=free,
                                   converged=conv, warnings=msgs)

    def dispersion_sensitivity(self, start, end, factors: tuple[float, ...] = (0.25, 4.0),
                               param: str = "log_phi_shared", alpha: float = 0.05) -> pd.DataFrame:
        """How the total over ``[start, end]`` and its intervals move when a dispersion is held
        at ``factor`` times its estimate (the design note's sensitivity check: the day-to-day
        overdispersion is weakly identified by window totals). One row per factor, the
        estimate itself as factor 1."""
        rows = []
        for f in (1.0,) + tuple(factors):
            res = self if f == 1.0 else self.refit_with(
                **{param: float(self.params[param] + np.log(f))})
            p = res.predict_window(start, end, alpha=alpha, report_noise=False)
            rows.append({"factor": f, param: float(res.params[param]), "mean": p["mean"],
                         "ci_lower": p["ci_lower"], "ci_upper": p["ci_upper"],
                         "pi_lower": p["pi_lower"], "pi_upper": p["pi_upper"],
                         "converged": res.converged})
        return pd.DataFrame(rows)

    def bootstrap(self, n: int = 200, seed: int | None = None,
                  refit_dispersions: bool = False) -> pd.DataFrame:
        """Parametric bootstrap: ``n`` refits to figures simulated from the fitted model.

        Each replicate draws every figure at once from the fitted mean and covariance (shared
        and own day noise, series drift, rounding) plus an independent Student-t report error,
        refits from the estimate (dispersions held at theirs unless ``refit_dispersions``), and
        keeps the parameters. Why: the design note asks for it where Wald intervals under-cover;
        ``bootstrap_conf_int`` gives percentile intervals to set beside :meth:`conf_int` (in
        the simulation both cover the break parameters about equally). Returns one row per
        replicate (columns: parameters, ``converged``); seeded, so reruns give the same draws.
        """
        import copy

        from .composite import N_DISP, _mean, fit_quasi

        rng = self._rng("bootstrap") if seed is None else np.random.default_rng(seed)
        model = self.model
        theta = self.params.to_numpy()
        mu = _mean(model, theta)
        saved_w = model.report_weights
        model.report_weights = np.full(len(mu), 1e12)  # no report error: drawn as a t below
        S0 = model.moments(theta)[1]
        model.report_weights = saved_w
        evals, evecs = np.linalg.eigh((S0 + S0.T) / 2)
        root = evecs * np.sqrt(np.clip(evals, 0, None))
        vp = model.var_params if model.var_params is not None else theta
        scale = np.sqrt(model.split(vp)[4]) * _mean(model, vp)
        names = self.param_names
        disp_names = names[-N_DISP:]
        rows = []
        with single_thread_blas():
            for _ in range(n):
                y = mu + root @ rng.standard_normal(len(mu)) + scale * rng.standard_t(REPORT_DF, len(mu))
                m = copy.copy(model)
                m.y = np.maximum(y, 0.0)
                m.var_params = None
                m.fixed = dict(getattr(model, "fixed", {}))
                if not refit_dispersions:
                    m.fixed.update({k: float(self.params[k]) for k in disp_names})
                p, _, _, conv, _ = fit_quasi(m, theta.copy())
                rows.append(list(p) + [bool(conv)])
        return pd.DataFrame(rows, columns=names + ["converged"])

    def bootstrap_conf_int(self, draws: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
        """Percentile intervals from :meth:`bootstrap` draws, columns 0 and 1 like conf_int."""
        d = draws[draws["converged"]].drop(columns="converged")
        return pd.DataFrame({0: d.quantile(alpha / 2), 1: d.quantile(1 - alpha / 2)})

    def coverage_table(self, alpha: float = 0.05) -> pd.DataFrame:
        """Log coverage of each group relative to the reference originator, with CIs."""
        obs = self.model.obs_table
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

    def summary(self, alpha: float = 0.05) -> str:
        """Plain-text summary: data used, convergence, parameters, warnings, exclusions."""
        ci = self.conf_int(alpha)
        lines = [
            f"Composite-link model (Gaussian, REML): metric={self.metric} area={self.area or 'campaign area'}",
            f"Modelled period: {self.model.day0.date()} .. "
            f"{(self.model.day0 + pd.Timedelta(days=self.model.X.shape[0] - 1)).date()}; "
            f"campaign {self.campaign[0].date()} .. {self.campaign[1].date()}",
            f"Observations: {self.nobs} (from {self.model.obs_table['figure_ids'].str.split(',').explode().nunique()} figures); "
            f"excluded figures: {len(self.excluded)}",
            f"Reference originator (log coverage 0): {self.reference}",
            f"Breakpoints: {', '.join(b.date.strftime('%Y-%m-%d') + ' ' + b.label for b in self.breakpoints) or 'none'}",
            f"Log-likelihood: {self.llf:.3f}   converged: {self.converged}",
            "",
            f"{'parameter':<44}{'estimate':>11}{'std err':>10}{'lower':>11}{'upper':>11}",
        ]
        for name in self.param_names:
            lines.append(f"{name[:43]:<44}{self.params[name]:>11.4f}{self.bse[name]:>10.4f}"
                         f"{ci.loc[name, 0]:>11.4f}{ci.loc[name, 1]:>11.4f}")
        if self.dropped_breakpoints:
            lines += ["", "Candidate breakpoints not used:"]
            lines += [f"  - {d}" for d in self.dropped_breakpoints]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w}" for w in self.warnings]
        if self.notes:
            lines += ["", "Notes:"] + [f"  - {n}" for n in self.notes]
        if len(self.excluded):
            lines += ["", "Excluded figures by reason:"]
            for reason, n in self.excluded["reason"].value_counts().sort_index().items():
                lines.append(f"  {n:>4}  {reason}")
        return "\n".join(lines)

    def plot(self, ax=None, alpha: float = 0.05, events: pd.DataFrame | None = None):
        """Daily intensity with CI and PI bands, breakpoints as vertical lines."""
        import matplotlib.pyplot as plt  # lazy: `import conflictstats` must not load matplotlib

        if ax is None:
            _, ax = plt.subplots(figsize=(9, 4))
        df = self.daily_frame(alpha)
        ax.fill_between(df["date"], df["pi_lower"], df["pi_upper"], color="tab:blue", alpha=0.15,
                        label=f"{int(100 * (1 - alpha))}% prediction interval")
        ax.fill_between(df["date"], df["ci_lower"], df["ci_upper"], color="tab:blue", alpha=0.35,
                        label=f"{int(100 * (1 - alpha))}% confidence interval")
        ax.plot(df["date"], df["estimate"], color="tab:blue", label="estimated daily intensity")
        for bp in self.breakpoints:
            ax.axvline(bp.date, color="grey", ls="--", lw=0.8)
        if events is not None:
            for d in events["date"]:
                ax.axvline(d, color="grey", ls=":", lw=0.5)
        ax.set_ylabel(f"{self.metric} per day ({self.reference} scale)")
        ax.legend(loc="upper left", fontsize="small")
        return ax
