"""Plain-text summary and the daily plot of a fitted model (kept apart from the results class
so that each stays small)."""

from __future__ import annotations

import math

import pandas as pd


def summary_text(res, alpha: float = 0.05) -> str:
    """Data used, convergence, parameters with intervals, variance components, exclusions."""
    m = res.model
    ci = res.conf_int(alpha)
    last = m.day0 + pd.Timedelta(days=m.lay.D - 1)
    n_fig = res.observations["figure_ids"].str.split(",").explode().nunique()
    lines = [
        f"Latent daily-count model (log scale, Laplace/EM): metric={res.metric} "
        f"area={res.area or 'campaign area'}",
        f"Modelled period: {m.day0.date()} .. {last.date()}; campaign "
        f"{res.campaign[0].date()} .. {res.campaign[1].date()}",
        f"Observations: {res.nobs} (from {n_fig} figures); excluded figures: {len(res.excluded)}",
        f"Reference originator (log coverage 0): {res.reference}",
        "Breakpoints: " + (", ".join(b.date.strftime("%Y-%m-%d") + " " + b.label
                                     for b in res.breakpoints) or "none"),
        f"Converged: {res.converged} ({res.fit.iterations} EM iterations)",
        "",
        f"{'parameter':<44}{'estimate':>11}{'std err':>10}{'lower':>11}{'upper':>11}",
    ]
    for name in res.param_names:
        lines.append(f"{name[:43]:<44}{res.params[name]:>11.4f}{res.bse[name]:>10.4f}"
                     f"{ci.loc[name, 0]:>11.4f}{ci.loc[name, 1]:>11.4f}")
    lines += ["", "Variance components (standard deviations, log scale):"]
    for name, v in res.variance_components.items():
        if not name.startswith("log_"):
            lines.append(f"  {name:<50}{v:>8.3f}")
            continue
        label = name.replace("log_sigma2_", "sd ").replace("log_tau2_", "sd ")
        lines.append(f"  {label:<50}{math.exp(v / 2):>8.3f}")
    for title, items in (("Candidate breakpoints not used:", res.dropped_breakpoints),
                         ("Warnings:", res.warnings), ("Notes:", res.notes)):
        if items:
            lines += ["", title] + [f"  - {x}" for x in items]
    if len(res.excluded):
        lines += ["", "Excluded figures by reason:"]
        for reason, n in res.excluded["reason"].value_counts().sort_index().items():
            lines.append(f"  {n:>4}  {reason}")
    return "\n".join(lines)


def summary_html(res, alpha: float = 0.05) -> str:
    """The summary as HTML tables, for Jupyter (``LatentResults._repr_html_``): the fit's facts,
    the parameters with their confidence intervals, and the coverage of each originator group."""
    from html import escape

    m = res.model
    last = m.day0 + pd.Timedelta(days=m.lay.D - 1)
    level = int(round(100 * (1 - alpha)))
    facts = pd.DataFrame({"": [res.metric, res.area or "campaign area",
                               f"{m.day0.date()} .. {last.date()}", res.nobs, res.reference,
                               f"{res.converged} ({res.fit.iterations} EM iterations)"]},
                         index=["metric", "area", "modelled period", "observations", "reference originator",
                                "converged"])
    ci = res.conf_int(alpha)
    params = pd.DataFrame({"estimate": res.params, "std err": res.bse,
                           f"{level}% lower": ci[0], f"{level}% upper": ci[1]})
    cov = res.coverage_table(alpha).set_index("group")[["ratio", "ratio_ci_lower", "ratio_ci_upper", "n_obs"]]
    parts = [f"<h4>Latent daily-count model: {escape(str(res.metric))}</h4>", facts.to_html(header=False),
             "<h5>Parameters (log scale)</h5>", params.to_html(float_format="{:.4f}".format),
             f"<h5>Coverage relative to {escape(str(res.reference))}</h5>",
             cov.to_html(float_format="{:.3f}".format)]
    parts += [f"<p><b>Warning:</b> {escape(w)}</p>" for w in res.warnings]
    return "<div class=\"conflictstats-results\">" + "".join(parts) + "</div>"


def plot_daily(res, ax=None, alpha: float = 0.05, events: pd.DataFrame | None = None):
    """Daily counts with CI and PI bands, breakpoints as dashed lines, events dotted."""
    import matplotlib.pyplot as plt  # lazy: `import conflictstats` must not load matplotlib

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    df = res.daily_frame(alpha)
    level = int(100 * (1 - alpha))
    ax.fill_between(df["date"], df["pi_lower"], df["pi_upper"], color="tab:blue", alpha=0.15,
                    label=f"{level}% prediction interval")
    ax.fill_between(df["date"], df["ci_lower"], df["ci_upper"], color="tab:blue", alpha=0.35,
                    label=f"{level}% confidence interval")
    ax.plot(df["date"], df["estimate"], color="tab:blue", label="estimated daily count")
    for bp in res.breakpoints:
        ax.axvline(bp.date, color="grey", ls="--", lw=0.8)
    if events is not None:
        for d in events["date"]:
            ax.axvline(d, color="grey", ls=":", lw=0.5)
    ax.set_ylabel(f"{res.metric} per day ({res.reference} scale)")
    ax.legend(loc="upper left", fontsize="small")
    return ax
