"""`conflictstats build`: deterministic bytes, atomic writes, committed files current."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conflictstats.build import build, write_table_schemas
from conflictstats.registry import dataset_info
from conflictstats.manifest import SUMS_FILE, read_sums, sha256_file
from conflictstats.store import TMP_PREFIX
from conftest import ROOT, run_cli

DATASET = dataset_info("idlib-2019")
TABLE_FILES = ["sources.parquet", "figures.parquet", "events.parquet", "codebook.parquet", "datapackage.json"]


def built_files(folder: Path) -> list[str]:
    """Everything a build writes besides SHA256SUMS (tables, datapackage.json, release files)."""
    return sorted(read_sums(folder))


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    a, b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    build("idlib-2019", a)
    # The second build runs in a separate process: no shared state can make them agree.
    proc = run_cli("build", "--out", str(b))
    assert proc.returncode == 0, proc.stderr
    return a, b


def test_build_twice_gives_identical_bytes(two_builds):
    a, b = two_builds
    assert set(TABLE_FILES) <= set(built_files(a))
    for name in built_files(a) + [SUMS_FILE]:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_committed_parquet_is_current(two_builds):
    """A curator who edits TOML and forgets `conflictstats build` gets a failing test."""
    a, _ = two_builds
    for name in built_files(a) + [SUMS_FILE]:
        assert (DATASET.path / name).read_bytes() == (a / name).read_bytes(), (
            f"{name} is stale: run `conflictstats build` and commit the result")


def test_sums_match_files(two_builds):
    a, _ = two_builds
    sums = read_sums(a)
    assert sorted(p.name for p in a.iterdir() if p.name != SUMS_FILE) == sorted(sums)
    for name, digest in sums.items():
        assert sha256_file(a / name) == digest


def test_build_leaves_no_temporaries_and_rewrites_only_changes(tmp_path):
    first = build("idlib-2019", tmp_path)
    assert sorted(first.changed) == built_files(tmp_path)
    again = build("idlib-2019", tmp_path)
    assert again.changed == []
    assert not list(tmp_path.glob(TMP_PREFIX + "*"))


def test_build_refuses_invalid_curation_and_keeps_old_files(tmp_path):
    """A broken TOML edit must not replace good Parquet files."""
    from conflictstats.errors import ValidationError
    from conflictstats.registry import DatasetInfo

    ds = tmp_path / "idlib-2019"
    shutil.copytree(DATASET.path, ds)
    before = {n: (ds / n).read_bytes() for n in TABLE_FILES}
    victim = sorted((ds / "sources").glob("*.toml"))[0]
    text = victim.read_text()
    victim.write_text(text.replace("value = ", "value = -", 1) if "value = " in text else text + "\n[[figures]]\nvalue = -1\n")
    info = DatasetInfo(**{**DATASET.__dict__, "path": ds})
    from conflictstats import build as build_mod

    with pytest.raises(ValidationError) as exc:
        build_mod.checked_tables(info)
    assert victim.name in str(exc.value)
    assert {n: (ds / n).read_bytes() for n in TABLE_FILES} == before


def test_schema_exports_have_not_drifted(tmp_path):
    """schemas/*.schema.json are generated from the pandera models; regenerate, compare."""
    write_table_schemas(tmp_path)
    for p in sorted(tmp_path.glob("*.schema.json")):
        committed = ROOT / "schemas" / p.name
        assert committed.is_file(), f"schemas/{p.name} missing: run `conflictstats build`"
        assert committed.read_bytes() == p.read_bytes(), f"schemas/{p.name} drifted: run `conflictstats build`"


def test_parquet_carries_self_description(two_builds):
    import json

    import pyarrow.parquet as pq

    a, _ = two_builds
    meta = json.loads(pq.read_metadata(a / "figures.parquet").metadata[b"conflictstats"])
    assert meta["dataset"] == "idlib-2019" and meta["table"] == "figures"
    assert meta["release"] == DATASET.release and "citation" in meta and meta["license"] == DATASET.license
    schema = pq.read_schema(a / "figures.parquet")
    assert schema.field("value").metadata[b"description"]


def test_oversized_toml_is_refused_unread(tmp_path):
    from conflictstats.curated import MAX_TOML_BYTES, read_curated
    from conflictstats.errors import UnreadableError

    ds = tmp_path / "idlib-2019"
    shutil.copytree(DATASET.path, ds)
    big = ds / "sources" / "zz-huge.toml"
    with open(big, "wb") as fh:
        fh.truncate(MAX_TOML_BYTES + 1)  # sparse: no real memory or disk used
    with pytest.raises(UnreadableError, match="zz-huge.toml: .* larger than"):
        read_curated(ds)
