"""Observation builder: reported figures -> the latent model's likelihood terms.

Why: published totals overlap and nest ("since 29 April", reported again and again). Fitting
them as independent points counts the same deaths many times, so a cumulative series from one
originator with one start date becomes its increments. Qualifiers become censored or banded
likelihood terms instead of being read as exact numbers. Everything that is left out is kept
in an ``excluded`` table with the reason, so nothing disappears silently.

An observation is a window ``[start, end]`` (days, inclusive), a coverage group (the
originator, plus the governorates when the figure is narrower than the campaign area) and an
interval ``[lo, hi]`` for the count: ``lo == hi`` is exact, ``hi == inf`` right-censored,
``lo == 0`` left-censored, anything else a band.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from ..datamodel import qualifier_interval as figure_interval
from ..datamodel import rounding_half_width, rounding_unit  # noqa: F401 (part of this module's API)
from ._common import campaign_pcodes

POOLED = "other originators (pooled)"
OUTSIDE_DAYS = 31
# Figures over a window of at most this many days ("killed today") are mostly partial daily
# tallies of notable days; they get their own coverage offset per originator instead of
# pinning the intensity that the same originator's campaign totals measure.
SHORT_DAYS = 3
# Originators with fewer figures share one pooled coverage offset.
MIN_GROUP_OBS = 3
DAILY_SUFFIX = " (daily tallies)"


@dataclass
class ObservationSet:
    """Likelihood terms for one metric and area, plus what was left out and why."""

    metric: str
    area: str | None
    obs: pd.DataFrame
    excluded: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _finite_interval(qualifier: str, value: float, low, high) -> tuple[float, float]:
    """A bounded :func:`figure_interval` (the Gaussian model needs finite bands); the data model
    (``conflictstats.datamodel.qualifier_interval``) says what each qualifier means."""
    return figure_interval(qualifier, value, low, high, finite=True)


# Fallback for frames without an originator_group column (curated data has one, from
# originators.toml): spellings of one originator, matched after lower-casing and dropping a
# trailing "(...)" such as "(via Zaman Alwasl)" or "(Mark Lowcock)".
ORIGINATOR_ALIASES = {
    "syrian observatory for human rights": "SOHR",
    "sohr": "SOHR",
    "syrian observatory for human rights and local activists": "SOHR",
    "syrian network for human rights": "SNHR",
    "snhr": "SNHR",
    "syrian civil defence": "White Helmets",
    "syrian civil defense": "White Helmets",
    "white helmets": "White Helmets",
    "white helmets sources": "White Helmets",
    "syria civil defence": "White Helmets",
    "united nations": "United Nations",
    "un": "United Nations",
    "ocha": "OCHA",
    "un ocha": "OCHA",
    "ohchr": "OHCHR",
    "un human rights office": "OHCHR",
    "cccm cluster": "CCCM Cluster",
    "syria response coordinators": "Syria Response Coordinators",
    "response coordination group": "Syria Response Coordinators",
}


def canonical_originator(name: str) -> str:
    """One name per originator, so that spelling variants share one coverage offset.

    Trailing parentheses name the channel or spokesperson ("OCHA (Mark Lowcock)", "SOHR (via
    Zaman Alwasl)"), not a different count, and are dropped before the alias lookup.
    """
    raw = re.sub(r"\s*\([^)]*\)", "", str(name)).strip() or str(name).strip()
    key = raw.lower()
    if key.startswith("the "):
        key = key[4:]
    return ORIGINATOR_ALIASES.get(key, raw)


def check_originator(name: str, groups, aliases: dict[str, str]) -> None:
    """Refuse a misspelled originator: a name that no fitted group, spelling in the figures or
    entry of the shared registry (``originators.toml``) has, but close to one that does ("SNRH").
    A name close to none is an originator the fit has not seen, predicted with the spread of
    coverage between originators."""
    from ..registry import originator_groups
    from ..suggest import closest, unknown_name

    registry = originator_groups()
    known = {*groups, *aliases, *aliases.values(), *registry, *registry.values(),
             *ORIGINATOR_ALIASES.values(), POOLED}
    known |= {canonical_originator(k) for k in known}  # a group's own label ("News media")
    # a coverage-group label: its originator, without the daily-tally suffix or governorate tag
    name = name.removesuffix(DAILY_SUFFIX).split(" [")[0].strip() or name
    if name.lower() in {k.lower() for k in known} or canonical_originator(name) in known:
        return
    if closest(name, known):
        raise unknown_name("originator", name, known, "or a name close to none of them for an originator "
                           "the fit has not seen")


def coverage_group(originator: str, area_scope: str, pcodes) -> str:
    """Coverage-offset group: the originator, qualified by governorates below campaign level.

    A governorate-level series from one originator counts a different share of the campaign
    than the same originator's campaign-wide series, so it gets its own offset.
    """
    name = canonical_originator(originator)
    if area_scope == "campaign_area" or not pcodes:
        return name
    return f"{name} [{'+'.join(sorted(pcodes))}]"


def check_selection(figures: pd.DataFrame, metric: str, area: str | None = None) -> None:
    """Refuse a metric or area the figures do not know (:class:`UnknownNameError`, with the
    closest names): the codebook's metrics, the figures' areas and governorate p-codes."""
    from ..suggest import check_name

    m = figures["metric"]
    check_name("metric", metric, list(m.cat.categories) if hasattr(m, "cat") else m.dropna().astype(str).unique(),
               "`conflictstats show codebook` lists them")
    if area is not None:
        areas = {str(a).strip().lower(): str(a) for a in figures["area"].dropna().unique()}
        pcodes = {str(p) for v in figures["admin1_pcodes"].dropna() for p in v}
        if area.strip().lower() not in areas and area.upper() not in pcodes:
            check_name("area", area, sorted(set(areas.values()) | pcodes),
                       "areas as the figures name them, or admin-1 p-codes such as SY07")


def build_observations(figures: pd.DataFrame, metric: str, area: str | None = None,
                       campaign: tuple[pd.Timestamp, pd.Timestamp] | None = None,
                       missing_start: str = "campaign_start",
                       increments: bool = False, min_group_obs: int = MIN_GROUP_OBS,
                       pcodes: Iterable[str] | None = None) -> ObservationSet:
    """Turn the figures of one metric into likelihood terms (see module docstring).

    ``area=None`` means the campaign area as a whole: figures whose ``area_scope`` is
    ``campaign_area`` or ``governorate`` and whose admin-1 p-codes all lie in ``pcodes``, the
    fitted dataset's ``campaign_pcodes`` (dataset.toml; None: the default dataset's).
    Otherwise ``area`` is matched against the ``area`` column (case-insensitive) or, if it is a
    p-code, against single-governorate figures of that p-code.
    ``increments=True`` turns each running series into increments (for likelihoods that treat
    observations as independent); the default keeps the totals, whose nesting the latent model
    handles through the shared daily series (a total and a later total of the same series
    share all the earlier days).
    ``min_group_obs``: originators with fewer figures share one pooled coverage offset (a
    group seen once only absorbs its own figure and adds a parameter).
    ``missing_start``: "campaign_start" assumes a figure without a start date counts from the
    campaign start (recorded per observation); "drop" excludes such figures.
    """
    check_selection(figures, metric, area)
    f = figures[figures["metric"].astype(str) == metric].copy()
    excluded: list[dict] = []
    notes: list[str] = []

    def drop(rows: pd.DataFrame, reason: str) -> None:
        for fid, sid in zip(rows["figure_id"], rows["source_id"]):
            excluded.append({"figure_id": fid, "source_id": sid, "reason": reason})

    ct = f["count_type"].astype(str)
    drop(f[ct == "stock"], "stock (a level on a date), not a flow over a window")
    drop(f[ct == "incident"], "incident figure: one event, not a total over a window; "
                              "excluded from the intensity model")
    f = f[ct == "flow"]

    pc = f["admin1_pcodes"].apply(lambda v: frozenset(v) if v is not None else frozenset())
    scope = f["area_scope"].astype(str)
    if area is None:
        area_codes = frozenset(pcodes) if pcodes is not None else campaign_pcodes()
        keep = scope.isin(["campaign_area", "governorate"]) & pc.apply(
            lambda s: len(s) > 0 and s <= area_codes)
        drop(f[~keep], "outside the campaign-area selection (area=None uses campaign_area or "
                       f"governorate figures within {'/'.join(sorted(area_codes))})")
    else:
        a = area.strip().lower()
        keep = (f["area"].astype(str).str.strip().str.lower() == a) | pc.apply(
            lambda s: s == frozenset({area.upper()}))
        drop(f[~keep], f"not in area {area!r}")
    f = f[keep]

    if campaign is not None:
        cs, ce = campaign
    else:
        cs, ce = f["period_start"].min(), f["period_end"].max()
    start = f["period_start"].copy()
    nostart = start.isna()
    if missing_start == "drop":
        drop(f[nostart], "no period_start given by the source")
        f, start = f[~nostart], start[~nostart]
        nostart = nostart[~nostart]
    else:
        start = start.fillna(pd.Timestamp(cs))
    f = f.assign(_start=start, _nostart=nostart.values)
    if campaign is not None:
        early = f["_start"] < pd.Timestamp(cs) - pd.Timedelta(days=OUTSIDE_DAYS)
        late = f["period_end"] > pd.Timestamp(ce) + pd.Timedelta(days=OUTSIDE_DAYS)
        drop(f[early], f"window starts more than {OUTSIDE_DAYS} days before the campaign "
                       "(mostly counts from before it; the model covers the campaign)")
        drop(f[late & ~early], f"window ends more than {OUTSIDE_DAYS} days after the campaign")
        f = f[~early & ~late]
    bad = f["_start"] > f["period_end"]
    drop(f[bad], "period_start after period_end (start assumed at campaign start)")
    f = f[~bad]
    if f["value"].isna().any():
        drop(f[f["value"].isna()], "no value")
        f = f[f["value"].notna()]

    short = ((f["period_end"] - f["_start"]).dt.days + 1) <= SHORT_DAYS
    # Curated data names each originator's organisation in originator_group (originators.toml);
    # frames without it (synthetic or a user's own) fall back to canonical_originator().
    names = f["originator"]
    if "originator_group" in f.columns:
        names = f["originator_group"].astype("object").where(f["originator_group"].notna(), f["originator"])
    # with an explicit area, the area is the selection: no governorate tag on the groups
    f = f.assign(_group=[coverage_group(o, s if area is None else "campaign_area", p)
                         + (DAILY_SUFFIX if sh else "")
                         for o, s, p, sh in zip(names, f["area_scope"].astype(str),
                                                f["admin1_pcodes"], short)])

    rows: list[dict] = []
    for (group, st), ser in f.groupby(["_group", "_start"], sort=True):
        ser = ser.sort_values(["period_end", "value", "figure_id"])
        # one figure per end date: repeats of the same window (news copies, revisions) keep the
        # largest value; the others are recorded as duplicates
        kept = []
        for end, same in ser.groupby("period_end", sort=True):
            same = same.sort_values(["value", "figure_id"], ascending=[False, True])
            kept.append(same.iloc[0])
            if len(same) > 1:
                drop(same.iloc[1:], "same originator and window as another figure "
                                    f"({same.iloc[0]['figure_id']}); kept the largest value")
        prev = None
        prev_lo = prev_hi = 0.0
        for row in kept:
            q = str(row["qualifier"])
            val = float(row["value"])
            note = "period_start missing: assumed campaign start" if row["_nostart"] else ""
            if prev is None or not increments:
                lo, hi = figure_interval(q, val, row["value_low"], row["value_high"])
                s_day = row["_start"]
                kind = "total"
                sources = [row["source_id"]]
                fids = [row["figure_id"]]
                flo, fhi = _finite_interval(q, val, row["value_low"], row["value_high"])
            else:
                flo, fhi = _finite_interval(q, val, row["value_low"], row["value_high"])
                if q == "exact" and str(prev["qualifier"]) == "exact":
                    lo = hi = val - float(prev["value"])
                    flo = fhi = val
                else:
                    lo, hi = max(0.0, flo - prev_hi), fhi - prev_lo
                if hi < 0 or (q == "exact" and lo < 0):
                    drop(pd.DataFrame([row]), "cumulative series goes down (below an earlier "
                                              f"total {prev['figure_id']}); treated as a revision")
                    continue
                lo = max(lo, 0.0)
                s_day = prev["period_end"] + pd.Timedelta(days=1)
                kind = "increment"
                sources = [prev["source_id"], row["source_id"]]
                fids = [prev["figure_id"], row["figure_id"]]
                note = (note + "; " if note else "") + f"increment over {prev['figure_id']}"
            if not increments:
                if prev is not None and float(row["value"]) < float(prev["value"]) and \
                        q == "exact" and str(prev["qualifier"]) == "exact":
                    drop(pd.DataFrame([row]), "cumulative series goes down (below an earlier "
                                              f"total {prev['figure_id']}); treated as a revision")
                    continue
                s_day = row["_start"]
                kind = "total"
                sources = [row["source_id"]]
                fids = [row["figure_id"]]
            rows.append({
                "figure_id": row["figure_id"], "figure_ids": ",".join(fids),
                "source_ids": ",".join(dict.fromkeys(sources)),
                "group": group, "originator": str(row["originator"]).strip(),
                "series_start": st, "start": s_day, "end": row["period_end"],
                "value": val if kind == "total" else val - float(prev["value"]),
                "reported": val, "qualifier": q, "lo": float(lo), "hi": float(hi),
                "obs_kind": kind, "note": note,
                "flo": float(max(lo, 0.0)) if kind == "increment" and q == "exact" and
                str(prev["qualifier"]) == "exact" else (float(flo) if kind == "total" else
                                                       float(max(flo - prev_hi, 0.0))),
                "fhi": float(hi) if kind == "increment" and q == "exact" and
                str(prev["qualifier"]) == "exact" else (float(fhi) if kind == "total" else
                                                       float(fhi - prev_lo)),
            })
            prev, prev_lo, prev_hi = row, flo, fhi
    if min_group_obs > 1 and rows:
        rows = _pool_small_groups(rows, min_group_obs, notes, excluded)
    obs = pd.DataFrame(rows, columns=[
        "figure_id", "figure_ids", "source_ids", "group", "originator", "series_start",
        "start", "end", "value", "reported", "qualifier", "lo", "hi", "obs_kind", "note",
        "flo", "fhi"])
    if len(obs):
        obs = obs.sort_values(["group", "series_start", "end"]).reset_index(drop=True)
    if nostart.any() and missing_start != "drop":
        notes.append(f"{int(nostart.sum())} figure(s) without period_start counted from the "
                     "campaign start")
    exc = pd.DataFrame(excluded, columns=["figure_id", "source_id", "reason"])
    return ObservationSet(metric=metric, area=area, obs=obs, excluded=exc, notes=notes)


def _pool_small_groups(rows: list[dict], min_group_obs: int, notes: list[str],
                       excluded: list[dict]) -> list[dict]:
    """Pool campaign-wide groups with fewer than ``min_group_obs`` figures; drop small
    governorate-level groups.

    A group seen once or twice only absorbs its own figures and adds a parameter, so small
    campaign-wide groups share one offset, and small daily-tally groups another (a one-day
    tally and a months-long total in one group would force a huge dispersion). A governorate
    series counts a different share of the campaign than anyone else: pooling it with
    campaign-wide totals (17 deaths in one governorate beside 347 campaign-wide) is wrong, and on
    its own it cannot be calibrated, so it is excluded with the reason.
    """
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["group"]] = counts.get(r["group"], 0) + 1
    small = {g for g, n in counts.items() if n < min_group_obs}
    if not small:
        return rows
    kept = []
    n_pooled = n_dropped = 0
    for r in rows:
        g = r["group"]
        if g not in small:
            kept.append(r)
            continue
        base = g[: -len(DAILY_SUFFIX)] if g.endswith(DAILY_SUFFIX) else g
        if "[" in base:
            excluded.append({"figure_id": r["figure_id"], "source_id": r["source_ids"].split(",")[-1],
                             "reason": f"governorate-level series with fewer than {min_group_obs} "
                                       "figures: its share of the campaign cannot be estimated"})
            n_dropped += 1
            continue
        r["note"] = (r["note"] + "; " if r["note"] else "") + f"pooled from {g}"
        r["group"] = POOLED + (DAILY_SUFFIX if g.endswith(DAILY_SUFFIX) else "")
        n_pooled += 1
        kept.append(r)
    notes.append(f"{n_pooled} figure(s) from originators with fewer than {min_group_obs} "
                 f"figures pooled into {POOLED!r} (totals) or {POOLED + DAILY_SUFFIX!r}; "
                 f"{n_dropped} from small governorate-level series excluded")
    return kept
