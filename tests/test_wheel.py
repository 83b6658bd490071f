"""The wheel ships the data: a non-editable install loads figures from any directory, offline."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.fail("building the wheel failed:\n" + proc.stdout + proc.stderr)
    (whl,) = out.glob("conflictstats-*.whl")
    return whl


def test_wheel_contains_datasets(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for table in ("sources", "figures", "events", "codebook"):
        assert f"conflictstats/datasets/idlib-2019/{table}.parquet" in names
    assert "conflictstats/datasets/idlib-2019/SHA256SUMS" in names
    assert "conflictstats/datasets/idlib-2019/dataset.toml" in names
    assert any(n.startswith("conflictstats/datasets/idlib-2019/sources/") for n in names)


def test_installed_wheel_loads_from_elsewhere(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    code = ("import conflictstats as cs, sys; df = cs.load('figures'); print(len(df)); "
            "print(cs.__file__); "
            "assert 'statsmodels' not in sys.modules and 'matplotlib' not in sys.modules")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    work = tmp_path / "elsewhere"
    work.mkdir()
    proc = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    count, location = proc.stdout.split()
    assert int(count) >= 40
    assert location.startswith(str(target)), location
