"""Backtest wall time on a local Dask cluster of 1 worker against 2 workers, in one run.

Run: ``python benchmarks/bench_distributed.py [--metric civilians_killed] [--mode lodo]
[--no-synchronous]``. Needs the ``distributed`` extra. Writes
``benchmarks/results/distributed.json``: each wall time, the 2-worker / 1-worker ratio (issue
15 asks for at most 0.65), the synchronous in-process run as the plain baseline, whether all
three gave the same scores, and the seconds the workers spent inside the refits (Dask's task
stream), so a missed ratio can be told apart: overhead (little task time) or a busy machine
(tasks themselves slower with 2 workers). Workers are single-threaded processes with one BLAS
thread each; they import the models before the clock starts.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "distributed.json"
TARGET_RATIO = 0.65
TIMINGS = ("seconds",)


def _warm() -> str:
    """Run on each worker before timing: the imports are start-up, not backtest."""
    import conflictstats.models  # noqa: F401

    return "ready"


def on_cluster(workers: int, metric: str, mode: str, figures, events) -> dict:
    """Wall time of one backtest on a fresh LocalCluster of ``workers`` single-threaded workers."""
    from distributed import Client, LocalCluster, get_task_stream

    from conflictstats.models import backtest

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.wait_for_workers(workers)
        client.run(_warm)
        with get_task_stream(client) as stream:
            t = time.perf_counter()
            res = backtest(metric, figures=figures, events=events, mode=mode,
                           scheduler=cluster.scheduler_address)
            wall = time.perf_counter() - t
        busy = sum(s["stop"] - s["start"] for task in stream.data
                   for s in task.get("startstops", ()) if s.get("action") == "compute")
    return {"workers": workers, "wall_s": round(wall, 2), "task_compute_s": round(busy, 2),
            "n_tasks": len(stream.data), "result": res}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--metric", default="civilians_killed")
    ap.add_argument("--mode", default="lodo")
    ap.add_argument("--no-synchronous", action="store_true", help="skip the in-process baseline")
    args = ap.parse_args()

    from conflictstats.api import load
    from conflictstats.cli import json_safe
    from conflictstats.models import backtest
    from conflictstats.store import atomic_write_bytes, dumps_json

    figures, events = load("figures"), load("events")
    out: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                             "load_average_before": [round(x, 2) for x in os.getloadavg()]},
                 "metric": args.metric, "mode": args.mode, "target_ratio_2_vs_1": TARGET_RATIO}
    runs = {}
    for n in (1, 2):
        print(f"[bench] backtest {args.metric} ({args.mode}) on {n} worker(s) ...", file=sys.stderr, flush=True)
        runs[n] = on_cluster(n, args.metric, args.mode, figures, events)
        print(f"[bench] {runs[n]['wall_s']} s", file=sys.stderr, flush=True)
    scores = {n: {k: v for k, v in json_safe(r.pop("result")).items() if k not in TIMINGS}
              for n, r in runs.items()}
    out["one_worker"], out["two_workers"] = runs[1], runs[2]
    out["ratio_2_vs_1"] = round(runs[2]["wall_s"] / runs[1]["wall_s"], 3)
    out["task_compute_ratio_2_vs_1"] = round(runs[2]["task_compute_s"] / runs[1]["task_compute_s"], 3)
    out["same_scores"] = scores[1] == scores[2]
    out["n_folds"] = scores[1]["n_folds"]
    out["meets_target"] = out["ratio_2_vs_1"] <= TARGET_RATIO
    out["machine"]["load_average_after_clusters"] = [round(x, 2) for x in os.getloadavg()]
    atomic_write_bytes(OUT, dumps_json(out))  # kept if the (slow) baseline below is interrupted
    if not args.no_synchronous:
        print("[bench] synchronous baseline ...", file=sys.stderr, flush=True)
        t = time.perf_counter()
        res = backtest(args.metric, figures=figures, events=events, mode=args.mode)
        out["synchronous_wall_s"] = round(time.perf_counter() - t, 2)
        out["ratio_1_worker_vs_synchronous"] = round(runs[1]["wall_s"] / out["synchronous_wall_s"], 3)
        out["same_scores"] = out["same_scores"] and scores[1] == {
            k: v for k, v in json_safe(res).items() if k not in TIMINGS}
    out["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    atomic_write_bytes(OUT, dumps_json(out))
    print(json.dumps(out, indent=1, sort_keys=True))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
