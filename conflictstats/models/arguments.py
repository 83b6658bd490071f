"""Checks of the arguments of the models' public functions, called at their entry.

Why one module: a bad argument must fail at once with one clear message (an
:class:`~conflictstats.errors.ArgumentError`, a ValueError; exit 3 on the command line), not
deep inside pandas or numpy, or worse, with a silently wrong answer (``alpha=1.5`` inverts
an interval). Every public function of the models calls these, so each rule is written once.
"""

from __future__ import annotations

import math
import numbers
from typing import Sequence

import pandas as pd

from ..errors import ArgumentError
from ..suggest import check_name

__all__ = ["ArgumentError"]  # the error every check raises, for callers that name it


def alpha(value: object, name: str = "alpha") -> float:
    """A significance level strictly between 0 and 1 (0.05 gives 95% intervals)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < float(value) < 1:
        raise ArgumentError(f"{name} must be a number strictly between 0 and 1 (0.05 gives 95% "
                            f"intervals), got {value!r}.")
    return float(value)


def count(value: object, name: str, minimum: int = 1) -> int:
    """A whole number of at least ``minimum`` (replicates, runs)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        raise ArgumentError(f"{name} must be a whole number of at least {minimum}, got {value!r}.")
    return int(value)


def seed(value: object, name: str = "seed") -> int | None:
    """None or a non-negative whole number (numpy refuses negative seeds)."""
    return None if value is None else count(value, name, minimum=0)


def positive(values: object, name: str) -> tuple[float, ...]:
    """A sequence of finite numbers above 0 (variance factors)."""
    vals = tuple(values) if isinstance(values, (list, tuple)) else (values,)
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v <= 0:
            raise ArgumentError(f"{name} must be finite numbers above 0, got {v!r}.")
    return tuple(float(v) for v in vals)


def date(value: object, name: str = "date") -> pd.Timestamp:
    """A day: a Timestamp, datetime, date or ISO text; never None, NaT or text that is no date."""
    if value is None:
        raise ArgumentError(f"{name} is missing: a window needs a start and an end date (got None).")
    if isinstance(value, bool) or isinstance(value, numbers.Number):
        raise ArgumentError(f"{name} must be a date such as '2019-05-01', got the number {value!r}.")
    try:
        ts = pd.Timestamp(value)
    except (pd.errors.OutOfBoundsDatetime, OverflowError):
        raise ArgumentError(f"{name} {value!r} is far outside any modelled period.") from None
    except (ValueError, TypeError):
        raise ArgumentError(f"{name} is not a date: {value!r} (write it as YYYY-MM-DD).") from None
    if ts is pd.NaT:
        raise ArgumentError(f"{name} is missing (NaT): a window needs a start and an end date.")
    if ts.tzinfo is not None:
        raise ArgumentError(f"{name} {value!r} carries a time zone; give the date alone (YYYY-MM-DD).")
    return ts.normalize()


def window(start: object, end: object, period: tuple[pd.Timestamp, pd.Timestamp] | None = None,
           what: str = "window") -> tuple[pd.Timestamp, pd.Timestamp]:
    """(start, end) as days, ordered, and inside ``period`` (first, last day) when given."""
    s, e = date(start, "start"), date(end, "end")
    if e < s:
        raise ArgumentError(f"the {what} ends before it starts: start {s.date()} is after end {e.date()}.")
    if period is not None:
        first, last = pd.Timestamp(period[0]).normalize(), pd.Timestamp(period[1]).normalize()
        if s < first or e > last:
            raise ArgumentError(f"the {what} {s.date()} to {e.date()} lies outside the modelled period "
                                f"{first.date()} to {last.date()}.")
    return s, e


def modelled_period(res) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day a fitted result can predict."""
    day0 = res.model.day0
    return day0, day0 + pd.Timedelta(days=res.model.lay.D - 1)


def windows(res, wins: object) -> None:
    """Every window of ``get_prediction``/``predict_many``: (start, end[, originator]) tuples or
    a DataFrame with ``start`` and ``end`` columns; dates as :func:`window`, inside the fit's
    modelled period."""
    period = modelled_period(res)
    if isinstance(wins, pd.DataFrame):
        missing = [c for c in ("start", "end") if c not in wins.columns]
        if missing:
            raise ArgumentError(f"the windows table needs columns start and end; missing: {', '.join(missing)}.")
        rows: Sequence = list(zip(wins["start"], wins["end"]))
    elif isinstance(wins, (str, bytes)) or not hasattr(wins, "__iter__"):
        raise ArgumentError(f"windows must be a list of (start, end[, originator]) tuples or a DataFrame, "
                            f"got {type(wins).__name__}.")
    else:
        rows = list(wins)
    if not rows:
        raise ArgumentError("no windows given: pass at least one (start, end) pair.")
    for i, w in enumerate(rows):
        if isinstance(w, (str, bytes)) or not hasattr(w, "__len__") or len(w) not in (2, 3):
            raise ArgumentError(f"window #{i} must be (start, end) or (start, end, originator), got {w!r}.")
        window(w[0], w[1], period, what=f"window #{i}")


def prediction(res, start: object, end: object, level: object) -> None:
    """``predict_window``: one window inside the modelled period, and its alpha."""
    window(start, end, modelled_period(res))
    alpha(level)


def daily(res, start: object, end: object, level: object) -> None:
    """``daily_frame``: optional start and end (default: the campaign) inside the modelled period."""
    cs, ce = res.campaign
    window(cs if start is None else start, ce if end is None else end, modelled_period(res), what="date range")
    alpha(level)


def sensitivity(res, start: object, end: object, factors: object, level: object) -> None:
    """``dispersion_sensitivity``: the window, the variance factors (above 0) and alpha."""
    prediction(res, start, end, level)
    positive(factors, "factors")


def replicates(n: object, rng_seed: object) -> None:
    """``bootstrap``: at least one replicate, and a usable seed."""
    count(n, "n")
    seed(rng_seed)


def choice(value: object, choices: Sequence[str], name: str) -> str:
    """One of a fixed list of names (a mode, a format); a misspelled one gets the closest names."""
    if not isinstance(value, str):
        raise ArgumentError(f"unknown {name} {value!r}; use one of {', '.join(choices)}.")
    return check_name(name, value, choices)


def text(value: object, name: str) -> str:
    """A non-empty name (a metric, a dataset)."""
    if not isinstance(value, str) or not value.strip():
        raise ArgumentError(f"{name} must be a non-empty name, got {value!r}.")
    return value


def names(values: object, name: str) -> list[str]:
    """A list of names; a single string is refused (it would be read one letter at a time)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ArgumentError(f"{name} must be a list of names, got {values!r}.")
    out = [text(v, name) for v in values]
    if not out:
        raise ArgumentError(f"{name} is empty: give at least one name.")
    return out


# -- the models' module-level functions --------------------------------------------------------

MISSING_START = ("campaign_start", "drop")


def metric(figures: pd.DataFrame, name: object) -> str:
    """A metric of the figures' codebook (an unknown one: UnknownNameError with the closest names;
    a known one without usable figures is left to the observations, which say how many it has)."""
    if not isinstance(figures, pd.DataFrame):
        raise ArgumentError(f"figures must be a table like cs.load('figures'), got {type(figures).__name__}.")
    if not isinstance(name, str):
        raise ArgumentError(f"unknown metric {name!r}: a metric is a name such as 'civilians_killed'.")
    m = figures["metric"] if "metric" in figures else pd.Series([], dtype=str)
    known = list(m.cat.categories) if isinstance(m.dtype, pd.CategoricalDtype) else sorted(set(m.astype(str)))
    return check_name("metric", name, known, "`conflictstats show codebook` lists them")


def fit_args(figures: pd.DataFrame, name: object, area: object, breakpoints: object,
             missing_start: object, campaign: object) -> None:
    """``fit``: a known metric, an area name or None, breakpoints "events"/None/dates, and an
    ordered campaign window."""
    metric(figures, name)
    if isinstance(campaign, (str, bytes)) or not hasattr(campaign, "__len__") or len(campaign) != 2:
        raise ArgumentError(f"campaign must be (first day, last day), got {campaign!r}.")
    window(campaign[0], campaign[1], what="campaign")
    if area is not None and (not isinstance(area, str) or not area.strip()):
        raise ArgumentError(f"area must be a name such as 'Idlib' or a p-code such as 'SY07', or None "
                            f"for the campaign area; got {area!r}.")
    if breakpoints is not None and breakpoints != "events":
        if isinstance(breakpoints, (str, bytes)) or not hasattr(breakpoints, "__iter__"):
            raise ArgumentError(f"breakpoints must be 'events', None or a list of dates; got {breakpoints!r}.")
        for i, d in enumerate(breakpoints):
            date(d, f"breakpoint #{i}")
    choice(missing_start, MISSING_START, "missing_start")


def backtest_args(figures: pd.DataFrame, name: object, documents: object) -> None:
    """``backtest``: a known metric, and documents (source ids) the figures cite, if given."""
    metric(figures, name)
    if documents is not None:
        known = set(figures["source_id"].astype(str))
        missing = [d for d in names(documents, "documents") if d not in known]
        if missing:
            raise ArgumentError(f"documents not among the figures' sources: {', '.join(map(repr, missing[:5]))}.")


def synthetic(rng_seed: object, level: object, day_k: object, originator_k: object) -> None:
    """``synthetic_campaign``: a usable seed; level (if given) and dispersions finite and above 0."""
    count(rng_seed, "seed", minimum=0)
    if level is not None:
        positive(level, "level")
    positive((day_k, originator_k), "day_k and originator_k")


def simulation(runs: object, rng_seed: object, holdout_frac: object, boot: object) -> None:
    """``simulate``: at least one run, a usable seed, a held-out share in (0, 1), B >= 0."""
    count(runs, "runs")
    count(rng_seed, "seed", minimum=0)
    alpha(holdout_frac, "holdout_frac")
    count(boot, "bootstrap", minimum=0)


def components(res, fixed: dict) -> None:
    """``refit_with``: known variance-component names (log scale), finite values."""
    known = list(res.variance_components.index)
    for name, value in fixed.items():
        check_name("variance component", name, known)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ArgumentError(f"{name} must be a finite number (log scale), got {value!r}.")
