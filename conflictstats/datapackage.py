"""Frictionless exports generated from the data model: Table Schemas and datapackage.json.

These are derived files (never edited by hand); a test regenerates them and fails on drift.
"""

from __future__ import annotations

from . import datamodel as c
from .registry import DatasetInfo

_TYPES = {"str": "string", "int": "integer", "date": "date", "list": "array"}
LICENSES = {  # SPDX id -> (title, url)
    "CC-BY-4.0": ("Creative Commons Attribution 4.0", "https://creativecommons.org/licenses/by/4.0/"),
    "CC0-1.0": ("CC0 1.0 Universal", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "ODbL-1.0": ("Open Data Commons Open Database License 1.0", "https://opendatacommons.org/licenses/odbl/1-0/"),
}
def table_schema(table: str) -> dict:
    """A Frictionless Table Schema for one table, from the data model."""
    fields = []
    for col in c.columns(table):
        field = {"name": col.name, "type": _TYPES[col.kind], "description": col.description, "hxl": col.hxl}
        if col.kind == "date":
            field["format"] = "default"
        constraints: dict = {}
        if not col.nullable:
            constraints["required"] = True
        if col.unique:
            constraints["unique"] = True
        if col.enum:
            constraints["enum"] = list(col.enum)
        if col.minimum is not None:
            constraints["minimum"] = col.minimum
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    schema = {"fields": fields, "primaryKey": c.PRIMARY_KEYS[table], "missingValues": [""]}
    foreign = c.TABLE_SPECS[table].foreign_keys
    if foreign:
        schema["foreignKeys"] = [{"fields": fk.column, "reference": {"resource": fk.table, "fields": fk.target}}
                                 for fk in foreign]
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
