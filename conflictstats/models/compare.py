"""Campaigns side by side: one metric of several datasets on one time axis (days since each
offensive's start, a dated event of each dataset), with the model's intervals, each campaign's
own largest reports, and the totals each originator group reported."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

# How many of a campaign's largest campaign-wide reports are marked on the comparison.
LARGEST_REPORTS = 3


def offensive_start(dataset: str) -> tuple[pd.Timestamp, str]:
    """(date, event_id) of the event that starts the dataset's offensive: the one its
    dataset.toml names (``offensive_start_event``), else its earliest ``offensive_start`` event.

    Why an event and not a constant: the start is a sourced fact of each campaign's timeline.
    """
    from conflictstats.api import load
    from conflictstats.errors import UnreadableError
    from conflictstats.registry import dataset_info

    info = dataset_info(dataset)
    events = load("events", dataset=dataset)
    if info.offensive_start_event is not None:
        hit = events[events["event_id"] == info.offensive_start_event]
        if not len(hit):
            raise UnreadableError(f"{info.path / 'dataset.toml'}: offensive_start_event "
                                  f"'{info.offensive_start_event}' is not an event_id of the events table.")
    else:
        hit = events[events["kind"].astype(str) == "offensive_start"].sort_values(["date", "event_id"])
        if not len(hit):
            raise UnreadableError(f"{info.path / 'dataset.toml'}: no offensive_start_event, and the events "
                                  f"table has no event of kind offensive_start to date the start.")
    row = hit.iloc[0]
    return pd.Timestamp(row["date"]), str(row["event_id"])


def _campaign_flows(dataset: str, metric: str, res) -> pd.DataFrame:
    """The campaign-wide flow figures of a metric the fit used, with their group and window."""
    from conflictstats.api import load

    figures = load("figures", dataset=dataset)
    used = res.observations[["figure_id", "group"]].drop_duplicates("figure_id")
    f = figures.merge(used, on="figure_id")
    return f[f["area_scope"].astype(str) == "campaign_area"]


def _own_groups(res) -> set[str]:
    """The fit's coverage groups that are one originator's campaign-wide series."""
    from .observations import DAILY_SUFFIX, POOLED

    return {g for g in res.model.groups if g != POOLED and not g.endswith(DAILY_SUFFIX)}


def _fits(metric: str, datasets: Sequence[str], results: Mapping | None) -> dict:
    from . import arguments as check, fit

    check.names(datasets, "datasets")

    return {name: (results or {}).get(name) or fit(metric, dataset=name) for name in datasets}


def compare(metric: str, datasets: Sequence[str], alpha: float = 0.05,
            results: Mapping | None = None) -> pd.DataFrame:
    """One row per campaign day and dataset, from each offensive's start to its campaign end:
    ``dataset``, ``day`` (0 = the offensive's start), ``date``, the realised count since the
    start on that campaign's reference scale with its interval (``cum_estimate``,
    ``cum_ci_lower``, ``cum_ci_upper``), ``reference``, ``offensive_start`` and
    ``offensive_start_event``, and ``largest_report`` with ``largest_report_originator`` and
    ``largest_report_start`` on the end day of one of the campaign's own largest campaign-wide
    reports (missing elsewhere; their windows may start before the offensive).
    ``results`` maps a dataset to a fit of ``metric`` already made (else it is fitted here)."""
    from .arguments import alpha as check_alpha

    check_alpha(alpha)
    fits = _fits(metric, datasets, results)
    frames = []
    for name in datasets:
        res = fits[name]
        start, event = offensive_start(name)
        ce = res.campaign[1]
        daily = res.daily_frame(alpha, start=start, end=ce)
        flows = _campaign_flows(name, metric, res)
        top = flows.sort_values(["value", "period_end", "figure_id"], ascending=[False, True, True],
                                kind="stable").drop_duplicates("period_end").drop_duplicates("value").head(LARGEST_REPORTS)
        top = top.set_index("period_end")
        frames.append(pd.DataFrame({
            "dataset": name, "day": (daily["date"] - start).dt.days, "date": daily["date"],
            "cum_estimate": daily["cum_estimate"], "cum_ci_lower": daily["cum_ci_lower"],
            "cum_ci_upper": daily["cum_ci_upper"], "reference": res.reference,
            "offensive_start": start, "offensive_start_event": event,
            "largest_report": daily["date"].map(top["value"].astype(float)),
            "largest_report_originator": daily["date"].map(top["originator_group"].astype(object)),
            "largest_report_start": daily["date"].map(top["period_start"])}))
    return pd.concat(frames, ignore_index=True)


def compare_totals(metric: str, datasets: Sequence[str], alpha: float = 0.05,
                   results: Mapping | None = None) -> pd.DataFrame:
    """Totals per campaign and originator group: for each group with campaign-wide flow figures,
    ``figures`` (how many), its ``largest_report`` and that report's window, and the model's
    count for the whole campaign window on that group's scale (``model_mean``,
    ``model_pi_lower``, ``model_pi_upper``; what the group would report). One more row per
    campaign, group "model: realised count (<reference> scale)", holds the realised total on the
    reference scale (a confidence interval: no report noise)."""
    from .arguments import alpha as check_alpha

    check_alpha(alpha)
    fits = _fits(metric, datasets, results)
    rows = []
    for name in datasets:
        res = fits[name]
        cs, ce = res.campaign
        flows = _campaign_flows(name, metric, res)
        total = res.predict_window(cs, ce, alpha=alpha)
        rows.append({"dataset": name, "originator_group": f"model: realised count ({res.reference} scale)", "figures": 0,
                     "largest_report": float("nan"), "report_start": pd.NaT, "report_end": pd.NaT,
                     "model_mean": total["mean"], "model_pi_lower": total["ci_lower"],
                     "model_pi_upper": total["ci_upper"], "reference": res.reference})
        for group, sub in flows.groupby(flows["originator_group"].astype(str), sort=True):
            big = sub.sort_values(["value", "period_end", "figure_id"], ascending=[False, True, True],
                                  kind="stable").iloc[0]
            own = [g for g in sub["group"].unique() if g in _own_groups(res)]  # not pooled, not daily
            pred = res.predict_window(cs, ce, originator=own[0], alpha=alpha) if own else {}
            rows.append({"dataset": name, "originator_group": group, "figures": len(sub),
                         "largest_report": float(big["value"]), "report_start": big["period_start"],
                         "report_end": big["period_end"], "model_mean": pred.get("mean", float("nan")),
                         "model_pi_lower": pred.get("pi_lower", float("nan")),
                         "model_pi_upper": pred.get("pi_upper", float("nan")), "reference": res.reference})
    return pd.DataFrame(rows)
