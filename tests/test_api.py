"""The Python API: load() with real dtypes, verified reads, lean import, names checked."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pandas as pd
import pytest

import conflictstats as cs
from conflictstats import registry
from conflictstats.errors import IntegrityError, UnknownNameError


def test_load_figures_has_real_dtypes():
    df = cs.load("figures")
    assert len(df) >= 40
    assert isinstance(df["metric"].dtype, pd.CategoricalDtype)
    assert isinstance(df["qualifier"].dtype, pd.CategoricalDtype)
    assert str(df["value"].dtype) == "Int64"
    assert str(df["period_end"].dtype) == "datetime64[ns]"
    assert df["period_end"].notna().all()
    assert all(isinstance(v, list) and v for v in df["admin1_pcodes"])
    assert set(df["source_id"]) <= set(cs.load("sources")["source_id"])


def test_every_table_loads():
    for table in cs.list_tables("idlib-2019"):
        assert len(cs.load(table)) > 0


def test_list_and_cite():
    assert "idlib-2019" in cs.list_datasets()
    assert cs.list_tables() == ["sources", "figures", "events", "codebook"]
    text = cs.cite("idlib-2019")
    assert registry.dataset_info().release in text
    bib = cs.cite("idlib-2019", format="bibtex")
    assert bib.startswith("@misc{") and bib.rstrip().endswith("}")


@pytest.mark.parametrize("name", ["../idlib-2019", "idlib-2019/../x", "/etc", "", "IDLIB", "nope"])
def test_bad_dataset_names_are_refused(name):
    with pytest.raises(UnknownNameError):
        cs.load("figures", dataset=name)


def test_bad_table_name_is_refused():
    with pytest.raises(UnknownNameError, match="unknown table"):
        cs.load("../figures")


def test_lean_import():
    """import + load must not pull in statsmodels, matplotlib, pandera, dask, distributed, nor the
    download and progress-bar libraries (pooch, requests, tqdm)."""
    code = ("import sys, conflictstats as cs; cs.load('figures'); "
            "bad = [m for m in ('statsmodels', 'matplotlib', 'pandera', 'pooch', 'requests', 'tqdm', 'dask', 'distributed') "
            "if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_tampered_file_is_refused(tmp_path, monkeypatch):
    root = tmp_path / "datasets"
    shutil.copytree(registry.dataset_info().path, root / "idlib-2019")
    monkeypatch.setattr(registry, "datasets_root", lambda: root)
    assert len(cs.load("events")) > 0
    p = root / "idlib-2019" / "events.parquet"
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x01
    p.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="SHA-256 mismatch"):
        cs.load("events")
