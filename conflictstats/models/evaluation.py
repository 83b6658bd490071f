"""Out-of-sample validation on real figures (the model's main benchmark).

Two modes, scored alike against two naive baselines on exactly the same held-out figures:
- ``lodo`` (leave one document out): figures from one document share a cut-off date and often
  a source error, so holding out single figures would leak. For each document: drop all its
  figures, refit, predict each dropped figure's window for its originator.
- ``forecast`` (real time): at cut-offs every 14 days through the campaign, fit only on the
  documents published up to the cut-off and predict the figures published in the next 14
  days: what an analyst with the model could have said at the time.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..registry import DEFAULT_DATASET
from ..scheduling import check_scheduler, map_tasks
from . import arguments as check
from ._common import campaign_pcodes, campaign_window
from .baselines import SCORE_KEYS, baseline_prediction, scores
from .observations import SHORT_DAYS, build_observations



def figure_level(obs: pd.DataFrame) -> pd.DataFrame:
    """One row per kept figure (not increments): group, start, end, reported value."""
    return pd.DataFrame({"figure_id": obs["figure_id"], "group": obs["group"],
                         "originator": obs["originator"], "start": obs["series_start"],
                         "end": obs["end"], "value": obs["reported"],
                         "qualifier": obs["qualifier"], "flo": obs["flo"],
                         "fhi": obs["fhi"]}).reset_index(drop=True)


def predict_targets(res, targets: pd.DataFrame, train_fig: pd.DataFrame) -> pd.DataFrame:
    """Model and baseline predictions (80% and 95%) for each target figure.

    A target from an originator the training data never saw is predicted with its kind's mean
    coverage and the spread between originators (its own coverage is unknown), and flagged in
    ``method``.
    """
    groups = set(res.model.groups)
    # an originator the training data never saw keeps its label: it is predicted with its
    # kind's mean coverage, the spread between originators and a report error
    wins = [(t["start"], t["end"], t["group"]) for _, t in targets.iterrows()]
    if not wins:
        return pd.DataFrame()
    # the PI is for the figure as the model reads it: the midpoint of the counts its qualifier
    # allows, with that band's rounding variance (as in the likelihood)
    flo = targets["flo"].to_numpy(float) if "flo" in targets else targets["value"].to_numpy(float)
    fhi = targets["fhi"].to_numpy(float) if "fhi" in targets else flo
    # the band on the log scale, as the likelihood reads it
    rv = (np.log(fhi + 0.5) - np.log(np.maximum(flo, 0.0) + 0.5)) ** 2 / 12.0
    p = res.predict_many(wins, (0.05, 0.20), report_noise=True, rounding_var=rv)
    rows = []
    for i, (_, t) in enumerate(targets.iterrows()):
        row = {"figure_id": t["figure_id"], "group": t["group"], "start": t["start"],
               "end": t["end"], "obs": float(t["value"]), "qualifier": t["qualifier"],
               "obs_lo": float(t.get("flo", t["value"])), "obs_hi": float(t.get("fhi", t["value"])),
               "method": "model" if wins[i][2] in groups else "unseen originator: its "
               "kind's mean coverage", "mean": p["mean"].iloc[i],
               "lo80": p["pi_lower_80"].iloc[i], "hi80": p["pi_upper_80"].iloc[i],
               "lo95": p["pi_lower"].iloc[i], "hi95": p["pi_upper"].iloc[i]}
        for kind in ("carry_forward", "interpolate"):
            b = baseline_prediction(kind, train_fig, t)
            row.update({f"{kind}_{k}": v for k, v in b.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def summarise(pred: pd.DataFrame) -> dict:
    """The JSON-shaped score dict of a prediction table (model and both baselines)."""
    out = {k: v for k, v in scores(pred).items() if k != "n"}
    for kind in ("carry_forward", "interpolate"):
        cols = ["obs"] + [c for c in ("obs_lo", "obs_hi") if c in pred]
        sub = pred[cols + [f"{kind}_{k}" for k in ("mean", "lo80", "hi80", "lo95", "hi95")]]
        sub = sub.rename(columns=lambda c: c.replace(f"{kind}_", ""))
        sc = scores(sub)
        out[f"baseline_{kind}"] = {k: sc[k] for k in SCORE_KEYS + ("relative_interval_score",
                                                                 "coverage_95_point", "coverage_95_overlap")}
    out["n_held_out"] = int(len(pred))
    return out


def by_window(pred: pd.DataFrame) -> dict:
    """The scores split into short tallies (windows of at most ``SHORT_DAYS`` days) and longer
    windows: the two behave differently (a notable day's tally against a running total), and a
    median over the mixture hides how each is predicted."""
    if not len(pred):
        return {}
    days = (pd.to_datetime(pred["end"]) - pd.to_datetime(pred["start"])).dt.days + 1
    out = {}
    for name, sub in ((f"tallies_of_1_to_{SHORT_DAYS}_days", pred[days <= SHORT_DAYS]),
                      (f"windows_over_{SHORT_DAYS}_days", pred[days > SHORT_DAYS])):
        s = summarise(sub) if len(sub) else {}
        keys = ("coverage_80", "coverage_95", "median_abs_log_ratio")
        out[name] = {"n_held_out": int(len(sub)),
                     "model": {k: s.get(k) for k in keys},
                     **{f"baseline_{b}": {k: s.get(f"baseline_{b}", {}).get(k) for k in keys}
                        for b in ("carry_forward", "interpolate")}}
    return out


MODES = ("lodo", "forecast")
FORECAST_STEP_DAYS = 14


def backtest(metric: str, dataset: str = DEFAULT_DATASET, figures: pd.DataFrame | None = None,
             events: pd.DataFrame | None = None, area: str | None = None,
             breakpoints="events", details: bool = False, documents: list[str] | None = None,
             mode: str = "lodo", fix_variances: bool = True, scheduler: str = "synchronous",
             **kw) -> dict:
    """Out-of-sample scores for one metric; see module docstring.

    Returns coverage_80, coverage_95, median_abs_log_ratio, interval_score (model),
    baseline_carry_forward and baseline_interpolate (same scores), n_held_out, by_window, plus
    n_documents, n_refits_not_converged, seconds and, with ``details=True``, the per-figure
    table under "predictions". ``fix_variances`` holds the variance components at the
    full-data estimate in leave-one-out refits (each refit then only moves the latent mode).
    ``scheduler`` says where the refits run (:mod:`conflictstats.scheduling`; same scores).
    """
    from conflictstats.api import load

    from . import MIN_FIT_OBS, fit_observations, not_enough_data, originator_aliases, preferred_references

    from conflictstats.suggest import check_name

    check_name("backtest mode", mode, MODES)
    check_scheduler(scheduler)
    figures = load("figures", dataset=dataset) if figures is None else figures
    check.backtest_args(figures, metric, documents)
    events = load("events", dataset=dataset) if events is None else events
    campaign = kw.pop("campaign", None) or campaign_window(dataset)
    aliases = originator_aliases(figures)
    pcodes = campaign_pcodes(dataset)
    kw.setdefault("preferred", preferred_references(dataset, metric))
    t0 = time.perf_counter()
    full = build_observations(figures, metric, area=area, campaign=campaign, pcodes=pcodes)
    if len(full.obs) < MIN_FIT_OBS:
        raise not_enough_data(full)
    domain = (min(full.obs["start"].min(), campaign[0]), max(full.obs["end"].max(), campaign[1]))
    full_res = fit_observations(full, events=events, breakpoints=breakpoints, campaign=campaign,
                                domain=domain, aliases=aliases, **kw)
    targets_all = figure_level(full.obs)
    doc_of = dict(zip(figures["figure_id"], figures["source_id"]))
    targets_all["source_id"] = targets_all["figure_id"].map(doc_of)
    folds = _folds(mode, figures, targets_all, campaign, documents, load("sources", dataset=dataset))
    fixed = full_res.variance_components.to_dict() if (fix_variances and mode == "lodo") else None
    outs = map_tasks(_refit_fold, folds, scheduler, desc=f"backtest {metric} ({mode})", unit="refit",
                     figures=figures, metric=metric, area=area, campaign=campaign, events=events,
                     breakpoints=breakpoints, fixed=fixed, domain=domain, aliases=aliases,
                     start=full_res, pcodes=pcodes, kw=kw)
    preds = [p for p, _, _ in outs if p is not None]
    failed = [f for _, f, _ in outs if f is not None]
    not_conv = sum(nc for _, _, nc in outs)
    if not preds:
        from conflictstats.errors import NotEnoughDataError

        raise NotEnoughDataError(f"backtest of {metric!r}: no refit could be scored ({len(full.obs)} usable flow "
                                 f"figures; each refit needs at least 4 left): {'; '.join(failed[:3])}.")
    pred = pd.concat(preds, ignore_index=True)
    out = summarise(pred)
    out["by_window"] = by_window(pred)
    out.update({"mode": mode, "variances_fixed_in_refits": fixed is not None, "metric": metric,
                "area": area, "n_documents": int(targets_all["source_id"].nunique()),
                "n_folds": len(folds), "n_refits_not_converged": not_conv,
                "failed_refits": failed, "full_fit_converged": bool(full_res.converged),
                "seconds": round(time.perf_counter() - t0, 2)})
    if details:
        out["predictions"] = pred
    return out


def _refit_fold(fold: tuple, figures: pd.DataFrame, metric: str, area, campaign, events,
                breakpoints, fixed, domain, aliases, start, kw: dict, pcodes=None) -> tuple:
    """One fold: refit on its training figures, predict its held-out ones.

    Returns (predictions or None, failure or None, 1 if the refit did not converge else 0);
    a refit or prediction that fails is reported, not hidden.
    """
    from . import fit_observations

    name, keep, held = fold
    tr = build_observations(figures[keep], metric, area=area, campaign=campaign, pcodes=pcodes)
    if len(tr.obs) < 4:
        return None, f"{name}: fewer than 4 observations left", 0
    try:
        res = fit_observations(tr, events=events, breakpoints=breakpoints, campaign=campaign,
                               fixed=fixed, domain=domain, aliases=aliases, start=start, **kw)
    except Exception as exc:
        return None, f"{name}: {type(exc).__name__}: {exc}", 0
    try:
        p = predict_targets(res, held, figure_level(tr.obs))
    except Exception as exc:
        return None, f"{name}: prediction failed: {type(exc).__name__}: {exc}", int(not res.converged)
    p["source_id"] = held["source_id"].to_numpy()
    p["fold"] = name
    return p, None, int(not res.converged)


def well_reported_windows(res, min_reports: int = 3, min_groups: int = 2) -> list[tuple]:
    """Windows of the campaign with at least ``min_reports`` fitted reports from at least
    ``min_groups`` originator groups inside them (each report's own window, and the campaign):
    the windows whose totals the reports pin down, and whose intervals must be useful."""
    o = res.observations
    cs, ce = res.campaign
    wins = {(a, b) for a, b in zip(o["start"], o["end"]) if a >= cs and b <= ce} | {(cs, ce)}
    out = []
    for a, b in sorted(wins):
        inside = o[(o["start"] >= a) & (o["end"] <= b)]
        if len(inside) >= min_reports and inside["group"].nunique() >= min_groups:
            out.append((a, b))
    return out


def _folds(mode: str, figures: pd.DataFrame, targets: pd.DataFrame, campaign,
           documents: list[str] | None,
           sources: pd.DataFrame) -> list[tuple[str, np.ndarray, pd.DataFrame]]:
    """(name, which figures train (a boolean mask: light to send to a worker), held-out
    targets) per refit."""
    if mode == "lodo":
        docs = sorted(targets["source_id"].unique())
        if documents is not None:  # a subset (tests); the full run holds out every document
            docs = [d for d in docs if d in set(documents)]
        return [(d, (figures["source_id"] != d).to_numpy(), targets[targets["source_id"] == d])
                for d in docs]
    published = _publication_dates(figures, sources)
    pub = targets["source_id"].map(published)
    fig_pub = figures["source_id"].map(published)
    out = []
    cut = pd.Timestamp(campaign[0]) + pd.Timedelta(days=FORECAST_STEP_DAYS)
    last = pub.max()
    while cut < last:
        nxt = cut + pd.Timedelta(days=FORECAST_STEP_DAYS)
        held = targets[(pub > cut) & (pub <= nxt)]
        if len(held):
            out.append((f"cut-off {cut.date()}", (fig_pub <= cut).to_numpy(), held))
        cut = nxt
    return out


def _publication_dates(figures: pd.DataFrame, sources: pd.DataFrame) -> dict:
    """source_id -> publication date from the dataset's sources table; for documents not in
    it (a user's own or synthetic figures) the latest period_end of the document stands in."""
    fallback = figures.groupby("source_id")["period_end"].max().to_dict()
    known = dict(zip(sources["source_id"], pd.to_datetime(sources["published"])))
    return {k: known.get(k, v) for k, v in fallback.items()}
