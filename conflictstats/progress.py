"""Progress bars for long steps (backtest refits, simulation runs, the report's fits, downloads).

One helper over tqdm, so every long loop behaves alike: a bar on stderr when stderr is a
terminal, nothing in logs or CI (tqdm's ``disable=None``), nothing at all inside
:func:`quiet` (the command line's ``--quiet``). Bars never write to stdout or to any file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")
_QUIET: ContextVar[bool] = ContextVar("conflictstats_quiet", default=False)


@contextmanager
def quiet(on: bool = True) -> Iterator[None]:
    """Silence every progress bar inside the ``with`` block (when ``on``)."""
    token = _QUIET.set(on or _QUIET.get())
    try:
        yield
    finally:
        _QUIET.reset(token)


def progress(items: Iterable[T], desc: str, total: int | None = None, unit: str = "it", **kw) -> Iterable[T]:
    """``items``, wrapped in a tqdm bar labelled ``desc`` when progress is wanted.

    >>> list(progress(range(3), desc="counting"))  # not a terminal here: no bar, same items
    [0, 1, 2]
    """
    if _QUIET.get():
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, total=total, unit=unit, disable=None, leave=False, dynamic_ncols=True, **kw)
