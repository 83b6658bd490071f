"""Benchmarks for conflictstats.models: full simulation, real-data fit times and backtests.

Run: ``python benchmarks/bench_models.py [--runs 200] [--skip-backtest] [--dataset D]``. Writes
``benchmarks/results/models.json`` (the default dataset) or ``models-<D>.json`` (another one;
its real-data part only is dataset-specific: use ``--skip-simulation --bootstrap-runs 0``).
The totals window (``--window``) defaults to the dataset's campaign window; the recorded
idlib-2019 run used ``--window 2019-04-29,2019-08-29``. BLAS is pinned to one thread (set before numpy loads):
the matrices are small, and threaded BLAS only fights over a busy 2-core machine.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
OUT = RESULTS / "models.json"


def results_file(dataset: str) -> Path:
    """Where a dataset's model benchmarks are written (the default dataset's: models.json)."""
    from conflictstats.registry import DEFAULT_DATASET

    return OUT if dataset == DEFAULT_DATASET else RESULTS / f"models-{dataset}.json"
METRICS = ("civilians_killed", "people_displaced", "children_killed")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-backtest", action="store_true")
    ap.add_argument("--skip-simulation", action="store_true")
    ap.add_argument("--bootstrap-runs", type=int, default=50,
                    help="campaigns for the bootstrap-vs-Wald check (0 to skip)")
    ap.add_argument("--bootstrap", type=int, default=200, help="replicates per campaign")
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--metrics", default=",".join(METRICS))
    ap.add_argument("--repeats", type=int, default=3, help="fit-time repeats per metric")
    ap.add_argument("--dataset", default=None, help="dataset (default: the package's default)")
    ap.add_argument("--window", default=None, help="START,END of the totals and the dispersion "
                    "sensitivity (default: the dataset's campaign window)")
    args = ap.parse_args()
    from conflictstats.registry import DEFAULT_DATASET, dataset_info

    global OUT
    dataset = args.dataset or DEFAULT_DATASET
    OUT = results_file(dataset)
    info = dataset_info(dataset)
    w0, w1 = (args.window.split(",") if args.window
              else (str(info.campaign_start), str(info.campaign_end)))
    wkey = f"{w0}_{w1}"

    from conflictstats.models import fit, simulate
    from conflictstats.cli import json_safe as _clean

    out: dict = {"dataset": dataset, "machine": {"python": platform.python_version(), "cpus": os.cpu_count()}}
    if not args.skip_simulation:
        t0 = time.perf_counter()
        sim = simulate(runs=args.runs, seed=args.seed)
        sim["seconds"] = round(time.perf_counter() - t0, 1)
        out["simulation"] = _clean(sim)
        print("simulation", json.dumps(out["simulation"], indent=1))
    if args.bootstrap_runs:
        t0 = time.perf_counter()
        b = simulate(runs=args.bootstrap_runs, seed=args.seed, bootstrap=args.bootstrap)
        out["simulation_bootstrap"] = _clean(
            {k: b[k] for k in ("runs", "seed", "bootstrap_replicates", "break_coverage_95",
                               "break_coverage_95_bootstrap", "n_converged")}
            | {"seconds": round(time.perf_counter() - t0, 1)})
        print("bootstrap", json.dumps(out["simulation_bootstrap"], indent=1))

    figures = events = None
    if not args.skip_real:
        try:
            from conflictstats.api import load

            figures, events = load("figures", dataset), load("events", dataset)
        except Exception as exc:  # the loader is another engineer's work; report, don't crash
            out["real_data_error"] = f"{type(exc).__name__}: {exc}"
    if figures is not None:
        real: dict = {}
        for m in args.metrics.split(","):
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                res = fit(m, dataset=dataset, figures=figures, events=events)
                times.append(time.perf_counter() - t0)
            pw = res.predict_window(w0, w1)
            real[m] = {"fit_seconds_min": round(min(times), 3),
                       "fit_seconds_all": [round(t, 3) for t in times],
                       "converged": bool(res.converged), "warnings": res.warnings,
                       "n_obs": res.nobs, "n_excluded": int(len(res.excluded)),
                       "reference": res.reference,
                       "breakpoints": [str(b.date.date()) for b in res.breakpoints],
                       f"predict_window_{wkey}": _clean(
                           {k: v for k, v in pw.items() if k not in ("start", "end")})}
            sens = res.dispersion_sensitivity(w0, w1)
            real[m][f"dispersion_sensitivity_{wkey}"] = _clean(
                sens.to_dict(orient="records"))
            print(m, json.dumps(real[m], indent=1, default=str))
            if not args.skip_backtest:
                from conflictstats.models import backtest

                bt = backtest(m, dataset=dataset, figures=figures, events=events)
                real[m]["backtest"] = _clean(bt)
                print(m, "backtest", json.dumps(real[m]["backtest"], indent=1, default=str))
                fc = backtest(m, dataset=dataset, figures=figures, events=events, mode="forecast")
                real[m]["backtest_forecast"] = _clean(fc)
                print(m, "forecast", json.dumps(real[m]["backtest_forecast"], indent=1, default=str))
            real[m]["useful_windows"] = _clean(useful_windows(res))
            _write({"real_data": {m: real[m]}})
        out["real_data"] = real
    _write(out)
    print(f"wrote {OUT}")
    return 0


def useful_windows(res) -> dict:
    """Issue 12's usefulness check: every campaign window with at least 3 reports from at least
    2 originators inside it; the widest 95% prediction interval (reference scale) among them."""
    from conflictstats.models.evaluation import well_reported_windows

    wins = well_reported_windows(res)
    p = res.predict_many([(a, b, None) for a, b in wins])
    ratio = p["pi_upper"] / p["pi_lower"]
    worst = p.assign(ratio=ratio).sort_values("ratio").tail(3)
    return {"n_windows": len(wins), "min_pi_lower": float(p["pi_lower"].min()),
            "max_ratio": float(ratio.max()), "median_ratio": float(ratio.median()),
            "n_ratio_over_4": int((ratio > 4).sum()),
            "widest": [{"start": str(r.start.date()), "end": str(r.end.date()),
                        "ratio": float(r.ratio)} for r in worst.itertuples()]}


def _write(part: dict) -> None:
    """Merge ``part`` into the JSON file (re-read first: several runs may share the file)."""
    from conflictstats.cli import json_safe as _clean

    OUT.parent.mkdir(parents=True, exist_ok=True)
    old: dict = {}
    if OUT.exists():
        try:
            old = json.loads(OUT.read_text())
        except json.JSONDecodeError:
            old = {}
    for k, v in _clean(part).items():
        if isinstance(v, dict) and isinstance(old.get(k), dict) and k == "real_data":
            old[k] = {**old[k], **v}
        else:
            old[k] = v
    OUT.write_text(json.dumps(old, indent=2, sort_keys=True, default=str) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
