"""Every command and public function, given a misspelled name, says so and suggests the right one.

A mistake in a dataset, table, metric, area, originator, mode or format is a usage error: exit 3
on the command line, :class:`UnknownNameError` in Python, with the closest valid names. Never
exit 70 ("a bug"), never a bare ValueError. A known metric with too few figures says how many.
"""

from __future__ import annotations

import functools

import pytest

import conflictstats as cs
from conflictstats.errors import NotEnoughDataError, UnknownNameError
from conftest import run_cli

DS = cs.DEFAULT_DATASET
TYPO_DS = "idlib-2091"

# (command line, the valid name that must be suggested)
CLI_CASES = [
    (["show", "figurs"], "figures"),
    (["show", "figures", "--metric", "displaced_people"], "people_displaced"),
    (["show", "events", "--dataset", TYPO_DS], DS),
    (["build", "--dataset", TYPO_DS, "--out", "{tmp}/b"], DS),
    (["validate", "{tmp}/x.csv", "--table", "sorces"], "sources"),
    (["validate", "{tmp}/x.csv", "--dataset", TYPO_DS], DS),
    (["cite", "--dataset", TYPO_DS], DS),
    (["cite", "--format", "bibtx"], "bibtex"),
    (["check", "--dataset", TYPO_DS], DS),
    (["backtest", "--metric", "displaced_people"], "people_displaced"),
    (["backtest", "--metric", "civilians_killed", "--mode", "forcast"], "forecast"),
    (["backtest", "--metric", "civilians_killed", "--dataset", TYPO_DS], DS),
    (["report", "--dataset", TYPO_DS, "--out", "{tmp}/r"], DS),
    (["fetch", "--dataset", TYPO_DS, "--cache-dir", "{tmp}/c"], DS),
    (["export", "--dataset", TYPO_DS, "--out", "{tmp}/e"], DS),
    (["export", "--format", "xlsxx", "--out", "{tmp}/e"], "xlsx"),
    (["lst"], "list"),
]


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory) -> dict[int, tuple]:
    """Every case's command, run at once (they only import and refuse): {case: (proc, stderr, tmp)}."""
    import subprocess
    import sys

    from conftest import ROOT

    procs = {}
    for i, (args, _) in enumerate(CLI_CASES):
        tmp = tmp_path_factory.mktemp(f"cli{i}")
        (tmp / "x.csv").write_text("source_id,title\nx,y\n")
        cmd = [sys.executable, "-m", "conflictstats", *[a.replace("{tmp}", str(tmp)) for a in args]]
        procs[i] = (subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), tmp)
    out = {}
    for i, (proc, tmp) in procs.items():
        _, err = proc.communicate(timeout=300)
        out[i] = (proc.returncode, err, tmp)
    return out


@pytest.mark.parametrize("case", range(len(CLI_CASES)), ids=[" ".join(a) for a, _ in CLI_CASES])
def test_every_command_exits_3_and_suggests(case, cli_runs):
    code, stderr, tmp = cli_runs[case]
    suggestion = CLI_CASES[case][1]
    assert code == 3, (code, stderr)
    assert suggestion in stderr, stderr
    assert "Traceback" not in stderr and "bug" not in stderr
    assert not (tmp / "b").exists() and not (tmp / "r").exists() and not (tmp / "e").exists()


@functools.cache
def _fitted():
    return cs.fit("health_facilities_suspended")  # a small metric: a quick fit, made once


def _api_cases():
    from conflictstats.build import build
    from conflictstats.consistency import check_dataset
    from conflictstats.export import export
    from conflictstats.models import backtest
    from conflictstats.report import build_report
    from conflictstats.userfiles import validate_path

    return [
        ("load table", lambda p: cs.load("figurs"), "figures"),
        ("load dataset", lambda p: cs.load("figures", TYPO_DS), DS),
        ("list_tables", lambda p: cs.list_tables(TYPO_DS), DS),
        ("cite dataset", lambda p: cs.cite(TYPO_DS), DS),
        ("cite format", lambda p: cs.cite(DS, format="bibtx"), "bibtex"),
        ("table_path", lambda p: cs.api.table_path("codebok"), "codebook"),
        ("fetch", lambda p: cs.fetch(TYPO_DS, cache_dir=p), DS),
        ("fit metric", lambda p: cs.fit("displaced_people"), "people_displaced"),
        ("fit dataset", lambda p: cs.fit("civilians_killed", dataset=TYPO_DS), DS),
        ("fit area", lambda p: cs.fit("civilians_killed", area="Idleb governorat"), "Idleb governorate"),
        ("backtest metric", lambda p: backtest("displaced_people"), "people_displaced"),
        ("backtest mode", lambda p: backtest("civilians_killed", mode="forcast"), "forecast"),
        ("compare", lambda p: cs.compare("displaced_people", [DS]), "people_displaced"),
        ("compare dataset", lambda p: cs.compare("civilians_killed", [TYPO_DS]), DS),
        ("export dataset", lambda p: export(TYPO_DS, "csv", p / "e"), DS),
        ("export format", lambda p: export(DS, "xlsxx", p / "e"), "xlsx"),
        ("build", lambda p: build(TYPO_DS, p / "b"), DS),
        ("check_dataset", lambda p: check_dataset(TYPO_DS), DS),
        ("build_report", lambda p: build_report(TYPO_DS, p / "r", progress=False), DS),
        ("validate_path table", lambda p: validate_path(p / "x.csv", "sorces"), "sources"),
        ("predict_window originator",
         lambda p: _fitted().predict_window("2019-05-01", "2019-05-31", originator="SNRH"), "SNHR"),
        ("get_prediction originator",
         lambda p: _fitted().get_prediction([("2019-05-01", "2019-05-31", "OCAH")]).summary_frame(), "OCHA"),
    ]


@pytest.mark.parametrize("case", range(len(_api_cases())), ids=[c[0] for c in _api_cases()])
def test_every_public_function_raises_unknown_name_error_with_a_suggestion(case, tmp_path):
    _, call, suggestion = _api_cases()[case]
    (tmp_path / "x.csv").write_text("source_id,title\nx,y\n")
    with pytest.raises(UnknownNameError) as err:
        call(tmp_path)
    assert suggestion in str(err.value), str(err.value)
    assert "did you mean" in str(err.value)


def test_fit_names_people_displaced_exactly_as_the_issue_asks():
    with pytest.raises(UnknownNameError, match="did you mean people_displaced"):
        cs.fit("displaced_people")


def test_a_known_metric_with_too_few_figures_says_how_many():
    with pytest.raises(NotEnoughDataError, match=r"'idps_in_camps' has 0 usable flow figures.*7 figures left "
                                                 r"out: 7 stock"):
        cs.fit("idps_in_camps")
    proc = run_cli("backtest", "--metric", "idps_in_camps")
    assert proc.returncode == 3 and "0 usable flow figures" in proc.stderr, proc.stderr
    assert "bug" not in proc.stderr


def test_an_unseen_but_real_originator_still_predicts_on_the_reference_scale():
    """A registry originator the fit did not see is not a typo: no error."""
    res = _fitted()
    out = res.predict_window("2019-05-01", "2019-05-31", originator="OHCHR")
    assert out["mean"] > 0


def test_a_group_label_the_fit_did_not_see_is_not_a_typo():
    """A coverage-group label of another fit ("News media (daily tallies)", whose originator label
    is the registry's "News media (own tally)" shortened) is an unseen originator, not a misspelling:
    the real-time backtest predicts such targets instead of losing their cut-off."""
    from conflictstats.models.observations import check_originator

    check_originator("News media (daily tallies)", ["SNHR", "SOHR (daily tallies)"], {})
    check_originator("News media", ["SNHR"], {})
    with pytest.raises(UnknownNameError, match="did you mean"):
        check_originator("News medai", ["SNHR"], {})
