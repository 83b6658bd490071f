"""Synthetic campaigns with known truth, and the calibration check built on them.

Why: on real data the truth is unknown; only simulation can say whether a nominal 95%
interval covers 95% of the time. The generator mimics the real reporting process: a
segmented daily intensity with two event-dated breakpoints, shared day-to-day overdispersion
(the same deaths are counted by everyone), several originators with different coverage and
their own day noise, running totals "since 29 April" republished every week, monthly and
weekly windows, news copies of a monitor's toll, and hedged, rounded numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..registry import DEFAULT_DATASET
from . import arguments as check
from ._common import campaign_window, events_frame, figures_frame

ORIGINATORS = ("Monitor A", "Monitor B", "Agency C", "Agency D")


def _round_sig(x: float, sig: int, how: str) -> int:
    if x <= 0:
        return 0
    unit = 10 ** max(int(np.floor(np.log10(x))) - sig + 1, 0)
    f = {"round": np.round, "floor": np.floor, "ceil": np.ceil}[how]
    return int(f(x / unit) * unit)


def _qualify(rng: np.random.Generator, true: int) -> tuple[str, int]:
    """A reported (qualifier, value) for a true count: rounded the way sources hedge."""
    u = rng.random()
    if u < 0.50 or true < 20:
        return "exact", int(true)
    if u < 0.70:
        v = _round_sig(true, 2, "round")
        return ("approximately", v) if v != true else ("exact", int(true))
    if u < 0.88:
        v = _round_sig(true, 2, "floor")
        return ("at_least", v) if v != true else ("exact", int(true))
    if u < 0.93:
        v = _round_sig(true, 2, "floor")
        return ("more_than", v) if v < true else ("exact", int(true))
    v = _round_sig(true, 2, "ceil")
    if v <= true:
        return "exact", int(true)
    return ("almost", v) if u < 0.97 else ("up_to", v)


def synthetic_campaign(seed: int, level: float | None = None, day_k: float = 8.0,
                       originator_k: float = 30.0, dataset: str = DEFAULT_DATASET):
    """One synthetic campaign over the dataset's campaign window.

    Returns ``(figures_df, events_df, truth)``; the frames have the loader's columns and
    dtypes. ``truth`` holds the daily mean ``lam`` and realised count ``daily`` (Series by
    date), the trend parameters, breakpoint dates, each originator's coverage, the reference
    originator and the realised campaign ``total``. Every draw comes from
    ``numpy.random.default_rng(seed)``.
    """
    check.synthetic(seed, level, day_k, originator_k)
    rng = np.random.default_rng(seed)
    cs, ce = campaign_window(dataset)
    dates = pd.date_range(cs, ce, freq="D")
    T = len(dates)
    mid = (T - 1) / 2.0
    tau1 = int(rng.integers(30, 50))
    tau2 = int(rng.integers(85, 100))
    level = float(np.exp(rng.uniform(np.log(15), np.log(80)))) if level is None else level
    b1 = rng.normal(0.0, 0.04)
    j1, s1 = rng.normal(0.4, 0.2), rng.normal(0.0, 0.05)
    j2, s2 = rng.normal(-0.6, 0.2), rng.normal(0.0, 0.05)
    d = np.arange(T, dtype=float)
    eta = (np.log(level) + b1 * (d - mid) / 7 + j1 * (d >= tau1) + s1 * np.clip(d - tau1, 0, None) / 7
           + j2 * (d >= tau2) + s2 * np.clip(d - tau2, 0, None) / 7)
    lam = np.exp(eta)
    G = rng.gamma(day_k, 1.0 / day_k, T)
    D = rng.poisson(lam * G)
    cov = {"Monitor A": 1.0, "Monitor B": float(rng.uniform(1.1, 1.6)),
           "Agency C": float(rng.uniform(0.4, 0.7)), "Agency D": float(rng.uniform(0.7, 1.0))}
    R = {o: rng.poisson(c * D * rng.gamma(originator_k, 1.0 / originator_k, T))
         for o, c in cov.items()}
    cumR = {o: np.concatenate([[0], np.cumsum(r)]) for o, r in R.items()}

    rows: list[dict] = []
    ndoc = {o: 0 for o in ORIGINATORS}

    def add(orig: str, a: int, b: int, pub: int, precision: str = "day",
            doc: str | None = None, news: bool = False) -> str:
        true = int(cumR[orig][b + 1] - cumR[orig][a])
        q, v = _qualify(rng, true)
        if doc is None:
            ndoc[orig] += 1
            slug = orig.lower().replace(" ", "-")
            doc = f"sim{seed}-{slug}-{'news-' if news else ''}{ndoc[orig]:02d}"
        n = sum(r["source_id"] == doc for r in rows) + 1
        rows.append({
            "figure_id": f"{doc}-f{n:02d}", "source_id": doc, "metric": "civilians_killed",
            "value": v, "qualifier": q, "value_low": None, "value_high": None,
            "count_type": "flow", "period_start": dates[a], "period_end": dates[b],
            "date_precision": precision, "area": "synthetic campaign area",
            "area_scope": "campaign_area", "admin1_pcodes": ["SY05", "SY07"],
            "originator": orig, "originator_type": "ngo_monitor", "perpetrator": None,
            "verification": "not_stated", "locator": None,
            "paraphrase": f"Synthetic {orig} total.", "notes": None})
        return doc

    # Monitor A: running total since 29 April, about weekly, sometimes with last week's count
    day = int(rng.integers(8, 12))
    while day < T:
        doc = add("Monitor A", 3, day, day)
        if rng.random() < 0.35 and day >= 10:
            add("Monitor A", day - 6, day, day, doc=doc)
        if rng.random() < 0.15:  # a news article repeating the toll
            val = rows[-1] if rows[-1]["source_id"] == doc else None
            if val is not None:
                ndoc["Monitor A"] += 1
                copy = dict(val)
                copy["source_id"] = f"sim{seed}-news-{ndoc['Monitor A']:02d}"
                copy["figure_id"] = copy["source_id"] + "-f01"
                rows.append(copy)
        day += int(rng.integers(5, 10))
    # Monitor B: running total since the campaign start, every 9-13 days
    day = int(rng.integers(12, 20))
    while day < T:
        add("Monitor B", 0, day, day)
        day += int(rng.integers(9, 14))
    # Agency C: calendar months, plus two running totals since 1 May
    for m in (5, 6, 7, 8):
        a = int((pd.Timestamp(2019, m, 1) - cs).days)
        b = int((pd.Timestamp(2019, m, 1) + pd.offsets.MonthEnd(0) - cs).days)
        if 0 <= a and b < T:
            add("Agency C", a, b, b, precision="month")
    for b in sorted(rng.choice(np.arange(40, T), size=2, replace=False)):
        add("Agency C", 5, int(b), int(b))
    # Agency D: single weeks, every ~2 weeks
    day = int(rng.integers(10, 20))
    while day < T:
        add("Agency D", day - 6, day, day, precision="week")
        day += int(rng.integers(11, 17))

    figures = figures_frame(rows)
    ev = [
        {"event_id": "sim-offensive-start", "date": dates[0], "kind": "offensive_start",
         "place": "southern Idleb", "description": "Synthetic offensive start.",
         "source_id": "synthetic"},
        {"event_id": "sim-escalation", "date": dates[tau1], "kind": "escalation",
         "place": "northern Hama", "description": "Synthetic escalation.",
         "source_id": "synthetic"},
        {"event_id": "sim-truce", "date": dates[tau2], "kind": "truce_announced",
         "place": "Idleb", "description": "Synthetic truce.", "source_id": "synthetic"},
        {"event_id": "sim-market", "date": dates[int(rng.integers(20, T - 20))],
         "kind": "mass_casualty_attack", "place": "a market",
         "description": "Synthetic attack.", "source_id": "synthetic"},
        {"event_id": "sim-ceasefire", "date": dates[-1], "kind": "ceasefire", "place": "Idleb",
         "description": "Synthetic ceasefire.", "source_id": "synthetic"},
    ]
    events = events_frame(ev)
    truth = {
        "dates": dates, "lam": pd.Series(lam, index=dates), "daily": pd.Series(D, index=dates),
        "breakpoints": [dates[tau1], dates[tau2]],
        "params": {"trend_per_week": b1,
                   f"jump_{dates[tau1]:%Y-%m-%d}": j1, f"slope_change_{dates[tau1]:%Y-%m-%d}": s1,
                   f"jump_{dates[tau2]:%Y-%m-%d}": j2, f"slope_change_{dates[tau2]:%Y-%m-%d}": s2},
        "coverage": cov, "reference": "Monitor A", "total": float(D.sum()),
        "day_k": day_k, "originator_k": originator_k,
        "recorded": {o: pd.Series(r, index=dates) for o, r in R.items()},
    }
    return figures, events, truth


def run_one(seed: int, holdout_frac: float = 0.2, bootstrap: int = 0) -> dict:
    """Fit one synthetic campaign with a share of documents held out; score against truth."""
    from . import fit_observations
    from .evaluation import figure_level, predict_targets
    from .observations import build_observations

    figures, events, truth = synthetic_campaign(seed)
    cs, ce = truth["dates"][0], truth["dates"][-1]
    rng = np.random.default_rng([seed, 1])
    docs = np.array(sorted(figures["source_id"].unique()))
    n_out = max(2, int(round(holdout_frac * len(docs))))
    held = set(rng.choice(docs, size=n_out, replace=False).tolist())
    full = build_observations(figures, "civilians_killed", campaign=(cs, ce))
    train_f = figures[~figures["source_id"].isin(held)]
    tr = build_observations(train_f, "civilians_killed", campaign=(cs, ce))
    res = fit_observations(tr, events=events, breakpoints="events", campaign=(cs, ce),
                           reference="Monitor A", seed=seed)
    targets = figure_level(full.obs)
    doc_of = dict(zip(figures["figure_id"], figures["source_id"]))
    targets = targets[targets["figure_id"].map(doc_of).isin(held)]
    pred = predict_targets(res, targets, figure_level(tr.obs))
    tot = res.predict_window(cs, ce, alpha=0.05, report_noise=False)
    ci = res.conf_int(0.05)
    bci = res.bootstrap_conf_int(res.bootstrap(bootstrap), 0.05) if bootstrap else None
    brk, brk_boot = {}, {}
    for name, val in truth["params"].items():
        if name.startswith(("jump_", "slope_change_")):
            if name in ci.index:
                brk[name] = bool(ci.loc[name, 0] <= val <= ci.loc[name, 1])
                if bci is not None:
                    brk_boot[name] = bool(bci.loc[name, 0] <= val <= bci.loc[name, 1])
            else:
                brk[name] = None
    return {"seed": seed, "pred": pred, "converged": res.converged,
            "total_true": truth["total"], "total_mean": tot["mean"],
            "total_covered": bool(tot["pi_lower"] <= truth["total"] <= tot["pi_upper"]),
            "break_covered": brk, "break_covered_bootstrap": brk_boot,
            "fit_seconds": res.fit_seconds}


def simulate(runs: int = 20, seed: int = 0, holdout_frac: float = 0.2,
             bootstrap: int = 0, scheduler: str = "synchronous") -> dict:
    """Calibration on ``runs`` synthetic campaigns (run ``i`` uses seed ``seed * 100003 + i``).

    Returns the backtest score keys on held-out documents (coverage_80, coverage_95,
    median_abs_log_ratio, interval_score, both baselines, n_held_out) plus the truth checks:
    total_coverage_95 (the realised campaign total inside the 95% interval), total_rel_bias
    (mean relative error of the estimated total), break_coverage_95 (jump and slope-change
    intervals covering the true values), n_converged and mean fit time. With
    ``bootstrap=B``, each run also draws B parametric-bootstrap refits and reports
    break_coverage_95_bootstrap (percentile intervals), to set beside the Wald intervals.
    ``scheduler`` says where the runs go (:mod:`conflictstats.scheduling`): each run's seed
    comes from its index, never from a worker, so the scores are the same on any scheduler.
    """
    from ..scheduling import map_tasks
    from .evaluation import summarise

    check.simulation(runs, seed, holdout_frac, bootstrap)
    outs = map_tasks(run_one, [seed * 100003 + i for i in range(runs)], scheduler, desc="simulate",
                     unit="run", holdout_frac=holdout_frac, bootstrap=bootstrap)
    pred = pd.concat([o["pred"] for o in outs], ignore_index=True)
    out = summarise(pred)
    rel = np.array([(o["total_mean"] - o["total_true"]) / o["total_true"] for o in outs])
    brk = [v for o in outs for v in o["break_covered"].values() if v is not None]
    missing = sum(v is None for o in outs for v in o["break_covered"].values())
    out.update({
        "runs": runs, "seed": seed,
        "total_coverage_95": float(np.mean([o["total_covered"] for o in outs])),
        "total_rel_bias": float(np.mean(rel)),
        "total_median_abs_rel_error": float(np.median(np.abs(rel))),
        "break_coverage_95": float(np.mean(brk)) if brk else float("nan"),
        "break_params_not_estimated": int(missing),
        "n_converged": int(sum(o["converged"] for o in outs)),
        "mean_fit_seconds": float(np.mean([o["fit_seconds"] for o in outs])),
    })
    if bootstrap:
        bb = [v for o in outs for v in o["break_covered_bootstrap"].values()]
        out.update({"bootstrap_replicates": int(bootstrap),
                    "break_coverage_95_bootstrap": float(np.mean(bb)) if bb else float("nan")})
    return out

