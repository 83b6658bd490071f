"""Run small dense linear algebra on one BLAS thread.

Why: the model's matrices are about 100 x 100; OpenBLAS's worker threads only add
synchronisation, and on a busy 2-core machine (CI, parallel sessions) a threaded 100 x 20
triangular solve measured 20x slower than a single-threaded one, which turned a 10 s fit into
minutes. This is a best-effort, dependency-free version of threadpoolctl: find the OpenBLAS
libraries numpy and scipy loaded, set one thread for the duration, restore afterwards; if
anything is unexpected it does nothing.
"""

from __future__ import annotations

import ctypes
import threading
from contextlib import contextmanager

_LOCK = threading.Lock()
_LIBS: list | None = None
_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
            "openblas_get_num_threads64_", "openblas_get_num_threads")


def _find() -> list:
    libs = []
    try:
        with open("/proc/self/maps") as fh:
            paths = sorted({line.split()[-1] for line in fh
                            if "openblas" in line.lower() and line.rstrip().endswith(".so")
                            or ("openblas" in line.lower() and ".so" in line)})
    except OSError:
        return libs
    for path in paths:
        if not path.startswith("/"):
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        setter = next((getattr(lib, n) for n in _SETTERS if hasattr(lib, n)), None)
        getter = next((getattr(lib, n) for n in _GETTERS if hasattr(lib, n)), None)
        if setter is not None and getter is not None:
            getter.restype = ctypes.c_int
            libs.append((setter, getter))
    return libs


@contextmanager
def single_thread_blas():
    """Context manager: one BLAS thread inside, previous settings restored on exit."""
    global _LIBS
    try:
        import scipy.linalg  # noqa: F401  (make sure scipy's OpenBLAS is loaded too)

        with _LOCK:
            if _LIBS is None:
                _LIBS = _find()
        old = []
        for setter, getter in _LIBS:
            n = int(getter())
            old.append((setter, n))
            if n != 1:
                setter(1)
    except Exception:  # pragma: no cover - best effort only
        old = []
    try:
        yield
    finally:
        for setter, n in old:
            try:
                if n != 1:
                    setter(n)
            except Exception:  # pragma: no cover
                pass
