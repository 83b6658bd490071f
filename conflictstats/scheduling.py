"""Where many independent model fits run: here one after another, or on a Dask cluster.

Why: a backtest is one refit per document and a simulation one fit per synthetic campaign;
the fits are independent, so they spread over cores or machines with an existing engine
(dask.distributed, the optional ``conflictstats[distributed]`` extra) instead of a scheduler
of our own. Results do not depend on the scheduler: a task gets everything it draws from
(its seed included) from its own arguments, never from the worker it lands on, and results
come back in task order. Dask is imported only here, and only when a cluster is asked for.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .errors import ConflictstatsError, UnknownNameError, UnreadableError

SYNCHRONOUS = "synchronous"  # the default: in this process, one task after another
PROCESSES = "processes"      # a local Dask cluster, one single-threaded worker per core
SCHEDULERS = (SYNCHRONOUS, PROCESSES, "tcp://HOST:PORT")
CONNECT_TIMEOUT = "20s"
_ADDRESS = re.compile(r"^tcp://[A-Za-z0-9.\-]+:\d{1,5}$|^tcp://\[[0-9A-Fa-f:.]+\]:\d{1,5}$")


def check_scheduler(scheduler: str) -> str:
    """The scheduler argument if it is one of :data:`SCHEDULERS`; else a usage error (exit 3)."""
    if scheduler in (SYNCHRONOUS, PROCESSES) or (isinstance(scheduler, str) and _ADDRESS.match(scheduler)):
        return scheduler
    raise UnknownNameError(f"unknown scheduler {scheduler!r}; use {SYNCHRONOUS!r} (the default), "
                           f"{PROCESSES!r} (a local Dask cluster on all cores) or the address of a "
                           "running Dask scheduler, tcp://HOST:PORT")


def map_tasks(fn: Callable[..., Any], tasks: Sequence, scheduler: str = SYNCHRONOUS,
              desc: str = "tasks", unit: str = "task", **shared: Any) -> list:
    """``[fn(task, **shared) for task in tasks]``, run where ``scheduler`` says, in task order.

    ``shared`` holds the arguments every task reads (data, a full-data fit); on a cluster
    they are sent to each worker once, not once per task. ``fn`` must be importable by the
    workers (a module-level function of an installed package, or a partial of one).
    ``desc`` and ``unit`` label the progress bar (:mod:`conflictstats.progress`).
    """
    from .progress import progress

    check_scheduler(scheduler)
    if scheduler == SYNCHRONOUS or not tasks:
        return [fn(task, **shared) for task in progress(tasks, desc=desc, unit=unit)]
    with dask_client(scheduler) as client:
        from distributed import as_completed

        # one list per value: scatter() would split a dict or list into items
        handles = {k: client.scatter([v], broadcast=True)[0] for k, v in shared.items()}
        futures = client.map(fn, list(tasks), pure=False, **handles)
        for _ in progress(as_completed(futures), desc=desc, total=len(futures), unit=unit):
            pass  # the bar counts tasks as they finish; results are gathered in task order
        return client.gather(futures)


@contextmanager
def dask_client(scheduler: str) -> Iterator[Any]:
    """A ``distributed.Client`` on a fresh local cluster or the cluster at ``scheduler``."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConflictstatsError(
            f"scheduler {scheduler!r} needs dask.distributed: pip install 'conflictstats[distributed]'"
        ) from None
    if scheduler == PROCESSES:
        # one single-threaded worker per core: the fits are small dense algebra (Dask's nanny
        # already starts workers with OMP/OPENBLAS/MKL_NUM_THREADS=1)
        cluster = LocalCluster(n_workers=_cores(), threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise UnreadableError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError):
            raise UnreadableError(f"the Dask scheduler at {scheduler} has no workers") from None
        yield client


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
