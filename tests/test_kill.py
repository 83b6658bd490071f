"""Interrupted writes: SIGKILL `conflictstats build` (and `report`) at random moments.

After every kill, each file in the output folder must be byte-identical to its previous
version or to its complete new version (never a part), no temporary file may be left behind,
and load() must return the old or the new data or refuse with an integrity error, never
something else. Half the kills fall anywhere in the run; the other half are aimed at the
write phase (the moment the first output file changes, plus a random delay), where a
non-atomic writer would leave a torn file.
"""

from __future__ import annotations

import importlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conflictstats.api import read_table_file
from conflictstats.datamodel import TABLES
from conflictstats.errors import IntegrityError
from conflictstats.registry import DATASETS_ENV
from conflictstats.manifest import SUMS_FILE, read_sums
from conflictstats.store import TMP_PREFIX
from conftest import ROOT

BUILD_KILLS = 20
REPORT_KILLS = 4
SEED = int(os.environ.get("CONFLICTSTATS_KILL_SEED", "20191"))
NAME = "idlib-2019"


def _env(root: Path) -> dict:
    env = dict(os.environ)
    env[DATASETS_ENV] = str(root)
    env["PYTHONHASHSEED"] = "0"
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "conflictstats", *args]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _snapshot(folder: Path) -> dict:
    out = {}
    for p in folder.rglob("*"):
        try:
            st = p.stat()
        except FileNotFoundError:
            continue
        out[str(p)] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return out


def _restore(folder: Path, files: dict[str, bytes]) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)


def _run_and_kill(cmd: list[str], env: dict, out: Path, delay: float | None, aim: float | None,
                  rng: random.Random) -> tuple[int, float]:
    """Start ``cmd``; SIGKILL it after ``delay`` s, or ``aim`` s after the first change in ``out``."""
    before = _snapshot(out)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if delay is not None:
            time.sleep(delay)
        else:
            while proc.poll() is None and _snapshot(out) == before:
                time.sleep(0.0002)
            time.sleep(rng.uniform(0, aim or 0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    return proc.returncode, time.monotonic() - t0


def _calibrate(cmd: list[str], env: dict, out: Path) -> tuple[float, float, float]:
    """Seconds until the first and the last change in ``out``, and until the end, of one full run."""
    last_seen = _snapshot(out)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first = last = None
    while proc.poll() is None:
        snap = _snapshot(out)
        if snap != last_seen:
            last = time.monotonic() - t0
            first = first if first is not None else last
            last_seen = snap
        time.sleep(0.0002)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    assert proc.returncode == 0, err
    end = time.monotonic() - t0
    return (first if first is not None else end), (last if last is not None else end), end


def _check_after_kill(out: Path, old: dict[str, bytes], new: dict[str, bytes], what: str) -> list[str]:
    """Assert every file is whole (old or new); return the names of any named temporary files.

    A writer fills an unnamed O_TMPFILE (a kill leaves nothing), links it under a temporary name
    and renames it over the target. A kill in the microseconds between those two calls leaves a
    complete new file under the temporary name, which the next write into the folder sweeps away;
    nothing else may be left."""
    now = _files(out)
    temps = [n for n in now if Path(n).name.startswith(TMP_PREFIX)]
    for t in temps:
        p = Path(t)
        target = str(p.with_name(p.name[len(TMP_PREFIX):].rsplit(".", 2)[0]))
        assert now.pop(t) == new.get(target), f"{what}: temporary file {t} is not a complete {target}"
    assert set(now) <= set(old) | set(new), f"{what}: unexpected files {sorted(set(now) - set(old) - set(new))}"
    for name, data in now.items():
        assert data in (old.get(name), new.get(name)), f"{what}: {name} is neither the old nor the new file"
    for name in set(old) & set(new):
        assert name in now, f"{what}: {name} disappeared"
    return temps


def _finish_sweeps(cmd: list[str], env: dict, out: Path, new: dict[str, bytes], temps: list[str]) -> None:
    """After a kill left a temporary name, a complete run removes it and writes the new files."""
    if temps:
        subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True)
        assert _files(out) == new, f"a run after the kill did not sweep {temps}"


def _check_loads(out: Path, old_tables: dict, new_tables: dict, what: str) -> str:
    """Every table loads as its old or new version, or is refused as inconsistent; never other data."""
    sums = read_sums(out)
    outcome = []
    for table in TABLES:
        try:
            df = read_table_file(out / f"{table}.parquet", table, sums.get(f"{table}.parquet"))
        except IntegrityError:
            outcome.append("refused")
            continue
        assert df.equals(old_tables[table]) or df.equals(new_tables[table]), f"{what}: {table} loaded wrong data"
        outcome.append("ok")
    return ",".join(outcome)


def _kill_campaign(cmd, env, out, old, new, kills, rng, load_check=None):
    first, last, end = _calibrate(cmd, env, out)  # leaves ``out`` holding the new files
    assert _files(out) == new, "two runs of the same command must give the same bytes"
    window = (last - first) * 1.2 + 0.002
    real, attempts, log, states, leftovers = 0, 0, [], [], 0
    while real < kills and attempts < kills * 3:
        attempts += 1
        _restore(out, old)
        if attempts % 4 == 1:  # anywhere in the run
            rc, took = _run_and_kill(cmd, env, out, rng.uniform(0.05, end), None, rng)
        else:  # aimed at the writes
            rc, took = _run_and_kill(cmd, env, out, None, window, rng)
        what = f"{' '.join(cmd[3:])} kill #{attempts} after {took:.3f}s"
        temps = _check_after_kill(out, old, new, what)
        now = {n: d for n, d in _files(out).items() if n not in temps}
        changed = sum(1 for n, d in now.items() if d == new.get(n) and d != old.get(n))
        states.append("old" if changed == 0 else "new" if now == new else "mixed")
        if load_check is not None:
            log.append(load_check(out, what))
        leftovers += len(temps)
        _finish_sweeps(cmd, env, out, new, temps)
        if rc == -signal.SIGKILL:
            real += 1
    assert real >= kills, f"only {real} of {attempts} runs were killed before they finished"
    print(f"{' '.join(cmd[3:4])}: writes from {first:.3f}s to {last:.3f}s, end at {end:.2f}s; states after kills: "
          f"{ {k: states.count(k) for k in ('old', 'mixed', 'new')} }; complete files left under a "
          f"temporary name (then swept): {leftovers}")
    return real, log


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    """Two built copies of the shipped dataset, cut to every fifth document so that a report takes
    seconds, not a minute (the write path is the same): 'new', and 'old' with a tenth fewer."""
    base = tmp_path_factory.mktemp("kill")
    src = ROOT / "datasets" / NAME
    roots = {}
    for label in ("old", "new"):
        root = base / label
        shutil.copytree(src, root / NAME)
        for shared in ("originators.toml", "codebook.toml"):  # the registry and codebook all datasets share
            shutil.copy(src.parent / shared, root / shared)
        docs = sorted((root / NAME / "sources").glob("*.toml"))
        kept = docs[::5]
        for p in set(docs) - set(kept) | (set(kept[::10]) if label == "old" else set()):
            p.unlink()
        proc = subprocess.run(_cli("build"), env=_env(root), cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        roots[label] = root
    return base, roots


def test_kill_build_leaves_old_or_new_files(datasets):
    base, roots = datasets
    out = base / "out-build"
    old_dir = roots["old"] / NAME
    built = set(read_sums(old_dir)) | {SUMS_FILE}  # what build wrote there (not evaluation.json, ...)
    old = {n: d for n, d in _files(old_dir).items() if n in built}
    _restore(out, old)
    cmd = _cli("build", "--out", str(out))
    env = _env(roots["new"])
    ref = base / "ref-build"
    subprocess.run(_cli("build", "--out", str(ref)), env=env, cwd=ROOT, check=True, capture_output=True)
    new = _files(ref)

    def tables_of(folder: Path) -> dict:
        sums = read_sums(folder)
        return {t: read_table_file(folder / f"{t}.parquet", t, sums[f"{t}.parquet"]) for t in TABLES}

    old_tables, new_tables = tables_of(out), tables_of(ref)
    assert any(not old_tables[t].equals(new_tables[t]) for t in TABLES), "old and new must differ"
    rng = random.Random(SEED)
    real, log = _kill_campaign(cmd, env, out, old, new, BUILD_KILLS, rng,
                               lambda folder, what: _check_loads(folder, old_tables, new_tables, what))
    print(f"build: {real} SIGKILLs; load outcomes: {sorted(set(log))}")
    # A run after the kills completes the job: everything new and verified.
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True)
    assert _files(out) == new


def _report_exists() -> bool:
    try:
        return hasattr(importlib.import_module("conflictstats.report"), "build_report")
    except ImportError:
        return False


def test_kill_report_leaves_old_or_new_files(datasets):
    """The report takes longer than a build, so fewer kills: its first complete run gives the new
    files, and the 'previous' files are those with one byte appended (any earlier content must
    survive a kill whole, whatever it was)."""
    if not _report_exists():
        pytest.skip("`conflictstats report` does not exist yet")
    base, roots = datasets
    out = base / "out-report"
    out.mkdir()
    cmd = _cli("report", "--dataset", NAME, "--out", str(out), "--quiet")
    env = _env(roots["new"])
    first, last, end = _calibrate(cmd, env, out)
    new = _files(out)
    assert new, "the report wrote nothing"
    old = {name: data + b"\n" for name, data in new.items()}
    rng = random.Random(SEED + 1)
    real, attempts, states = 0, 0, []
    while real < REPORT_KILLS and attempts < REPORT_KILLS * 3:
        attempts += 1
        _restore(out, old)
        if attempts % 2:
            rc, took = _run_and_kill(cmd, env, out, rng.uniform(0.05, end), None, rng)
        else:
            rc, took = _run_and_kill(cmd, env, out, None, max(last - first, 0.01), rng)
        temps = _check_after_kill(out, old, new, f"report kill #{attempts} after {took:.2f}s")
        changed = sum(1 for n, d in _files(out).items() if d == new.get(n))
        _finish_sweeps(cmd, env, out, new, temps)
        states.append(f"{changed}/{len(new)} new")
        real += rc == -signal.SIGKILL
    assert real >= REPORT_KILLS, f"only {real} of {attempts} report runs were killed before they finished"
    print(f"report: writes from {first:.1f}s to {last:.1f}s, end at {end:.1f}s; {real} SIGKILLs; files new after "
          f"each kill: {states}")
