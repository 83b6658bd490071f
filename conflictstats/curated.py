"""Read the human-edited TOML files of a dataset into raw tables.

One file per document (``sources/<source_id>.toml``) holds the document, its figures and the
events it dates; ``codebook.toml`` beside the dataset folders holds the metrics every dataset
shares (like ``originators.toml``: one definition of a metric, not a copy per campaign). Raw tables keep each row's file and
place in it, so a failure can be traced to the line a curator must fix.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .datamodel import COLUMNS
from .errors import UnreadableError
from .registry import CODEBOOK_FILE, datasets_root, tomllib

SOURCE_FILES = "sources"


MAX_TOML_BYTES = 16 * 1024**2  # one document's figures fit in kilobytes; refuse a runaway file unread


def load_toml(path: Path) -> dict:
    try:
        size = path.stat().st_size
        if size > MAX_TOML_BYTES:
            raise UnreadableError(f"{path}: {size} bytes is larger than the {MAX_TOML_BYTES} bytes a curated "
                                  f"TOML file may have.")
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise UnreadableError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise UnreadableError(f"{path}: not UTF-8 text (byte {exc.start} is 0x{exc.object[exc.start]:02x}); "
                              f"save the file as UTF-8.") from None
    except OSError as exc:
        raise UnreadableError(f"{path}: cannot be read: {exc.strerror}") from None


def read_curated(folder: Path) -> tuple[dict[str, pd.DataFrame], dict[str, list[str]]]:
    """Raw tables and, per table, where each row came from."""
    rows: dict[str, list[dict]] = {"sources": [], "figures": [], "events": [], "codebook": []}
    where: dict[str, list[str]] = {k: [] for k in rows}

    book = load_toml(datasets_root() / CODEBOOK_FILE)  # shared, like originators.toml
    for i, m in enumerate(book.get("metric", []), 1):
        rows["codebook"].append(dict(m))
        where["codebook"].append(f"../{CODEBOOK_FILE}, [[metric]] #{i}")

    files = sorted((folder / SOURCE_FILES).glob("*.toml"))
    for path in files:
        rel = f"{SOURCE_FILES}/{path.name}"
        doc = load_toml(path)
        unknown = set(doc) - {"source", "figures", "events"}
        lists_ok = all(isinstance(doc.get(k, []), list) and all(isinstance(i, dict) for i in doc.get(k, []))
                       for k in ("figures", "events"))
        if unknown or not isinstance(doc.get("source"), dict) or not lists_ok:
            raise UnreadableError(f"{rel}: a source file holds one [source] table and optional "
                                  f"[[figures]] and [[events]] lists (found: {', '.join(sorted(doc)) or 'nothing'}).")
        src = dict(doc["source"])
        rows["sources"].append(src)
        where["sources"].append(f"{rel}, [source]")
        sid = src.get("source_id")
        for kind in ("figures", "events"):
            for i, item in enumerate(doc.get(kind, []), 1):
                item = dict(item)
                if "source_id" in item and item["source_id"] != sid:
                    raise UnreadableError(f"{rel}: [[{kind}]] #{i} names source_id '{item['source_id']}', "
                                          f"but this file is the document '{sid}'.")
                item["source_id"] = sid
                rows[kind].append(item)
                where[kind].append(f"{rel}, [[{kind}]] #{i}")
    return raw_tables(rows), where


def raw_tables(rows: dict[str, list[dict]]) -> dict[str, pd.DataFrame]:
    """Raw tables from lists of row dicts (an empty list gives the table's columns, no rows)."""
    return {k: pd.DataFrame(v) if v else pd.DataFrame(columns=list(COLUMNS[k])) for k, v in rows.items()}
