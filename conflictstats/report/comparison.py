"""The cross-campaign comparison report and the index page that links every report of a build.

The comparison puts each modelled metric of every dataset on one time axis, days since each
offensive's start (a dated, sourced event named in each dataset.toml), from ``cs.compare``;
the totals table per campaign and originator group is ``compare_totals``. The fits are the
campaign reports' own (passed in), so the numbers agree with them and nothing is fitted twice.
"""

from __future__ import annotations

import pandas as pd

from . import charts
from .context import DataContext
from .doc import NOT_AVAILABLE, Document, Figure, Heading, Para, fmt_date, fmt_int, slug, table
from .fitted import ALPHA, ModelRun

COMPARISON = "comparison"  # the comparison's folder beside the campaign reports
CHECK_DAYS = (30, 60, 90)  # days since the start at which the campaigns are set side by side


def _page(name: str, up: bool = True) -> str:
    return f"{'../' if up else ''}{name}/index.html"


class ComparisonBuilder:
    """Assembles the comparison Document and its charts from each dataset's context and fits."""

    def __init__(self, contexts: dict[str, DataContext], runs: dict[str, dict[str, ModelRun]]):
        self.ctxs = contexts
        self.runs = runs
        names = list(contexts)
        self.doc = Document(title="Campaigns compared: " + " and ".join(names),
                            subtitle="The same metric for each campaign on one time axis, days since each "
                                     "offensive's start; releases " + ", ".join(
                                         f"{n} {c.info.release}" for n, c in contexts.items()))
        self.files: dict[str, bytes] = {}

    def h(self, level: int, text: str) -> None:
        self.doc.add(Heading(level, text, slug(text)))

    def p(self, text: str, note: bool = False) -> None:
        self.doc.add(Para(text, note))

    @property
    def metrics(self) -> list[str]:
        """The modelled metrics every dataset has, in the first dataset's order."""
        first, *rest = self.ctxs.values()
        return [m for m in first.modelled_metrics if all(m in c.modelled_metrics for c in rest)]

    def build(self) -> tuple[Document, dict[str, bytes]]:
        from ..models.compare import offensive_start

        self.h(2, "Campaigns")
        rows = []
        for name, ctx in self.ctxs.items():
            start, event = offensive_start(name)
            ev = ctx.events[ctx.events["event_id"] == event].iloc[0]
            src = ctx.sources[ctx.sources["source_id"] == ev["source_id"]].iloc[0]
            rows.append([f"[{name}]({_page(name)})", ctx.info.title, fmt_date(start),
                         f"{ev['description']} ([{src['publisher']}]({src['url']}))",
                         fmt_date(ctx.info.campaign_end), fmt_int(len(ctx.figures))])
        self.doc.add(table(["dataset", "campaign", "day 0", "the dated event of day 0", "campaign end", "figures"],
                           rows, caption="Day 0 of each campaign: the event its dataset.toml names "
                                         "(offensive_start_event), with its source."))
        self.p("How to read the charts: the line is the model's realised count since day 0 on the scale of "
               "the campaign's reference originator (named in the legend), with its 95% confidence band; the "
               "diamonds are each campaign's own three largest campaign-wide reports, at their last day. A "
               "report's window may start before day 0 and is on its originator's scale, so a diamond need "
               "not sit on the line. The reference originators may differ between campaigns, so the "
               "curves compare shapes and orders of magnitude, not one count with another. Each "
               f"campaign's full report: {', '.join(f'[{n}]({_page(n)})' for n in self.ctxs)}; all "
               f"reports: [index](../index.html).")
        for metric in self.metrics:
            self.metric(metric)
        return self.doc, self.files

    def metric(self, metric: str) -> None:
        from ..models.compare import compare, compare_totals

        ctx0 = next(iter(self.ctxs.values()))
        label = ctx0.label(metric)
        self.h(2, label)
        results = {n: r[metric].result for n, r in self.runs.items() if metric in r}
        missing = [n for n in self.ctxs if results.get(n) is None]
        if missing:
            runs = {n: self.runs.get(n, {}).get(metric) for n in missing}
            why = "; ".join(f"{n}: {(r.error if r is not None else None) or 'not fitted'}" for n, r in runs.items())
            self.p(f"{NOT_AVAILABLE}: no converged fit for {why}.", note=True)
            return
        names = list(self.ctxs)
        frame = compare(metric, names, alpha=ALPHA, results=results)
        path = f"figures/{metric}-campaigns.svg"
        self.files[path] = charts.campaigns_chart(frame, {n: n for n in names}, ctx0.unit(metric),
                                                  f"{label}: days since the offensive's start")
        self.doc.add(Figure(path, f"{label} in each campaign by days since the offensive's start",
                            f"{label}: realised count since each offensive's start with its 95% confidence "
                            f"band, and each campaign's three largest campaign-wide reports."))
        rows = []
        for day in CHECK_DAYS:
            cells = [f"day {day}"]
            for n in names:
                r = frame[(frame["dataset"] == n) & (frame["day"] == day)]
                cells.append(_estimate(r.iloc[0]) if len(r) else "campaign over")
            rows.append(cells)
        rows.append(["campaign end"] + [_estimate(frame[frame["dataset"] == n].iloc[-1]) + f" (day "
                                        f"{int(frame[frame['dataset'] == n]['day'].iloc[-1])})" for n in names])
        self.doc.add(table(["since day 0"] + names, rows,
                           caption=f"{label}: realised count since the offensive's start (reference scale, "
                                   f"95% confidence interval)."))
        tot = compare_totals(metric, names, alpha=ALPHA, results=results)
        rows = [[r.dataset, r.originator_group, fmt_int(r.figures) if r.figures else "–",
                 fmt_int(r.largest_report), _window(r.report_start, r.report_end), _interval(r.model_mean, r.model_pi_lower, r.model_pi_upper)]
                for r in tot.itertuples()]
        self.doc.add(table(["dataset", "originator group", "campaign-wide figures", "largest report",
                            "its window", "model: campaign window (95% interval)"], rows,
                           caption=f"{label}: totals per campaign and originator group. The model column is "
                                   "what the group would count over the campaign window (its coverage, a 95% "
                                   "prediction interval); the first row of each campaign is the realised count on "
                                   "the reference scale (95% confidence interval); a dash: the group is pooled "
                                   "with other small originators, so it has no scale of its own.",
                           numeric=[False, False, True, True, False, False]))


def _window(start, end) -> str:
    if pd.isna(end):
        return "–"
    return f"{fmt_date(start)} to {fmt_date(end)}" if pd.notna(start) else f"up to {fmt_date(end)} (start not stated)"


def _interval(mean, lo, hi) -> str:
    return "–" if pd.isna(mean) else f"{fmt_int(mean)} ({fmt_int(lo)}–{fmt_int(hi)})"


def _estimate(row) -> str:
    return _interval(row["cum_estimate"], row["cum_ci_lower"], row["cum_ci_upper"])


def index_document(contexts: dict[str, DataContext], comparison: bool) -> Document:
    """The page that links every report of a build (``reports/index.html``)."""
    doc = Document(title="conflictstats reports",
                   subtitle="Campaign reports built from the data shipped with the package, and their comparison")
    doc.add(Heading(2, "Campaign reports", "campaign-reports"))
    rows = [[f"[{name}]({_page(name, up=False)})", ctx.info.title, ctx.info.release,
             fmt_date(ctx.info.campaign_start), fmt_date(ctx.info.campaign_end), fmt_int(len(ctx.figures)),
             fmt_int(len(ctx.sources))] for name, ctx in contexts.items()]
    doc.add(table(["report", "campaign", "release", "campaign start", "campaign end", "figures", "documents"],
                  rows, numeric=[False, False, False, False, False, True, True]))
    if comparison:
        doc.add(Heading(2, "Comparison", "comparison"))
        doc.add(Para(f"[Campaigns compared]({_page(COMPARISON, up=False)}): each modelled metric of "
                     f"{', '.join(contexts)} on one time axis, days since each offensive's start, with the "
                     "model's intervals, each campaign's largest reports, and totals per campaign and "
                     "originator group."))
    return doc
