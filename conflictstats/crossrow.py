"""Rules that span rows (unique ids, repeated figures), kept across the batches of one file.

Each batch is checked by the table's own pandera schema, which sees repeats inside the batch.
Repeats between batches are found here, for the same rules (the data model's ``unique`` columns
and ``duplicate_key``, with pandera's own reporting: every row of a repeated id, every row but
the first of a repeated figure): one 64-bit hash per row and rule, kept in NumPy arrays (400 MB at
50 million rows), sorted at the end; rows whose hashes repeat are then re-read and compared on
their values, so a hash collision never reports a false repeat. Only rows the batch's own check
has not already reported are added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import datamodel as dm
from .errors import Failure
from .failurelog import FailureLog
from .schemas import KEY_RULES, RULE_COLUMNS, model
from .tables import coerce


@dataclass(frozen=True)
class KeyRule:
    rule: str
    column: str               # the column a failure names; rows where it is empty failed already
    message: str
    key: tuple[str, ...]      # columns whose values together must not repeat
    first_passes: bool        # the first row of a repeat passes (a repeated figure) or not (an id)


def key_rules(table: str) -> list[KeyRule]:
    """The table's rules over several rows, from the data model and the schema's own checks."""
    from .validation import _BUILTIN, _rule_of

    rule, message = _BUILTIN["field_uniqueness"]
    out = [KeyRule(rule, col.name, message, (col.name,), False) for col in dm.columns(table) if col.unique]
    if table in KEY_RULES:
        check = next(c for c in model(table).checks if c.name == KEY_RULES[table])
        rule, message = _rule_of(check, None)
        out.append(KeyRule(rule, RULE_COLUMNS[rule], message, dm.TABLE_SPECS[table].duplicate_key, True))
    return out


class CrossRows:
    """Hashes of each rule's key, batch by batch; :meth:`finish` logs the repeats between batches."""

    def __init__(self, table: str):
        self.table = table
        self.rules = key_rules(table)
        self.hashes: list[list[np.ndarray]] = [[] for _ in self.rules]
        self.present: list[list[np.ndarray]] = [[] for _ in self.rules]
        self.starts: list[int] = []

    def add(self, start: int, typed: pd.DataFrame) -> None:
        self.starts.append(start)
        for i, r in enumerate(self.rules):
            self.hashes[i].append(_hash(typed, r.key))
            self.present[i].append(typed[r.column].notna().to_numpy(dtype=bool))

    def finish(self, batches, log: FailureLog, place: Callable[[int], str]) -> None:
        starts = np.asarray(self.starts, dtype=np.int64)
        for i, r in enumerate(self.rules):
            h = np.concatenate(self.hashes[i]) if self.hashes[i] else np.zeros(0, np.uint64)
            ok = np.concatenate(self.present[i]) if self.present[i] else np.zeros(0, bool)
            self.hashes[i] = self.present[i] = []
            s = np.sort(h[ok])
            repeated = np.unique(s[1:][s[1:] == s[:-1]])
            del s
            if not len(repeated):
                continue
            rows = np.flatnonzero(ok & np.isin(h, repeated))
            del h, ok
            groups = self._exact_groups(batches, rows, r)
            add = rows[_flagged(groups, rows, starts, r.first_passes, batch_too=False)
                       & ~_flagged(groups, rows, starts, r.first_passes, batch_too=True)]
            room = len(add) if log.keep is None else max(0, log.keep - log.counts[r.rule])
            details = self._details(batches, add[:room], r)
            log.add(r.rule, add, lambda row, r=r: Failure(self.table, row, r.column, r.rule, r.message,
                                                            details[row][1], place(row), details[row][0]))

    def _typed(self, batches, rows: np.ndarray, columns: list[str]):
        """(global rows, typed frame of those rows) per batch holding any of ``rows``."""
        for start, raw in batches.read(columns):
            lo, hi = np.searchsorted(rows, [start, start + len(raw)])
            if lo == hi:
                continue
            part = raw.iloc[rows[lo:hi] - start].reset_index(drop=True)
            typed, _ = coerce(part, self.table, log=FailureLog(keep=0))
            yield rows[lo:hi], typed

    def _exact_groups(self, batches, rows: np.ndarray, r: KeyRule) -> np.ndarray:
        """A number per candidate row, equal exactly when the rows' key values are equal."""
        ids: dict[tuple, int] = {}
        groups = np.empty(len(rows), np.int64)
        at = 0
        for got, typed in self._typed(batches, rows, list(r.key)):
            values = typed[list(r.key)].astype(str).itertuples(index=False, name=None)
            groups[at:at + len(got)] = [ids.setdefault(v, len(ids)) for v in values]
            at += len(got)
        return groups

    def _details(self, batches, rows: np.ndarray, r: KeyRule) -> dict[int, tuple[str, object]]:
        """(row id, value of the named column) of the few rows whose failures are printed."""
        from .validation import _plain

        id_col = dm.PRIMARY_KEYS[self.table]
        out = {}
        for got, typed in self._typed(batches, np.sort(rows), list({id_col, r.column})):
            for row, key, value in zip(got, typed[id_col], typed[r.column]):
                out[int(row)] = ("" if pd.isna(key) else str(key), _plain(value))
        return out


def _hash(typed: pd.DataFrame, key: tuple[str, ...]) -> np.ndarray:
    """One 64-bit hash per row of the key's values, as the schema compares them (as text)."""
    return pd.util.hash_pandas_object(typed[list(key)].astype(str), index=False).to_numpy(dtype=np.uint64)


def _flagged(groups: np.ndarray, rows: np.ndarray, starts: np.ndarray, first_passes: bool,
             batch_too: bool) -> np.ndarray:
    """Which candidate rows break the rule, over the whole file or (``batch_too``) within their
    own batch, as the batch's own check saw them."""
    key = groups
    if batch_too:
        batch = np.searchsorted(starts, rows, side="right") - 1
        key = groups * (len(starts) + 1) + batch
    _, first, inverse, counts = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
    if first_passes:
        out = np.ones(len(key), bool)
        out[first] = False
        return out
    return counts[inverse] > 1
