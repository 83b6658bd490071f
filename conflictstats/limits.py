"""How much `conflictstats validate` reads from one user file, and how to raise it.

A 358 KB Parquet file can declare three million rows and a 439 KB CSV fifty thousand columns:
without limits such a file costs minutes, gigabytes and megabytes of output. Each limit below is
refused with exit 2 and a message naming the option and environment variable that raise it
(0 means no limit). Memory is bounded separately, by reading in batches (see
:mod:`conflictstats.userbatches`), so raising the row limit costs time, not memory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

from .errors import ConflictstatsError, UnreadableError


@dataclass(frozen=True)
class Limits:
    rows: int = 2_000_000             # rows read from one file
    columns: int = 1_000              # columns read from one file (a table has at most 23)
    failures_per_rule: int = 10       # failures printed per rule, then a count of the rest
    cell_bytes: int = 1 << 20         # bytes of one text cell or one list cell
    chunk_bytes: int = 512 << 20      # uncompressed bytes of one Parquet column chunk (decompressed at once)


# limit -> (command-line option, environment variable)
NAMES = {"rows": ("--max-rows", "CONFLICTSTATS_MAX_ROWS"),
         "columns": ("--max-columns", "CONFLICTSTATS_MAX_COLUMNS"),
         "failures_per_rule": ("--max-failures", "CONFLICTSTATS_MAX_FAILURES"),
         "cell_bytes": ("", "CONFLICTSTATS_MAX_CELL_BYTES"),
         "chunk_bytes": ("", "CONFLICTSTATS_MAX_CHUNK_BYTES")}


def current(**given: int | None) -> Limits:
    """The defaults, then the environment, then ``given`` (command-line options; None: not given)."""
    values = {}
    for f in fields(Limits):
        option, env = NAMES[f.name]
        text = os.environ.get(env)
        if text is not None:
            values[f.name] = _count(text, env)
        if given.get(f.name) is not None:
            values[f.name] = _count(str(given[f.name]), option)
    return replace(Limits(), **values)


def _count(text: str, name: str) -> int:
    try:
        n = int(text.strip())
    except ValueError:
        n = -1
    if n < 0:
        raise ConflictstatsError(f"{name} must be a whole number, 0 or more (0: no limit); got {text[:40]!r}.")
    return n


def exceeded(limits: Limits, name: str, found: int) -> bool:
    limit = getattr(limits, name)
    return bool(limit) and found > limit


def refuse(where: str, name: str, found: int, limits: Limits, what: str) -> UnreadableError:
    """The exit-2 error for a file over one limit, saying how to raise it."""
    option, env = NAMES[name]
    how = f"{option} N or {env}=N" if option else f"{env}=N"
    return UnreadableError(f"{where}: {found:,} {what}, more than the {getattr(limits, name):,} conflictstats reads "
                           f"from one file; raise the limit with {how} (0: no limit).")
