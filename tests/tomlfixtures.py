"""Write raw tables (lists of dicts, as in conftest.VALID) as a curated TOML dataset folder.

Used by the bad-input, property and consistency tests to build small datasets that the real
`conflictstats build` and `check` read through a temporary datasets root
(``CONFLICTSTATS_DATASETS``). The standard library reads TOML but cannot write it; this writer
handles the few value types the contract uses.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from conftest import ROOT

REAL = ROOT / "datasets" / "idlib-2019"
NAME = "idlib-2019"


def toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    # JSON escapes every control character below 0x20; TOML also forbids a raw DEL.
    return json.dumps(str(v), ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_table(header: str, row: dict) -> str:
    lines = [header]
    lines += [f"{k} = {toml_value(v)}" for k, v in row.items() if v is not None]
    return "\n".join(lines) + "\n"


def source_file_text(source: dict, figures: list[dict], events: list[dict]) -> str:
    parts = [toml_table("[source]", source)]
    parts += [toml_table("[[figures]]", {k: v for k, v in f.items() if k != "source_id"}) for f in figures]
    parts += [toml_table("[[events]]", {k: v for k, v in e.items() if k != "source_id"}) for e in events]
    return "\n".join(parts)


def originators_text(names: list[str]) -> str:
    """originators.toml registering each name as its own group (build requires every originator listed)."""
    return "\n".join(toml_table("[[originator]]", {"key": f"o{i}", "label": name, "type": "other",
                                                     "notes": "test originator", "aliases": [name]})
                     for i, name in enumerate(names))


def write_dataset(root: Path, raw: dict, name: str = NAME) -> Path:
    """A dataset folder ``root/name`` holding ``raw`` as curated TOML; returns the folder."""
    folder = Path(root) / name
    (folder / "sources").mkdir(parents=True, exist_ok=True)
    shutil.copy(REAL / "dataset.toml", folder / "dataset.toml")
    (Path(root) / "codebook.toml").write_text(  # the codebook every dataset under this root shares
        "\n".join(toml_table("[[metric]]", m) for m in raw["codebook"]), encoding="utf-8")
    names = sorted({f["originator"] for f in raw["figures"] if isinstance(f.get("originator"), str)})
    # the registry every dataset under this root shares
    (Path(root) / "originators.toml").write_text(originators_text(names), encoding="utf-8")
    for src in raw["sources"]:
        sid = src["source_id"]
        figs = [f for f in raw["figures"] if f.get("source_id") == sid]
        evs = [e for e in raw["events"] if e.get("source_id") == sid]
        (folder / "sources" / f"{sid}.toml").write_text(source_file_text(src, figs, evs), encoding="utf-8")
    return folder


@contextlib.contextmanager
def datasets_root(root: Path) -> Iterator[Path]:
    """Point the registry at ``root`` for the duration (in this process)."""
    from conflictstats.registry import DATASETS_ENV

    old = os.environ.get(DATASETS_ENV)
    os.environ[DATASETS_ENV] = str(root)
    try:
        yield Path(root)
    finally:
        if old is None:
            os.environ.pop(DATASETS_ENV, None)
        else:
            os.environ[DATASETS_ENV] = old
