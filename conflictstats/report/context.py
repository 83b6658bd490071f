"""Every number the report states about the data, computed from the shipped tables at build time.

Nothing here is typed in: counts, dates and hashes come from ``conflictstats.load`` and the
dataset's SHA256SUMS, so a rebuilt report always describes the data it was built from.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from .. import datamodel as c
from ..api import load
from ..registry import DatasetInfo, dataset_info
from ..manifest import SUMS_FILE, read_sums, sha256_file

# The metrics the issue names; more are added when the data allows (see ``main_metrics``).
CORE_METRICS = ("people_displaced", "civilians_killed", "children_killed")
# Another metric gets its own section when it has this many flow figures from >= 2 originators.
EXTRA_MIN_FLOW = 40
# Event kinds that can change the trend (the models' breakpoint candidates, from the data
# model): labelled on every time axis (others are thin lines).
KEY_EVENT_KINDS = c.BREAKPOINT_KINDS
# Events of one kind within this many days are one labelled episode.
EPISODE_DAYS = 3
# Figures whose window starts this close to the campaign start count as "since the start".
SINCE_START_DAYS = 4
TOP_ORIGINATORS = 15
# Windows shown in the source comparison (most originators first).
MAX_SHARED_WINDOWS = 30


@dataclass(frozen=True)
class EventMark:
    """A vertical line on a time axis: a date, its kind and, for key episodes, a label."""

    date: pd.Timestamp
    kind: str
    label: str


class DataContext:
    """The loaded tables of one dataset and the summaries the report shows."""

    def __init__(self, dataset: str):
        self.info: DatasetInfo = dataset_info(dataset)
        self.tables = {t: load(t, dataset) for t in c.TABLES}
        # The report compares organisations, not spellings: "SOHR" and "Syrian Observatory for
        # Human Rights (via Zaman Alwasl)" are one originator (originators.toml groups them).
        f = self.tables["figures"]
        self.tables["figures"] = f.assign(originator_as_reported=f["originator"],
                                          originator=f["originator_group"].fillna(f["originator"]))
        self.sums = read_sums(self.info.path)

    # -- basic facts --------------------------------------------------------------------------
    @property
    def figures(self) -> pd.DataFrame:
        return self.tables["figures"]

    @property
    def sources(self) -> pd.DataFrame:
        return self.tables["sources"]

    @property
    def events(self) -> pd.DataFrame:
        return self.tables["events"]

    @property
    def codebook(self) -> pd.DataFrame:
        return self.tables["codebook"]

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the dataset's SHA256SUMS manifest: one hash for the whole release."""
        return sha256_file(self.info.path / SUMS_FILE)

    def file_hashes(self) -> list[tuple[str, str]]:
        """(file, sha256) of every table file, as recorded in SHA256SUMS."""
        return [(f"{t}.parquet", self.sums.get(f"{t}.parquet", "")) for t in c.TABLES]

    @property
    def sums_file(self) -> str:
        return SUMS_FILE

    def label(self, metric: str) -> str:
        row = self.codebook[self.codebook["metric"] == metric]
        return str(row["label"].iloc[0]) if len(row) else metric

    def unit(self, metric: str) -> str:
        row = self.codebook[self.codebook["metric"] == metric]
        return str(row["unit"].iloc[0]) if len(row) else ""

    def campaign(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return pd.Timestamp(self.info.campaign_start), pd.Timestamp(self.info.campaign_end)

    def of_metric(self, metric: str) -> pd.DataFrame:
        """Figures of one metric in a stable order."""
        f = self.figures
        return f[f["metric"] == metric].sort_values(["period_end", "figure_id"], kind="stable")

    @cached_property
    def modelled_metrics(self) -> list[str]:
        """The metrics the report fits models for (the core ones: fits and backtests take time)."""
        return [m for m in CORE_METRICS if m in self.main_metrics]

    @cached_property
    def main_metrics(self) -> list[str]:
        """The core metrics plus any other with enough flow figures from several originators."""
        out = [m for m in CORE_METRICS if (self.figures["metric"] == m).any()]
        flow = self.figures[self.figures["count_type"] == "flow"]
        for metric in self.codebook["metric"]:
            sub = flow[flow["metric"] == metric]
            if metric not in out and len(sub) >= EXTRA_MIN_FLOW and sub["originator"].nunique() >= 2:
                out.append(str(metric))
        return out

    # -- overview tables ----------------------------------------------------------------------
    def per_metric(self) -> pd.DataFrame:
        """Figures per metric (codebook order): counts by count type, sources, originators, span."""
        rows = []
        for metric in self.codebook["metric"]:
            sub = self.figures[self.figures["metric"] == metric]
            if not len(sub):
                continue
            kinds = sub["count_type"].value_counts()
            rows.append({"metric": str(metric), "label": self.label(metric), "unit": self.unit(metric),
                         "figures": len(sub), **{k: int(kinds.get(k, 0)) for k in c.COUNT_TYPES},
                         "sources": sub["source_id"].nunique(),
                         "originators": sub["originator"].nunique(),
                         "first": sub["period_start"].min() if sub["period_start"].notna().any()
                         else sub["period_end"].min(),
                         "last": sub["period_end"].max()})
        return pd.DataFrame(rows)

    def per_originator(self) -> pd.DataFrame:
        """Figures per originator, most first (ties by name)."""
        f = self.figures
        g = f.groupby("originator", observed=True)
        df = pd.DataFrame({"figures": g.size(), "metrics": g["metric"].nunique(),
                           "sources": g["source_id"].nunique(),
                           "type": g["originator_type"].agg(lambda s: s.astype(str).mode().min())})
        df = df.reset_index()
        return df.sort_values(["figures", "originator"], ascending=[False, True], kind="stable") \
                 .reset_index(drop=True)

    def per_month(self) -> pd.DataFrame:
        """Figures per month of their period_end, for each core metric and in all."""
        f = self.figures
        month = f["period_end"].dt.strftime("%Y-%m")
        out = pd.DataFrame({"month": sorted(month.unique())})
        for metric in self.modelled_metrics:
            counts = month[f["metric"] == metric].value_counts()
            out[metric] = [int(counts.get(m, 0)) for m in out["month"]]
        counts = month.value_counts()
        out["all"] = [int(counts.get(m, 0)) for m in out["month"]]
        return out

    def sources_by(self, column: str) -> pd.DataFrame:
        """Sources per publisher_type or doc_type (contract order, zero counts left out)."""
        order = c.PUBLISHER_TYPES if column == "publisher_type" else c.DOC_TYPES
        counts = self.sources[column].astype(str).value_counts()
        used = self.figures["source_id"]
        with_fig = self.sources[self.sources["source_id"].isin(used)][column].astype(str).value_counts()
        return pd.DataFrame([{column: k, "sources": int(counts[k]), "with_figures": int(with_fig.get(k, 0))}
                             for k in order if counts.get(k, 0)])

    def flow_documents(self, metric: str) -> int:
        """Documents giving flow figures of a metric (one backtest refit each)."""
        f = self.figures
        return int(f.loc[(f["metric"] == metric) & (f["count_type"] == "flow"), "source_id"].nunique())

    def qualifiers(self, metric: str) -> pd.Series:
        return self.of_metric(metric)["qualifier"].astype(str).value_counts()

    def numbered_sources(self) -> pd.DataFrame:
        """Every document, numbered by publication date then id (the order of the sources list)."""
        s = self.sources.sort_values(["published", "source_id"], kind="stable").reset_index(drop=True)
        n_fig = self.figures["source_id"].value_counts()
        n_ev = self.events["source_id"].value_counts()
        s = s.assign(number=range(1, len(s) + 1),
                     n_figures=[int(n_fig.get(x, 0)) for x in s["source_id"]],
                     n_events=[int(n_ev.get(x, 0)) for x in s["source_id"]])
        return s

    # -- events -------------------------------------------------------------------------------
    def sorted_events(self) -> pd.DataFrame:
        return self.events.sort_values(["date", "event_id"], kind="stable").reset_index(drop=True)

    def event_marks(self) -> list[EventMark]:
        """One mark per (date, kind); key kinds get a label on the first day of each episode."""
        ev = self.sorted_events()
        marks: list[EventMark] = []
        last_key: dict[str, pd.Timestamp] = {}
        for (date, kind), _ in ev.groupby(["date", ev["kind"].astype(str)], sort=True):
            label = ""
            if kind in KEY_EVENT_KINDS:
                prev = last_key.get(kind)
                if prev is None or (date - prev).days > EPISODE_DAYS:
                    label = f"{kind.replace('_', ' ')} {date.strftime('%d %b')}"
                last_key[kind] = date
            marks.append(EventMark(pd.Timestamp(date), kind, label))
        return marks

    # -- source comparison --------------------------------------------------------------------
    def shared_windows(self, metrics: list[str]) -> pd.DataFrame:
        """Flow figures whose exact window (start, end) was reported by two or more originators.

        Adds ``n_originators`` and ``rank`` (windows ordered by most originators, then metric order,
        then dates) so callers can show the most contested windows first.
        """
        f = self.figures[(self.figures["count_type"] == "flow") & self.figures["metric"].isin(metrics)
                         & self.figures["period_start"].notna()]
        key = ["metric", "period_start", "period_end"]
        n = f.groupby(key, observed=True)["originator"].transform("nunique")
        out = f[n >= 2].assign(n_originators=n[n >= 2])
        out["metric"] = out["metric"].astype(str)
        out["metric_order"] = out["metric"].map({m: i for i, m in enumerate(metrics)})
        out = out.sort_values(["n_originators", "metric_order", "period_start", "period_end", "originator",
                               "figure_id"], ascending=[False, True, True, True, True, True], kind="stable")
        windows = list(dict.fromkeys(zip(out["metric"], out["period_start"], out["period_end"])))
        rank = {w: i for i, w in enumerate(windows)}
        out["rank"] = [rank[w] for w in zip(out["metric"], out["period_start"], out["period_end"])]
        return out.drop(columns="metric_order").reset_index(drop=True)
