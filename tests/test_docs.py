"""The documentation site builds with `mkdocs build --strict`, and its generated parts are live.

The data dictionary is generated from conflictstats.datamodel and the shipped codebooks when
the site is built (docs/hooks.py), the API reference from the docstrings (mkdocstrings).
"""

from __future__ import annotations

import html
import subprocess
import sys
from pathlib import Path

import pytest

import conflictstats as cs
from conflictstats import datamodel as c

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out


def test_the_data_dictionary_lists_every_column_and_metric(site):
    page = html.unescape((site / "data-dictionary" / "index.html").read_text(encoding="utf-8"))
    for spec in c.TABLE_SPECS.values():
        for col in spec.columns:
            assert col.name in page and col.hxl in page, col.name
    for q in c.QUALIFIERS:
        assert q in page
    for name in cs.list_datasets():
        for metric in cs.load("codebook", name)["metric"]:
            assert metric in page, (name, metric)


def test_the_api_reference_comes_from_the_docstrings(site):
    page = html.unescape((site / "api" / "index.html").read_text(encoding="utf-8"))
    for text in ("predict_window", "Load one table of a dataset as a pandas DataFrame", "UnknownNameError",
                 "did you mean"):
        assert text in page, text


def test_the_guide_covers_quoting_intervals_and_citing(site):
    page = html.unescape((site / "guide" / "index.html").read_text(encoding="utf-8"))
    for heading in ("Quote a figure with its source", "Read the intervals", "Cite"):
        assert heading in page


def test_the_figure_the_guide_quotes_is_in_the_data_as_quoted():
    figures = cs.load("figures").set_index("figure_id")
    row = figures.loc["cesd-brocar-snhr-969-civilians-killed-since-april-2019-08-29-f01"]
    assert (row["value"], row["qualifier"], row["originator"]) == (969, "at_least", "SNHR")
    assert str(row["period_start"].date()) == "2019-04-26" and str(row["period_end"].date()) == "2019-08-27"
