"""Read the human-edited TOML files of a dataset into raw tables.

One file per document (``sources/<source_id>.toml``) holds the document, its figures and the
events it dates; ``codebook.toml`` holds the metrics. Raw tables keep each row's file and
place in it, so a failure can be traced to the line a curator must fix.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .contract import COLUMNS
from .errors import UnreadableError
from .registry import tomllib

SOURCE_FILES = "sources"


MAX_TOML_BYTES = 16 * 1024**2  # one document's figures fit in kilobytes; refuse a runaway file unread


def _load_toml(path: Path) -> dict:
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


ORIGINATORS_FILE = "originators.toml"


def read_originators(folder: Path) -> list[dict]:
    """The [[originator]] entries of a dataset (key, label, type, notes, aliases); [] if none."""
    path = folder / ORIGINATORS_FILE
    return _load_toml(path).get("originator", []) if path.is_file() else []


def originator_groups(folder: Path) -> dict[str, str]:
    """Alias (an originator as sources name it) -> group label; refuses an alias in two groups."""
    out: dict[str, str] = {}
    for i, entry in enumerate(read_originators(folder), 1):
        aliases = entry.get("aliases") if isinstance(entry, dict) else None
        if not (isinstance(entry.get("label") if isinstance(entry, dict) else None, str)
                and isinstance(aliases, list) and all(isinstance(a, str) for a in aliases)):
            raise UnreadableError(f"{ORIGINATORS_FILE}: [[originator]] #{i} needs a text 'label' and an "
                                  f"'aliases' list of names, e.g. aliases = [\"SNHR\"].")
        for alias in aliases:
            if alias in out and out[alias] != entry["label"]:
                raise UnreadableError(f"{ORIGINATORS_FILE}: '{alias}' is listed under both "
                                      f"'{out[alias]}' and '{entry['label']}'.")
            out[alias] = entry["label"]
    return out


def read_curated(folder: Path) -> tuple[dict[str, pd.DataFrame], dict[str, list[str]]]:
    """Raw tables and, per table, where each row came from."""
    rows: dict[str, list[dict]] = {"sources": [], "figures": [], "events": [], "codebook": []}
    where: dict[str, list[str]] = {k: [] for k in rows}

    book = _load_toml(folder / "codebook.toml")
    for i, m in enumerate(book.get("metric", []), 1):
        rows["codebook"].append(dict(m))
        where["codebook"].append(f"codebook.toml, [[metric]] #{i}")

    groups = originator_groups(folder)
    files = sorted((folder / SOURCE_FILES).glob("*.toml"))
    for path in files:
        rel = f"{SOURCE_FILES}/{path.name}"
        doc = _load_toml(path)
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
                if kind == "figures" and "originator_group" not in item:
                    item["originator_group"] = groups.get(item.get("originator"))
                rows[kind].append(item)
                where[kind].append(f"{rel}, [[{kind}]] #{i}")
    return ({k: pd.DataFrame(v) if v else pd.DataFrame(columns=list(COLUMNS[k])) for k, v in rows.items()}, where)
