"""Releases: the manifest written beside the tables, the changelog it quotes, and trust anchors.

A release folder is what `conflictstats build` writes: the Parquet tables, ``datapackage.json``,
``release.json`` (this module's manifest) and ``SHA256SUMS``, which pins every other file.
The SHA-256 of ``SHA256SUMS`` itself is the release's *anchor*: the package ships one anchor
per release it knows in ``RELEASES`` (beside ``dataset.toml``), so a release downloaded from any
mirror is checked against hashes that came with the installed package, not with the download.

Once a release is published its bytes must never change: bump ``release`` in ``dataset.toml``
(and add a ``CHANGELOG.md`` section) before changing data; build keeps older anchors.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import datamodel as c
from .errors import IntegrityError, UnreadableError
from .registry import DatasetInfo
from .manifest import (ANCHORS, SUMS_FILE, hash_matches, read_anchors, read_sums, sha256_bytes, sha256_file,
                       write_if_changed)

MANIFEST = "release.json"
CHANGELOG = "CHANGELOG.md"
CHANGE_KINDS = ("added", "corrected", "removed")
RELEASE_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$")

_HEADING = re.compile(r"^##\s+(?P<release>\S+)(?:\s+[-(—]+\s*(?P<date>\d{4}-\d{2}-\d{2})\)?)?\s*$")
_KIND = re.compile(r"^###\s+(?P<kind>\w+)\s*$")
_ID = re.compile(r"`([a-z0-9][a-z0-9._-]*)`")


def check_release_name(release: str) -> str:
    """A release string safe to use as one path component (no '/', no '..')."""
    if not isinstance(release, str) or not RELEASE_PATTERN.match(release) or ".." in release:
        raise UnreadableError(f"'{release}' is not a valid release name (letters, digits, '.', '-', '+', '_').")
    return release


def read_changelog(path: Path) -> dict[str, dict]:
    """{release: {"date", "summary", "added", "corrected", "removed"}} from a CHANGELOG.md.

    Each change is a bullet; figure ids written in backticks are collected as ``ids``, so the
    manifest (and a test) can check them against the tables.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return {}
    out: dict[str, dict] = {}
    current: dict | None = None
    kind: str | None = None
    for n, line in enumerate(lines, 1):
        if m := _HEADING.match(line):
            current = {"date": m["date"], "summary": "", **{k: [] for k in CHANGE_KINDS}}
            out[m["release"]] = current
            kind = None
        elif m := _KIND.match(line):
            kind = m["kind"].lower()
            if current is None or kind not in CHANGE_KINDS:
                raise UnreadableError(f"{path}, line {n}: '### {m['kind']}' must follow a '## <release>' "
                                      f"heading and be one of {', '.join(k.title() for k in CHANGE_KINDS)}.")
        elif current is not None and line.startswith("- ") and kind:
            text = line[2:].strip()
            current[kind].append({"text": text, "ids": _ID.findall(text)})
        elif current is not None and kind and line.startswith("  ") and current[kind]:
            item = current[kind][-1]  # continuation of the previous bullet
            item["text"] += " " + line.strip()
            item["ids"] = _ID.findall(item["text"])
        elif current is not None and kind is None and line.strip():
            current["summary"] = (current["summary"] + " " + line.strip()).strip()
    return out


def manifest(info: DatasetInfo, blobs: dict[str, bytes], rows: dict[str, int]) -> dict:
    """release.json: what this release is, its files (bytes, SHA-256), rows and data changes."""
    log = read_changelog(info.path / CHANGELOG).get(info.release, {})
    return {
        "dataset": info.name,
        "release": info.release,
        "release_date": info.release_date.isoformat(),
        "schema_version": c.SCHEMA_VERSION,
        "license": info.license,
        "citation": info.citation(),
        "files": {name: {"bytes": len(data), "sha256": sha256_bytes(data)} for name, data in sorted(blobs.items())},
        "rows": dict(rows),
        "summary": log.get("summary", ""),
        "changes": {k: log.get(k, []) for k in CHANGE_KINDS},
        "changelog": CHANGELOG,
    }


def write_anchor(folder: Path, release: str, sums_sha256: str) -> None:
    """Record (or update) one release's anchor, keeping every other release's line."""
    anchors = read_anchors(folder)
    anchors[release] = sums_sha256
    head = ("# SHA-256 of each release's SHA256SUMS: the hashes conflictstats.fetch() trusts.\n"
            "# Written by `conflictstats build`; a published release's line must never change.\n")
    text = head + "".join(f"{h}  {r}\n" for r, h in sorted(anchors.items()))
    write_if_changed(folder, {ANCHORS: text.encode()})


def verify_folder(folder: Path, anchor: str | None = None) -> list[str]:
    """Every problem with a release folder's checksums (empty list when all files match).

    Checks SHA256SUMS against ``anchor`` when given, each listed file against SHA256SUMS, and the
    sizes and hashes that datapackage.json and release.json record.
    """
    import json

    folder = Path(folder)
    problems = []
    if anchor is not None and (folder / SUMS_FILE).is_file():
        problem = hash_matches(folder / SUMS_FILE, sha256_file(folder / SUMS_FILE), anchor)
        problems += [problem] if problem else []
    try:
        sums = read_sums(folder)
    except IntegrityError as exc:
        return problems + [str(exc)]
    actual = {}
    for name, expected in sorted(sums.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"{path}: listed in {SUMS_FILE} but missing")
            continue
        actual[name] = (path.stat().st_size, sha256_file(path))
        problem = hash_matches(path, actual[name][1], expected, f"it does not match {SUMS_FILE}")
        problems += [problem] if problem else []
    for listing in ("datapackage.json", MANIFEST):
        if listing not in actual:
            continue
        doc = json.loads((folder / listing).read_text(encoding="utf-8"))
        recorded = ({r["path"]: (r.get("bytes"), r["hash"].split(":", 1)[1]) for r in doc.get("resources", [])}
                    if listing == "datapackage.json" else
                    {n: (f["bytes"], f["sha256"]) for n, f in doc.get("files", {}).items()})
        for name, (size, digest) in sorted(recorded.items()):
            if name not in actual:
                problems.append(f"{folder / listing}: records {name}, which {SUMS_FILE} does not list")
            elif digest != actual[name][1] or (size is not None and size != actual[name][0]):
                problems.append(f"{folder / listing}: {name} recorded as {size} bytes, SHA-256 {digest}; "
                                f"the file has {actual[name][0]} bytes, SHA-256 {actual[name][1]}")
    return problems
