"""The pieces the latent model is built from: the layout of its latent vector, its variance
components, window sums, the structure matrices of its AR(1) and random-walk priors, and the
fitted state (``LatentFit``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg

KINDS = ("totals", "daily tallies", "governorate series")
DRIFT_DAYS = 14         # spacing of the coverage-drift knots (days)
MIN_DRIFT_OBS = 4       # distinct report dates a group needs before its coverage may drift


def group_kind(group: str, daily_suffix: str) -> int:
    """Index into KINDS of a coverage group's name (see ``observations.coverage_group``)."""
    if group.endswith(daily_suffix):
        return 1
    return 2 if "[" in group else 0


@dataclass
class Layout:
    """Positions of the blocks in the latent vector: beta, u, v, gamma (non-reference), mu,
    then the coverage drift knots of each drifting group."""

    p: int
    D: int
    G: int  # number of groups including the reference
    K: int = 0  # drift knots per drifting group
    Gd: int = 0  # drifting groups

    @property
    def beta(self) -> slice:
        return slice(0, self.p)

    @property
    def u(self) -> slice:
        return slice(self.p, self.p + self.D)

    @property
    def v(self) -> slice:
        return slice(self.p + self.D, self.p + 2 * self.D)

    @property
    def gamma(self) -> slice:
        a = self.p + 2 * self.D
        return slice(a, a + self.G - 1)

    @property
    def mu(self) -> slice:
        a = self.p + 2 * self.D + self.G - 1
        return slice(a, a + len(KINDS))

    @property
    def drift(self) -> slice:
        a = self.p + 2 * self.D + self.G - 1 + len(KINDS)
        return slice(a, a + self.K * self.Gd)

    @property
    def size(self) -> int:
        return self.p + 2 * self.D + self.G - 1 + len(KINDS) + self.K * self.Gd


@dataclass
class Variances:
    """Variance components: AR deviation, day effect, coverage spread, report scale per group."""

    sigma_u2: float = 0.05
    sigma_v2: float = 0.1
    tau2: float = 0.25
    sigma_g2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sigma_d2: float = 0.05
    kappa: float = 0.0  # report variance scales with (window days / 7) ** -kappa
    df: float = 4.0  # Student-t degrees of freedom of the report errors (fixed; see latent.py)

    def vector(self) -> np.ndarray:
        return np.concatenate([[self.sigma_u2, self.sigma_v2, self.tau2, self.sigma_d2],
                               self.sigma_g2])

    def as_dict(self, groups: list[str]) -> dict[str, float]:
        out = {"log_sigma2_ar": np.log(self.sigma_u2), "log_sigma2_day": np.log(self.sigma_v2),
               "log_tau2_coverage": np.log(self.tau2), "log_sigma2_drift": np.log(self.sigma_d2)}
        out.update({f"log_sigma2_report[{g}]": np.log(s) for g, s in zip(groups, self.sigma_g2)})
        out["length_exponent"] = self.kappa
        out["report_df"] = self.df
        return {k: float(v) for k, v in out.items()}


def ar1_precision(D: int, rho: float) -> np.ndarray:
    """Precision of a stationary AR(1) with unit marginal variance (tridiagonal)."""
    Q = np.zeros((D, D))
    idx = np.arange(D)
    Q[idx, idx] = 1 + rho ** 2
    Q[0, 0] = Q[-1, -1] = 1.0
    Q[idx[:-1], idx[1:]] = Q[idx[1:], idx[:-1]] = -rho
    return Q / (1 - rho ** 2)


def window_mask(starts: np.ndarray, ends: np.ndarray, D: int) -> np.ndarray:
    days = np.arange(D)
    return (days[None, :] >= np.asarray(starts)[:, None]) & (days[None, :] <= np.asarray(ends)[:, None])


def window_terms(x: np.ndarray, M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log window totals of ``exp(x)`` and their softmax weights (rows of M are day masks)."""
    xm = np.where(M, x[None, :], -np.inf)
    top = xm.max(axis=1, keepdims=True)
    ex = np.where(M, np.exp(xm - top), 0.0)
    tot = ex.sum(axis=1, keepdims=True)
    return (np.log(tot) + top)[:, 0], ex / tot


def rw1_precision(K: int) -> np.ndarray:
    """Structure matrix of a first-order random walk over K knots (rank K - 1)."""
    Dm = np.diff(np.eye(K), axis=0)
    return Dm.T @ Dm


def _drift_identified(ends: np.ndarray) -> bool:
    """A group's coverage can drift only if its reports end on several dates weeks apart."""
    ends = np.unique(ends)
    return len(ends) >= MIN_DRIFT_OBS and ends.max() - ends.min() >= 2 * DRIFT_DAYS


def _inverse(H: np.ndarray) -> np.ndarray:
    c = linalg.cho_factor(H, check_finite=False)
    return linalg.cho_solve(c, np.eye(H.shape[0]), check_finite=False)


@dataclass
class LatentFit:
    """The fitted latent vector: mode, Laplace covariance, variance components, report weights."""

    model: object  # the LatentCountModel
    theta: np.ndarray
    Sigma: np.ndarray
    V: Variances
    omega: np.ndarray
    converged: bool
    iterations: int
