"""The latent daily-count model: reported figures as noisy log window totals of one daily series.

Why (issue 12): figures are totals over nested, overlapping windows from originators that count
different shares, hedged and rounded; a report's error is a share of its count, so the model
works on the log scale:

    x_t   = (X beta)_t + u_t + v_t                              log realised count on day t
    eta_i = log sum_{t in W_i} exp(x_t) + gamma_g(i) + d_g(i)(e_i)  log expected report
    z_i   = log(reported_i) ~ t_4(eta_i, sigma_g^2 (L_i/7)^-kappa + rounding_i)

- ``X beta``: segmented trend (jumps and slope changes at dated events, ``trend.py``); ``u``: an
  AR(1) deviation (weeks); ``v``: a day effect (the notable days 1-3-day tallies report);
- ``gamma_g``: log coverage of group ``g`` (0 for the reference), shrunk towards a mean per kind
  (totals, daily tallies, governorate series) with an estimated spread ``tau``, so a group seen
  twice borrows strength and one never seen is predicted with that spread;
- ``d_g``: coverage drift, a random walk over fortnightly knots read at the report's end date
  (counts lag, catch up, go stale); the reference's drift is 0 at its last report;
- report errors: Student-t with 4 df (estimating the df picked near-normal tails on the real
  figures and worsened their out-of-sample median |log ratio|, 0.188 against 0.163), a scale per
  group shrunk towards its kind's, for a week; kappa (0 to 1, profile likelihood) says how the
  variance shrinks over longer windows.

All latent parts form one Gaussian vector, fitted by Laplace (Gauss-Newton to the posterior
mode) with variance components by expectation-maximisation; ``J' W J`` costs ``n * days^2``,
linear in the number of figures, with no dense covariance between figures.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
from scipy import linalg, sparse

from .blocks import (DRIFT_DAYS, KINDS, LatentFit, Layout, Variances,
                     _drift_identified, _inverse, ar1_precision, group_kind, rw1_precision,
                     window_mask, window_terms)

AR_DAYS = 10.0           # correlation time of the slow deviation u (days)
MAX_OUTER = 300
EM_TOL = 2e-3            # largest change of a log variance component at convergence
FIT_TOL = 1e-3           # or: largest change of a fitted log report or log daily count
POOL_WEIGHT = 2.0        # prior weight (in reports) of the pooled report scale
# Prior on the coverage drift: an originator's share of the count moves by about 20% a
# fortnight (variance 0.05 per knot step), held with the weight of 20 steps, so that a few
# reports cannot collapse it to a fixed coverage (which read stale, sticky counts as noise).
LENGTH_EXPONENTS = (0.0, 0.25, 0.5, 0.75, 1.0)
KAPPA_ITERATIONS = 10
# A report is never read as more precise than 2% (rounding alone) nor noisier than a factor e^2.
REPORT_VAR_RANGE = (0.02 ** 2, 2.0 ** 2)
DRIFT_PRIOR = 0.05
DRIFT_PRIOR_WEIGHT = 20.0


class LatentCountModel:
    """The model of the module docstring for one set of observations (see ``fit``)."""

    def __init__(self, obs: pd.DataFrame, X: np.ndarray, trend_names: list[str],
                 groups: list[str], day0: pd.Timestamp, daily_suffix: str,
                 fixed: dict[str, float] | None = None):
        self.obs = obs.reset_index(drop=True)
        self.X = np.asarray(X, float)
        self.trend_names = list(trend_names)
        self.groups = list(groups)
        self.day0 = pd.Timestamp(day0)
        self.daily_suffix = daily_suffix
        self.fixed = dict(fixed or {})
        D = self.X.shape[0]
        self.s = (self.obs["start"] - self.day0).dt.days.to_numpy()
        self.e = (self.obs["end"] - self.day0).dt.days.to_numpy()
        gi = {g: i for i, g in enumerate(self.groups)}
        self.g = self.obs["group"].map(gi).to_numpy()
        self.kind = np.array([group_kind(g, daily_suffix) for g in self.groups])
        flo = np.maximum(self.obs["flo"].to_numpy(float), 0.0)
        fhi = np.maximum(self.obs["fhi"].to_numpy(float), flo)
        self.z = np.log(np.maximum((flo + fhi) / 2.0, 0.5))
        # the band's width on the log scale, as a uniform's variance (rounding, hedging)
        self.r2 = (np.log(fhi + 0.5) - np.log(flo + 0.5)) ** 2 / 12.0
        self.days_rel = (self.e - self.s + 1) / 7.0
        self.M = window_mask(self.s, self.e, D)
        self.Qu = ar1_precision(D, float(np.exp(-1.0 / AR_DAYS)))
        # coverage drift: groups whose figures end on enough distinct dates far enough apart
        self.knots = np.unique(np.append(np.arange(0, D, DRIFT_DAYS), D - 1))
        self.drifting = [gidx for gidx in range(len(self.groups))
                         if _drift_identified(self.e[self.g == gidx])]
        self.lay = Layout(self.X.shape[1], D, len(self.groups), len(self.knots),
                          len(self.drifting))
        self.R = self.rest_jacobian(self.g, self.e)

    # -- pieces -----------------------------------------------------------------------------
    @property
    def nobs(self) -> int:
        return len(self.obs)

    def x(self, theta: np.ndarray) -> np.ndarray:
        L = self.lay
        return self.X @ theta[L.beta] + theta[L.u] + theta[L.v]

    def gamma_full(self, theta: np.ndarray) -> np.ndarray:
        return np.concatenate([[0.0], theta[self.lay.gamma]])

    def hat(self, days: np.ndarray) -> np.ndarray:
        """Piecewise-linear interpolation weights of the drift knots at the given days."""
        days = np.clip(np.asarray(days, float), self.knots[0], self.knots[-1])
        H = np.zeros((len(days), len(self.knots)))
        k = np.clip(np.searchsorted(self.knots, days, side="right") - 1, 0, len(self.knots) - 2)
        a, b = self.knots[k], self.knots[k + 1]
        f = (days - a) / (b - a)
        H[np.arange(len(days)), k] = 1 - f
        H[np.arange(len(days)), k + 1] = f
        return H

    def rest_jacobian(self, gidx: np.ndarray, ends: np.ndarray) -> sparse.csr_matrix:
        """The constant part of d eta / d theta: coverage offsets and drift knots (columns from
        ``lay.gamma.start`` on)."""
        L = self.lay
        off = L.gamma.start
        ncol = L.size - off
        rows, cols, vals = [], [], []
        n = len(gidx)
        sel = np.flatnonzero(gidx > 0)
        rows += sel.tolist()
        cols += (gidx[sel] - 1).tolist()
        vals += [1.0] * len(sel)
        Hk = self.hat(ends)
        for j, gd in enumerate(self.drifting):
            sel = np.flatnonzero(gidx == gd)
            base = L.drift.start - off + j * L.K
            for r in sel:
                nz = np.flatnonzero(Hk[r])
                rows += [r] * len(nz)
                cols += (base + nz).tolist()
                vals += Hk[r, nz].tolist()
        return sparse.csr_matrix((vals, (rows, cols)), shape=(n, ncol))

    def eta(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lw, P = window_terms(self.x(theta), self.M)
        return lw + self.R @ theta[self.lay.gamma.start:], P

    def jacobian_rows(self, P: np.ndarray, R: sparse.csr_matrix) -> np.ndarray:
        """Dense d eta / d theta for a few windows (predictions)."""
        L = self.lay
        J = np.zeros((P.shape[0], L.size))
        J[:, L.beta] = P @ self.X
        J[:, L.u] = P
        J[:, L.v] = P
        J[:, L.gamma.start:] = R.toarray()
        return J

    def normal_equations(self, P: np.ndarray, wt: np.ndarray, r: np.ndarray):
        """``J' W J`` and ``J' W r`` assembled by blocks: u and v share the softmax columns,
        so the dense part is (trend + days) wide and the rest is sparse (cost linear in n)."""
        L = self.lay
        C = np.hstack([P @ self.X, P])
        CW = C * wt[:, None]
        HC = C.T @ CW
        RC = (self.R.T @ CW)
        RR = (self.R.T @ self.R.multiply(wt[:, None])).toarray()
        core = np.r_[np.arange(L.p), np.arange(L.u.start, L.u.stop)]
        vcol = np.arange(L.v.start, L.v.stop)
        rest = np.arange(L.gamma.start, L.size)
        H = np.zeros((L.size, L.size))
        H[np.ix_(core, core)] = HC
        pv = np.r_[np.arange(L.p), vcol]
        H[np.ix_(pv, pv)] = HC
        H[np.ix_(np.arange(L.u.start, L.u.stop), vcol)] = HC[L.p:, L.p:]
        H[np.ix_(vcol, np.arange(L.u.start, L.u.stop))] = HC[L.p:, L.p:]
        H[np.ix_(rest, core)] = RC
        H[np.ix_(core, rest)] = RC.T
        H[np.ix_(rest, vcol)] = RC[:, L.p:]
        H[np.ix_(vcol, rest)] = RC[:, L.p:].T
        H[np.ix_(rest, rest)] = RR
        gC = C.T @ (wt * r)
        grad = np.zeros(L.size)
        grad[:L.p] = gC[:L.p]
        grad[L.u] = gC[L.p:]
        grad[L.v] = gC[L.p:]
        grad[L.gamma.start:] = self.R.T @ (wt * r)
        return H, grad

    def quad_forms(self, P: np.ndarray, Sigma: np.ndarray) -> np.ndarray:
        """``diag(J Sigma J')`` for every observation, through the (trend, u+v, rest) map."""
        L = self.lay
        T = np.zeros((L.p + L.D + (L.size - L.gamma.start), L.size))
        T[:L.p, L.beta] = np.eye(L.p)
        T[L.p:L.p + L.D, L.u] = np.eye(L.D)
        T[L.p:L.p + L.D, L.v] = np.eye(L.D)
        T[L.p + L.D:, L.gamma.start:] = np.eye(L.size - L.gamma.start)
        S = T @ Sigma @ T.T
        Je = np.hstack([P @ self.X, P, self.R.toarray()])
        return np.einsum("ij,ij->i", Je @ S, Je)

    def trend_prior_precision(self) -> np.ndarray:
        sd = {"log_level": 20.0, "trend_per_week": 0.5}
        return np.array([1.0 / (sd.get(n, 1.5 if n.startswith("jump_") else 0.5)) ** 2
                         for n in self.trend_names])

    def prior(self, V: Variances) -> np.ndarray:
        """Prior precision of the latent vector (the mean is 0 except gamma's kind means)."""
        L = self.lay
        P = np.zeros((L.size, L.size))
        # weakly informative trend priors: a level change beyond e^3 at one event, or a change
        # of growth beyond 1 log unit a week, is implausible; without them a break near the
        # edge of the data extrapolates without bound
        P[L.beta, L.beta] = np.diag(self.trend_prior_precision())
        P[L.u, L.u] = self.Qu / V.sigma_u2
        P[L.v, L.v] = np.eye(L.D) / V.sigma_v2
        # gamma_g - mu_kind(g) ~ N(0, tau2): precision on the difference
        for g in range(1, L.G):
            a, k = L.gamma.start + g - 1, L.mu.start + self.kind[g]
            P[a, a] += 1 / V.tau2
            P[k, k] += 1 / V.tau2
            P[a, k] -= 1 / V.tau2
            P[k, a] -= 1 / V.tau2
        for k in range(len(KINDS)):
            P[L.mu.start + k, L.mu.start + k] += 1.0 / 3.0 ** 2
        Qd = rw1_precision(L.K) / V.sigma_d2
        for j, gd in enumerate(self.drifting):
            sl = slice(L.drift.start + j * L.K, L.drift.start + (j + 1) * L.K)
            P[sl, sl] += Qd
            # anchor: a group's drift starts at 0 (its offset is gamma); the reference's drift
            # ends at 0 on its last report, so the scale is the reference's latest count
            if gd == 0:
                k_last = int(np.argmax(self.hat([self.e[self.g == 0].max()])[0]))
                P[sl.start + k_last, sl.start + k_last] += 1e4
            else:
                P[sl.start, sl.start] += 1.0 / V.sigma_d2
        return P

    # -- fitting ----------------------------------------------------------------------------
    def start(self) -> np.ndarray:
        theta = np.zeros(self.lay.size)
        days = (self.e - self.s + 1).astype(float)
        ref = self.g == 0
        rate = np.exp(self.z - np.log(days))
        theta[self.lay.beta.start] = float(np.log(np.median(rate[ref] if ref.any() else rate)))
        return theta

    def fit(self, theta0: np.ndarray | None = None, V: Variances | None = None,
            estimate_variances: bool = True) -> "LatentFit":
        """Posterior mode and covariance with EM updates of the variance components."""
        theta = self.start() if theta0 is None else np.array(theta0, float)
        V = V or Variances()
        if len(V.sigma_g2) != len(self.groups):
            V.sigma_g2 = np.full(len(self.groups), 0.04)
        self._apply_fixed(V)
        omega = np.ones(self.nobs)
        converged = not estimate_variances
        n_outer, prev = 0, None
        for n_outer in range(1, MAX_OUTER + 1):
            theta, H, ok = self._mode(theta, V, omega, steps=50 if n_outer == 1 else 8)
            Sigma = _inverse(H)
            eta, P = self.eta(theta)
            q = self.quad_forms(P, Sigma)
            resid = self.z - eta
            s2 = self.noise_var(V)
            omega = (V.df + 1) / (V.df + (resid ** 2 + q) / s2)
            if not estimate_variances:
                break
            old = V.vector()
            # kappa is chosen on a grid during the first KAPPA_ITERATIONS updates, then held, so
            # that a flip between two grid values cannot keep the other components moving
            self._em(theta, Sigma, resid, q, omega, V, choose_kappa=n_outer <= KAPPA_ITERATIONS)
            self._apply_fixed(V)
            # settled: the variance components stop moving, or they only slide along a ridge
            # the data cannot resolve (a day seen by one tally splits its deviation between the
            # day effect and the report error at will) while the fit itself no longer moves
            x = self.x(theta)
            still = prev is not None and max(float(np.max(np.abs(eta - prev[0]))),
                                             float(np.max(np.abs(x - prev[1])))) < FIT_TOL
            prev = (eta, x)
            if ok and (still or float(np.max(np.abs(np.log(V.vector()) - np.log(old)))) < EM_TOL):
                converged = True
                break
        theta, H, ok = self._mode(theta, V, omega)
        return LatentFit(self, theta, _inverse(H), V, omega, converged and ok, n_outer)

    def _apply_fixed(self, V: Variances) -> None:
        for name, attr in (("log_sigma2_ar", "sigma_u2"), ("log_sigma2_day", "sigma_v2"),
                           ("log_tau2_coverage", "tau2"), ("log_sigma2_drift", "sigma_d2")):
            if name in self.fixed:
                setattr(V, attr, float(np.exp(self.fixed[name])))
        if "length_exponent" in self.fixed:
            V.kappa = float(self.fixed["length_exponent"])
        if "report_df" in self.fixed:
            V.df = float(self.fixed["report_df"])
        for i, g in enumerate(self.groups):
            key = f"log_sigma2_report[{g}]"
            if key in self.fixed:
                V.sigma_g2[i] = float(np.exp(self.fixed[key]))

    def _weights(self, V: Variances, omega: np.ndarray) -> np.ndarray:
        return omega / self.noise_var(V)

    def objective(self, theta: np.ndarray, wt: np.ndarray, Pr: np.ndarray) -> float:
        eta, _ = self.eta(theta)
        r = self.z - eta
        return 0.5 * float(np.sum(wt * r ** 2)) + 0.5 * float(theta @ Pr @ theta)

    def _mode(self, theta: np.ndarray, V: Variances, omega: np.ndarray, steps: int = 50):
        """Gauss-Newton with step halving on the penalised weighted least squares."""
        Pr = self.prior(V)
        wt = self._weights(V, omega)
        f0 = self.objective(theta, wt, Pr)
        ok = False
        for _ in range(steps):
            eta, P = self.eta(theta)
            H, grad = self.normal_equations(P, wt, self.z - eta)
            H += Pr
            grad -= Pr @ theta
            step = linalg.cho_solve(linalg.cho_factor(H, check_finite=False), grad,
                                    check_finite=False)
            t, cand, f1 = 1.0, theta, f0
            while t > 1e-4:
                cand = theta + t * step
                f1 = self.objective(cand, wt, Pr)
                if f1 <= f0 + 1e-10:
                    break
                t /= 2
            if t <= 1e-4:
                ok = True  # no descent left: at the mode to numerical precision
                break
            theta = cand
            done = f0 - f1 < 1e-9 * (1 + abs(f1))
            f0 = f1
            if done:
                ok = True
                break
        eta, P = self.eta(theta)
        H, _ = self.normal_equations(P, wt, self.z - eta)
        return theta, H + Pr, ok

    def _em(self, theta, Sigma, resid, q, omega, V: Variances, choose_kappa: bool = True) -> None:
        """One EM update of the variance components (each with a weak inverse-gamma prior,
        so a component the data cannot see stays near its prior scale instead of collapsing)."""
        L = self.lay
        u, Su = theta[L.u], Sigma[L.u, L.u]
        V.sigma_u2 = (0.05 * 4 + float(u @ self.Qu @ u + np.sum(self.Qu * Su))) / (4 + L.D)
        v = theta[L.v]
        V.sigma_v2 = (0.1 * 4 + float(v @ v + np.trace(Sigma[L.v, L.v]))) / (4 + L.D)
        if L.G > 1:
            gam = theta[L.gamma]
            mu = theta[L.mu][self.kind[1:]]
            ig = np.arange(L.gamma.start, L.gamma.stop)
            im = L.mu.start + self.kind[1:]
            var_d = Sigma[ig, ig] + Sigma[im, im] - 2 * Sigma[ig, im]
            V.tau2 = (0.25 * 2 + float(np.sum((gam - mu) ** 2 + var_d))) / (2 + L.G - 1)
        if L.Gd:
            Qd = rw1_precision(L.K)
            ss, cnt = 0.0, 0
            for j, gd in enumerate(self.drifting):
                sl = slice(L.drift.start + j * L.K, L.drift.start + (j + 1) * L.K)
                d, Sd = theta[sl], Sigma[sl, sl]
                ss += float(d @ Qd @ d + np.sum(Qd * Sd))
                cnt += L.K - 1
                if gd != 0:
                    ss += float(d[0] ** 2 + Sd[0, 0])
                    cnt += 1
            V.sigma_d2 = (DRIFT_PRIOR * DRIFT_PRIOR_WEIGHT + ss) / (DRIFT_PRIOR_WEIGHT + cnt)
        # report scales: each group's own, shrunk towards the pooled scale of its kind (a
        # daily tally is far noisier than a campaign total; pooling the two would blur both),
        # for a week-long window; a window of L days has variance sigma^2 (L / 7)^-kappa, with
        # kappa (0: errors that do not average out, 1: independent day errors) chosen by the
        # profile likelihood of the residuals
        e2raw = omega * (resid ** 2 + q)
        if "length_exponent" in self.fixed:
            grid = [float(self.fixed["length_exponent"])]
        elif not choose_kappa:
            grid = [V.kappa]
        else:
            grid = list(LENGTH_EXPONENTS)
        best = None
        for kappa in grid:
            sg2 = self._report_scales(np.maximum(e2raw - self.r2, 0.0) * self.days_rel ** kappa)
            s2 = sg2[self.g] * self.days_rel ** -kappa + self.r2
            ll = -0.5 * float(np.sum(np.log(s2) + e2raw / s2))
            if best is None or ll > best[0]:
                best = (ll, kappa, sg2)
        _, V.kappa, V.sigma_g2 = best

    def _report_scales(self, e2: np.ndarray) -> np.ndarray:
        okind = self.kind[self.g]
        out = np.zeros(self.lay.G)
        for gidx in range(self.lay.G):
            k = okind == self.kind[gidx]
            pooled = max(float(np.mean(e2[k])), 1e-4)
            m = self.g == gidx
            ss = float(np.sum(e2[m]))
            out[gidx] = min(max((POOL_WEIGHT * pooled + ss) / (POOL_WEIGHT + float(np.sum(m))),
                                REPORT_VAR_RANGE[0]), REPORT_VAR_RANGE[1])
        return out

    def noise_var(self, V: Variances) -> np.ndarray:
        """Each report's error variance on the log scale (scale, window length, band)."""
        return V.sigma_g2[self.g] * self.days_rel ** -V.kappa + self.r2
