"""Frictionless exports generated from the pandera models: Table Schemas and datapackage.json.

These are derived files (never edited by hand); a test regenerates them and fails on drift.
"""

from __future__ import annotations

from . import contract as c
from .registry import DatasetInfo

_TYPES = {"str": "string", "int": "integer", "date": "date", "list": "array"}
LICENSES = {  # SPDX id -> (title, url)
    "CC-BY-4.0": ("Creative Commons Attribution 4.0", "https://creativecommons.org/licenses/by/4.0/"),
    "CC0-1.0": ("CC0 1.0 Universal", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "ODbL-1.0": ("Open Data Commons Open Database License 1.0", "https://opendatacommons.org/licenses/odbl/1-0/"),
}
PRIMARY_KEYS = {"sources": "source_id", "figures": "figure_id", "events": "event_id", "codebook": "metric"}
FOREIGN_KEYS = {
    "figures": [{"fields": "source_id", "reference": {"resource": "sources", "fields": "source_id"}},
                {"fields": "metric", "reference": {"resource": "codebook", "fields": "metric"}}],
    "events": [{"fields": "source_id", "reference": {"resource": "sources", "fields": "source_id"}}],
}


def table_schema(table: str) -> dict:
    """A Frictionless Table Schema for one table."""
    from .schemas import MODELS
    from .tables import column_kinds

    model = MODELS[table].to_schema()
    fields = []
    for name, (kind, nullable) in column_kinds(table).items():
        col = model.columns[name]
        field = {"name": name, "type": _TYPES[kind], "description": col.description or ""}
        if kind == "date":
            field["format"] = "default"
        constraints: dict = {}
        if not nullable:
            constraints["required"] = True
        if col.unique:
            constraints["unique"] = True
        enum = (col.metadata or {}).get("enum")
        if enum:
            constraints["enum"] = list(enum)
        if kind == "int":
            constraints["minimum"] = 0
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    schema = {"fields": fields, "primaryKey": PRIMARY_KEYS[table], "missingValues": [""]}
    if table in FOREIGN_KEYS:
        schema["foreignKeys"] = FOREIGN_KEYS[table]
    return schema


# Files a descriptor can describe: extension -> media type. CSV is the flat rendering of
# `conflictstats export`, where list cells are joined with LIST_SEPARATOR.
FORMATS = {"parquet": "application/vnd.apache.parquet", "csv": "text/csv"}
LIST_SEPARATOR = ";"


def flat_table_schema(table: str) -> dict:
    """The Table Schema of a table written as CSV: list columns become separated text."""
    schema = table_schema(table)
    for field in schema["fields"]:
        if field["type"] == "array":
            field["type"] = "string"
            field["description"] += f" Items separated by '{LIST_SEPARATOR}'."
            field.setdefault("constraints", {})["pattern"] = f"[^{LIST_SEPARATOR}]+({LIST_SEPARATOR}[^{LIST_SEPARATOR}]+)*"
    return schema


def descriptor(info: DatasetInfo, files: dict[str, tuple[int, str]], rows: dict[str, int],
               fmt: str = "parquet") -> dict:
    """datapackage.json for a built dataset; ``files`` maps table -> (bytes, sha256)."""
    resources = []
    for table in c.TABLES:
        size, digest = files[table]
        resources.append({
            "name": table,
            "path": f"{table}.{fmt}",
            "profile": "tabular-data-resource",
            "format": fmt,
            "mediatype": FORMATS[fmt],
            **({"encoding": "utf-8"} if fmt == "csv" else {}),
            "bytes": size,
            "hash": f"sha256:{digest}",
            "rows": rows[table],
            "schema": table_schema(table) if fmt == "parquet" else flat_table_schema(table),
        })
    return {
        "profile": "tabular-data-package",
        "name": info.name,
        "title": info.title,
        "description": info.description,
        "version": info.release,
        "created": f"{info.release_date.isoformat()}T00:00:00Z",  # Data Package v1: an RFC 3339 datetime
        "homepage": info.homepage,
        "licenses": [{"name": info.license, "title": LICENSES.get(info.license, (info.license, ""))[0],
                      "path": LICENSES.get(info.license, ("", "https://spdx.org/licenses/"))[1]}],
        "contributors": [{"title": a, "role": "author"} for a in info.authors],
        "sources": [{"title": "Public documents listed in the sources table (each with its URL)",
                     "path": f"sources.{fmt}"}],
        "citation": info.citation(),
        "conflictstats": {"schema_version": c.SCHEMA_VERSION,
                          "coverage": [info.coverage_start.isoformat(), info.coverage_end.isoformat()]},
        "resources": resources,
    }
