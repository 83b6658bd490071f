"""The report's charts as SVG bytes. matplotlib is imported inside each function (``import
conflictstats`` must stay light), and every run gives the same bytes: Matplotlib's default
style (user matplotlibrc files ignored), DejaVu Sans drawn as paths, a fixed SVG hash salt,
no date or creator in the file, and stable drawing order.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pandas as pd

from ..datamodel import LOWER_BOUND_QUALIFIERS, UPPER_BOUND_QUALIFIERS
from .context import KEY_EVENT_KINDS, EventMark

WIDTH = 9.0
OTHER = "#9e9e9e"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#393b79")
EVENT_COLOURS = {"offensive_start": "#b2182b", "truce_collapsed": "#b2182b", "escalation": "#ef8a62",
                 "town_captured": "#762a83", "truce_announced": "#1b7837", "ceasefire": "#1b7837"}
EVENT_OTHER = "#bdbdbd"
RC = {"svg.hashsalt": "conflictstats-report", "svg.fonttype": "path", "font.family": "DejaVu Sans",
      "font.size": 9.0, "axes.titlesize": 10.0, "figure.dpi": 100, "savefig.dpi": 100,
      "path.simplify": True, "axes.spines.top": False, "axes.spines.right": False}
SVG_META = {"Date": None, "Creator": None, "Contributor": None, "Identifier": None,
            "Source": None, "Format": None, "Type": None}
# Figures that are bounds, by what the data model says their qualifier allows.
LOWER_MARK = LOWER_BOUND_QUALIFIERS
UPPER_MARK = UPPER_BOUND_QUALIFIERS


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context():
        matplotlib.rcdefaults()  # ignore the user's matplotlibrc: same bytes everywhere
        matplotlib.rcParams.update(RC)
        yield


def _new(height: float, nrows: int = 1, sharex: bool = True):
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    fig = Figure(figsize=(WIDTH, height), layout="constrained")
    axes = fig.subplots(nrows, 1, sharex=sharex, squeeze=False)[:, 0]
    return fig, list(axes)


def _svg(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata=SVG_META)
    return buf.getvalue()


def originator_colours(originators: Sequence[str]) -> dict[str, str]:
    """The first originators (already ranked) get palette colours; the rest share grey."""
    return {o: PALETTE[i] if i < len(PALETTE) else OTHER for i, o in enumerate(originators)}


def _plain_log(axis) -> None:
    """Plain numbers (1, 10, 1,000; 0.5) instead of powers of ten on a log axis."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _date_axis(ax, start: pd.Timestamp, end: pd.Timestamp) -> None:
    import matplotlib.dates as mdates

    ax.set_xlim(start, end)
    ax.xaxis.set_major_locator(mdates.MonthLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %Y"))
    ax.xaxis.set_minor_locator(mdates.WeekdayLocator(byweekday=0))
    ax.grid(axis="y", color="#e0e0e0", lw=0.6)


def draw_events(axes, marks: Sequence[EventMark], label_axis: int = 0) -> None:
    """Events as vertical lines on every axis; key episodes labelled on the first axis."""
    import matplotlib.dates as mdates

    for i, ax in enumerate(axes):
        lo, hi = ax.get_xlim()
        for m in marks:
            x = mdates.date2num(m.date)
            if not lo <= x <= hi:
                continue
            key = m.kind in KEY_EVENT_KINDS
            ax.axvline(m.date, color=EVENT_COLOURS.get(m.kind, EVENT_OTHER), lw=0.9 if key else 0.5,
                       ls="-" if key else ":", alpha=0.8, zorder=0.5)
            if i == label_axis and m.label:
                ax.text(m.date, 0.995, " " + m.label, transform=ax.get_xaxis_transform(), rotation=90,
                        ha="right", va="top", fontsize=6.5, color=EVENT_COLOURS.get(m.kind, "#555555"))


def windows_chart(figs: pd.DataFrame, colours: dict[str, str], marks: Sequence[EventMark],
                  span: tuple[pd.Timestamp, pd.Timestamp], ylabel: str, title: str) -> bytes:
    """Each figure as a bar from period_start to period_end at its value (log scale)."""
    from matplotlib.lines import Line2D

    with _style():
        fig, (ax,) = _new(6.0)
        one = pd.Timedelta(days=1)
        for _, r in figs.iterrows():
            v = float(r["value"])
            if v <= 0:
                continue
            col = colours.get(r["originator"], OTHER)
            end = r["period_end"] + one
            if pd.notna(r["period_start"]):
                ax.plot([r["period_start"], end], [v, v], color=col, lw=2.0, alpha=0.85,
                        solid_capstyle="butt")
            else:
                ax.plot([end], [v], marker="o", mfc="none", mec=col, ms=4, ls="none")
            q = str(r["qualifier"])
            if q in LOWER_MARK:
                ax.plot([end], [v], marker="^", color=col, ms=4.5, ls="none")
            elif q in UPPER_MARK:
                ax.plot([end], [v], marker="v", color=col, ms=4.5, ls="none")
            elif q == "range" and pd.notna(r["value_low"]) and pd.notna(r["value_high"]):
                ax.plot([end, end], [float(r["value_low"]), float(r["value_high"])], color=col, lw=1)
        ax.set_yscale("log")
        _plain_log(ax.yaxis)
        ax.set_ylabel(ylabel)
        ax.set_title(title, loc="left")
        _date_axis(ax, *span)
        draw_events([ax], marks)
        handles = [Line2D([], [], color=col, lw=2.5, label=o) for o, col in colours.items() if col != OTHER]
        if any(col == OTHER for col in colours.values()):
            handles.append(Line2D([], [], color=OTHER, lw=2.5, label="other originators"))
        handles += [Line2D([], [], color="#444444", marker="^", ls="none", label="at least / more than"),
                    Line2D([], [], color="#444444", marker="v", ls="none", label="up to / almost"),
                    Line2D([], [], color="#444444", marker="o", mfc="none", ls="none",
                           label="no start date given")]
        fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=7, frameon=False)
        return _svg(fig)


def fitted_chart(daily: pd.DataFrame, reported: pd.DataFrame, colours: dict[str, str],
                 marks: Sequence[EventMark], span: tuple[pd.Timestamp, pd.Timestamp],
                 unit: str, reference: str, title: str) -> bytes:
    """Daily and cumulative model estimates with 95% bands; reported running totals as dots."""
    with _style():
        fig, (a1, a2) = _new(7.0, nrows=2)
        d = daily["date"]
        a1.fill_between(d, daily["pi_lower"], daily["pi_upper"], color="#1f77b4", alpha=0.15, lw=0,
                        label="95% prediction interval")
        a1.fill_between(d, daily["ci_lower"], daily["ci_upper"], color="#1f77b4", alpha=0.35, lw=0,
                        label="95% confidence interval")
        a1.plot(d, daily["estimate"], color="#1f77b4", lw=1.5, label="estimate")
        a1.set_ylabel(f"{unit} per day")
        a1.set_title(title, loc="left")
        a2.fill_between(d, daily["cum_pi_lower"], daily["cum_pi_upper"], color="#1f77b4", alpha=0.15, lw=0)
        a2.fill_between(d, daily["cum_ci_lower"], daily["cum_ci_upper"], color="#1f77b4", alpha=0.35, lw=0)
        a2.plot(d, daily["cum_estimate"], color="#1f77b4", lw=1.5, label=f"estimate ({reference} scale)")
        for orig, sub in reported.groupby("originator", sort=True):
            a2.plot(sub["period_end"], sub["value"].astype(float), ls="none", marker="o", ms=3.5,
                    color=colours.get(orig, OTHER), label=orig if colours.get(orig, OTHER) != OTHER else None)
        if len(reported) and (reported["originator"].map(lambda o: colours.get(o, OTHER)) == OTHER).any():
            a2.plot([], [], ls="none", marker="o", ms=3.5, color=OTHER, label="other originators")
        a2.set_ylabel(f"cumulative {unit}")
        handles = a1.get_legend_handles_labels()[0] + a2.get_legend_handles_labels()[0][1:]
        fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=7, frameon=False)
        for ax in (a1, a2):
            _date_axis(ax, *span)
            ax.set_ylim(bottom=0)
        draw_events([a1, a2], marks)
        return _svg(fig)


def coverage_chart(rows: pd.DataFrame, title: str) -> bytes:
    """Forest plot: each originator's coverage ratio to the reference with its 95% interval."""
    with _style():
        n = len(rows)
        fig, (ax,) = _new(max(1.6, 0.28 * n + 1.0))
        y = list(range(n))[::-1]
        for yi, (_, r) in zip(y, rows.iterrows()):
            ax.plot([r["ratio_ci_lower"], r["ratio_ci_upper"]], [yi, yi], color="#1f77b4", lw=1.5)
            ax.plot([r["ratio"]], [yi], marker="s" if r["reference"] else "o", color="#1f77b4", ms=4)
        ax.axvline(1.0, color="#555555", lw=0.8, ls="--")
        ax.set_xscale("log")
        _plain_log(ax.xaxis)
        ax.set_yticks(y, [str(g) for g in rows["group"]], fontsize=7)
        ax.set_xlabel("coverage relative to the reference (log scale; 1 = same count)")
        ax.set_title(title, loc="left")
        ax.grid(axis="x", color="#e0e0e0", lw=0.6)
        return _svg(fig)


def shared_windows_chart(rows: pd.DataFrame, colours: dict[str, str], title: str) -> bytes:
    """One line per window reported by several originators, one dot per originator's figure."""
    from matplotlib.lines import Line2D

    with _style():
        keys = list(dict.fromkeys(rows["window"]))
        fig, (ax,) = _new(max(2.5, 0.24 * len(keys) + 2.0))
        ypos = {k: len(keys) - 1 - i for i, k in enumerate(keys)}
        for _, r in rows.iterrows():
            ax.plot([float(r["value"])], [ypos[r["window"]]], marker="o", ms=5, ls="none", alpha=0.85,
                    color=colours.get(r["originator"], OTHER))
        for k in keys:
            vals = rows.loc[rows["window"] == k, "value"].astype(float)
            ax.plot([vals.min(), vals.max()], [ypos[k]] * 2, color="#cccccc", lw=1, zorder=0)
        ax.set_xscale("log")
        _plain_log(ax.xaxis)
        ax.set_yticks([ypos[k] for k in keys], keys, fontsize=7)
        ax.set_xlabel("reported value (log scale)")
        ax.set_title(title, loc="left")
        ax.grid(axis="x", color="#e0e0e0", lw=0.6)
        used = list(dict.fromkeys(rows["originator"]))
        handles = [Line2D([], [], color=colours.get(o, OTHER), marker="o", ls="none", label=o)
                   for o in used if colours.get(o, OTHER) != OTHER]
        if any(colours.get(o, OTHER) == OTHER for o in used):
            handles.append(Line2D([], [], color=OTHER, marker="o", ls="none", label="other originators"))
        fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=7, frameon=False)
        return _svg(fig)


def calibration_chart(points: pd.DataFrame, title: str) -> bytes:
    """Nominal vs observed coverage of the 80% and 95% intervals (model and baselines)."""
    with _style():
        fig, (ax,) = _new(4.2)
        ax.plot([0.5, 1.0], [0.5, 1.0], color="#555555", lw=0.8, ls="--", label="perfect calibration")
        styles = {"model": ("o", "-"), "carry forward": ("s", ":"), "interpolate": ("^", "--")}
        for i, (metric, sub) in enumerate(points.groupby("metric", sort=False)):
            col = PALETTE[i % len(PALETTE)]
            for method, (mk, ls) in styles.items():
                s = sub[sub["method"] == method].sort_values("nominal")
                if len(s):
                    ax.plot(s["nominal"], s["observed"], marker=mk, ls=ls, color=col,
                            label=f"{metric}: {method}")
        ax.set_xlim(0.5, 1.0)
        ax.set_ylim(0.0, 1.02)
        ax.set_xlabel("nominal coverage of the prediction interval")
        ax.set_ylabel("observed coverage (held-out figures)")
        ax.set_title(title, loc="left")
        ax.grid(color="#e0e0e0", lw=0.6)
        fig.legend(loc="outside lower center", ncols=2, fontsize=7, frameon=False)
        return _svg(fig)


def months_chart(per_month: pd.DataFrame, labels: dict[str, str], title: str) -> bytes:
    """Figures per month of their end date: one bar group per main metric, plus all metrics."""
    with _style():
        fig, (ax,) = _new(3.4)
        cols = [c for c in per_month.columns if c not in ("month", "all")]
        n = len(cols) + 1
        width = 0.8 / n
        x = list(range(len(per_month)))
        for i, col in enumerate(cols + ["all"]):
            ax.bar([xi - 0.4 + width * (i + 0.5) for xi in x], per_month[col], width=width,
                   color=PALETTE[i] if col != "all" else OTHER, label=labels.get(col, "all metrics"))
        ax.set_xticks(x, list(per_month["month"]))
        ax.set_ylabel("figures")
        ax.set_title(title, loc="left")
        ax.grid(axis="y", color="#e0e0e0", lw=0.6)
        ax.legend(fontsize=7, frameon=False)
        return _svg(fig)


def campaigns_chart(frame: pd.DataFrame, names: dict[str, str], unit: str, title: str) -> bytes:
    """Campaigns on one axis (``cs.compare``'s frame): days since each offensive's start, the
    realised count since then with its 95% band, and each campaign's own largest reports."""
    from matplotlib.ticker import FuncFormatter

    with _style():
        fig, (ax,) = _new(4.8)
        for i, (dataset, sub) in enumerate(frame.groupby("dataset", sort=False)):
            col = PALETTE[i % len(PALETTE)]
            ax.fill_between(sub["day"], sub["cum_ci_lower"], sub["cum_ci_upper"], color=col, alpha=0.25, lw=0)
            ax.plot(sub["day"], sub["cum_estimate"], color=col, lw=1.6,
                    label=f"{names.get(dataset, dataset)}: model ({sub['reference'].iloc[0]} scale, 95% CI)")
            big = sub[sub["largest_report"].notna()]
            ax.plot(big["day"], big["largest_report"], ls="none", marker="D", ms=5, mfc="white", mec=col,
                    mew=1.4, label=f"{names.get(dataset, dataset)}: its largest reports")
            for k, (_, r) in enumerate(big.sort_values("largest_report").iterrows()):  # staggered labels
                ax.annotate(f"{float(r['largest_report']):,.0f} ({r['largest_report_originator']})",
                            (r["day"], r["largest_report"]), textcoords="offset points", xytext=(-6, 4 + 9 * k),
                            ha="right", fontsize=6.5, color=col,
                            arrowprops={"arrowstyle": "-", "color": col, "lw": 0.5})
        ax.axvline(0, color=EVENT_COLOURS["offensive_start"], lw=0.9)
        ax.text(0, 0.995, " offensive start", transform=ax.get_xaxis_transform(), rotation=90, ha="right",
                va="top", fontsize=6.5, color=EVENT_COLOURS["offensive_start"])
        ax.set_xlim(left=min(-2, float(frame["day"].min())))
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_xlabel("days since the offensive's start (each campaign's own dated event)")
        ax.set_ylabel(f"{unit} since the start")
        ax.set_title(title, loc="left")
        ax.grid(color="#e0e0e0", lw=0.6)
        fig.legend(loc="outside lower center", ncols=2, fontsize=7, frameon=False)
        return _svg(fig)
