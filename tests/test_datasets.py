"""Every shipped dataset through the same API, CLI and report paths: list, load, show, fit,
predict, backtest, export, cite, fetch and report, parametrized over ``cs.list_datasets()``;
and no dataset named in the package's code except the one default."""

from __future__ import annotations

import csv
import json
import re
import shutil

import pandas as pd
import pyarrow.parquet as pq
import pytest

import conflictstats as cs
from conflictstats.datamodel import TABLES
from conflictstats.manifest import SUMS_FILE, read_anchors, read_sums, sha256_file
from conflictstats.registry import DEFAULT_DATASET, dataset_info
from conftest import ROOT, run_cli
from httpserver import serve

DATASETS = cs.list_datasets()
CHEAP_METRIC = "children_killed"  # the smallest modelled series: a fit in seconds


def test_there_are_several_datasets():
    assert len(DATASETS) >= 2 and DEFAULT_DATASET in DATASETS


@pytest.fixture(scope="module")
def listed() -> str:
    proc = run_cli("list")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("dataset", DATASETS)
def test_list_and_load(dataset, listed):
    info = dataset_info(dataset)
    assert f"{dataset}  release {info.release}" in listed
    for table in TABLES:
        df = cs.load(table, dataset)
        assert len(df) > 0
        meta = json.loads(pq.read_metadata(cs.api.table_path(table, dataset)).metadata[b"conflictstats"])
        assert (meta["dataset"], meta["release"], meta["table"]) == (dataset, info.release, table)
        assert re.search(rf"^  {table:<9} +{len(df)} rows$", listed.split(f"{dataset}  release")[1], flags=re.M)
    figures, codebook = cs.load("figures", dataset), cs.load("codebook", dataset)
    assert set(figures["metric"].astype(str)) <= set(codebook["metric"])


@pytest.mark.parametrize("dataset", DATASETS)
def test_show_and_cite(dataset):
    shown = run_cli("show", "figures", "--dataset", dataset, "--metric", CHEAP_METRIC, "--format", "csv")
    assert shown.returncode == 0, shown.stderr
    rows = list(csv.DictReader(shown.stdout.splitlines()))
    figures = cs.load("figures", dataset)
    assert len(rows) == int((figures["metric"] == CHEAP_METRIC).sum()) > 0
    cited = run_cli("cite", "--dataset", dataset)
    info = dataset_info(dataset)
    assert cited.returncode == 0 and info.citation() in cited.stdout
    assert cs.cite(dataset, "bibtex") in cited.stdout
    assert f"conflictstats_{dataset.replace('-', '_')}_" in cited.stdout


@pytest.mark.parametrize("dataset", DATASETS)
def test_fit_and_predict(dataset):
    """The fit reads the dataset's own campaign window and p-codes, and a named reference."""
    from conflictstats.models.observations import POOLED

    info = dataset_info(dataset)
    res = cs.fit(CHEAP_METRIC, dataset=dataset)
    assert res.converged and res.reference != POOLED
    assert res.campaign == (pd.Timestamp(info.campaign_start), pd.Timestamp(info.campaign_end))
    figures = cs.load("figures", dataset).set_index("figure_id")
    used = figures.loc[res.observations["figure_id"].unique(), "admin1_pcodes"]
    assert all(set(p) <= set(info.campaign_pcodes) for p in used)
    p = res.predict_window(*res.campaign)
    assert 0 < p["ci_lower"] <= p["mean"] <= p["ci_upper"]
    frame = res.get_prediction([(info.campaign_start, info.campaign_end, res.reference)]).summary_frame(0.05)
    assert frame["obs_ci_lower"].iloc[0] <= frame["mean"].iloc[0] <= frame["obs_ci_upper"].iloc[0]


def test_reference_is_declared_else_a_named_series():
    """dataset.toml's reference originators win; otherwise the pool of small originators is not
    chosen while a named campaign-wide series is left, however many days the pool covers."""
    from conflictstats.models import choose_reference
    from conflictstats.models.observations import POOLED

    day = pd.Timestamp
    obs = pd.DataFrame({"group": [POOLED, POOLED, "OHCHR", "SNHR"],
                        "start": [day("2019-11-01"), day("2019-12-01"), day("2019-12-01"), day("2020-01-10")],
                        "end": [day("2019-12-31"), day("2020-03-05"), day("2020-02-06"), day("2020-02-26")]})
    assert choose_reference(obs, None) == "OHCHR"
    assert choose_reference(obs, None, preferred=("SNHR",)) == "SNHR"
    assert choose_reference(obs, None, preferred=("absent", "SNHR")) == "SNHR"
    assert choose_reference(obs[obs["group"] == POOLED], None) == POOLED  # nothing else left


@pytest.mark.parametrize("dataset", DATASETS)
def test_backtest_cli(dataset):
    """The real-time backtest of the cheapest metric through the CLI (a few refits)."""
    proc = run_cli("backtest", "--dataset", dataset, "--metric", CHEAP_METRIC, "--mode", "forecast", "--json",
                   timeout=900)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["mode"] == "forecast" and res["n_held_out"] > 0
    assert 0.0 <= res["coverage_95"] <= 1.0


@pytest.mark.parametrize("dataset", DATASETS)
def test_export_cli(dataset, tmp_path):
    out = tmp_path / "csv"
    proc = run_cli("export", "--dataset", dataset, "--format", "csv", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    for table in TABLES:
        with open(out / f"{table}.csv", newline="", encoding="utf-8") as fh:
            assert sum(1 for _ in csv.DictReader(fh)) == len(cs.load(table, dataset)), table
    assert dataset_info(dataset).citation() in (out / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("dataset", DATASETS)
def test_fetch_the_shipped_release(dataset, tmp_path, monkeypatch):
    """Served over a real HTTP server on 127.0.0.1; the package's RELEASES pins the manifest."""
    from conflictstats.fetch import fetch

    info = dataset_info(dataset)
    assert read_anchors(info.path).get(info.release) == sha256_file(info.path / SUMS_FILE)
    served = tmp_path / "www" / dataset / info.release
    served.mkdir(parents=True)
    for name in [*read_sums(info.path), SUMS_FILE]:
        shutil.copy2(info.path / name, served / name)
    monkeypatch.setenv("CONFLICTSTATS_DATA", str(tmp_path / "cache"))
    with serve(tmp_path / "www") as srv:
        paths = fetch(dataset, base_url=srv.url)
    assert paths[SUMS_FILE].parent == tmp_path / "cache" / dataset / info.release
    assert len(cs.load("figures", dataset, release=info.release)) == len(cs.load("figures", dataset))


@pytest.mark.parametrize("dataset", DATASETS)
def test_report_of_each_dataset(dataset, built_reports):
    """`conflictstats report` built each dataset's report (checked in depth in test_report.py)."""
    out = built_reports[0] / dataset
    md = (out / "report.md").read_text(encoding="utf-8")
    assert md.startswith(f"# {dataset_info(dataset).title}\n")
    sums = dict(line.split()[::-1] for line in (out / SUMS_FILE).read_text(encoding="utf-8").splitlines())
    assert sums["index.html"] == sha256_file(out / "index.html")


def test_compare_takes_every_dataset():
    """cs.compare on the cheapest metric: each campaign from its own day 0, with its largest reports."""
    from conflictstats.models.compare import compare_totals, offensive_start

    d = cs.compare(CHEAP_METRIC, DATASETS)
    assert list(dict.fromkeys(d["dataset"])) == DATASETS
    for name, sub in d.groupby("dataset"):
        start, _ = offensive_start(name)
        assert sub["day"].iloc[0] == 0 and (sub["date"].iloc[0] == start)
        assert sub["day"].is_monotonic_increasing and sub["largest_report"].notna().any()
        assert (sub["cum_ci_lower"] <= sub["cum_estimate"]).all() and (sub["cum_estimate"] <= sub["cum_ci_upper"]).all()
    totals = compare_totals(CHEAP_METRIC, DATASETS)
    assert set(totals["dataset"]) == set(DATASETS)
    assert (totals.groupby("dataset")["figures"].sum() > 0).all()


PACKAGE = ROOT / "conflictstats"
ALLOWED = ("registry.py", f'DEFAULT_DATASET = "{DEFAULT_DATASET}"')  # the one place a dataset is named


def test_package_code_names_no_dataset_but_the_default():
    """Campaign facts live in each dataset's folder: grep the package for dataset names."""
    names = set(DATASETS) | {DEFAULT_DATASET}
    hits = []
    for path in sorted(PACKAGE.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix in (".pyc", ".parquet"):
            continue
        if path.relative_to(PACKAGE).parts[0] == "datasets":  # the data itself, in an installed tree
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if any(name in line for name in names):
                hits.append((path.relative_to(PACKAGE).as_posix(), n, line.strip()))
    assert [(f, line) for f, _, line in hits] == [ALLOWED], f"dataset names in package code: {hits}"
