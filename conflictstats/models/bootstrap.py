"""Parametric bootstrap of a fitted model: simulate reports from the fit, refit, collect the
parameters. Why: the Laplace intervals are approximate; the bootstrap shows how far."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .blocks import window_terms
from .latent import AR_DAYS


def parametric_bootstrap(res, n: int, seed: int) -> pd.DataFrame:
    """``n`` replicates, each a campaign simulated from the fit (trend, AR deviation, day
    effects, coverage, report errors; a band's width kept) and refitted with the variance
    components held; one row of parameters per replicate."""
    from . import fit_observations
    from .observations import ObservationSet

    rng = np.random.default_rng([seed, 7919])
    m, V, L = res.model, res.fit.V, res.model.lay
    theta = res.fit.theta
    sd = np.sqrt(m.noise_var(V) - m.r2)
    rho = float(np.exp(-1.0 / AR_DAYS))
    last = m.day0 + pd.Timedelta(days=L.D - 1)
    rows = []
    for _ in range(int(n)):
        # a new campaign from the fitted trend: fresh AR deviation and day effects, the
        # fitted coverage and drift, then each report with its Student-t error
        u = np.zeros(L.D)
        u[0] = rng.normal(0.0, np.sqrt(V.sigma_u2))
        for t in range(1, L.D):
            u[t] = rho * u[t - 1] + rng.normal(0.0, np.sqrt(V.sigma_u2 * (1 - rho ** 2)))
        x = m.X @ theta[L.beta] + u + rng.normal(0.0, np.sqrt(V.sigma_v2), L.D)
        lw, _ = window_terms(x, m.M)
        eta = lw + m.R @ theta[L.gamma.start:]
        val = np.exp(eta + sd * rng.standard_t(V.df, size=len(eta)))
        half = (m.obs["fhi"].to_numpy(float) - m.obs["flo"].to_numpy(float)) / 2
        obs = m.obs.assign(flo=np.maximum(val - half, 0.0), fhi=val + half)
        r = fit_observations(ObservationSet(res.metric, res.area, obs, res.excluded),
                             breakpoints=[b.date for b in res.breakpoints],
                             campaign=res.campaign, reference=res.reference,
                             fixed=res.variance_components.to_dict(), domain=(m.day0, last),
                             start=res)
        rows.append(r.params)
    return pd.DataFrame(rows).reset_index(drop=True)
