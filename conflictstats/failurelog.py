"""Collecting rule failures: every one counted, only the first few per rule built and kept.

A file of three million broken rows breaks each rule three million times; building (and printing)
a Failure for each would cost gigabytes and minutes. The validator hands the log the failing row
numbers of one rule at once, and the log builds Failure objects only for the rows it keeps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from .errors import Failure

TEXT_CHARS = 200  # longest value, id or column name echoed in a failure line


def short(text: str, limit: int = TEXT_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was (so output stays bounded)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _short_value(v: object) -> object:
    if isinstance(v, str):
        return short(v)
    if isinstance(v, (bytes, list, tuple, dict)):
        text = repr(v)
        return v if len(text) <= TEXT_CHARS else short(text)
    return v


class FailureLog:
    """Failures counted per rule; the first ``keep`` per rule kept (``keep=None``: all of them)."""

    def __init__(self, keep: int | None = None):
        self.keep = keep
        self.kept: list[Failure] = []
        self.counts: Counter[str] = Counter()
        self._once: set = set()

    def add(self, rule: str, rows: Sequence | Iterable, make: Callable[[int], Failure],
            once: object = None) -> None:
        """Count ``len(rows)`` failures of ``rule``; build ``make(row)`` for those kept.

        A failure of the whole table (a missing column) is seen by every batch: ``once`` names it,
        and it is counted the first time only.
        """
        rows = rows if hasattr(rows, "__len__") else list(rows)
        n = len(rows)
        if not n or once is not None and (rule, once) in self._once:
            return
        if once is not None:
            self._once.add((rule, once))
        room = n if self.keep is None else max(0, self.keep - self.counts[rule])
        for r in rows[:room]:
            f = make(None if r is None else int(r))
            self.kept.append(f if self.keep is None else _bounded(f))
        self.counts[rule] += n

    def total(self) -> int:
        return sum(self.counts.values())

    def sorted(self) -> list[Failure]:
        return sorted(self.kept, key=lambda f: (-1 if f.row is None else f.row, f.column or "", f.rule))

    def omitted(self) -> list[str]:
        """One line per rule with more failures than were kept."""
        shown = Counter(f.rule for f in self.kept)
        return [f"... and {n - shown[rule]:,} more failure{'s' if n - shown[rule] != 1 else ''} of rule {rule}"
                for rule, n in sorted(self.counts.items()) if n > shown[rule]]

    def report(self, what: str) -> str:
        """The text `validate` prints: a count, the kept failures, then what was left out."""
        n = self.total()
        head = f"{short(what)}: {n:,} rule failure{'s' if n != 1 else ''}"
        return "\n".join([head] + ["  - " + f.line() for f in self.sorted()] + ["  " + m for m in self.omitted()])


def _bounded(f: Failure) -> Failure:
    """The failure with its echoed texts cut short, so that printing it is bounded."""
    from dataclasses import replace

    return replace(f, value=_short_value(f.value), where=short(f.where), key=short(f.key),
                   column=short(f.column) if f.column else f.column)
