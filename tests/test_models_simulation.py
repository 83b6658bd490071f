"""Calibration on a fast subset (20 synthetic campaigns); the 200-run check is in benchmarks/.

Bounds here are looser than the issue's acceptance targets (20 runs are noisy), but tight
enough to fail if the intervals or the estimator break.
"""

from __future__ import annotations

import numpy as np

from conflictstats.models import simulate


def test_simulation_subset_is_calibrated():
    r = simulate(runs=20, seed=1)
    assert r["runs"] == 20 and r["n_converged"] >= 19
    assert r["n_held_out"] > 100
    assert 0.85 <= r["coverage_95"] <= 1.0
    assert 0.65 <= r["coverage_80"] <= 0.95
    assert r["median_abs_log_ratio"] < 0.10
    assert r["total_coverage_95"] >= 0.80
    assert abs(r["total_rel_bias"]) < 0.03
    assert r["break_coverage_95"] >= 0.80
    # the model must beat both naive baselines on the same held-out figures
    for b in ("baseline_carry_forward", "baseline_interpolate"):
        assert r["median_abs_log_ratio"] < r[b]["median_abs_log_ratio"]
        assert r["interval_score"] < r[b]["interval_score"]
    assert np.isfinite(r["interval_score"])
