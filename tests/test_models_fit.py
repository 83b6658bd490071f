"""Real fits of the latent daily-count model on synthetic data: the statsmodels-style API."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conflictstats.models import (LatentResults, campaign_window, fit, fit_observations,
                                  synthetic_campaign)
from conflictstats.models.observations import build_observations


@pytest.fixture(scope="module")
def synthetic():
    figures, events, truth = synthetic_campaign(7)
    res = fit("civilians_killed", figures=figures, events=events, reference="Monitor A")
    return figures, events, truth, res


def test_default_reference_is_the_group_covering_most_days(synthetic):
    figures, events, _, _ = synthetic
    res = fit("civilians_killed", figures=figures, events=events, breakpoints=None)
    assert res.reference == "Agency C"  # its calendar months cover every campaign day
    assert res.coverage_table().set_index("group").loc["Agency C", "reference"]


def test_import_conflictstats_loads_neither_statsmodels_nor_matplotlib():
    code = ("import sys, conflictstats; "
            "print(any(m.split('.')[0] in ('statsmodels', 'matplotlib') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_synthetic_frames_have_the_loader_shape():
    f, e, truth = synthetic_campaign(3)
    f2, _, _ = synthetic_campaign(3)
    pd.testing.assert_frame_equal(f, f2)  # deterministic
    assert str(f["value"].dtype) == "Int64"
    assert str(f["period_end"].dtype) == "datetime64[ns]"
    assert isinstance(f["qualifier"].dtype, pd.CategoricalDtype)
    assert set(e["kind"].astype(str)) >= {"escalation", "truce_announced"}
    assert truth["total"] == truth["daily"].sum()


def test_fit_recovers_the_synthetic_truth(synthetic):
    _, _, truth, res = synthetic
    assert isinstance(res, LatentResults)
    assert res.converged, res.warnings
    assert res.reference == "Monitor A"
    ci = res.conf_int()
    assert list(ci.columns) == [0, 1] and (ci[0] <= ci[1]).all()
    for name, value in truth["params"].items():
        if name.startswith("jump_"):
            assert name in res.params.index
            assert abs(res.params[name] - value) < 4 * res.bse[name] + 0.05
    cov = res.coverage_table().set_index("group")["ratio"]
    for g in ("Monitor B", "Agency C", "Agency D"):
        assert cov[g] == pytest.approx(truth["coverage"][g], rel=0.15)
    cs, ce = campaign_window()
    tot = res.predict_window(cs, ce, report_noise=False)
    assert tot["mean"] == pytest.approx(truth["total"], rel=0.06)


def test_predict_window_daily_frame_and_tables(synthetic):
    _, _, _, res = synthetic
    p = res.predict_window("2019-04-29", "2019-08-29")
    assert p["pi_lower"] <= p["ci_lower"] <= p["mean"] <= p["ci_upper"] <= p["pi_upper"]
    assert res.predict_window("2019-04-29", "2019-08-29") == p  # deterministic
    p80 = res.predict_window("2019-04-29", "2019-08-29", alpha=0.2)
    assert p80["pi_upper"] - p80["pi_lower"] < p["pi_upper"] - p["pi_lower"]
    own = res.predict_window("2019-05-01", "2019-05-31", originator="Agency C")
    assert own["pi_lower"] <= own["mean"] <= own["pi_upper"]
    # an originator the fit never saw: predicted with the spread of coverage between
    # originators, so its interval is wider than that of a fitted group
    other = res.predict_window("2019-05-01", "2019-05-31", originator="nobody")
    assert other["pi_upper"] / other["pi_lower"] > own["pi_upper"] / own["pi_lower"]
    # ... and read as a typical originator of its kind on that day: between the fitted ones
    fitted = [res.predict_window("2019-05-01", "2019-05-31", originator=g)["mean"]
              for g in res.model.groups if "[" not in g and "daily" not in g]
    assert min(fitted) < other["mean"] < max(fitted)
    sf = res.get_prediction([("2019-05-01", "2019-05-31", "Agency C"),
                             ("2019-06-01", "2019-06-01", None)]).summary_frame(alpha=0.05)
    assert list(sf.columns[:5]) == ["mean", "mean_ci_lower", "mean_ci_upper", "obs_ci_lower",
                                    "obs_ci_upper"]
    assert {"originator", "start", "end"} <= set(sf.columns) and len(sf) == 2
    assert sf.loc[0, "mean"] == pytest.approx(own["mean"])
    assert (sf["obs_ci_lower"] > 0).all()  # log-scale intervals never reach zero
    with pytest.raises(ValueError, match="alpha"):
        res.predict_window("2019-05-01", "2019-05-31", alpha=1.5)
    with pytest.raises(ValueError, match="start and an end"):
        res.predict_window(None, "2019-05-31")
    with pytest.raises(ValueError, match="outside the modelled period"):
        res.predict_window("2019-05-01", "2262-05-31")
    with pytest.raises(ValueError, match="after"):
        res.daily_frame(start="2019-06-01", end="2019-05-01")
    df = res.daily_frame()
    for col in ("date", "estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper",
                "cum_estimate", "cum_ci_lower", "cum_ci_upper", "cum_pi_lower", "cum_pi_upper"):
        assert col in df.columns
    assert len(df) == 128 and (df["cum_estimate"].diff().dropna() >= -1e-6).all()
    assert (df["pi_lower"] <= df["estimate"]).all() and (df["estimate"] <= df["pi_upper"]).all()
    tt = res.trend_table()
    assert len(tt) == len(res.breakpoints) == 2
    assert (tt["jump_ci_lower"] <= tt["jump_pct"]).all()
    assert (tt["growth_after_ci_lower"] <= tt["growth_after_ci_upper"]).all()
    text = res.summary()
    assert "log_coverage[Agency C]" in text and "Converged: True" in text
    w = res.weekly_frame()
    assert w["mean"].sum() == pytest.approx(df["estimate"].sum(), rel=0.02)


def test_plot_imports_matplotlib_lazily(synthetic):
    import matplotlib

    matplotlib.use("Agg")
    ax = synthetic[3].plot()
    assert ax.get_ylabel().startswith("civilians_killed")


def test_nonconvergence_is_reported_not_hidden(synthetic, monkeypatch):
    import conflictstats.models.latent as latent

    figures, events, _, _ = synthetic
    cs, ce = campaign_window()
    ob = build_observations(figures, "civilians_killed", campaign=(cs, ce))
    monkeypatch.setattr(latent, "MAX_OUTER", 1)
    res = fit_observations(ob, events=events, campaign=(cs, ce))
    assert not res.converged
    assert any("did not settle" in w for w in res.warnings)


def test_explicit_breakpoints_and_none(synthetic):
    figures, events, truth, _ = synthetic
    r0 = fit("civilians_killed", figures=figures, events=events, breakpoints=None,
             reference="Monitor A")
    assert r0.breakpoints == [] and len(r0.trend_table()) == 1
    r1 = fit("civilians_killed", figures=figures, events=events,
             breakpoints=[truth["breakpoints"][0]], reference="Monitor A")
    assert [b.date for b in r1.breakpoints] == [truth["breakpoints"][0]]
    assert r1.converged and len(r1.trend_table()) == 1


def test_cli_simulate_json(capsys):
    from conflictstats.cli import main

    assert main(["simulate", "--runs", "2", "--seed", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("coverage_80", "coverage_95", "median_abs_log_ratio", "interval_score",
                "baseline_carry_forward", "baseline_interpolate", "n_held_out"):
        assert key in out
    assert set(out["baseline_interpolate"]) >= {"coverage_80", "coverage_95",
                                                "median_abs_log_ratio", "interval_score"}


def test_backtest_on_synthetic_documents():
    from conflictstats.models import backtest

    figures, events, _ = synthetic_campaign(11)
    docs = sorted(figures["source_id"].unique())[::8]
    out = backtest("civilians_killed", figures=figures, events=events, documents=docs,
                   details=True)
    assert out["n_held_out"] >= len(docs)
    assert set(out["predictions"]["source_id"]) <= set(docs)
    assert 0 <= out["coverage_95"] <= 1 and out["median_abs_log_ratio"] < 0.3
    assert out["interval_score"] < out["baseline_carry_forward"]["interval_score"]
    parts = out["by_window"]
    assert sum(p["n_held_out"] for p in parts.values()) == out["n_held_out"]


def test_predictive_half_width_is_the_normal_t_mixture_quantile():
    from scipy import stats

    from conflictstats.models.prediction import predictive_half_width

    q = predictive_half_width(np.array([4.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0]), 0.05, 4.0)
    assert q[0] == pytest.approx(2 * stats.norm.ppf(0.975), rel=1e-6)
    assert q[1] == pytest.approx(stats.t.ppf(0.975, 4), rel=2e-3)
    # the sum of a unit normal and a unit-scale t4: check by simulation
    rng = np.random.default_rng(1)
    x = rng.standard_normal(400_000) + rng.standard_t(4, 400_000)
    assert np.mean(np.abs(x) <= q[2]) == pytest.approx(0.95, abs=0.003)


def test_bootstrap_agrees_with_wald_and_is_seeded(synthetic):
    res = synthetic[3]
    draws = res.bootstrap(60)
    assert len(draws) == 60
    assert draws.equals(res.bootstrap(60))  # seeded: the same draws again
    ci, bci = res.conf_int(), res.bootstrap_conf_int(draws)
    for name in [n for n in res.param_names if n.startswith(("jump_", "slope_change_"))]:
        assert bci.loc[name, 0] < res.params[name] < bci.loc[name, 1]
        wald = ci.loc[name, 1] - ci.loc[name, 0]
        assert 0.4 < (bci.loc[name, 1] - bci.loc[name, 0]) / wald < 2.0, name


def test_dispersion_sensitivity_refits_with_the_dispersion_held(synthetic):
    res = synthetic[3]
    cs, ce = campaign_window()
    sens = res.dispersion_sensitivity(cs, ce, factors=(0.25, 4.0))
    assert sens["factor"].tolist() == [1.0, 0.25, 4.0]
    assert sens.loc[0, "mean"] == pytest.approx(res.predict_window(cs, ce)["mean"])
    width = (sens["pi_upper"] / sens["pi_lower"]).to_numpy()
    assert width[1] < width[0] < width[2]  # less report noise, narrower; more, wider
    assert (sens["ci_lower"] <= sens["mean"]).all() and (sens["mean"] <= sens["ci_upper"]).all()


def test_prediction_results_predicted_mean_is_the_mean_column(synthetic):
    res = synthetic[3]
    pr = res.get_prediction([("2019-05-01", "2019-05-31", "Agency C"), ("2019-06-01", "2019-06-07")])
    assert np.allclose(pr.predicted_mean, pr.summary_frame()["mean"].to_numpy())
