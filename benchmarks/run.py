"""Measure every user path, each against a plain baseline in the same run.

    python benchmarks/run.py [--quick] [--json] [--only NAME ...]

Whole processes are timed where start-up matters; every timing is the median of several runs.
Results go to benchmarks/results/<name>.json (with machine info) and, with --json, to stdout.
Nothing here asserts a time: the numbers are for reading, and for the report's appendix.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

TARGETS = {"cold_start_ratio": 1.3, "validation_ratio": 3.0, "fit_seconds": 10.0}


def machine() -> dict:
    import numpy
    import pandas
    import pyarrow

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "numpy": numpy.__version__, "pandas": pandas.__version__, "pyarrow": pyarrow.__version__}


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def process_time(code: str, repeat: int) -> float:
    """Median wall time of a fresh interpreter running ``code``."""
    def run():
        subprocess.run([sys.executable, "-c", code], check=True, cwd="/", capture_output=True)
    run()  # warm the OS file cache once for both sides
    return median_time(run, repeat)


class PeakRSS:
    """Peak resident memory of this process while the block runs (sampled; Linux /proc)."""

    def __enter__(self):
        self.peak = self._rss()
        self._stop = False
        self._t = threading.Thread(target=self._poll, daemon=True)
        self._t.start()
        return self

    def _poll(self):
        while not self._stop:
            self.peak = max(self.peak, self._rss())
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop = True
        self._t.join()
        self.peak = max(self.peak, self._rss())

    @staticmethod
    def _rss() -> int:
        try:
            with open("/proc/self/statm") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            return 0


# --- the benchmarks ----------------------------------------------------------------------------

def bench_cold_start(quick: bool) -> dict:
    from conflictstats.api import table_path

    path = str(table_path("figures"))
    repeat = 5 if quick else 11
    ours = process_time("import conflictstats; conflictstats.load('figures')", repeat)
    plain = process_time(f"import pandas; pandas.read_parquet({path!r})", repeat)
    bare = process_time("pass", repeat)
    return {"conflictstats_load_s": ours, "pandas_read_parquet_s": plain, "python_startup_s": bare,
            "ratio": ours / plain, "target": TARGETS["cold_start_ratio"], "runs": repeat}


def bench_validation(quick: bool) -> dict:
    from baseline_checks import check_figures_plain
    from synthetic import tiled_figures

    from conflictstats.registry import dataset_info
    from conflictstats.schemas import Context
    from conflictstats.validation import check_table

    info = dataset_info()
    out = {}
    sizes = [200_000, 1_000_000] if quick else [1_000_000, 10_000_000]
    for n in sizes:
        df, ctx = tiled_figures(n)
        context = Context(coverage_start=info.coverage_start, coverage_end=info.coverage_end, **ctx)
        repeat = 1 if n >= 10_000_000 else (2 if quick else 3)
        with PeakRSS() as mem_ours:
            t_ours = median_time(lambda: check_table(df, "figures", context), repeat)
        with PeakRSS() as mem_plain:
            t_plain = median_time(lambda: check_figures_plain(df, ctx["published"], ctx["metrics"], info.coverage), repeat)
        out[str(n)] = {"rows": n, "schema_s": t_ours, "plain_pandas_s": t_plain,
                       "schema_rows_per_s": n / t_ours, "plain_rows_per_s": n / t_plain,
                       "ratio": t_ours / t_plain, "peak_rss_schema_mb": mem_ours.peak / 2**20,
                       "peak_rss_plain_mb": mem_plain.peak / 2**20, "runs": repeat}
        del df
        gc.collect()
    out["ratio"] = max(v["ratio"] for v in out.values() if isinstance(v, dict))
    out["target"] = TARGETS["validation_ratio"]
    return out


def bench_models(quick: bool) -> dict:
    try:
        from conflictstats import models
        from conflictstats.models import backtest as bt
        from conflictstats.models import simulate as sim
    except ImportError as exc:
        return {"available": False, "why": str(exc)}
    out: dict = {"available": True, "fit": {}}
    for metric in ("civilians_killed", "people_displaced", "children_killed"):
        # time untraced (tracemalloc hooks every allocation and slowed these fits 3x), best of
        # two; then one traced run for the peak of Python allocations
        times, err = [], None
        for _ in range(1 if quick else 2):
            t = time.perf_counter()
            try:
                models.fit(metric)
            except Exception as exc:  # a metric the model cannot fit is reported, not hidden
                err = f"{type(exc).__name__}: {exc}"
            times.append(time.perf_counter() - t)
        tracemalloc.start()
        try:
            models.fit(metric)
        except Exception:
            pass
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        out["fit"][metric] = {"seconds": min(times), "peak_python_mb": peak / 2**20, "error": err,
                              "target_s": TARGETS["fit_seconds"]}
    if quick:  # ~100 refits take minutes; the full run and benchmarks/bench_models.py record them
        out["backtest_civilians_killed"] = {"skipped": "--quick (see benchmarks/results/models.json)"}
    else:
        t = time.perf_counter()
        scores = bt.backtest("civilians_killed")
        out["backtest_civilians_killed"] = {"seconds": time.perf_counter() - t,
                                            "n_held_out": scores.get("n_held_out")}
    runs = 10 if quick else 50  # benchmarks/bench_models.py runs the 200-campaign study
    t = time.perf_counter()
    sim_scores = sim.simulate(runs=runs, seed=0)
    out["simulation"] = {"runs": runs, "seconds": time.perf_counter() - t,
                         "scores": {k: v for k, v in sim_scores.items() if not isinstance(v, (list, dict))}}
    return out


def scaled_campaign(k: int, seed: int = 1):
    """``k`` synthetic campaigns' figures pooled as one (ids made unique): k times the figures and
    documents for the same originators and days. Only for timing: the replicates' truths differ."""
    import pandas as pd

    from conflictstats.models.synthetic import synthetic_campaign

    frames, events = [], None
    for r in range(k):
        figures, ev, _truth = synthetic_campaign(seed=seed + r)
        events = ev if events is None else events
        frames.append(figures.assign(figure_id=figures["figure_id"].astype(str) + f"-r{r}",
                                     source_id=figures["source_id"].astype(str) + f"-r{r}"))
    return pd.concat(frames, ignore_index=True), events


def bench_scale(quick: bool) -> dict:
    """Fit time and peak memory of one model fit at 1x, 10x and 100x the synthetic campaign's
    figures (each size in a fresh process, so peak memory is that fit's own), and the log-log
    slope of time against the number of figures and of observations. Also written to
    ``benchmarks/results/scale.json``."""
    import subprocess

    import numpy as np

    factors = [1, 3, 10] if quick else [1, 10, 100]
    rows = []
    for k in factors:
        code = ("import json, resource, sys, time; sys.path.insert(0, %r); from run import scaled_campaign; "
                "from conflictstats.models import fit; f, e = scaled_campaign(%d); t = time.perf_counter(); "
                "r = fit(str(f['metric'].iloc[0]), figures=f, events=e); s = time.perf_counter() - t; "
                "print(json.dumps({'scale': %d, 'figures': len(f), 'observations': int(r.nobs), 'seconds': s, "
                "'converged': bool(r.converged), 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))"
                % (str(Path(__file__).resolve().parent), k, k))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    t = np.log([r["seconds"] for r in rows])
    result = {"available": True, "runs": rows,
              "exponent": float(np.polyfit(np.log([r["figures"] for r in rows]), t, 1)[0]),
              "exponent_observations": float(np.polyfit(np.log([r["observations"] for r in rows]), t, 1)[0]),
              "note": "more figures over the same days (k synthetic campaigns pooled); the latent model's "
                      "cost is linear in the number of figures (one pass over each window per Gauss-Newton "
                      "step) and cubic only in the number of days"}
    if not quick:
        from conflictstats.store import atomic_write_bytes, dumps_json

        RESULTS.mkdir(exist_ok=True)
        atomic_write_bytes(RESULTS / "scale.json", dumps_json(result))
    return result


def bench_report(quick: bool) -> dict:
    try:
        from conflictstats.report import build_report
    except ImportError as exc:
        return {"available": False, "why": str(exc)}
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        build_report("idlib-2019", Path(tmp), progress=False)
        secs = time.perf_counter() - t
    bare = process_time("import pandas, pyarrow, statsmodels.api, matplotlib.pyplot, pandera.pandas", 3)
    return {"available": True, "report_s": secs, "import_libraries_s": bare, "ratio": secs / bare}


BENCHES = {"cold_start": bench_cold_start, "validation": bench_validation, "models": bench_models,
           "scale": bench_scale, "report": bench_report}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats (under 3 minutes)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--only", nargs="*", choices=sorted(BENCHES), help="run only these")
    args = ap.parse_args(argv)
    results = {"machine": machine(), "quick": args.quick, "benchmarks": {}}
    t0 = time.perf_counter()
    for name in args.only or BENCHES:
        t = time.perf_counter()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        results["benchmarks"][name] = BENCHES[name](args.quick)
        results["benchmarks"][name]["seconds_total"] = time.perf_counter() - t
        print(f"[bench] {name} done in {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    results["total_s"] = time.perf_counter() - t0
    from conflictstats.store import atomic_write_bytes, dumps_json

    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("quick.json" if args.quick else "full.json")
    if args.only and out.exists():  # a partial run updates the benchmarks it ran, keeps the rest
        previous = json.loads(out.read_text())
        previous["benchmarks"].update(results["benchmarks"])
        previous["machine"] = results["machine"]
        previous["total_s"] = sum(v.get("seconds_total", 0) for v in previous["benchmarks"].values()) or results["total_s"]
        results = previous
    atomic_write_bytes(out, dumps_json(results))
    if args.json:
        print(json.dumps(results, indent=2, sort_keys=True))
    else:
        print(summary(results))
    return 0


def summary(results: dict) -> str:
    b = results["benchmarks"]
    lines = []
    if "cold_start" in b:
        c = b["cold_start"]
        lines.append(f"cold start: load {c['conflictstats_load_s']:.3f} s vs pandas.read_parquet "
                     f"{c['pandas_read_parquet_s']:.3f} s -> ratio {c['ratio']:.2f} (target <= {c['target']})")
    if "validation" in b:
        for k, v in b["validation"].items():
            if isinstance(v, dict):
                lines.append(f"validation {v['rows']:>10,} rows: schema {v['schema_s']:.2f} s "
                             f"({v['schema_rows_per_s']:,.0f} rows/s, peak {v['peak_rss_schema_mb']:.0f} MB) vs plain "
                             f"{v['plain_pandas_s']:.2f} s -> ratio {v['ratio']:.2f}")
    for name in ("models", "scale", "report"):
        if name in b:
            lines.append(f"{name}: {json.dumps(b[name], sort_keys=True, default=str)[:600]}")
    lines.append(f"total {results['total_s']:.1f} s")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
