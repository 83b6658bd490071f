"""Command-line handlers: ``conflictstats backtest`` and ``conflictstats simulate``.

Both print a readable table, or with ``--json`` one JSON object with the keys coverage_80,
coverage_95, median_abs_log_ratio, interval_score, baseline_carry_forward,
baseline_interpolate (each a dict of the same four scores) and n_held_out.
"""

from __future__ import annotations

import json
import math

SCORES = ("coverage_80", "coverage_95", "median_abs_log_ratio", "interval_score")


def _clean(obj):
    """JSON-safe copy: NaN -> None, numpy scalars -> Python, frames dropped."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items() if k != "predictions"}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not hasattr(obj, "columns"):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def format_scores(result: dict, title: str) -> str:
    """A small fixed-width table: model and both baselines side by side."""
    rows = [("model", result), ("carry forward", result["baseline_carry_forward"]),
            ("interpolate", result["baseline_interpolate"])]
    lines = [title, f"{'':<16}" + "".join(f"{k:>22}" for k in SCORES)]
    for name, r in rows:
        cells = "".join(f"{r.get(k, float('nan')):>22.3f}" for k in SCORES)
        lines.append(f"{name:<16}{cells}")
    lines.append(f"held-out figures: {result['n_held_out']}")
    extra = {k: v for k, v in result.items() if k not in SCORES and not isinstance(v, (dict, list))
             and k not in ("n_held_out", "predictions")}
    for k, v in extra.items():
        lines.append(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}")
    return "\n".join(lines)


def backtest_command(args) -> int:
    """``conflictstats backtest --metric M [--dataset D] [--json]``."""
    from .backtest import backtest

    res = backtest(args.metric, dataset=getattr(args, "dataset", "idlib-2019"))
    if getattr(args, "json", False):
        print(json.dumps(_clean(res), indent=2, sort_keys=True))
    else:
        print(format_scores(res, f"Leave-one-document-out backtest: {args.metric}"))
        for f in res.get("failed_refits", []):
            print(f"failed refit: {f}")
    return 0


def simulate_command(args) -> int:
    """``conflictstats simulate [--runs N] [--seed S] [--bootstrap B] [--json]``."""
    from .simulate import simulate

    res = simulate(runs=int(getattr(args, "runs", 20) or 20), seed=int(getattr(args, "seed", 0) or 0),
                   bootstrap=int(getattr(args, "bootstrap", 0) or 0))
    if getattr(args, "json", False):
        print(json.dumps(_clean(res), indent=2, sort_keys=True))
    else:
        print(format_scores(res, f"Synthetic campaigns: {res['runs']} runs, seed {res['seed']}"))
    return 0
