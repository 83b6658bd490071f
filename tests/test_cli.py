"""The CLI as users run it, in subprocesses."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from conftest import VALID, run_cli


def _write_csv(path, rows):
    cols = list(rows[0])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({k: (";".join(v) if isinstance(v, list) else ("" if v is None else v)) for k, v in r.items()})


def test_validate_reports_all_five_failures(tmp_path):
    """Acceptance: negative value, unknown metric, end before start, missing source, non-http URL."""
    sources = [dict(s) for s in VALID["sources"]]
    sources[1]["url"] = "ftp://example.org/b"
    figs = [dict(f) for f in VALID["figures"]]
    figs[0]["value"] = -3
    figs[1]["metric"] = "goats_killed"
    figs[2]["period_start"] = "2019-05-21"
    figs[2]["period_end"] = "2019-05-20"
    extra = dict(VALID["figures"][0], figure_id="x-f09", source_id="missing-doc", value=7)
    figs.append(extra)
    _write_csv(tmp_path / "sources.csv", sources)
    _write_csv(tmp_path / "figures.csv", figs)
    _write_csv(tmp_path / "codebook.csv", VALID["codebook"])
    proc = run_cli("validate", str(tmp_path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    for rule in ("[non_negative]", "[known_metric]", "[start_not_after_end]", "[source_exists]", "[format]"):
        assert rule in out, (rule, out)
    assert "figures.csv, line 2" in out and "column value" in out
    assert "Traceback" not in proc.stderr
    # The single-file form takes context from the shipped dataset: still all figure rules.
    proc = run_cli("validate", str(tmp_path / "figures.csv"))
    assert proc.returncode == 1
    for rule in ("[non_negative]", "[known_metric]", "[start_not_after_end]", "[source_exists]"):
        assert rule in proc.stdout


def test_validate_unreadable_exit_2(tmp_path):
    p = tmp_path / "figures.csv"
    p.write_text("figure_id;source_id\nx;y\n")
    proc = run_cli("validate", str(p))
    assert proc.returncode == 2 and "separated" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("validate", str(tmp_path / "nothing.csv"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_validate_shipped_parquet_is_valid():
    from conflictstats.registry import dataset_info

    proc = run_cli("validate", str(dataset_info().path / "figures.parquet"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run_cli("validate", str(dataset_info().path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_show_civilians_killed_sorted():
    proc = run_cli("show", "figures", "--metric", "civilians_killed", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(proc.stdout.splitlines()))
    assert rows and all(r["metric"] == "civilians_killed" for r in rows)
    ends = [r["period_end"] for r in rows]
    assert ends == sorted(ends)
    assert {"originator", "qualifier"} <= set(rows[0])
    table = run_cli("show", "figures", "--metric", "civilians_killed")
    assert "originator" in table.stdout and "qualifier" in table.stdout


def test_show_json_and_unknown_metric():
    proc = run_cli("show", "events", "--format", "json")
    assert proc.returncode == 0 and len(json.loads(proc.stdout)) > 0
    proc = run_cli("show", "figures", "--metric", "unicorns")
    assert proc.returncode == 3 and "unknown metric" in proc.stderr


def test_list_and_cite():
    proc = run_cli("list")
    assert proc.returncode == 0 and "idlib-2019" in proc.stdout and "figures" in proc.stdout
    proc = run_cli("cite")
    assert proc.returncode == 0 and "@misc{" in proc.stdout


def test_unknown_dataset_is_usage_error():
    proc = run_cli("show", "figures", "--dataset", "../../etc")
    assert proc.returncode == 3 and "not a valid dataset name" in proc.stderr


def test_every_usage_error_exits_3():
    """Usage errors (a filter that does not apply, a bad option value, an unknown command) exit 3."""
    for args in (("show", "sources", "--metric", "civilians_killed"), ("show", "figures", "--format", "xml"),
                 ("export", "--format", "ods", "--out", "x"), ("simulate", "--runs", "many"), ("frobnicate",)):
        proc = run_cli(*args)
        assert proc.returncode == 3, (args, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_handlers_live_in_the_cli_only():
    """One thin CLI: no other module imports argparse or reads parsed options defensively."""
    import conflictstats

    pkg = Path(conflictstats.__file__).resolve().parent
    for path in pkg.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "getattr(args" not in text, path
        if path.name != "cli.py" or path.parent != pkg:
            assert "import argparse" not in text, path
