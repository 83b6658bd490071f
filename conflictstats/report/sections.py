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
from .doc import (Document, Figure, Heading, Items, Para, fmt_date, fmt_int, fmt_num, fmt_pct,
                  slug, table)
from .fitted import (BENCHMARK, PERFORMANCE, ModelRun, performance_benchmark, performance_benchmark_machine,
                     recorded_backtests, simulation_benchmark, simulation_bootstrap)

NOT_AVAILABLE = "Not available in this build"
HRDAG = "https://hrdag.org/2013/06/18/what-we-know-and-what-we-dont-know-about-syria/"


class Builder:
    """Assembles the Document and the chart files from a DataContext and model runs."""

    def __init__(self, ctx: DataContext, runs: dict[str, ModelRun], backtest_done: bool):
        self.ctx = ctx
        self.runs = runs
        self.backtest_done = backtest_done
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
               f"({fmt_int((ce - cs).days + 1)} days).")
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
               f"95% prediction interval for the realised count {fmt_int(tot['cum_pi_lower'])}–"
               f"{fmt_int(tot['cum_pi_upper'])}). "
               + ("The fit converged." if run.converged else "The fit did NOT converge: read these numbers "
                  "with care."))
        rt = run.reference_total
        if rt:
            self.p(f"That realised total is a latent quantity: it leaves out {run.reference}'s own "
                   f"recording noise, which the model separates only weakly from the noise every source "
                   f"shares. What {run.reference} itself would count for the whole campaign, given every "
                   f"figure reported, is {fmt_int(rt['mean'])} {unit} (95% confidence interval "
                   f"{fmt_int(rt['ci_lower'])}–{fmt_int(rt['ci_upper'])}; 95% prediction interval "
                   f"{fmt_int(rt['pi_lower'])}–{fmt_int(rt['pi_upper'])}).")
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

    def model_checking(self) -> None:
        ctx = self.ctx
        self.h(2, "Model checking")
        self.simulation()
        self.h(3, "Leave-one-document-out backtest on the real figures")
        self.p("Leave-one-document-out backtest: every document's figures are removed in turn, the model "
               "is refitted on the rest, and the removed figures are predicted for their originator and "
               "window. The same figures are predicted by two naive baselines: carrying the originator's "
               "nearest earlier total forward (scaled by window length), and interpolating linearly "
               "between reported totals. Good intervals cover about as often as they claim; a lower "
               "interval score is better.")
        recorded = {}
        if not self.backtest_done:
            docs = [f"{fmt_int(ctx.flow_documents(m))} for {ctx.label(m).lower()}" for m in ctx.modelled_metrics]
            recorded = {m: v["backtest"] for m, v in (recorded_backtests() or {}).items()
                        if isinstance(v, dict) and isinstance(v.get("backtest"), dict)}
            self.p(f"The backtest refits the model once per document that contributes flow figures "
                   f"({', '.join(docs)}), which takes far longer than this report's build budget. "
                   + (f"The scores below are read from `{BENCHMARK}` (written by `python benchmarks/bench_models.py`), "
                      f"not recomputed at build time; rerun them with `conflictstats backtest --metric M`."
                      if recorded else f"{NOT_AVAILABLE}: run `conflictstats backtest --metric M`."), note=True)
            if not recorded:
                return
        rows, points = [], []
        names = {"model": None, "carry forward": "baseline_carry_forward", "interpolate": "baseline_interpolate"}
        for metric in ctx.modelled_metrics:
            run = self.runs.get(metric)
            bt = recorded.get(metric) if not self.backtest_done else (run.backtest if run is not None else None)
            if bt is None:
                why = ((run.backtest_error or run.error) if run is not None else "not modelled") or "not recorded"
                rows.append([ctx.label(metric), "–", "–", "–", "–", "–", f"{NOT_AVAILABLE}: {why}"])
                continue
            for method, key in names.items():
                s = bt if key is None else bt.get(key, {})
                rows.append([ctx.label(metric), method, fmt_int(bt.get("n_held_out")),
                             fmt_num(s.get("coverage_80")), fmt_num(s.get("coverage_95")),
                             fmt_num(s.get("median_abs_log_ratio")), fmt_num(s.get("interval_score"), 1)])
                for nominal, k in ((0.80, "coverage_80"), (0.95, "coverage_95")):
                    if s.get(k) is not None:
                        points.append({"metric": ctx.label(metric), "method": method, "nominal": nominal,
                                       "observed": float(s[k])})
        self.doc.add(table(["metric", "method", "held-out figures", "80% coverage", "95% coverage",
                            "median abs. log ratio", "interval score"], rows,
                           caption="Backtest scores: the model against the naive baselines on the same "
                                   "held-out figures.",
                           numeric=[False, False, True, True, True, True, True]))
        self.backtest_by_window(recorded)
        self.dispersion_sensitivity()
        if points:
            self.chart("calibration-backtest", charts.calibration_chart(pd.DataFrame(points), "Calibration (backtest)"),
                       "Calibration plot: nominal against observed coverage of prediction intervals",
                       "Observed coverage of the 80% and 95% prediction intervals on held-out figures; "
                       "points on the dashed diagonal are perfectly calibrated.")

    def backtest_by_window(self, recorded: dict) -> None:
        """The backtest split into short tallies and longer windows (recorded runs only)."""
        rows = []
        for metric in self.ctx.modelled_metrics:
            bw = (recorded.get(metric) or {}).get("by_window") or {}
            for part, sub in sorted(bw.items(), reverse=True):  # longer windows first
                label = part.replace("_", " ")
                if not sub or not sub.get("n_held_out"):
                    continue
                m, cf = sub.get("model", {}), sub.get("baseline_carry_forward", {})
                rows.append([self.ctx.label(metric), label, fmt_int(sub["n_held_out"]),
                             fmt_num(m.get("coverage_80")), fmt_num(m.get("coverage_95")),
                             fmt_num(m.get("median_abs_log_ratio"), 3),
                             fmt_num(cf.get("median_abs_log_ratio"), 3)])
        if not rows:
            return
        self.p("A median over every held-out figure mixes two kinds of figure: tallies of a single "
               "notable day or two, and totals over weeks or months. Split, the model's median error "
               "and coverage read as follows (same recorded run).")
        self.doc.add(table(["metric", "held-out figures", "n", "80% coverage", "95% coverage",
                            "median abs. log ratio (model)", "(carry forward)"], rows,
                           caption="Backtest scores by window length.",
                           numeric=[False, False, True, True, True, True, True]))

    def dispersion_sensitivity(self) -> None:
        """Campaign totals with the day-to-day dispersion held at a quarter and four times its
        estimate (recorded by ``benchmarks/bench_models.py``)."""
        rec = recorded_backtests() or {}
        rows = []
        for metric in self.ctx.modelled_metrics:
            sens = (rec.get(metric) or {}).get("dispersion_sensitivity_2019-04-29_2019-08-29")
            if not sens:
                continue
            for r in sens:
                rows.append([self.ctx.label(metric), fmt_num(r.get("factor"), 2),
                             fmt_int(r.get("mean")),
                             f"{fmt_int(r.get('ci_lower'))}–{fmt_int(r.get('ci_upper'))}",
                             f"{fmt_int(r.get('pi_lower'))}–{fmt_int(r.get('pi_upper'))}",
                             "yes" if r.get("converged") else "no"])
        if not rows:
            return
        self.h(3, "Sensitivity to the day-to-day dispersion")
        self.p("Window totals say little about how much single days vary, so the shared day-to-day "
               "overdispersion is weakly identified. Refitting with it held at a quarter and at four "
               "times its estimate shows how much the realised total for 29 April to 29 August (on the "
               f"reference originator's scale) depends on it. Read from `{BENCHMARK}`.")
        self.doc.add(table(["metric", "dispersion × estimate", "total", "95% CI", "95% PI", "converged"],
                           rows, caption="Realised total, 29 April to 29 August 2019, under other "
                                         "day-to-day dispersions.",
                           numeric=[False, True, True, False, False, False]))

    def simulation(self) -> None:
        """Calibration on synthetic campaigns with known truth, from the recorded benchmark run."""
        self.h(3, "Calibration on synthetic campaigns")
        sim = simulation_benchmark()
        if sim is None:
            self.p(f"{NOT_AVAILABLE}: no recorded simulation run ({BENCHMARK} of a source checkout).", note=True)
            return
        self.p(f"On synthetic campaigns with a known truth (built to look like the real reporting: "
               f"running totals, several originators with different coverage, hedged and rounded "
               f"numbers), the model was fitted {fmt_int(sim.get('runs'))} times (seed "
               f"{sim.get('seed', '–')}; {fmt_int(sim.get('n_converged'))} fits converged) and predicted "
               f"{fmt_int(sim.get('n_held_out'))} held-out figures. These numbers are read from `{BENCHMARK}` "
               f"(written by `python benchmarks/bench_models.py`), not recomputed at build time: the run "
               f"takes about {fmt_int(sim.get('seconds'))} seconds. The 95% interval for the campaign total "
               f"covered the truth in {fmt_num(sim.get('total_coverage_95'))} of runs (relative bias "
               f"{fmt_pct(100 * sim['total_rel_bias'] if sim.get('total_rel_bias') is not None else None, 2)}); "
               f"the intervals of the break parameters covered in {fmt_num(sim.get('break_coverage_95'))}.")
        boot = simulation_bootstrap()
        if boot:
            self.p(f"Parametric bootstrap against the Wald intervals: on {fmt_int(boot.get('runs'))} of "
                   f"these campaigns, with {fmt_int(boot.get('bootstrap_replicates'))} refits each, "
                   f"percentile intervals of the break parameters covered in "
                   f"{fmt_num(boot.get('break_coverage_95_bootstrap'))} and the Wald intervals in "
                   f"{fmt_num(boot.get('break_coverage_95'))}; the report shows the Wald intervals.")
        methods = {"model": sim, "carry forward": sim.get("baseline_carry_forward", {}),
                   "interpolate": sim.get("baseline_interpolate", {})}
        rows, points = [], []
        for method, s in methods.items():
            rows.append([method, fmt_num(s.get("coverage_80")), fmt_num(s.get("coverage_95")),
                         fmt_num(s.get("median_abs_log_ratio"), 3), fmt_num(s.get("interval_score"), 1)])
            for nominal, k in ((0.80, "coverage_80"), (0.95, "coverage_95")):
                if s.get(k) is not None:
                    points.append({"metric": "synthetic campaigns", "method": method, "nominal": nominal,
                                   "observed": float(s[k])})
        self.doc.add(table(["method", "80% coverage", "95% coverage", "median abs. log ratio",
                            "interval score"], rows,
                           caption="Held-out figures of synthetic campaigns: the model against the naive "
                                   "baselines.", numeric=[False, True, True, True, True]))
        self.chart("calibration", charts.calibration_chart(pd.DataFrame(points), "Calibration (synthetic campaigns)"),
                   "Calibration plot: nominal against observed coverage of prediction intervals",
                   "Observed coverage of the 80% and 95% prediction intervals on held-out figures of "
                   "synthetic campaigns; points on the dashed diagonal are perfectly calibrated.")

    def methods(self) -> None:
        self.h(2, "Methods")
        for text in (
            "Every figure is kept exactly as its document gave it: the number, its window (first and last "
            "day), its qualifier (\"at least\", \"about\", ...), the area and the originator who counted "
            "it. Nothing in the curated tables is estimated or smoothed.",
            "The model (conflictstats.models) treats each originator's figures as counts over windows of "
            "an unknown daily series. The daily number follows a log-linear trend that may bend and jump "
            "on the dates of key events (an offensive's start, truces and their collapse first, then "
            "reported escalations; at most four, each needing reported window boundaries on both sides). "
            "A figure's expected value is the sum of the daily numbers over its window, times the "
            "originator's coverage factor. Running totals reported again and again from one start date "
            "are kept as totals, and the model knows that a later total repeats every day of an earlier "
            "one: figures whose windows overlap, or that count the same days from different sources, are "
            "dependent, with day-to-day overdispersion, each originator's own recording noise (tallies "
            "of one to three days, reported because the day was notable, have their own), a slow "
            "drift of an originator's reports, and a per-report error with heavy (Student-t) tails so "
            "that a figure whose window was misread does not distort the rest. \"At least\" and \"up to\" "
            "figures are read as the round number they are floored or raised to, and \"about\" figures "
            "as bands of the rounding they imply, not as exact numbers.",
            "The trend is fitted like a generalised linear model: the mean by generalised least squares "
            "with the covariance held at the current estimate, the dispersions by restricted maximum "
            "likelihood, alternately until both settle. Confidence intervals come from the estimate's "
            "information matrix (delta method); prediction intervals add the day-to-day, recording and "
            "report noise a single figure carries, given every other figure.",
            "Only flow figures (totals over a window) in the campaign area enter the model; stocks, "
            "single incidents, figures for other areas and governorate series too short to calibrate are "
            "set aside, with the reason, and counted in each section.",
            "The backtest removes one document at a time, so a document's own figures never help predict "
            "themselves, and compares the model with two naive baselines on exactly the same figures.",
        ):
            self.p(text)

    def limitations(self) -> None:
        self.h(2, "Limitations")
        for text in (
            "Documented counts are not true totals. Every number here, reported or modelled, is what "
            "some organisation managed to document; deaths and displacements that nobody recorded are "
            "missing from all of them, and the missing share changes with access, fighting and time. "
            f"Statisticians who study casualty records ([HRDAG]({HRDAG})) show that such counts can "
            "mislead about both levels and trends unless the undocumented part is estimated separately "
            "(for example by multiple systems estimation on matched lists of named victims), which these "
            "aggregate figures cannot support.",
            "Modelled totals are on the scale of one reference originator. Coverage factors say how "
            "originators compare with each other, not with the truth.",
            "Sources copy each other (news reports quoting a monitor's toll), revise themselves and "
            "sometimes count different things under one name (people against displacement movements, "
            "civilians against all deaths). The tables keep the originator apart from the publisher to "
            "limit double counting, but cannot rule it out.",
            "Breakpoints are fixed at event dates chosen from the events table (at most four, by kind "
            "and date); a trend change that did not coincide with a chosen event is smoothed over, and "
            "the day-to-day noise then absorbs it, which widens every interval.",
            "The model's noise has several parts (shared day-to-day, each originator's own, slow drift "
            "of an originator's reports, single-report errors) that window totals separate only weakly; "
            "for civilians killed the own noise of the long-running series comes out large, so the "
            "realised total on the reference scale has a wide interval even where sources agree.",
        ):
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

    def performance(self) -> None:
        """Appendix: measured speed and memory, each against a plain baseline (benchmarks/run.py)."""
        self.h(2, "Appendix: speed and memory")
        b = performance_benchmark()
        if not b:
            self.p(f"{NOT_AVAILABLE}: no recorded measurements ({PERFORMANCE}; run "
                   "`python benchmarks/run.py`).", note=True)
            return
        items = []
        c = b.get("cold_start")
        if c:
            items.append(f"Cold start, `import conflictstats; load('figures')` in a fresh process: "
                         f"{fmt_num(c['conflictstats_load_s'], 2)} s against {fmt_num(c['pandas_read_parquet_s'], 2)} s "
                         f"for `pandas.read_parquet` of the same file (ratio {fmt_num(c['ratio'], 2)}; "
                         f"median of {c['runs']} runs).")
        for key, v in sorted((k, v) for k, v in (b.get("validation") or {}).items() if isinstance(v, dict)):
            items.append(f"Validating {fmt_int(v['rows'])} figures rows: {fmt_num(v['schema_s'], 1)} s "
                         f"({fmt_int(v['schema_rows_per_s'])} rows/s, peak memory {fmt_int(v['peak_rss_schema_mb'])} MB) "
                         f"against {fmt_num(v['plain_pandas_s'], 1)} s for a hand-written vectorised pandas check "
                         f"of the same rules (ratio {fmt_num(v['ratio'], 2)}).")
        for metric, v in sorted((b.get("models") or {}).get("fit", {}).items()):
            items.append(f"Model fit, {self.ctx.label(metric)}: {fmt_num(v['seconds'], 1)} s"
                         + (f" ({v['error']})" if v.get("error") else "") + ".")
        sc = b.get("scale") or {}
        if sc.get("available"):
            items.append(f"Fit time grows with the number of figures with exponent "
                         f"{fmt_num(sc['loglog_exponent'], 2)} (log-log fit over "
                         f"{', '.join(fmt_int(r['figures']) for r in sc['runs'])} figures).")
        r = b.get("report") or {}
        if r.get("available"):
            items.append(f"This report: {fmt_num(r['report_s'], 1)} s, against {fmt_num(r['import_libraries_s'], 1)} s "
                         f"to import the libraries it uses (ratio {fmt_num(r['ratio'], 1)}).")
        self.doc.add(Items(tuple(items)))
        self.p(f"Read from `{PERFORMANCE}` (written by `python benchmarks/run.py`) on a "
               f"{(performance_benchmark_machine() or {}).get('cpus', '?')}-core machine; not measured at build time.",
               note=True)

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
