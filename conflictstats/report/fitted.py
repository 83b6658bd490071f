"""Model runs for the report (one fit per main metric) and the recorded evaluation it quotes.

The models are conflictstats.models (the statistician's code); this module only calls them
and turns a failure into a plain "not available in this build" note instead of a crash, so one
broken fit never hides the rest of the report.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import pandas as pd

from .context import DataContext

ALPHA = 0.05


@dataclass
class ModelRun:
    """What the report needs from one metric's fit; ``error`` says why a part is missing."""

    metric: str
    error: str | None = None
    converged: bool | None = None
    reference: str = ""
    nobs: int = 0
    n_excluded: int = 0
    breakpoints: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    daily: pd.DataFrame | None = None
    trend: pd.DataFrame | None = None
    coverage: pd.DataFrame | None = None
    seconds: float = 0.0
    selfcheck: str | None = None  # set when the model contradicts its reference's own longest report
    reference_report: str | None = None  # the reference's own longest report, shown beside the totals
    reference_total: dict | None = None  # what the reference itself would count for the campaign
    crosscheck: dict | None = None  # UnobservedComponents and changepoint search on the daily series
    result: object | None = field(default=None, repr=False)  # the converged fit, reused by the comparison

    @property
    def total(self) -> dict | None:
        """Campaign total on the reference scale (last day of the cumulative columns)."""
        if self.daily is None or not len(self.daily):
            return None
        last = self.daily.iloc[-1]
        return {k: float(last[k]) for k in ("cum_estimate", "cum_ci_lower", "cum_ci_upper",
                                            "cum_pi_lower", "cum_pi_upper")}


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def fit_metric(ctx: DataContext, metric: str) -> ModelRun:
    """Fit one metric with the package's model; failures are recorded, not raised."""
    run = ModelRun(metric)
    t = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from ..models import fit  # the models are imported here, never by `import conflictstats`

            # the campaign window from the registry (works in an installed wheel too)
            res = fit(metric, dataset=ctx.info.name, figures=ctx.figures, events=ctx.events,
                      campaign=ctx.campaign())
            run.converged = bool(res.converged)
            run.reference = str(res.reference)
            run.nobs = int(res.nobs)
            run.n_excluded = int(len(res.excluded))
            run.breakpoints = [f"{b.date.strftime('%Y-%m-%d')} ({b.label})" for b in res.breakpoints]
            run.warnings = [" ".join(str(w).split()) for w in res.warnings]
            if run.converged:  # numbers from a fit that did not converge are not shown
                run.daily = res.daily_frame(ALPHA)
                run.trend = res.trend_table(ALPHA)
                run.coverage = res.coverage_table(ALPHA)
                run.reference_report, run.selfcheck = self_check(res)
                cs, ce = ctx.campaign()
                run.reference_total = res.predict_window(cs, ce, originator=res.reference,
                                                         alpha=ALPHA)
                run.crosscheck = res.cross_checks()
                run.result = res
        seen = {f"{w.category.__name__}: {' '.join(str(w.message).split())}" for w in caught}
        run.warnings += sorted(seen - set(run.warnings))
        if not run.converged:
            run.error = "the model fit did not converge" + (
                f" ({'; '.join(run.warnings)})" if run.warnings else "")
    except Exception as exc:  # noqa: BLE001 - any model failure becomes a note in the report
        run.error = f"the model fit failed ({_why(exc)})"
    run.seconds = time.perf_counter() - t
    return run


def self_check(res) -> tuple[str | None, str | None]:
    """Does the model reproduce the reference originator's own longest report?

    A model whose 95% prediction interval for that very window excludes the number the reference
    reported is not to be trusted on that scale; the report says so next to its totals.
    """
    obs = res.observations
    ref = obs[obs["group"] == res.reference]
    if not len(ref):
        return None, None
    given = ref[~ref["note"].astype(str).str.contains("assumed", na=False)]  # windows the source dated
    ref = given if len(given) else ref
    longest = ref.assign(_days=(ref["end"] - ref["start"]).dt.days).sort_values(
        ["_days", "end", "figure_id"], ascending=[False, False, True]).iloc[0]
    pred = res.predict_window(longest["start"], longest["end"], originator=res.reference, alpha=ALPHA)
    lo, hi, value = float(pred["pi_lower"]), float(pred["pi_upper"]), float(longest["value"])
    shown = (f"{res.reference}'s own longest report was {value:,.0f} for {longest['start']:%Y-%m-%d} to "
             f"{longest['end']:%Y-%m-%d} (model: {float(pred['mean']):,.0f}, 95% prediction interval "
             f"{lo:,.0f}–{hi:,.0f})")
    if lo <= value <= hi:
        return shown, None
    return shown, (f"the model fails its own check: {res.reference} reported {value:,.0f} for "
            f"{longest['start']:%Y-%m-%d} to {longest['end']:%Y-%m-%d}, outside the model's 95% prediction "
            f"interval for that window ({lo:,.0f}–{hi:,.0f}); its totals on this scale are not reliable")


EVALUATION_FILE = "evaluation.json"  # beside dataset.toml: the recorded runs a dataset's report quotes


@dataclass(frozen=True)
class Evaluation:
    """Recorded evaluation results the report quotes, an explicit input of the build.

    Why recorded, not rerun: the simulation fits hundreds of synthetic campaigns and the
    backtests refit the model once per document (minutes), far beyond the build budget; the
    report names the file and the runs' size and seed instead. ``models`` holds what
    ``benchmarks/bench_models.py`` recorded, ``performance`` what ``benchmarks/run.py`` measured.
    """

    name: str
    models: dict
    performance: dict

    @classmethod
    def read(cls, path) -> "Evaluation":
        import json
        from pathlib import Path

        from ..errors import UnreadableError

        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path.name, {}, {})  # the sections then say "not available in this build"
        except (OSError, ValueError) as exc:
            raise UnreadableError(f"{path}: cannot be read as evaluation results (JSON): {exc}.") from None
        if not isinstance(data, dict):
            raise UnreadableError(f"{path}: evaluation results must be a JSON object.")
        return cls(path.name, data.get("models") or {}, data.get("performance") or {})

    def simulation(self) -> dict | None:
        """The recorded simulation scores, if any."""
        sim = self.models.get("simulation")
        return sim if isinstance(sim, dict) and "coverage_95" in sim else None

    def simulation_bootstrap(self) -> dict | None:
        """The recorded bootstrap-versus-Wald check of the simulation, if any."""
        boot = self.models.get("simulation_bootstrap")
        return boot if isinstance(boot, dict) and "break_coverage_95_bootstrap" in boot else None

    def backtests(self) -> dict | None:
        """Real-data leave-one-document-out scores, per metric."""
        return self.models.get("real_data")

    def performance_benchmark(self) -> dict | None:
        """Recorded speed and memory measurements, if any."""
        return self.performance.get("benchmarks")

    def performance_machine(self) -> dict | None:
        """The machine those measurements were taken on."""
        return self.performance.get("machine")
