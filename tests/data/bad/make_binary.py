"""Regenerate the binary (Parquet) files of the bad-input corpus.

Run from the repository root: ``python tests/data/bad/make_binary.py``. Each file starts from
the valid test fixture (tests/conftest.py VALID) written exactly as `conflictstats build`
writes it, then is damaged in one way; MANIFEST.tsv says how and what each must produce.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # tests/, for conftest

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from conftest import COVERAGE, VALID  # noqa: E402
from conflictstats.curated import raw_tables as frames  # noqa: E402
from conflictstats.store import PARQUET_KEY, parquet_bytes  # noqa: E402
from conflictstats.tables import to_arrow  # noqa: E402
from conflictstats.validation import check_tables  # noqa: E402


def valid_table(table: str) -> pa.Table:
    typed, failures = check_tables(frames(VALID), COVERAGE)
    assert not failures, failures
    meta = {"dataset": "idlib-2019", "table": table, "rows": len(typed[table])}
    if table == "figures":
        meta["metrics"] = [m["metric"] for m in VALID["codebook"]]
    return to_arrow(typed[table], table, {PARQUET_KEY: json.dumps(meta, sort_keys=True).encode()})


class LabelType(pa.ExtensionType):
    """A user extension type: readers that do not know it must refuse the column."""

    def __init__(self):
        super().__init__(pa.string(), "example.label")

    def __arrow_ext_serialize__(self) -> bytes:
        return b""

    @classmethod
    def __arrow_ext_deserialize__(cls, storage_type, serialized):
        return cls()


def first_failing_flip(data: bytes, start: int, stop: int) -> bytes:
    """The file with the first byte in [start, stop) whose flip pyarrow refuses to read."""
    for pos in range(start, stop):
        b = bytearray(data)
        b[pos] ^= 0xFF
        try:
            pq.read_table(pa.BufferReader(bytes(b)), use_threads=False)
        except (pa.ArrowException, OSError, ValueError):
            return bytes(b)
    raise AssertionError("no flip in range breaks the file")


def main() -> None:
    figures = valid_table("figures")
    good = parquet_bytes(figures)
    out = {}
    out["p01_truncated.parquet"] = good[: len(good) // 2]
    footer_len = int.from_bytes(good[-8:-4], "little")
    out["p02_flipped_byte_footer.parquet"] = first_failing_flip(good, len(good) - 8 - footer_len, len(good) - 8)
    out["p03_flipped_byte_data.parquet"] = first_failing_flip(good, 4, len(good) // 2)
    out["p04_extra_column.parquet"] = parquet_bytes(
        figures.append_column("colour", pa.array(["red"] * figures.num_rows)))
    out["p05_missing_column.parquet"] = parquet_bytes(figures.drop_columns(["value", "paraphrase"]))
    i = figures.schema.get_field_index("area")
    ext = pa.ExtensionArray.from_storage(LabelType(), figures.column("area").combine_chunks())
    out["p06_extension_type.parquet"] = parquet_bytes(figures.set_column(i, pa.field("area", LabelType()), ext))
    i = figures.schema.get_field_index("value")
    out["p07_wrong_column_type.parquet"] = parquet_bytes(
        figures.set_column(i, pa.field("value", pa.string()), pa.array(["twelve", "190", "12"])))
    out["p08_wrong_table.parquet"] = parquet_bytes(valid_table("sources"))
    out["p09_not_parquet.parquet"] = b"figure_id,value\nx,1\n"
    out["p10_empty.parquet"] = b""
    i = figures.schema.get_field_index("qualifier")
    out["p11_enum_out_of_range.parquet"] = parquet_bytes(
        figures.set_column(i, figures.schema.field("qualifier"), pa.array(["roughly", "range", "exact"])))
    out["p12_duplicate_column.parquet"] = parquet_bytes(
        figures.append_column(pa.field("value", pa.int64()), pa.array([1, 2, 3], pa.int64())))
    out.update(user_parquet(figures))
    for name, data in out.items():
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


def user_parquet(figures: pa.Table) -> dict[str, bytes]:
    """Files a user might hand to `validate` (q*): readable Parquet whose cells are of types the
    contract does not use, or out of the range conflictstats computes with (rule failures, exit 1)."""
    import datetime as dt
    from decimal import Decimal

    def swap(column: str, arr: pa.Array) -> bytes:
        i = figures.schema.get_field_index(column)
        return parquet_bytes(figures.set_column(i, pa.field(column, arr.type), arr))

    n = figures.num_rows
    end = figures.column("period_end").to_pylist()
    return {
        "q01_date32_year_1.parquet": swap("period_end", pa.array([dt.date(1, 1, 1)] + end[1:], pa.date32())),
        "q02_timestamp_us_year_9999.parquet": swap("period_end", pa.array(
            [dt.datetime(9999, 12, 31)] + [dt.datetime.combine(d, dt.time()) for d in end[1:]], pa.timestamp("us"))),
        "q03_date64_year_1.parquet": swap("period_end", pa.array([dt.date(1, 1, 1)] + end[1:], pa.date64())),
        "q04_timestamp_with_timezone.parquet": swap("period_end", pa.array(
            [dt.datetime.combine(d, dt.time()) for d in end], pa.timestamp("us", tz="Asia/Damascus"))),
        "q05_list_where_text.parquet": swap("area", pa.array([["Idlib"]] * n, pa.list_(pa.string()))),
        "q06_struct_where_text.parquet": swap("area", pa.array([{"name": "Idlib"}] * n,
                                                               pa.struct([("name", pa.string())]))),
        "q07_list_of_lists.parquet": swap("admin1_pcodes", pa.array([[["SY07"]]] * n, pa.list_(pa.list_(pa.string())))),
        "q08_dictionary_enum_out_of_range.parquet": swap("qualifier", pa.array(
            ["roughly", "range", "exact"]).dictionary_encode()),
        "q09_decimal_fraction.parquet": swap("value", pa.array(
            [Decimal("12.5"), Decimal("190"), Decimal("12")], pa.decimal128(10, 1))),
        "q10_float_infinity.parquet": swap("value", pa.array([float("inf"), 190.0, 12.0])),
        "q11_uint64_beyond_int64.parquet": swap("value", pa.array([2**64 - 1, 190, 12], pa.uint64())),
        "q12_binary_where_text.parquet": swap("area", pa.array([b"\xff\xfeI"] * n, pa.binary())),
        "q13_boolean_value.parquet": swap("value", pa.array([True, True, False])),
        "q14_duration_where_date.parquet": swap("period_end", pa.array([86400] * n, pa.duration("s"))),
        "q15_time_where_date.parquet": swap("period_end", pa.array([3600] * n, pa.time32("s"))),
        "q16_map_where_text.parquet": swap("area", pa.array([[("name", "Idlib")]] * n, pa.map_(pa.string(), pa.string()))),
        "q17_float_nan_value.parquet": swap("value", pa.array([float("nan"), 190.0, 12.0])),
        "q18_date32_year_9999_start.parquet": swap("period_start", pa.array(
            [dt.date(9999, 12, 31)] * n, pa.date32())),
    }


if __name__ == "__main__":
    main()
