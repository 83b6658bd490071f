"""Curation audit: a sample of figures shown beside their sources, and AUDIT.md kept honest."""

from __future__ import annotations

import re
from collections import Counter

import pytest

import conflictstats as cs
from conflictstats.audit import draw, figure_line
from conflictstats.registry import dataset_info

OUTCOMES = {"confirmed", "corrected", "removed", "not re-found"}


def test_sample_of_20_printed_with_sources(capsys):
    figures, sources = cs.load("figures"), cs.load("sources").set_index("source_id")
    sample = draw(figures, 20, seed=7)
    assert len(sample) == 20
    lines = [figure_line(row, sources.loc[row["source_id"]]) for _, row in sample.iterrows()]
    for line in lines:
        print(line)
        assert re.search(r"\| .+, \".+\", \d{4}-\d{2}-\d{2}, https?://\S+$", line), line
    out = capsys.readouterr().out
    assert out.count("\n") == 20
    with capsys.disabled():  # shown in the test run itself, for a person to spot-check
        print("\n" + out, end="")


def _audit_rows() -> list[tuple[int, str, str]]:
    text = (dataset_info().path / "AUDIT.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| ([a-z0-9][a-z0-9._-]*) \| ([a-z -]+?) \|", text, flags=re.M)
    return [(int(n), fid, outcome.strip()) for n, fid, outcome in rows], text


def test_audit_lists_50_drawn_figures_with_outcomes():
    rows, text = _audit_rows()
    assert [n for n, _, _ in rows] == list(range(1, 51))
    ids = [fid for _, fid, _ in rows]
    assert len(set(ids)) == 50
    assert {o for _, _, o in rows} <= OUTCOMES
    # The summary table agrees with the per-figure table.
    counts = Counter(o for _, _, o in rows)
    for outcome in OUTCOMES:
        m = re.search(rf"^\| {outcome} \| (\d+) \|", text, flags=re.M)
        assert m and int(m.group(1)) == counts.get(outcome, 0), outcome
    # Every audited figure that was not removed is still in the data (ids are stable).
    current = set(cs.load("figures")["figure_id"])
    for _, fid, outcome in rows:
        assert (fid in current) == (outcome != "removed"), fid
    assert "20190831" in text  # the seed of the draw


# Independent audits of idlib-2019 releases: (file, seed, drawn from the figures shipped now).
# The draw depends only on the sorted figure ids; an audit drawn before figures were added or
# removed can no longer be re-derived from the shipped release, so only its form is checked.
RELEASE_AUDITS = [("AUDIT-2019.2.0.md", 20261202, False), ("AUDIT-seed20261205.md", 20261205, False),
                  ("AUDIT-2019.2.1.md", 20261207, True)]


@pytest.mark.parametrize("name,seed,rederive", RELEASE_AUDITS)
def test_release_audits_are_seeded_draws(name, seed, rederive):
    """Each independent audit lists 60 figures, each with an outcome, names its seed, and its
    summary agrees with its rows; the latest is exactly the draw its seed gives today."""
    from conflictstats.audit import draw

    text = (dataset_info().path / name).read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| ([a-z0-9][a-z0-9._-]*) \| ([^|]+?) \|", text, flags=re.M)
    outcomes = [o.strip().strip("*") for _, _, o in rows]
    assert [int(n) for n, _, _ in rows] == list(range(1, 61))
    assert set(outcomes) <= {"confirmed", "error", "not re-found"}
    assert str(seed) in text
    if rederive:
        drawn = draw(cs.load("figures"), 60, seed=seed)["figure_id"].tolist()
        assert [fid for _, fid, _ in rows] == drawn
    counts = Counter(outcomes)
    for label, key in (("confirmed", "confirmed"), ("errors", "error"), ("not re-found", "not re-found")):
        m = re.search(rf"^\| {label} \| (\d+) \|", text, flags=re.M)
        assert m and int(m.group(1)) == counts.get(key, 0), label


def test_latest_audit_is_read_from_the_record(tmp_path):
    """The report's error rate comes from the audit files: newest date, newest-on-top within a file."""
    from conflictstats.audit import latest_audit

    assert latest_audit(tmp_path) is None
    (tmp_path / "AUDIT.md").write_text(
        "# Second audit of release 1.0.0\n\n- **Date:** 2026-12-03\n- **Error rate:** 1 of the 50 figures whose "
        "document was re-found had an error (2.0%).\n\n# First audit of release 1.0.0\n\n- **Date:** 2026-12-03\n"
        "- **Error rate:** 9 of the 45 figures whose document was re-found had an error.\n", encoding="utf-8")
    (tmp_path / "AUDIT-old.md").write_text(
        "# Old audit\n- **Date:** 2026-11-25\n- **Error rate:** 5 of the 48 figures had an error.\n",
        encoding="utf-8")
    latest = latest_audit(tmp_path)
    assert (latest.file, latest.errors, latest.checked, latest.release) == ("AUDIT.md", 1, 50, "1.0.0")
    assert abs(latest.rate - 0.02) < 1e-12
    # the same date: the audit of the later release is the latest, wherever its file sorts
    (tmp_path / "AUDIT-a.md").write_text("# Audit of release 1.0.10\n- **Date:** 2026-12-03\n"
                                         "- **Error rate:** 3 of the 40 figures had an error.\n", encoding="utf-8")
    assert latest_audit(tmp_path).file == "AUDIT-a.md"


def test_shipped_latest_audit():
    from conflictstats.audit import latest_audit

    latest = latest_audit(dataset_info().path)
    text = (dataset_info().path / latest.file).read_text(encoding="utf-8")
    assert f"**Error rate:** {latest.errors} of the {latest.checked} figures" in text
