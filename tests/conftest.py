"""Shared fixtures: a small valid dataset in raw form, and helpers to run the CLI."""

from __future__ import annotations

import copy
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
D = dt.date

VALID = {
    "codebook": [
        {"metric": "civilians_killed", "label": "Civilians killed", "unit": "people",
         "definition": "Civilian deaths during the window.", "hxl": "#affected+killed", "notes": None},
        {"metric": "people_displaced", "label": "People displaced", "unit": "people",
         "definition": "People who fled during the window.", "hxl": "#affected+idps", "notes": None},
    ],
    "sources": [
        {"source_id": "doc-a-2019-05-10", "title": "Document A", "publisher": "Publisher A",
         "publisher_type": "un_agency", "doc_type": "situation_report", "published": D(2019, 5, 10),
         "url": "https://example.org/a", "language": "en", "accessed": D(2026, 11, 25), "notes": None},
        {"source_id": "doc-b-2019-06-01", "title": "Document B", "publisher": "Publisher B",
         "publisher_type": "news_media", "doc_type": "news_article", "published": D(2019, 6, 1),
         "url": "http://example.org/b", "language": "en", "accessed": D(2026, 11, 25), "notes": None},
    ],
    "figures": [
        {"figure_id": "doc-a-2019-05-10-f01", "source_id": "doc-a-2019-05-10", "metric": "people_displaced",
         "value": 150000, "qualifier": "more_than", "value_low": None, "value_high": None,
         "count_type": "flow", "period_start": D(2019, 5, 1), "period_end": D(2019, 5, 9),
         "date_precision": "day", "area": "northern Hama", "area_scope": "campaign_area",
         "admin1_pcodes": ["SY05", "SY07"], "originator": "OCHA", "originator_type": "un_agency",
         "perpetrator": None, "verification": "not_stated", "locator": "Highlights",
         "paraphrase": "Test figure: over 150,000 people fled in early May.", "notes": None},
        {"figure_id": "doc-b-2019-06-01-f01", "source_id": "doc-b-2019-06-01", "metric": "civilians_killed",
         "value": 180, "qualifier": "range", "value_low": 180, "value_high": 200,
         "count_type": "flow", "period_start": None, "period_end": D(2019, 5, 31),
         "date_precision": "month", "area": "Idlib", "area_scope": "governorate",
         "admin1_pcodes": ["SY07"], "originator": "SNHR", "originator_type": "ngo_monitor",
         "perpetrator": "Syrian government forces", "verification": "not_stated", "locator": None,
         "paraphrase": "Test figure: between 180 and 200 civilians were killed in May.", "notes": None},
        {"figure_id": "doc-b-2019-06-01-f02", "source_id": "doc-b-2019-06-01", "metric": "civilians_killed",
         "value": 12, "qualifier": "exact", "value_low": None, "value_high": None,
         "count_type": "incident", "period_start": D(2019, 5, 20), "period_end": D(2019, 5, 20),
         "date_precision": "day", "area": "Kafr Nabl", "area_scope": "community",
         "admin1_pcodes": ["SY07"], "originator": "rescuers", "originator_type": "civil_defence",
         "perpetrator": None, "verification": "unverified", "locator": "para 3",
         "paraphrase": "Test figure: one strike killed 12 civilians.", "notes": None},
    ],
    "events": [
        {"event_id": "offensive-2019-05-06", "date": D(2019, 5, 6), "date_end": None,
         "kind": "offensive_start", "place": "northern Hama", "source_id": "doc-a-2019-05-10",
         "description": "Ground offensive began in northern Hama."},
    ],
}
COVERAGE = (D(2019, 2, 1), D(2019, 10, 31))


@pytest.fixture
def valid_raw():
    """A fresh deep copy of the valid raw tables (lists of dicts)."""
    return copy.deepcopy(VALID)


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 300):
    """Run the real CLI in a subprocess; returns CompletedProcess with text output."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "conflictstats", *args], cwd=cwd or ROOT,
                          capture_output=True, text=True, env=full_env, timeout=timeout)


@pytest.fixture(scope="session")
def built_reports(tmp_path_factory):
    """Every report built by the real CLI, at the same time in two processes (other hash seed):
    ``conflictstats report`` (every dataset, the comparison, the index) into ``a/``, and
    ``conflictstats report --dataset <default> --quiet`` into ``b/<default>``. Returns
    ``(root_a, proc_a, folder_b, proc_b)``; report and browser tests share it (one build of each)."""
    from conflictstats.registry import DEFAULT_DATASET

    base = tmp_path_factory.mktemp("report")
    root, single = base / "a", base / "b" / DEFAULT_DATASET
    cmds = [["report", "--out", str(root)], ["report", "--dataset", DEFAULT_DATASET, "--out", str(single), "--quiet"]]
    procs = []
    for cmd, seed in zip(cmds, ("0", "12345")):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        procs.append(subprocess.Popen([sys.executable, "-m", "conflictstats", *cmd], cwd=ROOT, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for p in procs:
        out, err = p.communicate(timeout=1800)
        results.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    for r in results:
        assert r.returncode == 0, r.stdout + r.stderr
    return root, results[0], single, results[1]


@pytest.fixture(scope="session")
def built_report(built_reports):
    """The default dataset's report from both builds: ``(folder_a, proc_a, folder_b, proc_b)``."""
    root, proc_a, single, proc_b = built_reports
    return root / single.name, proc_a, single, proc_b
