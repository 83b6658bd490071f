"""The reports: every campaign's, the comparison and the index page. Reproducible bytes, a
current committed copy, computed numbers, working links, a clean CLI."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import conflictstats as cs
from conftest import ROOT, run_cli

COMMITTED = ROOT / "reports"
REGENERATE = "conflictstats report"
DATASETS = cs.list_datasets()
PAGES = [*DATASETS, "comparison"]  # the folders of one build that hold a report (index.html + report.md)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_prints_no_progress_bar_into_a_log(built_report):
    """stderr is a pipe here (as in CI): the tqdm bar stays quiet; test_progress covers a terminal."""
    out, proc = built_report[:2]
    assert proc.stderr == "", proc.stderr
    assert {"index.html", "report.md", "SHA256SUMS"} <= set(_files(out))


def test_two_builds_are_byte_identical(built_report):
    """Two builds in two processes (other hash seed, one --quiet) give the same bytes."""
    first, _, second, proc = built_report
    assert proc.stderr == "" and proc.stdout == "", "--quiet printed something"
    a, b = _files(first), _files(second)
    assert sorted(a) == sorted(b)
    differ = [name for name in a if a[name] != b[name]]
    assert not differ, f"files differ between two builds: {differ}"


def test_committed_reports_are_current(built_reports):
    """CI fails when reports/ is stale (any campaign report, the comparison or the index);
    regenerate it with the command in the message."""
    fresh = built_reports[0]
    if not COMMITTED.is_dir():
        pytest.fail(f"{COMMITTED} is missing; generate it with `{REGENERATE}` and commit it.")
    a, b = _files(fresh), _files(COMMITTED)
    missing = sorted(set(a) - set(b))
    extra = sorted(set(b) - set(a))
    stale = sorted(n for n in set(a) & set(b) if a[n] != b[n])
    assert not (missing or extra or stale), (
        f"the committed reports are not current (missing {missing}, extra {extra}, different {stale}); "
        f"regenerate them with `{REGENERATE}` and commit reports/.")
    assert {f"{page}/index.html" for page in PAGES} | {"index.html"} <= set(a)


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.resources: list[str] = []
        self.links: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        a = dict(attrs)
        if tag in ("img", "script", "iframe", "source", "embed", "object") or (tag == "link"):
            self.resources.append(a.get("src") or a.get("href") or a.get("data") or "")
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])


@pytest.mark.parametrize("page", PAGES)
def test_html_is_self_contained(built_reports, page):
    out = built_reports[0] / page
    parser = _Refs()
    parser.feed((out / "index.html").read_text(encoding="utf-8"))
    assert "script" not in parser.tags and "link" not in parser.tags
    assert parser.resources, "no images in the report"
    for src in parser.resources:
        assert not re.match(r"^[a-z]+:", src), f"external resource {src}"
        assert (out / src).is_file(), f"missing image {src}"
    svgs = {p.name for p in (out / "figures").glob("*.svg")}
    assert svgs == {Path(s).name for s in parser.resources}, "stray or unreferenced chart files"
    for svg in (out / "figures").glob("*.svg"):
        text = svg.read_text(encoding="utf-8")
        assert "<dc:date>" not in text and "xlink:href=\"http" not in text


def test_index_links_every_report_and_the_comparison(built_reports):
    """reports/index.html links each campaign report and the comparison; every link between the
    pages of a build resolves to a file of that build."""
    root = built_reports[0]
    parser = _Refs()
    parser.feed((root / "index.html").read_text(encoding="utf-8"))
    assert {f"{page}/index.html" for page in PAGES} <= set(parser.links)
    for page in PAGES:
        refs = _Refs()
        refs.feed((root / page / "index.html").read_text(encoding="utf-8"))
        for link in refs.links:
            if not re.match(r"^(https?:|#)", link):
                assert (root / page / link).resolve().is_file(), f"{page}: broken link {link}"
    comparison = _Refs()
    comparison.feed((root / "comparison" / "index.html").read_text(encoding="utf-8"))
    assert {f"../{name}/index.html" for name in DATASETS} <= set(comparison.links)


@pytest.mark.parametrize("page", PAGES)
def test_markdown_has_the_same_content(built_reports, page):
    out = built_reports[0] / page
    md = (out / "report.md").read_text(encoding="utf-8")
    html = (out / "index.html").read_text(encoding="utf-8")
    md_heads = re.findall(r"^#{2,3} (.+)$", md, flags=re.M)
    html_heads = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h[23] id=\"[^\"]*\">(.*?)</h[23]>", html)]
    import html as h

    assert md_heads == [h.unescape(x) for x in html_heads]
    assert re.findall(r"!\[[^\]]*\]\((figures/[^)]+)\)", md) == re.findall(r'<img src="([^"]+)"', html)


@pytest.mark.parametrize("dataset", DATASETS)
def test_numbers_in_the_text_come_from_the_data(built_reports, dataset):
    """The counts each report states are its dataset's loaded tables' counts, and the sources list
    is complete."""
    from conflictstats.report.doc import fmt_int
    from conflictstats.manifest import read_sums

    out = built_reports[0] / dataset
    md = (out / "report.md").read_text(encoding="utf-8")
    figures, sources, events = (cs.load(t, dataset) for t in ("figures", "sources", "events"))
    assert (f"This release holds {fmt_int(len(figures))} figures on {fmt_int(figures['metric'].nunique())} "
            f"metrics") in md
    assert f"{fmt_int(len(sources))} public documents, and {fmt_int(len(events))} dated events" in md
    listed = re.findall(r"^\d+\. .*id `([^`]+)`", md, flags=re.M)
    assert sorted(listed) == sorted(sources["source_id"]), "the sources list is not every document"
    for url in sources["url"]:
        assert f"]({url})" in md
    sums = read_sums(cs.api.table_path("figures", dataset).parent)
    assert sums["figures.parquet"] in md
    assert "Documented counts are not true totals" in md
    from conflictstats.audit import latest_audit

    audit = latest_audit(cs.api.table_path("figures", dataset).parent)
    checked = figures["checked_on"].notna()
    assert f"{fmt_int(checked.sum())} of the figures ({100 * checked.mean():.1f}%) were re-read" in md
    assert (f"latest independent audit ({audit.file}, {audit.date.isoformat()}, of release {audit.release})" in md
            and f"an error in {audit.errors} of the {audit.checked} it could re-find "
                f"({100 * audit.rate:.1f}%)" in md)

    # the scale is a named originator's count, never the pool of small ones
    assert "on the scale of other originators (pooled)" not in md


def test_comparison_states_each_campaigns_day_zero(built_reports):
    """Day 0 is each dataset's named event (dataset.toml), shown with its date; every modelled
    metric the datasets share has a chart and a totals table per campaign and originator group."""
    from conflictstats.models.compare import offensive_start

    md = (built_reports[0] / "comparison" / "report.md").read_text(encoding="utf-8")
    for name in DATASETS:
        date, event = offensive_start(name)
        assert f"| [{name}](../{name}/index.html) |" in md and f"| {date:%Y-%m-%d} |" in md
        assert event == cs.registry.dataset_info(name).offensive_start_event
    assert md.count("totals per campaign and originator group") >= 2
    assert "figures/civilians_killed-campaigns.svg" in md and "figures/people_displaced-campaigns.svg" in md


def test_report_records_what_is_not_recorded(built_reports):
    """A dataset whose evaluation.json lacks runs says which, instead of borrowing numbers."""
    from conflictstats.report.fitted import EVALUATION_FILE, Evaluation

    for name in DATASETS:
        md = (built_reports[0] / name / "report.md").read_text(encoding="utf-8")
        ev = Evaluation.read(cs.registry.dataset_info(name).path / EVALUATION_FILE)
        said = f"Not recorded for dataset {name} in `{EVALUATION_FILE}`" in md
        assert said == (ev.simulation() is None or not ev.performance_benchmark()), name


def test_report_text_follows_the_data():
    """Dropping figures changes the stated numbers: nothing is typed in."""
    from conflictstats.report.context import DataContext
    from conflictstats.report.doc import Para
    from conflictstats.report.fitted import EVALUATION_FILE, Evaluation
    from conflictstats.report.sections import Builder

    ctx = DataContext("idlib-2019")
    n = len(ctx.figures)
    ctx.tables["figures"] = ctx.figures.iloc[: n // 2]
    builder = Builder(ctx, runs={}, evaluation=Evaluation.read(ctx.info.path / EVALUATION_FILE))
    builder.summary()
    text = " ".join(b.text for b in builder.doc.blocks if isinstance(b, Para))
    assert f"This release holds {n // 2:,} figures" in text
    assert f"holds {n:,} figures" not in text


def test_evaluation_needs_one_dataset(tmp_path):
    proc = run_cli("report", "--evaluation", "x.json", "--out", str(tmp_path / "r"))
    assert proc.returncode == 3 and "give --dataset too" in proc.stderr
    assert not (tmp_path / "r").exists()


def test_unknown_dataset_is_a_usage_error(tmp_path):
    proc = run_cli("report", "--dataset", "no-such-set", "--out", str(tmp_path / "r"))
    assert proc.returncode == 3
    assert "unknown dataset 'no-such-set'" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "r").exists()


def test_report_does_not_load_heavy_libraries_on_import():
    import subprocess
    import sys

    code = ("import sys, conflictstats.report, conflictstats.report.sections; "
            "print(any(m in sys.modules for m in ('statsmodels', 'matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
