"""`conflictstats build`: validate the curated TOML and write the Parquet tables.

Same input, same bytes: rows are sorted by their ids, Parquet options are fixed, no
timestamps are written. Each file is written atomically; SHA256SUMS is written last.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import datamodel as c
from .curated import read_curated
from .datamodel import PRIMARY_KEYS
from .datapackage import descriptor, table_schema
from .registry import DEFAULT_DATASET, DatasetInfo, dataset_info
from .release import MANIFEST, manifest, write_anchor
from .manifest import SUMS_FILE, sha256_bytes, sha256_file, write_if_changed, write_with_sums
from .outfolder import locked, require_folder, unwritable
from .store import PARQUET_KEY, dumps_json, parquet_bytes, sweep_temporaries
from .tables import to_arrow
from .validation import require_valid

DATAPACKAGE = "datapackage.json"


@dataclass
class BuildResult:
    dataset: str
    out_dir: Path
    rows: dict[str, int]
    hashes: dict[str, str]
    changed: list[str]


def file_metadata(info: DatasetInfo, table: str, extra: dict | None = None) -> dict:
    """The JSON carried by every Parquet file under the key ``conflictstats``."""
    meta = {"dataset": info.name, "release": info.release, "schema_version": c.SCHEMA_VERSION,
            "table": table, "license": info.license, "citation": info.citation(),
            "description": f"{table} table of {info.title}", "homepage": info.homepage}
    meta.update(extra or {})
    return meta


def checked_tables(info: DatasetInfo, today: dt.date | None = None) -> dict[str, pd.DataFrame]:
    """The curated tables, validated and sorted; raises ValidationError listing every failure."""
    raw, where = read_curated(info.path)
    typed = require_valid(raw, info, where, today)
    for table, key in PRIMARY_KEYS.items():
        if table != "codebook":
            typed[table] = typed[table].sort_values(key, kind="stable").reset_index(drop=True)
    return typed


def build(dataset: str = DEFAULT_DATASET, out_dir: Path | None = None,
          today: dt.date | None = None) -> BuildResult:
    info = dataset_info(dataset)
    out = Path(out_dir) if out_dir is not None else info.path
    tables = checked_tables(info, today)
    metrics = list(tables["codebook"]["metric"])
    blobs: dict[str, bytes] = {}
    for table in c.TABLES:
        extra = {"metrics": metrics} if table == "figures" else {"rows": len(tables[table])}
        extra["rows"] = len(tables[table])
        meta = {PARQUET_KEY: json.dumps(file_metadata(info, table, extra), sort_keys=True).encode()}
        blobs[f"{table}.parquet"] = parquet_bytes(to_arrow(tables[table], table, meta))
    rows = {t: len(tables[t]) for t in c.TABLES}
    files = {t: (len(blobs[f"{t}.parquet"]), sha256_bytes(blobs[f"{t}.parquet"])) for t in c.TABLES}
    blobs[DATAPACKAGE] = dumps_json(descriptor(info, files, rows))
    blobs[MANIFEST] = dumps_json(manifest(info, blobs, rows))
    try:
        with locked(out):  # a second build of the same folder waits; its files stay one build's
            require_folder(out, out)
            sweep_temporaries(out)
            changed = write_with_sums(out, blobs)
            if out.resolve() == info.path.resolve():  # the shipped folder: record its anchor for fetch()
                write_anchor(out, info.release, sha256_file(out / SUMS_FILE))
    except OSError as exc:  # a read-only or full disk: exit 2 naming the folder, not a bug
        raise unwritable(out, exc) from None
    hashes = {name: sha256_bytes(data) for name, data in blobs.items()}
    return BuildResult(dataset, out, rows, hashes, changed)


def write_table_schemas(folder: Path) -> list[Path]:
    """Language-neutral Table Schema JSON files (the ``schemas/`` folder of a checkout)."""
    files = {f"{table}.schema.json": dumps_json(table_schema(table)) for table in c.TABLES}
    write_if_changed(Path(folder), files)
    return [Path(folder) / name for name in files]
