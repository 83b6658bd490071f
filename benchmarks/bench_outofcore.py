"""Out-of-core validation: time and peak memory of `conflictstats validate` on large figures files.

    python benchmarks/bench_outofcore.py [--sizes 1000000 10000000 50000000] [--dask]

For each size, a valid figures Parquet file (the shipped figures tiled, ids made unique) is written
to /tmp in chunks of one million rows (never whole in memory), then checked in fresh processes,
each measured with ``/usr/bin/time -v`` (wall time, maximum resident set size):

- ``batches``: ``conflictstats validate FILE`` (Arrow record batches into the pandas schemas);
- ``in_memory``: the whole file read into one frame and checked at once (the path before
  batches), only where it fits (1M rows; 10M rows took 14.6 GB in ``full.json``);
- ``plain_pyarrow``: a hand-written pyarrow check of a few of the same rules (ids unique and
  slugs, value >= 0, enumerations, start <= end) with no failure reports: the floor;
- ``dask`` (with ``--dask``, if dask is installed): the same schema run per partition by
  ``dask.dataframe.map_partitions``, the pandera-on-dask alternative, for the choice of design.

Ratios are against ``plain_pyarrow`` in the same run. Results: benchmarks/results/outofcore.json.
The files are deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
CHUNK = 1_000_000

PLAIN = r'''
import sys, numpy as np, pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq
from conflictstats import datamodel as dm
pf = pq.ParquetFile(sys.argv[1]); bad = 0; ids = []
enums = {c.name: pa.array(list(c.enum)) for c in dm.columns("figures") if c.enum}
for b in pf.iter_batches(batch_size=65536):
    t = pa.Table.from_batches([b])
    bad += pc.sum(pc.less(t["value"], 0)).as_py() or 0
    bad += pc.sum(pc.invert(pc.match_substring_regex(t["figure_id"], dm.SLUG_PATTERN))).as_py() or 0
    for name, allowed in enums.items():
        bad += pc.sum(pc.invert(pc.is_in(t[name], value_set=allowed))).as_py() or 0
    bad += pc.sum(pc.greater(t["period_start"], t["period_end"])).as_py() or 0
    ids.append(t["figure_id"])
ids = pa.chunked_array([c for a in ids for c in a.chunks])
bad += len(ids) - pc.count_distinct(ids).as_py()
print(bad)
'''

IN_MEMORY = r'''
import sys
from pathlib import Path
from conflictstats.registry import dataset_info
from conflictstats.userfiles import as_raw, read_parquet
from conflictstats.validation import check_curated
import conflictstats as cs
df, where = read_parquet(Path(sys.argv[1]))
raw = {"figures": df, "sources": as_raw(cs.load("sources")), "codebook": as_raw(cs.load("codebook"))}
failures = [f for f in check_curated(raw, dataset_info(), {"figures": where})[1] if f.table == "figures"]
print(len(failures))
'''

DASK = r'''
import sys
import dask.dataframe as dd, pandas as pd
import conflictstats as cs
from conflictstats.registry import dataset_info
from conflictstats.userbatches import to_raw
from conflictstats.userfiles import as_raw
from conflictstats.validation import check_table, known_keys, table_context, check_tables, with_originator_groups
import pyarrow as pa
info = dataset_info()
typed, _ = check_tables({"sources": as_raw(cs.load("sources")), "codebook": as_raw(cs.load("codebook"))}, info.coverage)
ctx = table_context("figures", info.coverage, None, *known_keys(typed), grouped_originators=True)
def part(df):
    raw = to_raw(pa.RecordBatch.from_pandas(df, preserve_index=False))
    return pd.Series([len(check_table(with_originator_groups(raw), "figures", ctx)[1])])
ddf = dd.read_parquet(sys.argv[1], split_row_groups=True)
print(int(ddf.map_partitions(part, meta=(None, "int64")).sum().compute(scheduler="synchronous")))
'''


def write_figures(path: Path, n_rows: int) -> None:
    """``n_rows`` valid figures, written a chunk at a time."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from conflictstats.api import table_path

    base = pq.read_table(table_path("figures"))
    base = base.set_column(base.schema.get_field_index("qualifier"), base.schema.field("qualifier"),
                           pc.if_else(pc.equal(base["qualifier"], "range"), "exact", base["qualifier"]))
    nulls = pa.nulls(len(base), pa.int64())
    for col in ("value_low", "value_high"):
        base = base.set_column(base.schema.get_field_index(col), base.schema.field(col), nulls)
    with pq.ParquetWriter(path, base.schema) as writer:
        for start in range(0, n_rows, CHUNK):
            k = np.arange(start, min(start + CHUNK, n_rows))
            t = base.take(pa.array(k % len(base)))
            ids = pc.binary_join_element_wise(t["figure_id"], pa.array(k.astype(str)), "-")
            t = t.set_column(0, t.schema.field(0), ids)
            i = t.schema.get_field_index("value")
            t = t.set_column(i, t.schema.field(i), pc.add(t["value"], pa.array(k * 1000)))
            writer.write_table(t)


def measured(argv: list[str]) -> dict:
    """Wall time and maximum resident memory of one process (``/usr/bin/time -v``)."""
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *argv], capture_output=True, text=True)
    wall = time.perf_counter() - t
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return {"seconds": wall, "peak_rss_mb": int(rss.group(1)) / 1024 if rss else None, "exit": proc.returncode,
            "output": (proc.stdout.strip().splitlines() or [""])[-1][:200]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="*", type=int, default=[1_000_000, 10_000_000, 50_000_000])
    ap.add_argument("--dask", action="store_true", help="also pandera's schema per dask partition (1M rows)")
    ap.add_argument("--in-memory-up-to", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from run import machine

    out = {"machine": machine(), "load_average_at_start": os.getloadavg(), "sizes": {}}
    if (RESULTS / "outofcore.json").exists():  # a run of other sizes keeps the sizes it did not run
        out["sizes"] = json.loads((RESULTS / "outofcore.json").read_text()).get("sizes", {})
    exe = str(Path(sys.executable).with_name("conflictstats"))
    for n in args.sizes:
        with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
            path = Path(tmp) / "figures.parquet"
            t = time.perf_counter()
            write_figures(path, n)
            row = {"rows": n, "file_mb": path.stat().st_size / 2**20, "write_s": time.perf_counter() - t}
            print(f"[outofcore] {n:,} rows written ({row['file_mb']:.0f} MB)", file=sys.stderr, flush=True)
            row["plain_pyarrow"] = measured([sys.executable, "-c", PLAIN, str(path)])
            row["batches"] = measured([exe, "validate", str(path), "--max-rows", "0"])
            if n <= args.in_memory_up_to:
                row["in_memory"] = measured([sys.executable, "-c", IN_MEMORY, str(path)])
            if args.dask and n <= 1_000_000:
                row["dask"] = measured([sys.executable, "-c", DASK, str(path)])
            base = row["plain_pyarrow"]
            for k in ("batches", "in_memory", "dask"):
                if k in row:
                    row[k]["time_ratio_vs_plain"] = row[k]["seconds"] / base["seconds"]
                    row[k]["memory_ratio_vs_plain"] = row[k]["peak_rss_mb"] / base["peak_rss_mb"]
            if "in_memory" in row:
                for k in ("batches", "dask"):
                    if k in row:
                        row[k]["time_ratio_vs_in_memory"] = row[k]["seconds"] / row["in_memory"]["seconds"]
                        row[k]["memory_ratio_vs_in_memory"] = row[k]["peak_rss_mb"] / row["in_memory"]["peak_rss_mb"]
            out["sizes"][str(n)] = row
            print(f"[outofcore] {json.dumps(row)}", file=sys.stderr, flush=True)
            from conflictstats.store import atomic_write_bytes, dumps_json

            RESULTS.mkdir(exist_ok=True)
            atomic_write_bytes(RESULTS / "outofcore.json", dumps_json(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
