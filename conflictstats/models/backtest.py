"""Leave-one-document-out validation on real figures (the model's main benchmark).

Why per document: figures from one document share a cut-off date and often a source error, so
holding out single figures would leak. For each document: drop all its figures, refit, predict
each dropped figure's window for its originator, and score it against the reported value,
together with the two naive baselines on exactly the same held-out figures.
"""

from __future__ import annotations

import time

import pandas as pd

from ..registry import DEFAULT_DATASET
from ._common import campaign_window, make_callable_module
from .composite import N_DISP
from .baselines import baseline_prediction, scores
from .observations import SHORT_DAYS, build_observations

OUT_KEYS = ("coverage_80", "coverage_95", "median_abs_log_ratio", "interval_score")


def figure_level(obs: pd.DataFrame) -> pd.DataFrame:
    """One row per kept figure (not increments): group, start, end, reported value."""
    return pd.DataFrame({"figure_id": obs["figure_id"], "group": obs["group"],
                         "originator": obs["originator"], "start": obs["series_start"],
                         "end": obs["end"], "value": obs["reported"],
                         "qualifier": obs["qualifier"], "flo": obs["flo"],
                         "fhi": obs["fhi"]}).reset_index(drop=True)


def predict_targets(res, targets: pd.DataFrame, train_fig: pd.DataFrame) -> pd.DataFrame:
    """Model and baseline predictions (80% and 95%) for each target figure.

    A target from an originator the training data never saw is predicted on the reference
    scale (its coverage is unknown), and flagged in ``method``.
    """
    groups = set(res.model.groups)
    wins = [(t["start"], t["end"], t["group"] if t["group"] in groups else None)
            for _, t in targets.iterrows()]
    if not wins:
        return pd.DataFrame()
    # the PI is for the figure as the model reads it: the midpoint of the counts its qualifier
    # allows, with that band's rounding variance (as in the likelihood)
    flo = targets["flo"].to_numpy(float) if "flo" in targets else targets["value"].to_numpy(float)
    fhi = targets["fhi"].to_numpy(float) if "fhi" in targets else flo
    p = res.predict_many(wins, (0.05, 0.20), report_noise=True, key="targets",
                         rounding_var=(fhi - flo) ** 2 / 12.0 + 1.0 / 12.0)
    rows = []
    for i, (_, t) in enumerate(targets.iterrows()):
        row = {"figure_id": t["figure_id"], "group": t["group"], "start": t["start"],
               "end": t["end"], "obs": float(t["value"]), "qualifier": t["qualifier"],
               "obs_lo": float(t.get("flo", t["value"])), "obs_hi": float(t.get("fhi", t["value"])),
               "method": "model" if wins[i][2] is not None else "unseen originator: "
               "reference scale", "mean": p["mean"].iloc[i],
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
        out[f"baseline_{kind}"] = {k: sc[k] for k in OUT_KEYS + ("relative_interval_score",
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


def backtest(metric: str, dataset: str = DEFAULT_DATASET, figures: pd.DataFrame | None = None,
             events: pd.DataFrame | None = None, area: str | None = None,
             breakpoints="events", details: bool = False, n_draws: int = 400,
             documents: list[str] | None = None, fix_dispersion: bool = True,
             **kw) -> dict:
    """Leave-one-document-out scores for one metric; see module docstring.

    Returns coverage_80, coverage_95, median_abs_log_ratio, interval_score (model),
    baseline_carry_forward and baseline_interpolate (same scores), n_held_out, plus
    n_documents, n_refits_not_converged, seconds and, with ``details=True``, the per-figure
    table under "predictions".
    """
    from . import fit_observations

    if figures is None or events is None:
        from conflictstats.api import load

        figures = load("figures", dataset=dataset) if figures is None else figures
        events = load("events", dataset=dataset) if events is None else events
    campaign = kw.pop("campaign", None) or campaign_window(dataset)
    t0 = time.perf_counter()
    full = build_observations(figures, metric, area=area, campaign=campaign)
    full_res = fit_observations(full, events=events, breakpoints=breakpoints, campaign=campaign,
                                **kw)
    targets_all = figure_level(full.obs)
    doc_of = dict(zip(figures["figure_id"], figures["source_id"]))
    targets_all["source_id"] = targets_all["figure_id"].map(doc_of)
    preds = []
    not_conv = 0
    failed: list[str] = []
    docs = sorted(targets_all["source_id"].unique())
    if documents is not None:  # a subset (tests); the full run holds out every document
        docs = [d for d in docs if d in set(documents)]
    for doc in docs:
        train = figures[figures["source_id"] != doc]
        tr = build_observations(train, metric, area=area, campaign=campaign)
        if len(tr.obs) < 4:
            failed.append(f"{doc}: fewer than 4 observations left")
            continue
        domain = (full.obs["start"].min(), full.obs["end"].max())
        start = full_res.params  # warm start by name: most refits move little
        fixed = ({k: float(full_res.params[k]) for k in full_res.params.index[-N_DISP:]}
                 if fix_dispersion else None)
        try:
            res = fit_observations(tr, events=events, breakpoints=breakpoints, campaign=campaign,
                                   start_params=start, n_draws=n_draws, fixed=fixed,
                                   domain=domain, **kw)
        except Exception as exc:  # a refit that fails is reported, not hidden
            failed.append(f"{doc}: {type(exc).__name__}: {exc}")
            continue
        not_conv += int(not res.converged)
        targets = targets_all[targets_all["source_id"] == doc]
        try:
            p = predict_targets(res, targets, figure_level(tr.obs))
        except Exception as exc:  # reported, not hidden
            failed.append(f"{doc}: prediction failed: {type(exc).__name__}: {exc}")
            continue
        p["source_id"] = doc
        p["converged"] = res.converged
        preds.append(p)
    pred = pd.concat(preds, ignore_index=True) if preds else pd.DataFrame(
        columns=["obs", "mean", "lo80", "hi80", "lo95", "hi95"])
    out = summarise(pred)
    out["by_window"] = by_window(pred)
    out.update({"dispersion_fixed_in_refits": bool(fix_dispersion), "metric": metric, "area": area, "n_documents": int(targets_all["source_id"].nunique()),
                "n_refits_not_converged": not_conv, "failed_refits": failed,
                "full_fit_converged": bool(full_res.converged),
                "seconds": round(time.perf_counter() - t0, 2)})
    if details:
        out["predictions"] = pred
    return out


make_callable_module(__name__, backtest)
