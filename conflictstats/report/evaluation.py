"""The report's sections that quote recorded evaluation results (an explicit input of the build).

The simulation, the real-data backtests, the dispersion sensitivity and the speed measurements
take minutes, far beyond the build budget, so they are read from the evaluation file given to
``conflictstats report --evaluation`` (by default the dataset's own ``evaluation.json``), never
from the checkout: an installed wheel and a checkout build the same report from the same file.
"""

from __future__ import annotations

import pandas as pd

from . import charts
from .doc import NOT_AVAILABLE, Items, fmt_int, fmt_num, fmt_pct, table
from .fitted import Evaluation

SENSITIVITY = "dispersion_sensitivity_"  # + "<start>_<end>": the key bench_models.py records


class EvaluationSections:
    """Model checking and the speed appendix; mixed into the report's Builder."""

    evaluation: Evaluation

    def model_checking(self) -> None:
        ctx = self.ctx
        self.h(2, "Model checking")
        missing = self.unrecorded()
        if missing:
            self.p(f"Not recorded for dataset {ctx.info.name} in `{self.evaluation.name}`: "
                   f"{'; '.join(missing)}. The sections below say so where they would quote them; "
                   "no number is borrowed from another dataset's runs.", note=True)
        self.simulation()
        self.h(3, "Leave-one-document-out backtest on the real figures")
        self.p("Leave-one-document-out backtest: every document's figures are removed in turn, the model "
               "is refitted on the rest, and the removed figures are predicted for their originator and "
               "window. The same figures are predicted by two naive baselines: carrying the originator's "
               "nearest earlier total forward (scaled by window length), and interpolating linearly "
               "between reported totals. Good intervals cover about as often as they claim; a lower "
               "interval score is better.")
        docs = [f"{fmt_int(ctx.flow_documents(m))} for {ctx.label(m).lower()}" for m in ctx.modelled_metrics]
        recorded = {m: v["backtest"] for m, v in (self.evaluation.backtests() or {}).items()
                    if isinstance(v, dict) and isinstance(v.get("backtest"), dict)}
        self.p(f"The backtest refits the model once per document that contributes flow figures "
               f"({', '.join(docs)}), which takes far longer than this report's build budget. "
               + (f"The scores below are read from `{self.evaluation.name}` (written by `python benchmarks/bench_models.py`), "
                  f"not recomputed at build time; rerun them with `conflictstats backtest --metric M`."
                  if recorded else f"{NOT_AVAILABLE}: run `conflictstats backtest --metric M`."), note=True)
        if not recorded:
            return
        rows, points = [], []
        names = {"model": None, "carry forward": "baseline_carry_forward", "interpolate": "baseline_interpolate"}
        for metric in ctx.modelled_metrics:
            run = self.runs.get(metric)
            bt = recorded.get(metric)
            if bt is None:
                why = (run.error if run is not None else "not modelled") or "not recorded"
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
        self.forecast()
        self.dispersion_sensitivity()
        if points:
            self.chart("calibration-backtest", charts.calibration_chart(pd.DataFrame(points), "Calibration (backtest)"),
                       "Calibration plot: nominal against observed coverage of prediction intervals",
                       "Observed coverage of the 80% and 95% prediction intervals on held-out figures; "
                       "points on the dashed diagonal are perfectly calibrated.")

    def unrecorded(self) -> list[str]:
        """The recorded runs this dataset's evaluation file lacks, in plain words."""
        ev, out = self.evaluation, []
        if ev.simulation() is None:
            out.append("the calibration on synthetic campaigns (python benchmarks/bench_models.py)")
        rec = ev.backtests() or {}
        for key, what in (("backtest", "leave-one-document-out backtest"), ("backtest_forecast", "real-time backtest")):
            lacking = [self.ctx.label(m).lower() for m in self.ctx.modelled_metrics
                       if not isinstance((rec.get(m) or {}).get(key), dict)]
            if lacking:
                out.append(f"the {what} of {', '.join(lacking)}")
        if not ev.performance_benchmark():
            out.append("the speed and memory measurements (python benchmarks/run.py)")
        return out

    def forecast(self) -> None:
        """The real-time backtest: fit on what was published up to each 14-day cut-off, predict
        the figures published in the next 14 days."""
        recorded = {m: v["backtest_forecast"] for m, v in (self.evaluation.backtests() or {}).items()
                    if isinstance(v, dict) and isinstance(v.get("backtest_forecast"), dict)}
        if not recorded:
            return
        self.h(3, "Real-time backtest")
        self.p("What an analyst with the model could have said at the time: at cut-offs every 14 days, "
               "the model is fitted only on the documents published by then and predicts the figures "
               "published in the next 14 days; the baselines get the same figures. Read from "
               f"`{self.evaluation.name}`; rerun with `conflictstats backtest --metric M --mode forecast`.")
        rows = []
        names = {"model": None, "carry forward": "baseline_carry_forward", "interpolate": "baseline_interpolate"}
        for metric, bt in recorded.items():
            for method, key in names.items():
                sc = bt if key is None else bt.get(key, {})
                rows.append([self.ctx.label(metric), method, fmt_int(bt.get("n_held_out")),
                             fmt_num(sc.get("coverage_80")), fmt_num(sc.get("coverage_95")),
                             fmt_num(sc.get("median_abs_log_ratio"), 3)])
        self.doc.add(table(["metric", "method", "held-out figures", "80% coverage", "95% coverage",
                            "median abs. log ratio"], rows,
                           caption="Real-time backtest: figures published in the 14 days after each cut-off.",
                           numeric=[False, False, True, True, True, True]))

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
        estimate (recorded by ``benchmarks/bench_models.py`` as
        ``dispersion_sensitivity_<start>_<end>``, the window it was run for)."""
        rec = self.evaluation.backtests() or {}
        rows, window = [], None
        for metric in self.ctx.modelled_metrics:
            found = sorted(k for k in (rec.get(metric) or {}) if k.startswith(SENSITIVITY))
            if not found:
                continue
            window = found[0][len(SENSITIVITY):].split("_")
            for r in rec[metric][found[0]]:
                rows.append([self.ctx.label(metric), fmt_num(r.get("factor"), 2),
                             fmt_int(r.get("mean")),
                             f"{fmt_int(r.get('ci_lower'))}–{fmt_int(r.get('ci_upper'))}",
                             f"{fmt_int(r.get('pi_lower'))}–{fmt_int(r.get('pi_upper'))}",
                             "yes" if r.get("converged") else "no"])
        if not rows:
            return
        a, b = (pd.Timestamp(x) for x in window)
        same = a.year == b.year
        span = f"{a.day} {a:%B}{'' if same else f' {a.year}'} to {b.day} {b:%B}{'' if same else f' {b.year}'}"
        self.h(3, "Sensitivity to the day-to-day dispersion")
        self.p("Window totals say little about how much single days vary, so the shared day-to-day "
               "overdispersion is weakly identified. Refitting with it held at a quarter and at four "
               f"times its estimate shows how much the realised total for {span} (on the "
               f"reference originator's scale) depends on it. Read from `{self.evaluation.name}`.")
        self.doc.add(table(["metric", "dispersion × estimate", "total", "95% CI", "95% PI", "converged"],
                           rows, caption=f"Realised total, {span}{f' {b.year}' if same else ''}, under other "
                                         "day-to-day dispersions.",
                           numeric=[False, True, True, False, False, False]))

    def simulation(self) -> None:
        """Calibration on synthetic campaigns with known truth, from the recorded benchmark run."""
        self.h(3, "Calibration on synthetic campaigns")
        sim = self.evaluation.simulation()
        if sim is None:
            self.p(f"{NOT_AVAILABLE}: no recorded simulation run in `{self.evaluation.name}`.", note=True)
            return
        self.p(f"On synthetic campaigns with a known truth (built to look like the real reporting: "
               f"running totals, several originators with different coverage, hedged and rounded "
               f"numbers), the model was fitted {fmt_int(sim.get('runs'))} times (seed "
               f"{sim.get('seed', '–')}; {fmt_int(sim.get('n_converged'))} fits converged) and predicted "
               f"{fmt_int(sim.get('n_held_out'))} held-out figures. These numbers are read from `{self.evaluation.name}` "
               f"(written by `python benchmarks/bench_models.py`), not recomputed at build time: the run "
               f"takes about {fmt_int(sim.get('seconds'))} seconds. The 95% interval for the campaign total "
               f"covered the truth in {fmt_num(sim.get('total_coverage_95'))} of runs (relative bias "
               f"{fmt_pct(100 * sim['total_rel_bias'] if sim.get('total_rel_bias') is not None else None, 2)}); "
               f"the intervals of the break parameters covered in {fmt_num(sim.get('break_coverage_95'))}.")
        boot = self.evaluation.simulation_bootstrap()
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

    def performance(self) -> None:
        """Appendix: measured speed and memory, each against a plain baseline (benchmarks/run.py)."""
        self.h(2, "Appendix: speed and memory")
        b = self.evaluation.performance_benchmark()
        if not b:
            self.p(f"{NOT_AVAILABLE}: no recorded measurements ({self.evaluation.name}; run "
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
            exponent = sc.get("exponent", sc.get("loglog_exponent"))
            items.append(f"Fit time grows with the number of figures with exponent "
                         f"{fmt_num(exponent, 2)} (log-log fit over "
                         f"{', '.join(fmt_int(r['figures']) for r in sc['runs'])} figures; "
                         + ", ".join(f"{fmt_num(r['seconds'], 1)} s" for r in sc["runs"])
                         + (", peak " + ", ".join(f"{fmt_int(r['peak_rss_mb'])} MB" for r in sc["runs"])
                            if all("peak_rss_mb" in r for r in sc["runs"]) else "") + ").")
        r = b.get("report") or {}
        if r.get("available"):
            items.append(f"This report: {fmt_num(r['report_s'], 1)} s, against {fmt_num(r['import_libraries_s'], 1)} s "
                         f"to import the libraries it uses (ratio {fmt_num(r['ratio'], 1)}).")
        self.doc.add(Items(tuple(items)))
        self.p(f"Read from `{self.evaluation.name}` (written by `python benchmarks/run.py`) on a "
               f"{(self.evaluation.performance_machine() or {}).get('cpus', '?')}-core machine; not measured at build time.",
               note=True)
