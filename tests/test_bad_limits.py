"""`validate` on hostile and very large user files: bounded rows, columns, cells, memory and output.

Large files are generated here in a temporary folder (never committed). Rules that span rows must
give exactly what the in-memory check gives, however the file is cut into batches, even when every
row's hash collides.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conflictstats import cli, crossrow, userbatches
from conflictstats.limits import Limits
from conflictstats.tables import arrow_schema
from conflictstats.userfiles import read_csv, read_parquet, validate_path
from conftest import VALID, run_cli

ONE_MB = 1 << 20


def run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(argv)
    return rc, out.getvalue() + err.getvalue()


def _csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: (";".join(v) if isinstance(v, list) else ("" if v is None else v)) for k, v in r.items()})
    return path


@pytest.fixture
def folder(tmp_path):
    """Valid sources.csv and codebook.csv: the context of a figures file put beside them."""
    _csv(tmp_path / "sources.csv", VALID["sources"])
    _csv(tmp_path / "codebook.csv", VALID["codebook"])
    return tmp_path


def repeated_row_parquet(path: Path, n: int, cell: dict | None = None) -> Path:
    """``n`` copies of one valid figure, dictionary-encoded: millions of rows in a few KB."""
    row = {**copy.deepcopy(VALID["figures"][0]), **(cell or {})}
    arrays = []
    for f in arrow_schema("figures"):
        one = pa.array([row.get(f.name)], f.type)
        if row.get(f.name) is None:
            arrays.append(pa.nulls(n, f.type))
        elif pa.types.is_string(f.type):
            arrays.append(pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), one))
        else:
            arrays.append(one.take(pa.array(np.zeros(n, np.int64))))
    pq.write_table(pa.Table.from_arrays(arrays, names=arrow_schema("figures").names), path, compression="zstd")
    return path


def test_bad_three_million_rows_in_a_small_file_is_refused(folder):
    """Issue 18: a Parquet file declaring 3M rows in under 1 MB is refused at once (exit 2, in a
    real process), naming the limit and how to raise it; nothing is decoded."""
    path = repeated_row_parquet(folder / "figures.parquet", 3_000_000)
    assert path.stat().st_size < ONE_MB
    proc = run_cli("validate", str(path))
    assert proc.returncode == 2, proc.stderr
    assert "3,000,000 rows" in proc.stderr and "--max-rows" in proc.stderr and "CONFLICTSTATS_MAX_ROWS" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stdout + proc.stderr) < ONE_MB


def test_bad_repeated_rows_are_counted_not_listed(folder, monkeypatch):
    """Every row a copy of one figure, over many batches: each rule's failures are counted, ten
    printed, the rest summarised; the repeats between batches are found too."""
    monkeypatch.setattr(userbatches, "BATCH_ROWS", 500)
    path = repeated_row_parquet(folder / "figures.parquet", 5_000)
    rc, text = run(["validate", str(path)])
    assert rc == 1 and "Traceback" not in text and len(text) < ONE_MB
    assert "... and 4,990 more failures of rule unique" in text        # every copy shares one id
    assert "... and 4,989 more failures of rule no_duplicate_figure" in text  # all but the first
    assert text.count("[unique]") == 10


def test_bad_wide_csv_is_refused_or_summarised(folder):
    """Issue 18: 50,000 columns exit 2 by default; with the limit lifted, the output stays small."""
    path = folder / "figures.csv"
    path.write_text(",".join(f"c{i}" for i in range(50_000)) + "\n" + ",".join("1" * 50_000) + "\n")
    rc, text = run(["validate", str(path)])
    assert rc == 2 and "50,000 columns" in text and "--max-columns" in text
    rc, text = run(["validate", str(path), "--table", "figures", "--max-columns", "0"])
    assert rc == 1 and len(text.encode()) < ONE_MB, len(text)
    assert "... and 49,990 more failures of rule unknown_column" in text


def test_bad_failures_per_rule_option_and_environment(folder, monkeypatch):
    rows = []
    for i in range(40):
        r = copy.deepcopy(VALID["figures"][0])
        r.update(figure_id=f"f-{i}", value=-1 - i)
        rows.append(r)
    path = _csv(folder / "figures.csv", rows)
    rc, text = run(["validate", str(path)])
    assert rc == 1 and text.count("[non_negative]") == 10 and "30 more failures of rule non_negative" in text
    rc, text = run(["validate", str(path), "--max-failures", "0"])
    assert text.count("[non_negative]") == 40 and "more failures" not in text
    monkeypatch.setenv("CONFLICTSTATS_MAX_FAILURES", "3")
    rc, text = run(["validate", str(path)])
    assert text.count("[non_negative]") == 3 and "37 more failures" in text
    monkeypatch.setenv("CONFLICTSTATS_MAX_FAILURES", "lots")
    rc, text = run(["validate", str(path)])
    assert rc == 3 and "CONFLICTSTATS_MAX_FAILURES" in text


def test_bad_huge_cell_is_refused_before_decoding(folder):
    """One 2 MB paraphrase repeated 100,000 times (dictionary-encoded: a small file) would decode to
    200 GB; the cell is refused from the dictionary, with the limit's name."""
    path = repeated_row_parquet(folder / "figures.parquet", 100_000, {"paraphrase": "x" * (2 << 20)})
    assert path.stat().st_size < ONE_MB
    rc, text = run(["validate", str(path)])
    assert rc == 2 and "bytes in one cell" in text and "CONFLICTSTATS_MAX_CELL_BYTES" in text and "paraphrase" in text
    assert len(text) < 10_000


def test_bad_column_chunk_limit(folder, monkeypatch):
    path = repeated_row_parquet(folder / "figures.parquet", 10)
    monkeypatch.setenv("CONFLICTSTATS_MAX_CHUNK_BYTES", "10")
    rc, text = run(["validate", str(path)])
    assert rc == 2 and "CONFLICTSTATS_MAX_CHUNK_BYTES" in text and "row group 0" in text


def test_bad_long_values_are_cut_in_messages(folder):
    r = copy.deepcopy(VALID["figures"][0])
    r["figure_id"] = "Ä" * 100_000  # not a slug; echoed in the failure
    path = _csv(folder / "figures.csv", [r])
    rc, text = run(["validate", str(path)])
    assert rc == 1 and "[format]" in text and "(100,000 characters)" in text and len(text) < 5_000


def test_bad_rows_limit_on_csv(folder, monkeypatch):
    rows = [dict(copy.deepcopy(VALID["figures"][0]), figure_id=f"f-{i}", value=i) for i in range(30)]
    path = _csv(folder / "figures.csv", rows)
    monkeypatch.setenv("CONFLICTSTATS_MAX_ROWS", "20")
    rc, text = run(["validate", str(path)])
    assert rc == 2 and "CONFLICTSTATS_MAX_ROWS" in text and "--max-rows" in text
    rc, text = run(["validate", str(path), "--max-rows", "30"])
    assert rc == 0, text


def test_bad_empty_tables_are_valid(folder):
    """A header with no rows, and a Parquet file with no rows, hold no broken rule."""
    path = folder / "figures.csv"
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerow(list(VALID["figures"][0]))
    assert run(["validate", str(path)])[0] == 0
    pq.write_table(arrow_schema("figures").empty_table(), folder / "empty.parquet")
    rc, text = run(["validate", str(folder / "empty.parquet"), "--table", "figures"])
    assert rc == 0, text


# --- rules across batches ----------------------------------------------------------------------

def _planted(n: int = 60) -> list[dict]:
    """Valid figures with repeats planted inside one batch and across batches (batches of 7)."""
    base = VALID["figures"]
    rows = []
    for i in range(n):
        r = copy.deepcopy(base[i % len(base)])
        r.update(figure_id=f"f-{i}", value=1000 + i, qualifier="exact", value_low=None, value_high=None)
        rows.append(r)
    rows[30]["figure_id"] = rows[31]["figure_id"] = rows[2]["figure_id"]   # id across and within batches
    rows[55]["figure_id"] = rows[9]["figure_id"]
    for i in (40, 6, 58):                                                  # the same figure again
        rows[i] = dict(copy.deepcopy(rows[5]), figure_id=f"dup-{i}")
    rows[44]["value"] = "many"                                             # a broken cell, never a repeat
    rows[45] = dict(copy.deepcopy(rows[44]), figure_id="f-45")
    return rows


@pytest.mark.parametrize("collide", [False, True], ids=["hashes", "all-hashes-collide"])
def test_bad_rules_across_batches_match_the_in_memory_check(folder, monkeypatch, collide):
    from conflictstats.registry import dataset_info
    from conflictstats.validation import check_curated

    rows = _planted()
    path = folder / "figures.parquet"
    table = pa.Table.from_pylist([{**r, "value": r["value"] if isinstance(r["value"], int) else None}
                                  for r in rows], schema=pa.schema([f.with_nullable(True) for f in arrow_schema("figures")]))
    pq.write_table(table, path)
    csv_path = _csv(folder / "figures.csv", rows)
    context = {"sources": read_csv(folder / "sources.csv")[0], "codebook": read_csv(folder / "codebook.csv")[0]}
    expected = {}
    for p, reader in ((path, read_parquet), (csv_path, read_csv)):
        whole, where = reader(p)
        expected[p] = {(f.row, f.column, f.rule) for f in
                       check_curated({"figures": whole, **context}, dataset_info(), {"figures": where})[1]
                       if f.table == "figures"}
        assert {"unique", "no_duplicate_figure"} <= {rule for _, _, rule in expected[p]}
    monkeypatch.setattr(userbatches, "BATCH_ROWS", 7)
    if collide:
        monkeypatch.setattr(crossrow, "_hash", lambda typed, key: np.zeros(len(typed), np.uint64))
    for p in (path, csv_path):
        _, log = validate_path(p, limits=Limits(failures_per_rule=0))
        got = {(f.row, f.column, f.rule) for f in log.kept}
        assert got == expected[p], (p.name, sorted(got ^ expected[p]))
        assert log.total() == len(expected[p])
        assert all(p.name in f.where for f in log.kept if f.row is not None)
