"""The composite-link model (a statsmodels ``GenericLikelihoodModel``).

Daily intensity ``lambda_t = exp(X_t beta)`` (segmented log-linear trend, see ``trend``).
Generative picture, second moments only:

- realised daily count ``D_t``: mean ``lambda_t``, variance ``lambda_t + phi_s lambda_t^2``
  (``phi_s``: day-to-day overdispersion that every source sees, because they count the same
  deaths);
- what coverage group ``g`` records on day t: mean ``c_g D_t``, extra variance
  ``c_g lambda_t + phi_o c_g^2 lambda_t^2`` (its own day noise: attribution, dating);
- a figure is the sum over its window plus a per-report error (variance ``omega mu^2``) and
  the rounding its qualifier implies (variance ``width^2 / 12``).

So every figure has mean ``mu = c_g sum_W lambda_t``, and two figures covariance
``c_i c_j sum_{Wi & Wj}(lambda + phi_s lambda^2)`` plus, when they come from the same group,
``sum_{Wi & Wj}(c lambda + phi_o c^2 lambda^2)``. The likelihood is the Gaussian one with this
mean and covariance. Why not independent terms: nested running totals and different sources
counting the same days are strongly dependent; treating them as independent made Wald
intervals for the break parameters cover about 70% in simulation (see the report). Why not a
Poisson GLM on an overlap matrix: rank deficient and far too narrow (design note).

``loglikeobs`` returns the prediction-error decomposition (term i is
``log p(y_i | y_1..y_{i-1})`` from the Cholesky factor), so the terms sum exactly to the joint
log-likelihood.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.linalg import cho_factor, cho_solve, solve_triangular
from statsmodels.base.model import GenericLikelihoodModel
from statsmodels.tools.numdiff import approx_fprime, approx_hess

LOG2PI = float(np.log(2 * np.pi))
DISP_BOUNDS = {"log_phi_shared": (-9.0, 3.0), "log_phi_own": (-9.0, 3.0),
               "log_omega": (-14.0, 1.0)}
N_DISP = 3


class CompositeLinkModel(GenericLikelihoodModel):
    """Gaussian composite-link model for overlapping, nested, qualified window totals.

    Parameters: ``[beta (trend), gamma (log coverage of each non-reference group),
    log_phi_shared, log_phi_own, log_omega]``.
    """

    def __init__(self, obs: pd.DataFrame, X: np.ndarray, trend_names: list[str],
                 groups: list[str], day0: pd.Timestamp, reml: bool = True, **kwds):
        self.reml = bool(reml)
        self.var_params: np.ndarray | None = None
        self.obs_table = obs.reset_index(drop=True)
        self.X = np.asarray(X, dtype=float)
        self.trend_names = list(trend_names)
        self.groups = list(groups)  # reference first
        self.day0 = pd.Timestamp(day0)
        self.k_trend = self.X.shape[1]
        self.k_groups = len(groups)
        gidx = {g: i for i, g in enumerate(groups)}
        self.g_idx = self.obs_table["group"].map(gidx).to_numpy()
        self.s_idx = (self.obs_table["start"] - self.day0).dt.days.to_numpy()
        self.e_idx = (self.obs_table["end"] - self.day0).dt.days.to_numpy()
        flo = self.obs_table["flo"].to_numpy(dtype=float)
        fhi = self.obs_table["fhi"].to_numpy(dtype=float)
        self.y = (flo + fhi) / 2.0
        self.rvar = (fhi - flo) ** 2 / 12.0 + 1.0 / 12.0
        s, e = self.s_idx, self.e_idx
        self.ov_lo = np.maximum(s[:, None], s[None, :])
        self.ov_hi = np.minimum(e[:, None], e[None, :])
        self.ov_ok = self.ov_hi >= self.ov_lo
        self.same = self.g_idx[:, None] == self.g_idx[None, :]
        self._hi1 = np.where(self.ov_ok, self.ov_hi + 1, 0)
        self._lo1 = np.where(self.ov_ok, self.ov_lo, 0)
        names = (self.trend_names + [f"log_coverage[{g}]" for g in groups[1:]]
                 + list(DISP_BOUNDS))
        super().__init__(self.y, None, extra_params_names=names, **kwds)
        self.k_params = len(names)

    # -- moments ----------------------------------------------------------------------------
    def split(self, params: np.ndarray):
        p = np.asarray(params, dtype=float)
        beta = p[: self.k_trend]
        gam = np.concatenate([[0.0], p[self.k_trend: self.k_trend + self.k_groups - 1]])
        phi_s, phi_o, omega = np.exp(p[-3:])
        return beta, gam, phi_s, phi_o, omega

    def lam(self, params: np.ndarray) -> np.ndarray:
        beta = np.asarray(params, float)[: self.k_trend]
        return np.exp(np.clip(self.X @ beta, -30, 30))

    @staticmethod
    def _cums(lam: np.ndarray):
        return (np.concatenate([[0.0], np.cumsum(lam)]),
                np.concatenate([[0.0], np.cumsum(lam * lam)]))

    def moments(self, params: np.ndarray):
        """Mean vector and covariance matrix of the observations at ``params``.

        When ``self.var_params`` is set, the covariance takes its intensity and coverages from
        those fixed values (only the dispersions vary): a Gaussian likelihood whose variance
        grows with the mean biases the mean down, by about the dispersion (2% in simulation),
        so the fit iterates this plug-in, as iteratively reweighted least squares does.
        """
        _, gam, phi_s, phi_o, omega = self.split(params)
        lam_m = self.lam(params)
        c1m = np.concatenate([[0.0], np.cumsum(lam_m)])
        if self.var_params is not None:
            vp = np.array(self.var_params, dtype=float)
            vp[-3:] = np.asarray(params, float)[-3:]
            _, gam_v, _, _, _ = self.split(vp)
            lam_v = self.lam(vp)
        else:
            gam_v, lam_v = gam, lam_m
        c1, c2 = self._cums(lam_v)
        hi1, lo1 = self._hi1, self._lo1
        o1 = c1[hi1] - c1[lo1]
        o2 = c2[hi1] - c2[lo1]
        c = np.exp(gam_v[self.g_idx])
        cc = np.outer(c, c)
        mu = np.exp(gam[self.g_idx]) * (c1m[self.e_idx + 1] - c1m[self.s_idx])
        mu_v = c * np.diag(o1)
        S = cc * (o1 + phi_s * o2) + self.same * (c[:, None] * o1 + phi_o * cc * o2)
        S[np.diag_indices_from(S)] += omega * mu_v * mu_v + self.rvar + 1e-7 * np.diag(S)
        return mu, S

    def penalty(self, params: np.ndarray) -> float:
        """Weakly informative log-prior (a ridge), spread over the observations.

        Real figures can be mutually inconsistent enough that the likelihood alone runs off to
        a boundary (intensity up, every coverage down). These scales let the data speak where
        they are informative: slopes and slope changes N(0, 0.5^2) in log units per week (a
        65% change per week is one s.d.), jumps N(0, 1.5^2), log coverages N(0, 2^2), log
        dispersions N(log 0.1, 3^2).
        """
        p = np.asarray(params, float)
        pen = 0.0
        for i, name in enumerate(self.trend_names):
            if name == "log_level":
                continue
            sd = 1.5 if name.startswith("jump_") else 0.5
            pen += (p[i] / sd) ** 2
        gam = p[self.k_trend: self.k_trend + self.k_groups - 1]
        pen += float(np.sum((gam / 2.0) ** 2))
        disp = p[-3:] - np.log(0.1)
        pen += float(np.sum((disp / 3.0) ** 2))
        return -0.5 * pen

    def mean_jacobian(self, params: np.ndarray) -> np.ndarray:
        """d mu / d (beta, gamma): the linearised design used by the REML correction."""
        _, gam, _, _, _ = self.split(params)
        lam = self.lam(params)
        c = np.exp(gam[self.g_idx])
        LX = np.vstack([np.zeros(self.k_trend), np.cumsum(lam[:, None] * self.X, axis=0)])
        Jb = c[:, None] * (LX[self.e_idx + 1] - LX[self.s_idx])
        c1 = np.concatenate([[0.0], np.cumsum(lam)])
        mu = c * (c1[self.e_idx + 1] - c1[self.s_idx])
        Jg = np.zeros((len(mu), self.k_groups - 1))
        for g in range(1, self.k_groups):
            Jg[:, g - 1] = np.where(self.g_idx == g, mu, 0.0)
        return np.hstack([Jb, Jg])

    def loglikeobs(self, params: np.ndarray) -> np.ndarray:
        """Gaussian log-likelihood by prediction-error decomposition, REML-corrected.

        Why REML: with a handful of effectively independent windows and up to a dozen mean
        parameters, maximum likelihood halves the day-level variances (the trend soaks up the
        noise), and intervals shrink with them. The approximate-REML term
        ``-0.5 log det(J' S^-1 J)`` (``J``: linearised mean design) removes that bias; it is
        spread evenly over the observations so the terms still sum to the objective.
        """
        mu, S = self.moments(params)
        try:
            L = np.linalg.cholesky(S)
        except np.linalg.LinAlgError:
            return np.full(len(mu), -1e10 / len(mu))
        z = solve_triangular(L, self.y - mu, lower=True)
        out = -0.5 * z * z - np.log(np.diag(L)) - 0.5 * LOG2PI
        out = out + self.penalty(params) / len(mu)
        if self.reml:
            # np.linalg.solve, not a triangular solve: with a matrix right-hand side the
            # threaded BLAS triangular solve is ~10x slower on a busy 2-core machine
            J = np.linalg.solve(L, self.mean_jacobian(params))
            sign, logdet = np.linalg.slogdet(J.T @ J)
            adj = -0.5 * logdet if sign > 0 else -1e6
            out = out + adj / len(mu)
        return out

    def score(self, params: np.ndarray) -> np.ndarray:
        """Forward-difference gradient (half the cost of the central default; the Newton
        polish and the covariance use a central-difference Hessian)."""
        return approx_fprime(np.asarray(params, float), self.loglike, centered=False).ravel()

    # -- fitting ----------------------------------------------------------------------------
    def default_start(self) -> np.ndarray:
        days = (self.e_idx - self.s_idx + 1).astype(float)
        val = np.maximum(self.y, 0.5)
        ref = self.g_idx == 0
        rate0 = max(val[ref].sum() / max(days[ref].sum(), 1.0), 1e-3)
        start = np.zeros(self.k_params)
        start[0] = np.log(rate0)
        for g in range(1, self.k_groups):
            m = self.g_idx == g
            rate = max(val[m].sum() / max(days[m].sum(), 1.0), 1e-3)
            start[self.k_trend + g - 1] = np.clip(np.log(rate / rate0), -5, 5)
        start[-3:] = [np.log(0.1), np.log(0.05), np.log(0.001)]
        return start

    def bounds(self) -> list[tuple[float, float]]:
        """Box bounds; parameters in ``self.fixed`` (name -> value) get a zero-width box."""
        b = [(-20.0, 20.0)] * self.k_trend + [(-10.0, 10.0)] * (self.k_groups - 1)
        b = b + list(DISP_BOUNDS.values())
        for name, v in getattr(self, "fixed", {}).items():
            if name in self.exog_names:
                b[self.exog_names.index(name)] = (float(v), float(v))
        return b

    def predictive(self, params: np.ndarray, targets: list[tuple[int, int, int | None]],
                   report_noise: bool = True):
        """Conditional mean and variance of target windows given all observations.

        ``targets``: ``(start_day, end_day, group)``; ``group=None`` is the realised count
        itself on the reference scale (no recording or report noise). Returns
        ``(cond_mean, cond_var, uncond_mean)``.
        """
        _, gam, phi_s, phi_o, omega = self.split(params)
        lam_fit = self.lam(params)
        lo_all = min(0, min(t[0] for t in targets))
        hi_all = max(len(lam_fit) - 1, max(t[1] for t in targets))
        if lo_all < 0 or hi_all >= len(lam_fit):
            raise ValueError("target outside the modelled period")
        c1, c2 = self._cums(lam_fit)
        mu, S = self.moments(params)
        S = S + 1e-9 * np.diag(np.diag(S))
        alpha = np.linalg.solve(S, self.y - mu)
        c_obs = np.exp(gam[self.g_idx])
        s_t = np.array([t[0] for t in targets])
        e_t = np.array([t[1] for t in targets])
        g_t = np.array([-1 if t[2] is None else t[2] for t in targets])
        c_t = np.where(g_t < 0, 1.0, np.exp(gam[np.maximum(g_t, 0)]))
        lo = np.maximum(s_t[:, None], self.s_idx[None, :])
        hi = np.minimum(e_t[:, None], self.e_idx[None, :])
        ok = hi >= lo
        o1 = np.where(ok, c1[np.where(ok, hi + 1, 0)] - c1[np.where(ok, lo, 0)], 0.0)
        o2 = np.where(ok, c2[np.where(ok, hi + 1, 0)] - c2[np.where(ok, lo, 0)], 0.0)
        same = (g_t[:, None] == self.g_idx[None, :])
        K = (c_t[:, None] * c_obs[None, :]) * (o1 + phi_s * o2) + same * (
            c_t[:, None] * o1 + phi_o * (c_t[:, None] * c_obs[None, :]) * o2)
        L1 = c1[e_t + 1] - c1[s_t]
        L2 = c2[e_t + 1] - c2[s_t]
        m0 = c_t * L1
        v0 = c_t * c_t * (L1 + phi_s * L2)
        rep = g_t >= 0
        v0 = v0 + rep * (c_t * L1 + phi_o * c_t * c_t * L2)
        if report_noise:
            v0 = v0 + rep * omega * m0 * m0
        m = m0 + K @ alpha
        v = v0 - np.einsum("ij,ji->i", K, np.linalg.solve(S, K.T))
        return m, np.maximum(v, 1e-9), m0


def _safe_cho(S: np.ndarray):
    """Cholesky factor, adding relative jitter if rounding broke positive definiteness."""
    jitter = 0.0
    for _ in range(6):
        try:
            return cho_factor(S + jitter * np.diag(np.diag(S)), lower=True)
        except np.linalg.LinAlgError:
            jitter = 1e-6 if jitter == 0 else jitter * 100
    raise np.linalg.LinAlgError("covariance not positive definite even with jitter")


def _scaled_lbfgs(model: CompositeLinkModel, x0: np.ndarray, bounds, maxiter: int):
    """Minimise the negative log-likelihood with L-BFGS-B on ``u = x / scale``.

    ``scale_j = 1 / sqrt(|d2 loglike / dx_j^2|)`` at the start, so every coordinate has unit
    curvature there. Returns ``(best point, converged, message)``.
    """
    from scipy.optimize import minimize

    f0 = model.loglike(x0)
    scale = np.ones_like(x0)
    for j in range(len(x0)):
        h = 1e-3 * max(1.0, abs(x0[j]))
        xp, xm = x0.copy(), x0.copy()
        xp[j] += h
        xm[j] -= h
        d2 = (model.loglike(xp) - 2 * f0 + model.loglike(xm)) / h ** 2
        if np.isfinite(d2) and d2 < 0:
            scale[j] = np.clip(1.0 / np.sqrt(-d2), 1e-5, 10.0)

    def nll(u):
        v = -model.loglike(u * scale)
        return v if np.isfinite(v) else 1e300

    def grad(u):
        return approx_fprime(u, nll, centered=False).ravel()

    sb = [(lo / sc, hi / sc) for (lo, hi), sc in zip(bounds, scale)]
    u0 = np.clip(x0 / scale, [b[0] for b in sb], [b[1] for b in sb])
    r = minimize(nll, u0, jac=grad, method="L-BFGS-B", bounds=sb,
                 options={"maxiter": maxiter, "ftol": 1e-9, "gtol": 1e-4})
    x = r.x * scale
    if model.loglike(x) >= f0:
        return x, bool(r.success), str(r.message)
    return x0, False, str(r.message)


def _optimise(model: CompositeLinkModel, start_params: np.ndarray | None, maxiter: int):
    """L-BFGS-B (bounded dispersions), Nelder-Mead retry, Newton polish; never hides failure."""
    msgs: list[str] = []
    start = model.default_start() if start_params is None else np.asarray(start_params, float)
    bounds = model.bounds()
    kw = dict(method="lbfgs", disp=0, bounds=bounds, pgtol=1e-5, factr=1e7, skip_hessian=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # 1. L-BFGS-B in a diagonally rescaled space (scipy): the raw parameters differ in
        #    curvature by orders of magnitude, which costs plain L-BFGS hundreds of iterations
        start, converged, message = _scaled_lbfgs(model, start, bounds, maxiter)
        # 2. statsmodels' own L-BFGS-B from there: the results object, and a second opinion
        res = model.fit(start_params=start, maxiter=min(maxiter, 60), **kw)
        if model.loglike(res.params) < model.loglike(start):
            res.params = start
        if not converged:
            converged = bool(res.mle_retvals.get("converged", False))
            msgs.append(f"scaled L-BFGS-B stopped without converging ({message})")
        if not converged:
            msgs.append("L-BFGS-B did not converge: " + str(res.mle_retvals.get("message", "")))
            res2 = model.fit(start_params=res.params, method="nm", maxiter=600, disp=0,
                             skip_hessian=True)
            res3 = model.fit(start_params=res2.params, maxiter=maxiter, **kw)
            converged = bool(res3.mle_retvals.get("converged", False))
            if model.loglike(res3.params) >= model.loglike(res.params):
                res = res3
            msgs.append("retried with Nelder-Mead then L-BFGS-B: "
                        + ("converged" if converged else "still not converged"))
    params = np.asarray(res.params, dtype=float)
    k = len(params)

    def on_bound(p):
        return np.array([p[i] <= lo + 1e-3 or p[i] >= hi - 1e-3
                         for i, (lo, hi) in enumerate(bounds)])

    # Newton polish on the free parameters: L-BFGS-B with numerical gradients often stops a
    # little short on these badly scaled likelihoods
    ll = model.loglike(params)
    last_H = None
    for _ in range(3):
        free = ~on_bound(params)
        if not free.any():
            break
        H = approx_hess(params, model.loglike)
        last_H = (params.copy(), H)
        g = model.score(params)[free]
        Hf = -H[np.ix_(free, free)]
        try:
            step = np.linalg.solve((Hf + Hf.T) / 2, g)
        except np.linalg.LinAlgError:
            break
        if np.max(np.abs(step)) < 1e-4:
            break
        t = 1.0
        improved = False
        for _ in range(12):
            cand = params.copy()
            cand[free] = cand[free] + t * step
            cand = np.clip(cand, [b[0] for b in bounds], [b[1] for b in bounds])
            ll_c = model.loglike(cand)
            if np.isfinite(ll_c) and ll_c >= ll - 1e-10:
                params, ll, improved = cand, ll_c, True
                break
            t /= 2
        if not improved or np.max(np.abs(t * step)) < 1e-3:
            break
    model._last_hessian = last_H
    res.params = params
    return res, params, msgs, converged


def fit_model(model: CompositeLinkModel, start_params: np.ndarray | None = None,
              maxiter: int = 400, plugin_iterations: int = 0):
    """Fit (see :func:`_optimise`), then refit with the covariance's intensity held at the
    previous estimate ``plugin_iterations`` times; covariance from the final Hessian.

    Returns ``(sm_results, cov, free_mask, converged, warnings)``. Dispersions sitting on a
    bound are held fixed for the covariance, with a warning.
    """
    bounds = model.bounds()
    model.var_params = None
    res, params, msgs, converged = _optimise(model, start_params, maxiter)
    for _ in range(plugin_iterations):
        model.var_params = params.copy()
        res, new, m2, converged = _optimise(model, params, maxiter)
        step = float(np.max(np.abs(new - params)))
        params = new
        if step < 1e-4:
            break
    msgs += [m for m in m2] if plugin_iterations else []
    msgs = list(dict.fromkeys(msgs))

    def on_bound(p):
        return np.array([p[i] <= lo + 1e-3 or p[i] >= hi - 1e-3
                         for i, (lo, hi) in enumerate(bounds)])

    k = len(params)
    free = ~on_bound(params)
    fixed = getattr(model, "fixed", {})
    for i in np.where(~free)[0]:
        if model.exog_names[i] in fixed:
            continue
        msgs.append(f"{model.exog_names[i]} = {params[i]:.2f} is on its bound {bounds[i]}; "
                    "held fixed for the covariance")
    last = getattr(model, "_last_hessian", None)
    if last is not None and np.max(np.abs(last[0] - params)) < 1e-3:
        H = last[1]  # the Newton polish's Hessian, at (practically) the optimum
    else:
        H = approx_hess(params, model.loglike)
    cov = np.zeros((k, k))
    Hf = -H[np.ix_(free, free)]
    Hf = (Hf + Hf.T) / 2
    try:
        eig = np.linalg.eigvalsh(Hf)
        if eig.min() <= 0:
            raise np.linalg.LinAlgError("information matrix not positive definite")
        cov_f = np.linalg.inv(Hf)
        cond = eig.max() / eig.min()
        if cond > 1e12:
            msgs.append(f"information matrix nearly singular (condition number {cond:.1e}): "
                        "some parameters are weakly identified")
    except np.linalg.LinAlgError as exc:
        converged = False
        msgs.append(f"Hessian not invertible ({exc}); used a pseudo-inverse, intervals unreliable")
        cov_f = np.linalg.pinv(Hf)
    cov[np.ix_(free, free)] = (cov_f + cov_f.T) / 2
    grad = model.score(params)
    gmax = float(np.max(np.abs(grad[free]))) if free.any() else 0.0
    if gmax > 0.05:
        msgs.append(f"largest score component at the optimum is {gmax:.3g} (not a stationary "
                    "point)")
        converged = False
    return res, cov, free, converged, msgs
