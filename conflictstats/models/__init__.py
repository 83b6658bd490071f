"""Statistics for conflictstats: composite-link models for overlapping reported figures.

``conflictstats.models`` is the only part of the package that imports statsmodels (and, inside
plotting methods only, matplotlib). Entry points:

- :func:`fit` - fit one metric (and area) of a dataset; returns :class:`CompositeResults`.
- ``backtest(metric, ...)`` - leave-one-document-out validation against two naive baselines
  (``conflictstats.models.backtest`` is a module that can also be called as that function).
- ``simulate(runs, seed)`` - calibration on synthetic campaigns with known truth (likewise a
  callable module; ``conflictstats.models.simulate.synthetic_campaign`` is in it).
- :func:`synthetic_campaign` - one synthetic campaign (figures, events, truth).
- ``cli.backtest_command`` / ``cli.simulate_command`` - the CLI handlers.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import pandas as pd

from ..registry import DEFAULT_DATASET
from ._blas import single_thread_blas
from ._common import campaign_window
from .composite import CompositeLinkModel, fit_model
from .observations import DAILY_SUFFIX, POOLED, ObservationSet, build_observations
from .results import CompositeResults
from .trend import Breakpoint, candidate_breakpoints, design, select_breakpoints

__all__ = ["fit", "fit_observations", "backtest", "simulate", "synthetic_campaign",
           "CompositeResults", "CompositeLinkModel", "build_observations", "campaign_window"]


def _choose_reference(obs: pd.DataFrame, reference: str | None) -> str:
    """The reference coverage group: given, else the named campaign-wide group covering the
    most days (then most figures, then name): the series that best pins down the intensity.
    Its log coverage is fixed at 0 and every estimate is on its scale.
    """
    groups = sorted(obs["group"].unique())
    if reference is not None:
        if reference not in groups:
            raise KeyError(f"reference {reference!r} not among coverage groups {groups}")
        return reference
    ranked = []
    for g in groups:
        sub = obs[obs["group"] == g]
        days: set[int] = set()
        for a, b in zip(sub["start"], sub["end"]):
            days.update(pd.date_range(a, b).asi8.tolist())
        # named campaign-wide groups first (not pooled, not governorate-only, not daily
        # tallies), then most days covered, then most figures
        secondary = g == POOLED or "[" in g or g.endswith(DAILY_SUFFIX)
        ranked.append((secondary, -len(days), -len(sub), g))
    ranked.sort()
    return ranked[0][3]


def fit_observations(obsset: ObservationSet, events: pd.DataFrame | None = None,
                     breakpoints: str | Sequence | None = "events",
                     campaign: tuple[pd.Timestamp, pd.Timestamp] | None = None,
                     reference: str | None = None, seed: int = 0, n_draws: int = 1000,
                     start_params: np.ndarray | None = None,
                     excluded_extra: pd.DataFrame | None = None,
                     fixed: dict[str, float] | None = None,
                     domain: tuple | None = None) -> CompositeResults:
    """Fit the composite-link model to prepared observations (see :func:`fit`).

    ``fixed`` holds parameters (by name) at given values, e.g. the dispersions in
    leave-one-document-out refits; ``domain`` = (first, last day) widens the modelled period
    (a refit must be able to predict a held-out window outside its own data).
    """
    t0 = time.perf_counter()
    obs = obsset.obs
    if len(obs) == 0:
        raise ValueError(f"no usable flow figures for metric {obsset.metric!r}")
    if campaign is None:
        campaign = (obs["start"].min(), obs["end"].max())
    cs, ce = pd.Timestamp(campaign[0]), pd.Timestamp(campaign[1])
    day0 = min(obs["start"].min(), cs)
    last = max(obs["end"].max(), ce)
    if domain is not None:
        day0 = min(day0, pd.Timestamp(domain[0]))
        last = max(last, pd.Timestamp(domain[1]))
    n_days = int((last - day0).days) + 1
    ref = _choose_reference(obs, reference)
    groups = [ref] + [g for g in sorted(obs["group"].unique()) if g != ref]
    s_idx = (obs["start"] - day0).dt.days.to_numpy()
    e_idx = (obs["end"] - day0).dt.days.to_numpy()
    if breakpoints == "events":
        cands = candidate_breakpoints(events)
    elif breakpoints is None:
        cands = []
    else:
        cands = [Breakpoint(pd.Timestamp(d).normalize(), "given") for d in breakpoints]
    breaks, dropped = select_breakpoints(cands, day0, n_days, s_idx, e_idx)
    # never more trend parameters than the data can carry
    n_free = len(obs) - (len(groups) - 1) - 4
    while breaks and 2 * len(breaks) > max(n_free, 0) // 2:
        bp = breaks.pop()
        dropped.append(f"{bp.date.date()} ({bp.label}): too few observations for another "
                       "breakpoint")
    X, names = design(day0, n_days, breaks, cs + (ce - cs) / 2)
    model = CompositeLinkModel(obs, X, names, groups, day0)
    model.fixed = dict(fixed or {})
    if isinstance(start_params, pd.Series):  # warm start by parameter name
        base = model.default_start()
        for i, name in enumerate(model.exog_names):
            if name in start_params.index and np.isfinite(start_params[name]):
                base[i] = float(start_params[name])
        lo_b, hi_b = zip(*model.bounds())
        lo_b, hi_b = np.array(lo_b), np.array(hi_b)
        inner = np.clip(base, lo_b + 1e-2, hi_b - 1e-2)
        start_params = np.where(hi_b - lo_b < 0.02, lo_b, inner)
    elif start_params is not None and len(start_params) != model.k_params:
        start_params = None
    with single_thread_blas():
        sm_res, cov, free, converged, msgs = fit_model(model, start_params)
    excluded = obsset.excluded
    if excluded_extra is not None and len(excluded_extra):
        excluded = pd.concat([excluded, excluded_extra], ignore_index=True)
    res = CompositeResults(
        model=model, sm_results=sm_res, cov=cov, free=free, converged=converged, warnings=msgs,
        metric=obsset.metric, area=obsset.area, campaign=(cs, ce), breakpoints=breaks,
        dropped_breakpoints=dropped, excluded=excluded, notes=list(obsset.notes), seed=seed,
        n_draws=n_draws)
    res.fit_seconds = time.perf_counter() - t0
    return res


def fit(metric: str, dataset: str = DEFAULT_DATASET, area: str | None = None,
        breakpoints: str | Sequence | None = "events", figures: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None, **kw) -> CompositeResults:
    """Fit the composite-link model for one metric of a dataset.

    ``area=None`` is the campaign area as a whole (campaign-area and governorate figures within
    Aleppo/Hama/Idleb; governorate series get their own coverage offset). ``breakpoints`` is
    "events" (dates from the events table whose kind can shift the trend), a list of dates, or
    None (one log-linear trend). Extra keywords: ``reference`` (coverage group fixed at 0),
    ``seed``, ``n_draws``, ``missing_start`` ("campaign_start" or "drop"), ``campaign``.
    """
    if figures is None or events is None:
        from conflictstats.api import load  # the package loader; imported lazily

        if figures is None:
            figures = load("figures", dataset=dataset)
        if events is None:
            events = load("events", dataset=dataset)
    campaign = kw.pop("campaign", None) or campaign_window(dataset)
    missing_start = kw.pop("missing_start", "campaign_start")
    obsset = build_observations(figures, metric, area=area, campaign=campaign,
                                missing_start=missing_start)
    return fit_observations(obsset, events=events, breakpoints=breakpoints, campaign=campaign,
                            **kw)


from . import backtest, simulate  # noqa: E402  (callable modules: see their end)
from .simulate import synthetic_campaign  # noqa: E402
