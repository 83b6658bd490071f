"""Closest valid names for a mistyped one, so an unknown name gets help instead of a dead end.

Every check of a user-given name (dataset, table, metric, area, originator, mode, format)
goes through :func:`check_name`, which raises :class:`~conflictstats.errors.UnknownNameError`
naming what was asked, the closest valid names and (when short) the full list.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from .errors import UnknownNameError

_LIST_AT_MOST = 12  # the full list of valid names is printed when it is this short
_CUTOFF = 0.6


def _tokens(name: str) -> str:
    """The name's words in sorted order, so that swapped words still match ("displaced_people")."""
    return " ".join(sorted(t for t in re.split(r"[\s_\-./]+", name.lower()) if t))


def closest(given: object, known: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` valid names closest to ``given``, best first (spelling or swapped words).

    >>> closest("displaced_people", ["civilians_killed", "people_displaced", "displacement_movements"])
    ['people_displaced']
    >>> closest("chldren_kiled", ["children_killed", "women_killed", "civilians_injured"])
    ['children_killed', 'women_killed']
    """
    text = str(given).strip().lower()
    scored = []
    for name in dict.fromkeys(str(k) for k in known):
        low = name.lower()
        score = max(difflib.SequenceMatcher(None, text, low).ratio(),
                    difflib.SequenceMatcher(None, _tokens(text), _tokens(low)).ratio())
        if score >= _CUTOFF:
            scored.append((-score, name))
    return [name for _, name in sorted(scored)[:n]]


def unknown_name(what: str, given: object, known: Iterable[str], hint: str = "") -> UnknownNameError:
    """The error for an unknown ``what`` (e.g. "metric"): what was asked and what is close."""
    known = sorted(dict.fromkeys(str(k) for k in known))
    near = closest(given, known)
    text = f"unknown {what} '{given}'"
    if near:
        text += f"; did you mean {' or '.join(near)}?"
    if len(known) <= _LIST_AT_MOST:
        text += f" Valid {what}s: {', '.join(known) or 'none'}."
    else:
        text += f" ({len(known)} valid {what}s{'; ' + hint if hint else ''}.)"
    return UnknownNameError(text)


def check_name(what: str, given: object, known: Iterable[str], hint: str = "") -> str:
    """``given`` if it is one of ``known``, else raise :func:`unknown_name`'s error.

    >>> check_name("mode", "lodo", ["lodo", "forecast"])
    'lodo'
    >>> check_name("mode", "forcast", ["lodo", "forecast"])
    Traceback (most recent call last):
    ...
    conflictstats.errors.UnknownNameError: unknown mode 'forcast'; did you mean forecast? Valid modes: forecast, lodo.
    """
    known = list(known)
    if given in known:
        return given  # type: ignore[return-value]
    raise unknown_name(what, given, known, hint)
