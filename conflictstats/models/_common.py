"""Small shared helpers: the dataset's campaign window (one place) and the figures/events shapes.

The campaign window lives in ``datasets/<dataset>/dataset.toml`` (keys ``campaign_start`` and
``campaign_end``); every model reads it through :func:`campaign_window` so there is exactly one
source for it.
"""

from __future__ import annotations

import sys
import types
from typing import Callable

import pandas as pd

from conflictstats import contract as _contract

# The contract's enumerations and column lists, under the names the models use (one definition).
QUALIFIERS = _contract.QUALIFIERS
COUNT_TYPES = _contract.COUNT_TYPES
DATE_PRECISIONS = _contract.DATE_PRECISIONS
AREA_SCOPES = _contract.AREA_SCOPES
VERIFICATIONS = _contract.VERIFICATIONS
EVENT_KINDS = _contract.EVENT_KINDS
FIGURE_COLUMNS = _contract.COLUMNS["figures"]
EVENT_COLUMNS = _contract.COLUMNS["events"]

# Campaign-area governorates: Aleppo (SY02), Hama (SY05), Idleb (SY07).
CAMPAIGN_PCODES = frozenset({"SY02", "SY05", "SY07"})


def campaign_window(dataset: str = "idlib-2019") -> tuple[pd.Timestamp, pd.Timestamp]:
    """The campaign window of a dataset, from its dataset.toml through the registry (one source)."""
    from conflictstats.registry import dataset_info

    info = dataset_info(dataset)
    return pd.Timestamp(info.campaign_start), pd.Timestamp(info.campaign_end)


def figures_frame(rows: list[dict]) -> pd.DataFrame:
    """Build a figures DataFrame with exactly the loader's columns and dtypes.

    Used by the synthetic generator and by tests so that the models see the same shape as
    ``conflictstats.load("figures")``.
    """
    df = pd.DataFrame(rows)
    for col in FIGURE_COLUMNS:
        if col not in df.columns:
            df[col] = None
    df = df[list(FIGURE_COLUMNS)].copy()
    for col in ("figure_id", "source_id", "area", "originator"):
        df[col] = df[col].astype(str)
    for col in ("value", "value_low", "value_high"):
        df[col] = pd.array(df[col], dtype="Int64")
    for col in ("period_start", "period_end"):
        df[col] = pd.to_datetime(df[col]).astype("datetime64[ns]")
    cats = {"qualifier": QUALIFIERS, "count_type": COUNT_TYPES,
            "date_precision": DATE_PRECISIONS, "area_scope": AREA_SCOPES,
            "verification": VERIFICATIONS}
    for col, values in cats.items():
        df[col] = pd.Categorical(df[col], categories=list(values))
    df["metric"] = df["metric"].astype("category")
    df["originator_type"] = df["originator_type"].astype("category")
    df["admin1_pcodes"] = [list(v) if v is not None else [] for v in df["admin1_pcodes"]]
    df["admin1_pcodes"] = df["admin1_pcodes"].astype(object)
    return df


def events_frame(rows: list[dict]) -> pd.DataFrame:
    """Build an events DataFrame with the loader's columns and dtypes."""
    df = pd.DataFrame(rows)
    for col in EVENT_COLUMNS:
        if col not in df.columns:
            df[col] = None
    df = df[list(EVENT_COLUMNS)].copy()
    df["date"] = pd.to_datetime(df["date"]).astype("datetime64[ns]")
    df["date_end"] = pd.to_datetime(df["date_end"]).astype("datetime64[ns]")
    df["kind"] = pd.Categorical(df["kind"], categories=list(EVENT_KINDS))
    return df


def make_callable_module(module_name: str, func: Callable) -> None:
    """Let module ``module_name`` also be called as ``func`` (``conflictstats.models.backtest``
    is a module with helpers and the plain function the report and the CLI call)."""

    class _CallableModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return func(*args, **kwargs)

    sys.modules[module_name].__class__ = _CallableModule
