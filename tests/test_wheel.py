"""The wheel ships the data: a non-editable install loads figures from any directory, offline."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """The wheel installed (non-editable) into a folder of its own; the env that imports it from there."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    return target, env


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
    assert "conflictstats/datasets/idlib-2019/evaluation.json" in names
    assert "conflictstats/datasets/originators.toml" in names  # one registry shared by every dataset
    assert "conflictstats/datasets/codebook.toml" in names  # one codebook shared by every dataset
    assert not any(n.endswith("/idlib-2020/codebook.toml") for n in names), "a per-dataset codebook copy"
    for text in ("methods", "limitations"):
        assert f"conflictstats/report/text/{text}.md" in names


def test_installed_wheel_loads_from_elsewhere(installed, tmp_path):
    target, env = installed
    code = ("import conflictstats as cs, sys; df = cs.load('figures'); print(len(df)); "
            "print(cs.__file__); "
            "assert 'statsmodels' not in sys.modules and 'matplotlib' not in sys.modules")
    work = tmp_path / "elsewhere"
    work.mkdir()
    proc = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    count, location = proc.stdout.split()
    assert int(count) >= 40
    assert location.startswith(str(target)), location


def test_installed_wheel_builds_the_committed_report_bytes(installed, tmp_path):
    """A non-editable install and the checkout (which built reports/idlib-2019) build the same
    report from the same evaluation file: nothing is read from the checkout."""
    target, env = installed
    out = tmp_path / "report"
    proc = subprocess.run([sys.executable, "-m", "conflictstats", "report", "--dataset", "idlib-2019", "--quiet",
                           "--out", str(out)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    committed = ROOT / "reports" / "idlib-2019"
    assert (out / "SHA256SUMS").read_bytes() == (committed / "SHA256SUMS").read_bytes()
    for name in ("index.html", "report.md"):
        assert (out / name).read_bytes() == (committed / name).read_bytes(), name
