"""The report's content: headings, sentences, tables and charts, all built from computed numbers.

Every number in a sentence is formatted from a value computed at build time (DataContext,
ModelRun); nothing is typed in. Charts are returned alongside the document as
``{relative path: svg bytes}``.
"""

from __future__ import annotations

import pandas as pd

from . import charts
from .context import (CORE_METRICS, KEY_EVENT_KINDS, MAX_SHARED_WINDOWS, SINCE_START_DAYS, TOP_ORIGINATORS,
                      DataContext)
from .doc import (NOT_AVAILABLE, Document, Figure, Heading, Items, Para, fmt_date, fmt_int, fmt_num, fmt_pct,
                  prose, slug, table)
from .evaluation import EvaluationSections
from .fitted import Evaluation, ModelRun

HRDAG = "https://hrdag.org/2013/06/18/what-we-know-and-what-we-dont-know-about-syria/"


class Builder(EvaluationSections):
    """Assembles the Document and the chart files from a DataContext and model runs."""

    def __init__(self, ctx: DataContext, runs: dict[str, ModelRun], evaluation: Evaluation):
        self.ctx = ctx
        self.evaluation = evaluation
        self.runs = runs
        info = ctx.info
        self.doc = Document(title=info.title,
                            subtitle=f"Campaign report for dataset {info.name}, release {info.release} "
                                     f"({fmt_date(info.release_date)})")
        self.files: dict[str, bytes] = {}
        self.marks = ctx.event_marks()
        self.span = (ctx.campaign()[0] - pd.Timedelta(days=7), ctx.campaign()[1] + pd.Timedelta(days=14))

    # -- helpers ------------------------------------------------------------------------------
    def h(self, level: int, text: str) -> None:
        self.doc.add(Heading(level, text, slug(text)))

    def p(self, text: str, note: bool = False) -> None:
        self.doc.add(Para(text, note))

    def chart(self, name: str, svg: bytes, alt: str, caption: str) -> None:
        path = f"figures/{name}.svg"
        self.files[path] = svg
        self.doc.add(Figure(path, alt, caption))

    def colours(self, figs: pd.DataFrame) -> dict[str, str]:
        counts = figs["originator"].value_counts()
        ranked = sorted(counts.index, key=lambda o: (-int(counts[o]), str(o)))
        return charts.originator_colours([str(o) for o in ranked])

    # -- the document -------------------------------------------------------------------------
    def build(self) -> tuple[Document, dict[str, bytes]]:
        self.summary()
        self.overview()
        self.timeline()
        for metric in self.ctx.main_metrics:
            self.metric_section(metric)
        self.source_comparison()
        self.model_checking()
        self.methods()
        self.limitations()
        self.sources_list()
        self.performance()
        self.about()
        return self.doc, self.files

    def summary(self) -> None:
        ctx, info = self.ctx, self.ctx.info
        f = ctx.figures
        cs, ce = ctx.campaign()
        self.h(2, "Summary")
        self.p(info.description)
        self.p(f"This release holds {fmt_int(len(f))} figures on {fmt_int(f['metric'].nunique())} metrics, "
               f"reported by {fmt_int(f['originator'].nunique())} originators in "
               f"{fmt_int(len(ctx.sources))} public documents, and {fmt_int(len(ctx.events))} dated events. "
               f"The campaign window used by the models runs from {fmt_date(cs)} to {fmt_date(ce)} "
               f"({fmt_int((ce - cs).days + 1)} days)."
               + (f" {fmt_int(f['checked_on'].notna().sum())} of the figures "
                  f"({fmt_pct(100 * f['checked_on'].notna().mean(), signed=False)}) were re-read against their "
                  f"own documents by a second reader; the others' documents could not be found again "
                  f"(the dataset's SECOND-READING.md logs the reading)."
                  if "checked_on" in f else "")
               + self.audit_sentence())
        items = []
        for metric in ctx.main_metrics:
            run = self.runs.get(metric)
            n = int((f["metric"] == metric).sum())
            text = f"{ctx.label(metric)}: {fmt_int(n)} reported figures"
            tot = run.total if run is not None else None
            if tot is not None:
                text += (f"; modelled total over the campaign {fmt_int(tot['cum_estimate'])} "
                         f"(95% confidence interval {fmt_int(tot['cum_ci_lower'])}–"
                         f"{fmt_int(tot['cum_ci_upper'])}) on the scale of {run.reference}")
                if run.reference_report:
                    text += f"; {run.reference_report}"
                if run.selfcheck:
                    text += f" — but {run.selfcheck}"
            items.append(text + ".")
        self.doc.add(Items(tuple(items)))
        self.p("Modelled totals are on the scale of one reference originator's documented count; they "
               "are not estimates of the true number (see Limitations).", note=True)
        self.p(f"Cite as: {info.citation()}")

    def audit_sentence(self) -> str:
        """The latest audit's error rate, as the dataset's audit record states it."""
        from ..audit import latest_audit

        audit = latest_audit(self.ctx.info.path)
        if audit is None:
            return " No independent audit of the figures is recorded yet."
        of = f", of release {audit.release}" if audit.release else ""
        return (f" The latest independent audit ({audit.file}, {fmt_date(audit.date)}{of}) re-read a random draw of "
                f"figures against their documents and found an error in {fmt_int(audit.errors)} of the "
                f"{fmt_int(audit.checked)} it could re-find ({fmt_pct(100 * audit.rate, signed=False)}).")

    def overview(self) -> None:
        ctx = self.ctx
        self.h(2, "Dataset overview")
        pm = ctx.per_metric()
        self.doc.add(table(
            ["metric", "unit", "figures", "flow", "stock", "incident", "documents", "originators",
             "first day", "last day"],
            [[r["label"], r["unit"], fmt_int(r["figures"]), fmt_int(r["flow"]), fmt_int(r["stock"]),
              fmt_int(r["incident"]), fmt_int(r["sources"]), fmt_int(r["originators"]),
              fmt_date(r["first"]), fmt_date(r["last"])] for _, r in pm.iterrows()],
            caption="Figures per metric. Flow: a total over a window; stock: a level on a day; "
                    "incident: one event on one day.",
            numeric=[False, False] + [True] * 6 + [False, False]))
        po = ctx.per_originator()
        top = po.head(TOP_ORIGINATORS)
        rest = po.iloc[TOP_ORIGINATORS:]
        cap = f"Figures per originator (who produced the count), the {fmt_int(len(top))} with most figures."
        if len(rest):
            cap += (f" {fmt_int(len(rest))} more originators reported {fmt_int(rest['figures'].sum())} "
                    f"figures between them.")
        self.doc.add(table(["originator", "type", "figures", "metrics", "documents"],
                           [[r["originator"], r["type"], fmt_int(r["figures"]), fmt_int(r["metrics"]),
                             fmt_int(r["sources"])] for _, r in top.iterrows()],
                           caption=cap, numeric=[False, False, True, True, True]))
        months = ctx.per_month()
        labels = {m: ctx.label(m) for m in ctx.modelled_metrics}
        self.doc.add(table(["month"] + [labels[m] for m in ctx.modelled_metrics] + ["all metrics"],
                           [[r["month"]] + [fmt_int(r[m]) for m in ctx.modelled_metrics] + [fmt_int(r["all"])]
                            for _, r in months.iterrows()],
                           caption="Figures per month of the last day they cover.",
                           numeric=[False] + [True] * (len(ctx.modelled_metrics) + 1)))
        self.chart("overview-months", charts.months_chart(months, labels, "Figures per month"),
                   "Bar chart of the number of figures per month, per main metric and in all",
                   "Figures per month of the last day they cover.")
        for column, what in (("publisher_type", "publisher type"), ("doc_type", "document type")):
            t = ctx.sources_by(column)
            self.doc.add(table([what, "documents", "with figures"],
                               [[r[column], fmt_int(r["sources"]), fmt_int(r["with_figures"])]
                                for _, r in t.iterrows()],
                               caption=f"Documents by {what}.", numeric=[False, True, True]))
        info = ctx.info
        self.p(f"Data release {info.release} of {fmt_date(info.release_date)}; fingerprint (SHA-256 of "
               f"the release's {ctx.sums_file} file): `{ctx.fingerprint}`. License {info.license}.")
        self.doc.add(table(["file", "SHA-256"], [[n, f"`{h}`"] for n, h in ctx.file_hashes()],
                           caption="The table files this report was built from."))

    def timeline(self) -> None:
        ctx = self.ctx
        self.h(2, "Campaign timeline")
        ev = ctx.sorted_events()
        nums = dict(zip(ctx.numbered_sources()["source_id"], ctx.numbered_sources()["number"]))
        key = ev[ev["kind"].astype(str).isin(KEY_EVENT_KINDS)]
        self.p(f"The events table holds {fmt_int(len(ev))} dated events from {fmt_date(ev['date'].min())} "
               f"to {fmt_date(ev['date'].max())}. On every time axis of this report each event date is a "
               f"vertical line; the {fmt_int(len(key))} events of the kinds that can change the trend "
               f"({', '.join(k.replace('_', ' ') for k in KEY_EVENT_KINDS)}) are solid lines, labelled "
               f"once per episode; other events are dotted.")
        self.doc.add(table(["date", "kind", "place", "what happened", "source"],
                           [[fmt_date(r["date"]), str(r["kind"]).replace("_", " "), r["place"],
                             r["description"], f"[{nums.get(r['source_id'], '?')}]"]
                            for _, r in ev.iterrows()],
                           caption="The campaign's dated events; the source number refers to the "
                                   "list of documents at the end."))

    def metric_section(self, metric: str) -> None:
        ctx = self.ctx
        label, unit = ctx.label(metric), ctx.unit(metric)
        figs = ctx.of_metric(metric)
        self.h(2, label)
        q = ctx.qualifiers(metric)
        hedged = int(sum(q.get(k, 0) for k in charts.LOWER_MARK + charts.UPPER_MARK))
        kinds = figs["count_type"].astype(str).value_counts()
        self.p(f"{fmt_int(len(figs))} figures ({fmt_int(kinds.get('flow', 0))} flow, "
               f"{fmt_int(kinds.get('incident', 0))} incident, {fmt_int(kinds.get('stock', 0))} stock) from "
               f"{fmt_int(figs['source_id'].nunique())} documents and {fmt_int(figs['originator'].nunique())} "
               f"originators; {fmt_int(hedged)} are hedged (\"at least\", \"more than\", \"up to\", "
               f"\"almost\"), {fmt_int(q.get('approximately', 0))} approximate, {fmt_int(q.get('range', 0))} "
               f"ranges and {fmt_int(figs['period_start'].isna().sum())} give no start date.")
        colours = self.colours(figs)
        zero = int((figs["value"].astype(float) <= 0).sum())
        cap = ("Each reported figure as a bar from the first to the last day it covers, at its value "
               "(log scale), coloured by originator; a triangle marks a lower (▲) or upper (▼) bound, "
               "a hollow circle a figure without a start date.")
        if zero:
            cap += f" {fmt_int(zero)} figures of zero are not drawn on the log scale."
        self.chart(f"{metric}-windows",
                   charts.windows_chart(figs, colours, self.marks, self.span, f"{unit} (as reported)",
                                        f"{label}: reported figures and their windows"),
                   f"{label}: reported figures drawn as windows over time", cap)
        run = self.runs.get(metric)
        self.h(3, f"{label}: model estimates")
        if run is None:
            why = ("model fits are limited to the core metrics "
                   f"({', '.join(ctx.label(m) for m in CORE_METRICS)}) to keep the build fast"
                   if metric not in ctx.modelled_metrics else "models were switched off for this build")
            self.p(f"{NOT_AVAILABLE}: {why}.", note=True)
            return
        if run.error:
            self.p(f"{NOT_AVAILABLE}: {run.error}.", note=True)
            return
        tot = run.total
        cs, ce = ctx.campaign()
        self.p(f"The model used {fmt_int(run.nobs)} observations and set aside {fmt_int(run.n_excluded)} "
               f"figures (stocks, incidents, areas outside the campaign area; see Methods). Its reference "
               f"originator, whose coverage is fixed at 1, is {run.reference}. Over {fmt_date(cs)} to "
               f"{fmt_date(ce)} it estimates {fmt_int(tot['cum_estimate'])} {unit} on that originator's "
               f"scale (95% confidence interval {fmt_int(tot['cum_ci_lower'])}–{fmt_int(tot['cum_ci_upper'])}; "
               f"the realised count, which the model holds as a latent series, so no separate "
               f"prediction interval). "
               + ("The fit converged." if run.converged else "The fit did NOT converge: read these numbers "
                  "with care."))
        rt = run.reference_total
        if rt:
            self.p(f"What {run.reference} itself would report for the whole campaign, given every figure "
                   f"reported, is {fmt_int(rt['mean'])} {unit} (95% prediction interval "
                   f"{fmt_int(rt['pi_lower'])}–{fmt_int(rt['pi_upper'])}): the realised count with "
                   f"{run.reference}'s own report error.")
        if rt and not rt.get("identified", True):
            self.p("The campaign total is not identified from the reports: its 95% prediction "
                   "interval spans more than a factor of ten, so no total is stated.", note=True)
        if run.reference_report:
            self.p(f"Check against the data: {run.reference_report}.")
        if run.selfcheck:
            self.p(f"Warning: {run.selfcheck}.", note=True)
        if run.warnings:
            self.p("Model warnings: " + "; ".join(run.warnings), note=True)
        d = run.daily
        peak = d.loc[d["estimate"].idxmax()]
        self.p(f"The estimated daily number peaks at {fmt_num(peak['estimate'], 1)} {unit} per day on "
               f"{fmt_date(peak['date'])} (95% confidence interval {fmt_num(peak['ci_lower'], 1)}–"
               f"{fmt_num(peak['ci_upper'], 1)}).")
        f = figs[(figs["count_type"] == "flow") & figs["period_start"].notna()]
        reported = f[((f["period_start"] - cs).dt.days.abs() <= SINCE_START_DAYS)]
        self.chart(f"{metric}-model",
                   charts.fitted_chart(d, reported, colours, self.marks, self.span, unit, run.reference,
                                       f"{label}: model estimates with 95% intervals"),
                   f"{label}: estimated daily and cumulative numbers with 95% bands",
                   f"Top: estimated {unit} per day; bottom: cumulative from {fmt_date(cs)}, with 95% "
                   f"confidence (dark) and prediction (light) bands, on the scale of {run.reference}. Dots: "
                   f"running totals reported since the campaign start ({fmt_int(len(reported))} figures "
                   f"starting within {SINCE_START_DAYS} days of it), each on its own originator's scale.")
        self.trend(run, label)
        cc = run.crosscheck
        if cc:
            near = cc["days_to_nearest_modelled_break"]
            self.p(f"Cross-checks on the fitted daily series: a local linear trend "
                   f"(statsmodels UnobservedComponents) runs from {fmt_num(cc['uc_level_first_week'], 1)} to "
                   f"{fmt_num(cc['uc_level_last_week'], 1)} {unit} per day over the first and last weeks (the "
                   f"model: {fmt_num(cc['model_first_week'], 1)} and {fmt_num(cc['model_last_week'], 1)}); the "
                   f"best single changepoint is {cc['changepoint']} (it removes "
                   f"{fmt_pct(100 * cc['changepoint_rss_share'], signed=False)} of a straight line's squared error"
                   + (f", {near} days from the nearest modelled breakpoint" if near is not None else "")
                   + f"); the CUSUM test of one straight trend gives p = {cc['cusum_p_value']:.3f}.")

    def trend(self, run: ModelRun, label: str) -> None:
        t = run.trend
        if t is None or not len(t):
            self.p(f"{NOT_AVAILABLE}: no trend table.", note=True)
            return
        rows = []
        for _, r in t.iterrows():
            def ci(prefix: str) -> str:
                if f"{prefix}_ci_lower" not in r or pd.isna(r.get(f"{prefix}_ci_lower")):
                    return "–"
                return f"{fmt_pct(r[f'{prefix}_ci_lower'])} to {fmt_pct(r[f'{prefix}_ci_upper'])}"
            rows.append([fmt_date(r["breakpoint"]), r["event"],
                         fmt_pct(r.get("growth_before_pct")), ci("growth_before"),
                         fmt_pct(r.get("growth_after_pct")), ci("growth_after"),
                         fmt_pct(r.get("jump_pct")), ci("jump")])
        self.doc.add(table(["breakpoint", "event", "weekly growth before", "95% CI", "weekly growth after",
                            "95% CI", "jump at the break", "95% CI"], rows,
                           caption=f"{label}: trend per segment. Growth is the change in the daily "
                                   f"number per week; the jump is the step change on the breakpoint day.",
                           numeric=[False, False] + [True] * 6))

    def source_comparison(self) -> None:
        ctx = self.ctx
        self.h(2, "Source comparison")
        self.p("Originators differ in what they count (verified deaths only, all deaths, people or "
               "displacement movements) and in how much they see. The model gives each originator a "
               "coverage factor relative to the reference: 0.5 means it documents half as many as the "
               "reference over the same window.")
        for metric in ctx.modelled_metrics:
            run = self.runs.get(metric)
            label = ctx.label(metric)
            self.h(3, f"{label}: coverage by originator")
            if run is None or run.error or run.coverage is None:
                why = run.error if run is not None and run.error else "this metric was not modelled"
                self.p(f"{NOT_AVAILABLE}: {why}.", note=True)
                continue
            cov = run.coverage
            self.doc.add(table(
                ["originator (coverage group)", "observations", "log coverage", "95% CI", "ratio", "95% CI"],
                [[r["group"] + (" (reference)" if r["reference"] else ""), fmt_int(r["n_obs"]),
                  fmt_num(r["log_coverage"]), f"{fmt_num(r['ci_lower'])} to {fmt_num(r['ci_upper'])}",
                  fmt_num(r["ratio"]), f"{fmt_num(r['ratio_ci_lower'])} to {fmt_num(r['ratio_ci_upper'])}"]
                 for _, r in cov.iterrows()],
                caption=f"{label}: log coverage of each originator relative to {run.reference}.",
                numeric=[False, True, True, False, True, False]))
            self.chart(f"{metric}-coverage", charts.coverage_chart(cov, f"{label}: coverage relative to "
                                                                   f"{run.reference}"),
                       f"{label}: coverage ratio of each originator with 95% intervals",
                       f"Coverage ratio to {run.reference} (square) with 95% intervals.")
        shared = ctx.shared_windows(ctx.modelled_metrics)
        self.h(3, "The same window, different originators")
        if not len(shared):
            self.p("No window (same metric, first and last day) was reported by two or more originators.")
            return
        shared = shared.assign(window=[f"{ctx.label(m)}, {fmt_date(a)} to {fmt_date(b)}" for m, a, b in
                                       zip(shared["metric"], shared["period_start"], shared["period_end"])])
        n_windows = shared["window"].nunique()
        n_all = len(shared)
        shared = shared[shared["rank"] < MAX_SHARED_WINDOWS]
        self.p(f"For {', '.join(ctx.label(m) for m in ctx.modelled_metrics)}, {fmt_int(n_windows)} windows "
               f"(same first and last day) were reported by two or more originators ({fmt_int(n_all)} "
               f"figures); the {fmt_int(shared['window'].nunique())} with most originators are shown. Where "
               f"the same window gives different numbers, the spread shows how much the choice of source "
               f"matters.")
        self.doc.add(table(["window", "originator", "value", "qualifier", "document"],
                           [[r["window"], r["originator"], fmt_int(r["value"]), r["qualifier"],
                             r["source_id"]] for _, r in shared.iterrows()],
                           caption="Figures for windows reported by several originators.",
                           numeric=[False, False, True, False, False]))
        self.chart("shared-windows", charts.shared_windows_chart(shared, self.colours(shared),
                                                                 "Same window, different originators"),
                   "Dot chart of the values different originators reported for the same windows",
                   "One row per window; one dot per originator's figure (log scale).")

    def methods(self) -> None:
        self.h(2, "Methods")
        for text in prose("methods"):
            self.p(text)

    def limitations(self) -> None:
        self.h(2, "Limitations")
        for text in prose("limitations", hrdag=HRDAG):
            self.p(text)

    def sources_list(self) -> None:
        ctx = self.ctx
        s = ctx.numbered_sources()
        self.h(2, "Sources")
        used = int((s["n_figures"] > 0).sum())
        self.p(f"All {fmt_int(len(s))} documents of the dataset, numbered by publication date "
               f"({fmt_int(used)} contribute figures, the others events or context). Each entry: "
               f"publisher, date, title, and how many figures and events it gives.")
        items = []
        for _, r in s.iterrows():
            title = str(r["title"]).replace("[", "(").replace("]", ")")
            items.append(f"{r['publisher']}, {fmt_date(r['published'])}: [{title}]({r['url']}) "
                         f"({r['doc_type'].replace('_', ' ')}, {r['language']}; {fmt_int(r['n_figures'])} "
                         f"figures, {fmt_int(r['n_events'])} events; id `{r['source_id']}`)")
        self.doc.add(Items(tuple(items), ordered=True))

    def about(self) -> None:
        from importlib import metadata

        self.h(2, "About this report")
        versions = []
        for dist in ("conflictstats", "numpy", "pandas", "scipy", "statsmodels", "matplotlib", "pyarrow"):
            try:
                versions.append(f"{dist} {metadata.version(dist)}")
            except metadata.PackageNotFoundError:
                versions.append(f"{dist} (not installed)")
        self.p(f"Generated by `conflictstats report --dataset {self.ctx.info.name}` from the data "
               f"release above; never edited by hand. Rebuilding with the same data and library "
               f"versions gives byte-identical files. Built with {', '.join(versions)}.")
