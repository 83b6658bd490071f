"""Every shipped Parquet file read without conflictstats: plain pyarrow, plain pandas, DuckDB.

Users take the files alone, so types must be plain (string, int64, date32, list<string>),
row counts must agree everywhere they are recorded, and each file must explain itself through
its ``conflictstats`` key-value entry.
"""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conflictstats import datamodel as c
from conflictstats.registry import DEFAULT_DATASET, dataset_info
from conflictstats.tables import arrow_schema

DS = DEFAULT_DATASET
INFO = dataset_info(DS)
REQUIRED_META = {"dataset", "release", "schema_version", "table", "license", "citation"}
SCALAR_DUCKDB_TYPES = {pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.date32(): "DATE"}


def duckdb_type(t: pa.DataType) -> str | None:
    """The DuckDB type a plain Arrow type reads as; None for anything not plain."""
    if pa.types.is_list(t):
        return "VARCHAR[]" if t.value_type == pa.string() else None
    return next((name for arrow, name in SCALAR_DUCKDB_TYPES.items() if arrow == t), None)


def _path(table: str):
    return INFO.path / f"{table}.parquet"


def _recorded_rows(table: str) -> int:
    package = json.loads((INFO.path / "datapackage.json").read_text(encoding="utf-8"))
    return next(r["rows"] for r in package["resources"] if r["name"] == table)


@pytest.mark.parametrize("table", c.TABLES)
def test_pyarrow_reads_plain_types_and_metadata(table):
    t = pq.read_table(_path(table))
    assert [f.name for f in t.schema] == list(c.COLUMNS[table])
    assert [f.type for f in t.schema] == [f.type for f in arrow_schema(table)]
    assert all(duckdb_type(f.type) for f in t.schema), t.schema
    meta = pq.read_metadata(_path(table)).metadata
    assert b"ARROW:extension:name" not in str(t.schema.to_string(show_schema_metadata=True)).encode()
    info = json.loads(meta[b"conflictstats"])
    assert REQUIRED_META <= set(info), set(info)
    assert (info["dataset"], info["release"], info["table"], info["license"]) == \
        (DS, INFO.release, table, INFO.license)
    assert info["schema_version"] == c.SCHEMA_VERSION and info["citation"] == INFO.citation()
    assert t.num_rows == info["rows"] == _recorded_rows(table)
    for name in c.COLUMNS[table]:  # column descriptions travel with the file too
        assert t.schema.field(name).metadata[b"description"], name


@pytest.mark.parametrize("table", c.TABLES)
def test_plain_pandas_reads_every_row(table):
    df = pd.read_parquet(_path(table))
    assert len(df) == _recorded_rows(table)
    assert list(df.columns) == list(c.COLUMNS[table])


def test_duckdb_reads_types_rows_metadata_and_keys():
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    for table in c.TABLES:
        path = str(_path(table))
        n = con.execute("SELECT count(*) FROM read_parquet(?)", [path]).fetchone()[0]
        assert n == _recorded_rows(table)
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
        expected = [(f.name, duckdb_type(f.type)) for f in arrow_schema(table)]
        assert [(row[0], row[1]) for row in described] == expected
        kv = dict(con.execute("SELECT decode(key), decode(value) FROM parquet_kv_metadata(?)", [path]).fetchall())
        assert json.loads(kv["conflictstats"])["table"] == table
    # Foreign keys hold for a reader that knows nothing of conflictstats.
    orphans = con.execute(
        "SELECT count(*) FROM read_parquet(?) f LEFT JOIN read_parquet(?) s USING (source_id) "
        "WHERE s.source_id IS NULL", [str(_path("figures")), str(_path("sources"))]).fetchone()[0]
    assert orphans == 0
    in_list = con.execute("SELECT count(*) FROM read_parquet(?) WHERE list_contains(admin1_pcodes, 'SY07')",
                          [str(_path("figures"))]).fetchone()[0]
    assert 0 < in_list <= _recorded_rows("figures")
