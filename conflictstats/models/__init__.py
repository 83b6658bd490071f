"""Statistics for conflictstats: a latent daily-count model for overlapping reported figures.

``conflictstats.models`` is the only part of the package that imports statsmodels (and, inside
plotting methods only, matplotlib). Entry points:

- :func:`fit` - fit one metric (and area) of a dataset; returns :class:`LatentResults`.
- :func:`backtest` - leave-one-document-out or real-time (forecast) validation against two
  naive baselines (in ``evaluation``).
- :func:`simulate` - calibration on synthetic campaigns with known truth (in ``synthetic``).
- :func:`synthetic_campaign` - one synthetic campaign (figures, events, truth).
"""

from __future__ import annotations

import time
from typing import Sequence

import pandas as pd

from ..errors import NotEnoughDataError
from ..registry import DEFAULT_DATASET
from . import arguments as check
from ._blas import single_thread_blas
from ._common import campaign_pcodes, campaign_window
from .latent import LatentCountModel
from .observations import DAILY_SUFFIX, POOLED, ObservationSet, build_observations
from .results import LatentResults
from .trend import Breakpoint, candidate_breakpoints, design, select_breakpoints

__all__ = ["fit", "fit_observations", "backtest", "simulate", "synthetic_campaign",
           "LatentResults", "LatentCountModel", "build_observations", "campaign_window"]


def choose_reference(obs: pd.DataFrame, reference: str | None, preferred: Sequence[str] = ()) -> str:
    """The reference coverage group: given; else the first of ``preferred`` (the dataset's
    ``reference_originators`` for the metric) that has campaign-wide figures; else the
    campaign-wide named group covering the most days (then most figures, then name): the series
    that best pins down the scale. A pool of small originators is no one's count, so it is
    taken only when nothing else is left. Its log coverage is fixed at 0 and every estimate is
    on its scale."""
    groups = sorted(obs["group"].unique())
    if reference is not None:
        if reference not in groups:
            raise check.ArgumentError(f"reference {reference!r} not among coverage groups {groups}")
        return reference
    for name in preferred:
        if name in groups:
            return name
    ranked = []
    for g in groups:
        sub = obs[obs["group"] == g]
        days: set[int] = set()
        for a, b in zip(sub["start"], sub["end"]):
            days.update(pd.date_range(a, b).asi8.tolist())
        secondary = "[" in g or g.endswith(DAILY_SUFFIX) or g == POOLED
        ranked.append((secondary, -len(days), -len(sub), g))
    ranked.sort()
    return ranked[0][3]


MIN_FIT_OBS = 1  # the latent model needs at least this many usable flow figures


def not_enough_data(obsset: ObservationSet) -> NotEnoughDataError:
    """The message for a known metric (or area) whose usable figures are too few to fit."""
    reasons = obsset.excluded["reason"].value_counts() if len(obsset.excluded) else pd.Series(dtype=int)
    why = "; ".join(f"{n} {r}" for r, n in reasons.items())
    where = f" in area {obsset.area!r}" if obsset.area else ""
    return NotEnoughDataError(
        f"metric {obsset.metric!r}{where} has {len(obsset.obs)} usable flow figure"
        f"{'s' if len(obsset.obs) != 1 else ''}; the model needs at least {MIN_FIT_OBS}"
        + (f" ({len(obsset.excluded)} figures left out: {why})" if why else " (no figures of it at all)") + ".")


def fit_observations(obsset: ObservationSet, events: pd.DataFrame | None = None,
                     breakpoints: str | Sequence | None = "events",
                     campaign: tuple[pd.Timestamp, pd.Timestamp] | None = None,
                     reference: str | None = None, seed: int = 0,
                     fixed: dict[str, float] | None = None, domain: tuple | None = None,
                     aliases: dict[str, str] | None = None, start=None,
                     preferred: Sequence[str] = ()) -> LatentResults:
    """Fit the latent model to prepared observations (see :func:`fit`).

    ``fixed`` holds variance components (by name, log scale) at given values, e.g. in refits;
    ``domain`` = (first, last day) widens the modelled period (a refit must be able to predict
    a held-out window outside its own data); ``start`` warm-starts from an earlier result;
    ``preferred`` lists reference groups to take first (see :func:`choose_reference`).
    """
    t0 = time.perf_counter()
    obs = obsset.obs
    if len(obs) < MIN_FIT_OBS:
        raise not_enough_data(obsset)
    if campaign is None:
        campaign = (obs["start"].min(), obs["end"].max())
    cs, ce = pd.Timestamp(campaign[0]), pd.Timestamp(campaign[1])
    day0 = min(obs["start"].min(), cs)
    last = max(obs["end"].max(), ce)
    if domain is not None:
        day0 = min(day0, pd.Timestamp(domain[0]))
        last = max(last, pd.Timestamp(domain[1]))
    n_days = int((last - day0).days) + 1
    ref = choose_reference(obs, reference, preferred)
    groups = [ref] + [g for g in sorted(obs["group"].unique()) if g != ref]
    s_idx = (obs["start"] - day0).dt.days.to_numpy()
    e_idx = (obs["end"] - day0).dt.days.to_numpy()
    if breakpoints == "events":
        cands = candidate_breakpoints(events)
    elif breakpoints is None:
        cands = []
    else:
        cands = [Breakpoint(pd.Timestamp(d).normalize(), "given") for d in breakpoints]
    # a break needs data on both sides: the edge rule counts from the last reported day, not
    # from the end of a domain widened for predictions
    breaks, dropped = select_breakpoints(cands, day0, int(e_idx.max()) + 1, s_idx, e_idx)
    X, names = design(day0, n_days, breaks, cs + (ce - cs) / 2, data_end=int(e_idx.max()))
    model = LatentCountModel(obs, X, names, groups, day0, DAILY_SUFFIX, fixed=fixed)
    theta0 = V0 = None
    if start is not None and start.model.lay == model.lay and start.model.groups == groups:
        theta0, V0 = start.fit.theta, start.fit.V
    with single_thread_blas():
        lf = model.fit(theta0=theta0, V=_copy(V0), estimate_variances=not _all_fixed(model, fixed))
    res = LatentResults(fit=lf, metric=obsset.metric, area=obsset.area, campaign=(cs, ce),
                        breakpoints=breaks, dropped_breakpoints=dropped, excluded=obsset.excluded,
                        notes=list(obsset.notes), aliases=dict(aliases or {}), seed=seed)
    if not lf.converged:
        res.warnings.append(f"the variance components did not settle in {lf.iterations} "
                            "iterations; the estimates are from the last one")
    res.fit_seconds = time.perf_counter() - t0
    return res


def _copy(V):
    if V is None:
        return None
    from dataclasses import replace

    return replace(V, sigma_g2=V.sigma_g2.copy())


def _all_fixed(model: LatentCountModel, fixed: dict | None) -> bool:
    """True when every variance component is held (then only the latent mode is fitted)."""
    need = {"log_sigma2_ar", "log_sigma2_day", "log_tau2_coverage", "log_sigma2_drift",
            "length_exponent", "report_df"} | {
        f"log_sigma2_report[{g}]" for g in model.groups}
    return bool(fixed) and need <= set(fixed)


def refit(res: LatentResults, fixed: dict[str, float]) -> LatentResults:
    """``res``'s data refitted with some variance components held (``refit_with``)."""
    obsset = ObservationSet(res.metric, res.area, res.observations, res.excluded, res.notes)
    m = res.model
    given = [b.date for b in res.breakpoints]
    last = m.day0 + pd.Timedelta(days=m.lay.D - 1)
    out = fit_observations(obsset, breakpoints=given, campaign=res.campaign,
                           reference=res.reference, seed=res.seed,
                           fixed={**res.variance_components.to_dict(), **fixed},
                           domain=(m.day0, last), aliases=res.aliases, start=res)
    out.breakpoints = res.breakpoints
    return out


def originator_aliases(figures: pd.DataFrame) -> dict[str, str]:
    """Originator spelling -> group label, from the figures' ``originator_group`` column."""
    if "originator_group" not in figures:
        return {}
    f = figures.dropna(subset=["originator_group"])
    pairs = dict(zip(f["originator"].astype(str), f["originator_group"].astype(str)))
    pairs.update({k.lower(): v for k, v in pairs.items()})
    return pairs


def fit(metric: str, dataset: str = DEFAULT_DATASET, area: str | None = None,
        breakpoints: str | Sequence | None = "events", figures: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None, **kw) -> LatentResults:
    """Fit the latent daily-count model for one metric of a dataset.

    ``area=None`` is the campaign area as a whole (campaign-area and governorate figures within
    the campaign's governorates; governorate series get their own coverage offset).
    ``breakpoints`` is "events" (dates from the events table whose kind can shift the trend),
    a list of dates, or None (one log-linear trend). Extra keywords: ``reference`` (coverage
    group fixed at 0), ``seed``, ``missing_start`` ("campaign_start" or "drop"), ``campaign``.
    An unknown metric or area raises :class:`~conflictstats.errors.UnknownNameError` with the
    closest names; a metric with no usable figures :class:`~conflictstats.errors.NotEnoughDataError`.

    >>> import conflictstats as cs
    >>> res = cs.fit("health_workers_killed")
    >>> res.converged, res.metric
    (True, 'health_workers_killed')
    >>> cs.fit("killed_health_workers")
    Traceback (most recent call last):
    ...
    conflictstats.errors.UnknownNameError: unknown metric 'killed_health_workers'; did you mean health_workers_killed...
    """
    from conflictstats.api import load  # the package loader; imported lazily

    if figures is None:
        figures = load("figures", dataset=dataset)
    if events is None:
        events = load("events", dataset=dataset)
    campaign = kw.pop("campaign", None) or campaign_window(dataset)
    missing_start = kw.pop("missing_start", "campaign_start")
    check.fit_args(figures, metric, area, breakpoints, missing_start, campaign)
    obsset = build_observations(figures, metric, area=area, campaign=campaign,
                                missing_start=missing_start, pcodes=campaign_pcodes(dataset))
    return fit_observations(obsset, events=events, breakpoints=breakpoints, campaign=campaign,
                            aliases=originator_aliases(figures),
                            preferred=preferred_references(dataset, metric), **kw)


def preferred_references(dataset: str, metric: str) -> tuple[str, ...]:
    """The dataset's declared reference groups for a metric (dataset.toml), possibly none."""
    from conflictstats.registry import dataset_info

    return dataset_info(dataset).reference_originators.get(metric, ())


from .evaluation import backtest  # noqa: E402
from .synthetic import simulate, synthetic_campaign  # noqa: E402
