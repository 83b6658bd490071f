"""`conflictstats export`: CSV, Parquet and XLSX with a README carrying the citation and license."""

from __future__ import annotations

import csv

import pyarrow.parquet as pq
import pytest

import conflictstats as cs
from conflictstats.datamodel import COLUMNS, TABLES
from conflictstats.export import export
from conflictstats.registry import DEFAULT_DATASET, dataset_info
from conflictstats.manifest import read_sums, sha256_file
from conftest import run_cli

DS = DEFAULT_DATASET


@pytest.fixture(scope="module")
def rows() -> dict[str, int]:
    return {t: len(cs.load(t, DS)) for t in TABLES}


def _check_readme_and_sums(folder):
    info = dataset_info(DS)
    text = (folder / "README.md").read_text(encoding="utf-8")
    assert info.citation() in text and info.license in text and "creativecommons.org/licenses/by/4.0" in text
    sums = read_sums(folder)
    assert "README.md" in sums
    for name, digest in sums.items():
        assert sha256_file(folder / name) == digest, name
    return text


def test_csv_export_round_trips_every_row(tmp_path, rows):
    paths = export(DS, "csv", tmp_path / "csv")
    folder = tmp_path / "csv"
    text = _check_readme_and_sums(folder)
    for t in TABLES:
        with open(folder / f"{t}.csv", encoding="utf-8", newline="") as fh:
            data = list(csv.reader(fh))
        assert tuple(data[0]) == COLUMNS[t]
        assert len(data) - 1 == rows[t]
        assert f"| {t}.csv | {rows[t]} |" in text
    assert set(paths) == {f"{t}.csv" for t in TABLES} | {"datapackage.json", "README.md", "SHA256SUMS"}
    figures = cs.load("figures", DS)
    with open(folder / "figures.csv", encoding="utf-8", newline="") as fh:
        first = next(csv.DictReader(fh))
    row = figures.iloc[0]
    assert first["figure_id"] == row["figure_id"]
    assert first["admin1_pcodes"] == ";".join(row["admin1_pcodes"])
    assert first["period_end"] == row["period_end"].strftime("%Y-%m-%d")


def test_exported_csv_validates_with_the_package(tmp_path):
    """A CSV export is valid input for `conflictstats validate` (same conventions both ways)."""
    export(DS, "csv", tmp_path)
    result = run_cli("validate", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_parquet_export_is_byte_identical_and_self_describing(tmp_path):
    export(DS, "parquet", tmp_path)
    _check_readme_and_sums(tmp_path)
    shipped = dataset_info(DS).path
    for t in TABLES:
        assert (tmp_path / f"{t}.parquet").read_bytes() == (shipped / f"{t}.parquet").read_bytes()
    assert (tmp_path / "datapackage.json").read_bytes() == (shipped / "datapackage.json").read_bytes()
    import json

    meta = json.loads(pq.read_metadata(tmp_path / "figures.parquet").metadata[b"conflictstats"])
    assert meta["release"] == dataset_info(DS).release


def test_xlsx_export_has_readme_sheet_and_all_rows(tmp_path, rows):
    openpyxl = pytest.importorskip("openpyxl")
    result = run_cli("export", "--format", "xlsx", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    info = dataset_info(DS)
    book_path = tmp_path / f"{DS}-{info.release}.xlsx"
    _check_readme_and_sums(tmp_path)
    book = openpyxl.load_workbook(book_path, read_only=True)
    assert book.sheetnames == ["README", *TABLES]
    readme = {r[0]: r[1] for r in book["README"].iter_rows(values_only=True) if r and r[0]}
    assert readme["Citation"] == info.citation()
    assert readme["License"].startswith(info.license)
    for t in TABLES:
        values = list(book[t].iter_rows(values_only=True))
        assert tuple(values[0]) == COLUMNS[t]
        assert len(values) - 1 == rows[t]
        assert readme[t] == rows[t]
    book.close()


def test_exports_are_deterministic(tmp_path):
    for fmt in ("csv", "xlsx"):
        a = export(DS, fmt, tmp_path / f"a-{fmt}")
        b = export(DS, fmt, tmp_path / f"b-{fmt}")
        for name in a:
            assert a[name].read_bytes() == b[name].read_bytes(), name


def test_out_must_be_a_folder(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = run_cli("export", "--format", "csv", "--out", str(target))
    assert result.returncode == 2
    assert "is not a folder" in result.stderr and "Traceback" not in result.stderr
