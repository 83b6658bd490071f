"""datapackage.json, release.json, SHA256SUMS and RELEASES: generated, in step, and checked.

Drift tests regenerate the descriptors from the one schema definition and the files on disk;
integrity tests prove that every recorded hash matches and that a mismatch is caught;
frictionless (a test extra) validates the shipped folder and a CSV export.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conflictstats import datamodel as c
from conflictstats.build import build
from conflictstats.datapackage import descriptor, table_schema
from conflictstats.export import export
from conflictstats.registry import DEFAULT_DATASET, dataset_info
from conflictstats.manifest import ANCHORS, read_anchors
from conflictstats.release import CHANGELOG, MANIFEST, manifest, read_changelog, verify_folder
from conflictstats.manifest import SUMS_FILE, read_sums, sha256_file

DS = DEFAULT_DATASET
INFO = dataset_info(DS)
SHIPPED = INFO.path
ROOT = Path(__file__).resolve().parent.parent


def _rows(folder: Path) -> dict[str, int]:
    return {t: pq.read_metadata(folder / f"{t}.parquet").num_rows for t in c.TABLES}


def test_datapackage_is_generated_from_the_schema_definition():
    files = {t: ((SHIPPED / f"{t}.parquet").stat().st_size, sha256_file(SHIPPED / f"{t}.parquet"))
             for t in c.TABLES}
    shipped = json.loads((SHIPPED / "datapackage.json").read_text(encoding="utf-8"))
    assert shipped == descriptor(INFO, files, _rows(SHIPPED)), "datapackage.json drifted: run `conflictstats build`"
    for res in shipped["resources"]:
        assert res["schema"] == table_schema(res["name"])
        assert [f["name"] for f in res["schema"]["fields"]] == list(c.COLUMNS[res["name"]])
        assert all(f["description"] for f in res["schema"]["fields"]), res["name"]


def test_release_manifest_is_in_step_with_files_and_changelog():
    blobs = {name: (SHIPPED / name).read_bytes() for name in [*(f"{t}.parquet" for t in c.TABLES), "datapackage.json"]}
    shipped = json.loads((SHIPPED / MANIFEST).read_text(encoding="utf-8"))
    assert shipped == manifest(INFO, blobs, _rows(SHIPPED)), "release.json drifted: run `conflictstats build`"
    assert shipped["release"] == INFO.release and shipped["schema_version"] == c.SCHEMA_VERSION


def test_every_recorded_hash_matches_its_file():
    anchor = read_anchors(SHIPPED).get(INFO.release)
    assert anchor is not None, f"{ANCHORS} has no line for release {INFO.release}: run `conflictstats build`"
    assert verify_folder(SHIPPED, anchor) == []
    listed = read_sums(SHIPPED)
    assert set(listed) == {*(f"{t}.parquet" for t in c.TABLES), "datapackage.json", MANIFEST}


@pytest.fixture
def copy(tmp_path) -> Path:
    folder = tmp_path / "release"
    folder.mkdir()
    for name in [*read_sums(SHIPPED), SUMS_FILE]:
        shutil.copy2(SHIPPED / name, folder / name)
    return folder


def test_a_changed_file_is_caught_by_every_listing(copy):
    data = bytearray((copy / "events.parquet").read_bytes())
    data[100] ^= 0x01
    (copy / "events.parquet").write_bytes(bytes(data))
    problems = verify_folder(copy)
    assert len(problems) == 3  # SHA256SUMS, datapackage.json and release.json all disagree
    assert all("events.parquet" in p for p in problems)


def test_a_wrong_recorded_hash_is_caught(copy):
    doc = json.loads((copy / "datapackage.json").read_text())
    doc["resources"][1]["hash"] = "sha256:" + "0" * 64
    (copy / "datapackage.json").write_text(json.dumps(doc))
    sums = read_sums(copy)
    sums["datapackage.json"] = sha256_file(copy / "datapackage.json")
    (copy / SUMS_FILE).write_text("".join(f"{h}  {n}\n" for n, h in sums.items()))
    problems = verify_folder(copy, read_anchors(SHIPPED)[INFO.release])
    assert any("SHA256SUMS: SHA-256 mismatch" in p for p in problems)  # the anchor catches the edited list
    assert any("figures.parquet recorded as" in p for p in problems)


def test_a_missing_file_is_caught(copy):
    (copy / "codebook.parquet").unlink()
    assert any("codebook.parquet: listed in SHA256SUMS but missing" in p for p in verify_folder(copy))


def test_changelog_has_a_section_for_the_current_release():
    log = read_changelog(SHIPPED / CHANGELOG)
    assert INFO.release in log, f"{CHANGELOG} has no '## {INFO.release}' section"
    entry = log[INFO.release]
    assert entry["date"] == INFO.release_date.isoformat()
    assert entry["summary"]
    known = set()
    for t, col in c.PRIMARY_KEYS.items():
        known |= set(pq.read_table(SHIPPED / f"{t}.parquet", columns=[col]).column(col).to_pylist())
    for kind in ("added", "corrected"):
        for item in entry[kind]:
            missing = [i for i in item["ids"] if i not in known]
            assert not missing, f"{CHANGELOG}: {kind} {missing} not in the tables"
    for item in entry["removed"]:
        assert not [i for i in item["ids"] if i in known], f"{CHANGELOG}: removed ids still present"


def test_changelog_parser_reads_kinds_ids_and_rejects_unknown_kinds(tmp_path):
    path = tmp_path / CHANGELOG
    path.write_text("# x\n\n## 2.0.0 (2027-01-02)\n\nSecond.\n\n### Corrected\n\n- `fig-1`: value was\n"
                    "  300000, source says 30,000.\n\n### Removed\n\n- `fig-2`: duplicate of `fig-3`.\n")
    log = read_changelog(path)["2.0.0"]
    assert log["date"] == "2027-01-02" and log["summary"] == "Second."
    assert log["corrected"] == [{"text": "`fig-1`: value was 300000, source says 30,000.", "ids": ["fig-1"]}]
    assert log["removed"][0]["ids"] == ["fig-2", "fig-3"]
    path.write_text("## 1.0.0\n\n### Fixed\n")
    from conflictstats.errors import UnreadableError

    with pytest.raises(UnreadableError, match="line 3"):
        read_changelog(path)


def test_build_is_byte_for_byte_reproducible_and_writes_the_manifest(tmp_path):
    a, b = build(DS, tmp_path / "a"), build(DS, tmp_path / "b")
    assert a.hashes == b.hashes
    assert MANIFEST in a.hashes and verify_folder(tmp_path / "a") == []
    assert not (tmp_path / "a" / ANCHORS).exists()  # anchors belong to the shipped folder only


def test_acceptance_command_prints_release_and_citation():
    code = ("import pyarrow.parquet as pq, json; print(json.loads(pq.read_metadata("
            f"{str(SHIPPED / 'figures.parquet')!r}).metadata[b'conflictstats']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert f"'release': '{INFO.release}'" in out and INFO.citation() in out


def _frictionless(folder: Path, *extra: str) -> dict:
    pytest.importorskip("frictionless")
    proc = subprocess.run([sys.executable, "-m", "frictionless", "validate", "--json", *extra, "datapackage.json"],
                          cwd=folder, capture_output=True, text=True, timeout=240)
    return json.loads(proc.stdout)


def test_frictionless_validates_the_shipped_parquet_release(copy):
    """Metadata, constraints, keys, foreign keys and row counts, checked by frictionless itself.

    frictionless 5 reads Parquet through pandas, so it cannot measure a Parquet file's bytes
    (it reports "actual None") and it sees a null int64 as NaN and a list<string> as a numpy
    array, which its integer/array readers reject. Those two error kinds are its reader's, so the
    first run skips them; the second run proves that nothing else is reported, and only where
    those reader limits apply. Types themselves are checked on the Parquet schema in test_compat.
    """
    report = _frictionless(copy, "--skip-errors", "byte-count,type-error")
    assert report["valid"], [e["note"] for t in report["tasks"] for e in t["errors"]][:10]
    assert {t["name"]: t["stats"]["rows"] for t in report["tasks"]} == _rows(copy)

    full = _frictionless(copy)
    kinds = Counter(e["type"] for t in full["tasks"] for e in t["errors"])
    assert set(kinds) <= {"byte-count", "type-error"}, kinds
    for task in full["tasks"]:
        for err in task["errors"]:
            if err["type"] == "byte-count":
                assert 'actual is "None"' in err["note"]
            else:
                kind = dict((f["name"], f["type"]) for f in table_schema(task["name"])["fields"])[err["fieldName"]]
                assert kind in ("integer", "array") and (err["cell"] in ("nan", "None") or kind == "array"), err


def test_frictionless_catches_a_broken_constraint(copy):
    """The validation above can fail: an enum that omits a value in use is reported."""
    doc = json.loads((copy / "datapackage.json").read_text())
    codebook = next(r for r in doc["resources"] if r["name"] == "codebook")
    unit = next(f for f in codebook["schema"]["fields"] if f["name"] == "unit")
    unit["constraints"]["enum"] = ["nothing-real"]
    (copy / "datapackage.json").write_text(json.dumps(doc))
    report = _frictionless(copy, "--skip-errors", "byte-count,type-error")
    assert not report["valid"]
    assert any(e["type"] == "constraint-error" and e["fieldName"] == "unit" for t in report["tasks"] for e in t["errors"])


def test_frictionless_validates_a_csv_export_in_full(tmp_path):
    """The CSV export's datapackage.json passes plain `frictionless validate`, bytes and hashes included."""
    export(DS, "csv", tmp_path)
    report = _frictionless(tmp_path)
    assert report["valid"], [e["note"] for t in report["tasks"] for e in t["errors"]][:10]
    assert {t["name"]: t["stats"]["rows"] for t in report["tasks"]} == _rows(SHIPPED)
    data = (tmp_path / "events.csv").read_bytes()
    (tmp_path / "events.csv").write_bytes(data[:-2] + b"\n")  # one byte less
    report = _frictionless(tmp_path)
    kinds = {e["type"] for t in report["tasks"] for e in t["errors"]}
    assert {"hash-count", "byte-count"} <= kinds
