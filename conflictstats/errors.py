"""Error types whose messages are meant for people, and the CLI exit codes they map to."""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_INVALID = 1      # the data was read and breaks a rule
EXIT_UNREADABLE = 2   # the input could not be read at all (missing, empty, corrupt, wrong format)
EXIT_USAGE = 3        # an unknown dataset, table or option
EXIT_INTEGRITY = 4    # a file does not match its recorded checksum
EXIT_INTERNAL = 70    # a bug in conflictstats (EX_SOFTWARE), never caused by bad input


class ConflictstatsError(Exception):
    """Base class: a user error with a one-paragraph message and an exit code."""

    exit_code = EXIT_USAGE


class UnknownNameError(ConflictstatsError, KeyError):
    exit_code = EXIT_USAGE

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


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
