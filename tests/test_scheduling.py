"""Model fits on a real Dask cluster (a `dask scheduler` and a `dask worker` started here, on
127.0.0.1) give the same scores as the synchronous default; a bad scheduler is a usage error."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time

import pytest

from conflictstats.errors import EXIT_USAGE, UnknownNameError
from conflictstats.scheduling import check_scheduler

# a metric with a dozen documents: the whole comparison stays cheap (children_killed, the
# issue's acceptance run, has 30 folds; see the README's "When one machine is not enough")
METRIC = "women_killed"
START_TIMEOUT = 120  # seconds; the machine may be busy
TIMINGS = ("seconds", "mean_fit_seconds")  # wall times, the only keys allowed to differ


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conflictstats", *args], capture_output=True,
                          text=True, timeout=600)


def _scores(*args: str) -> dict:
    proc = _cli(*args, "--json")
    assert proc.returncode == 0, proc.stderr
    return {k: v for k, v in json.loads(proc.stdout).items() if k not in TIMINGS}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The address of a one-worker Dask cluster (scheduler and worker as subprocesses, free
    ports, no dashboard), shut down after the module's tests."""
    distributed = pytest.importorskip("distributed")
    folder = tmp_path_factory.mktemp("dask")
    sched_file = folder / "scheduler.json"
    dask = [sys.executable, "-m", "dask"]
    procs = []
    try:
        procs.append(subprocess.Popen(
            dask + ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                    "--scheduler-file", str(sched_file)],
            stdout=subprocess.DEVNULL, stderr=(folder / "scheduler.log").open("w"), cwd=folder))
        deadline = time.monotonic() + START_TIMEOUT
        while not sched_file.exists() or not sched_file.read_text().strip():
            assert procs[0].poll() is None, (folder / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "the Dask scheduler did not start"
            time.sleep(0.2)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        procs.append(subprocess.Popen(
            dask + ["worker", address, "--nthreads", "1", "--nworkers", "1", "--host", "127.0.0.1",
                    "--no-dashboard", "--local-directory", str(folder)],
            stdout=subprocess.DEVNULL, stderr=(folder / "worker.log").open("w"), cwd=folder))
        with distributed.Client(address, timeout="60s") as client:
            client.wait_for_workers(1, timeout=START_TIMEOUT)
        yield address
    finally:
        for proc in reversed(procs):  # the worker first, then the scheduler
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_backtest_on_a_cluster_scores_like_synchronous(cluster):
    on_cluster = _scores("backtest", "--metric", METRIC, "--scheduler", cluster)
    here = _scores("backtest", "--metric", METRIC, "--scheduler", "synchronous")
    assert here["n_folds"] >= 5 and here["n_held_out"] >= 5  # a real backtest, not an empty one
    assert sorted(on_cluster) == sorted(here)
    assert on_cluster == here


def test_simulate_on_a_cluster_scores_like_synchronous(cluster):
    """Each run's seed comes from its index, never from the worker it lands on."""
    on_cluster = _scores("simulate", "--runs", "2", "--seed", "3", "--scheduler", cluster)
    assert on_cluster == _scores("simulate", "--runs", "2", "--seed", "3")


def test_tasks_come_back_in_task_order(cluster):
    from conflictstats.scheduling import map_tasks

    tasks = list(range(30, 0, -1))
    assert map_tasks(math.factorial, tasks, cluster) == [math.factorial(n) for n in tasks]


@pytest.mark.parametrize("bad", ["threads", "tcp://", "127.0.0.1:8786", "tcp://host:port", ""])
def test_unknown_scheduler_is_a_usage_error(bad):
    with pytest.raises(UnknownNameError, match="unknown scheduler"):
        check_scheduler(bad)


@pytest.mark.parametrize("command", [["backtest", "--metric", METRIC],
                                     ["report", "--quiet", "--out", "unused"]])
def test_cli_refuses_an_unknown_scheduler_before_fitting(command, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "conflictstats", *command, "--scheduler", "threads"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert "unknown scheduler 'threads'" in proc.stderr
    assert not (tmp_path / "unused").exists()


def test_synchronous_runs_do_not_import_dask():
    code = ("import sys, math; from conflictstats.models import backtest, simulate; "
            "from conflictstats.scheduling import map_tasks; "
            "assert map_tasks(math.factorial, [3, 4], 'synchronous') == [6, 24]; "
            "bad = [m for m in ('dask', 'distributed') if m in sys.modules]; print(bad); "
            "sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
