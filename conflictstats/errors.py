"""Error types whose messages are meant for people, and the CLI exit codes they map to."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

EXIT_OK = 0
EXIT_INVALID = 1      # the data was read and breaks a rule
EXIT_UNREADABLE = 2   # the input could not be read at all (missing, empty, corrupt, wrong format)
EXIT_USAGE = 3        # an unknown dataset, table or option
EXIT_INTEGRITY = 4    # a file does not match its recorded checksum
EXIT_INTERNAL = 70    # a bug in conflictstats (EX_SOFTWARE), never caused by bad input


# Characters a terminal would act on rather than show: controls (C0, DEL, C1), bidirectional
# overrides and isolates (U+202E reorders what follows), zero-width and other format characters,
# line and paragraph separators, surrogates, private-use and unassigned code points.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def terminal_safe(text: object) -> str:
    """``text`` with every character a terminal would act on written as an escape (``\\u202e``).

    Every message that may echo a user's value (a name, a path, a cell) passes through here,
    so that a crafted value cannot reorder, recolour or hide the rest of the message. Newlines
    between message lines are kept; the escapes are plain ASCII, so applying it twice changes
    nothing.
    """
    s = str(text)
    if s.isprintable():
        return s
    out = []
    for ch in s:
        if ch == "\n" or unicodedata.category(ch) not in _UNSAFE_CATEGORIES:
            out.append(ch)
        else:
            o = ord(ch)
            out.append(f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")
    return "".join(out)


class ConflictstatsError(Exception):
    """Base class: a user error with a one-paragraph message and an exit code.

    Its text is always terminal-safe (:func:`terminal_safe`), in the CLI and in Python alike.
    """

    exit_code = EXIT_USAGE

    def __str__(self) -> str:
        return terminal_safe(super().__str__())


class UnknownNameError(ConflictstatsError, KeyError):
    exit_code = EXIT_USAGE

    def __str__(self) -> str:  # KeyError would quote the message
        return terminal_safe(self.args[0]) if self.args else ""


class ArgumentError(ConflictstatsError, ValueError):
    """A function was called with an argument outside what it accepts (alpha, a date, a count)."""

    exit_code = EXIT_USAGE


class UnreadableError(ConflictstatsError):
    exit_code = EXIT_UNREADABLE


class IntegrityError(ConflictstatsError):
    exit_code = EXIT_INTEGRITY


class NotEnoughDataError(ConflictstatsError, ValueError):
    """A known name (a metric, an area) with too few usable figures to fit: a usage error."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class Failure:
    """One broken rule in one cell (or row) of one table."""

    table: str
    row: int | None      # 0-based position in the table as read; None for table-level failures
    column: str | None
    rule: str
    message: str
    value: object = None
    where: str = ""      # file and place in it (e.g. "sources/x.toml, [[figures]] #3" or "data.csv, line 5")
    key: str = ""        # the row's id (figure_id, source_id, ...) when known

    def line(self) -> str:
        place = self.where or (f"row {self.row}" if self.row is not None else self.table)
        parts = [place]
        if self.key:
            parts.append(self.key)
        parts.append(f"column {self.column}" if self.column else "row")
        val = "" if self.value is None else f" (value: {self.value!r})"
        return f"{': '.join(parts)}: [{self.rule}] {self.message}{val}"


class ValidationError(ConflictstatsError):
    """Data that was read but breaks rules; carries every failure at once."""

    exit_code = EXIT_INVALID

    def __init__(self, failures: list[Failure], what: str = "data"):
        self.failures = failures
        self.what = what
        super().__init__(self._text())

    def _text(self) -> str:
        n = len(self.failures)
        head = f"{self.what}: {n} rule failure{'s' if n != 1 else ''}"
        return "\n".join([head] + ["  - " + f.line() for f in self.failures])
