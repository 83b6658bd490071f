"""Small shared helpers: the dataset's campaign window (one place) and the figures/events shapes.

The campaign window lives in ``datasets/<dataset>/dataset.toml`` (keys ``campaign_start`` and
``campaign_end``); every model reads it through :func:`campaign_window` so there is exactly one
source for it.
"""

from __future__ import annotations

import pandas as pd

from conflictstats import datamodel as _dm
from conflictstats.registry import DEFAULT_DATASET

# The contract's enumerations and column lists, under the names the models use (one definition).
QUALIFIERS = _dm.QUALIFIERS
COUNT_TYPES = _dm.COUNT_TYPES
DATE_PRECISIONS = _dm.DATE_PRECISIONS
AREA_SCOPES = _dm.AREA_SCOPES
VERIFICATIONS = _dm.VERIFICATIONS
EVENT_KINDS = _dm.EVENT_KINDS
FIGURE_COLUMNS = _dm.COLUMNS["figures"]
EVENT_COLUMNS = _dm.COLUMNS["events"]


def campaign_pcodes(dataset: str = DEFAULT_DATASET) -> frozenset[str]:
    """The campaign area's admin-1 p-codes, from the dataset's dataset.toml through the registry."""
    from conflictstats.registry import dataset_info

    return frozenset(dataset_info(dataset).campaign_pcodes)


def campaign_window(dataset: str = DEFAULT_DATASET) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The campaign window of a dataset, from its dataset.toml through the registry (one source)."""
    from conflictstats.registry import dataset_info

    info = dataset_info(dataset)
    return pd.Timestamp(info.campaign_start), pd.Timestamp(info.campaign_end)


def _frame(rows: list[dict], table: str, metrics=None) -> pd.DataFrame:
    from conflictstats.tables import to_public

    df = pd.DataFrame(rows).reindex(columns=list(_dm.COLUMNS[table]))
    return to_public(df, table, metrics)


def figures_frame(rows: list[dict]) -> pd.DataFrame:
    """Build a figures DataFrame with exactly the loader's columns and dtypes (``tables.to_public``).

    Used by the synthetic generator and by tests so that the models see the same shape as
    ``conflictstats.load("figures")``.
    """
    return _frame(rows, "figures", sorted({str(r["metric"]) for r in rows if r.get("metric") is not None}))


def events_frame(rows: list[dict]) -> pd.DataFrame:
    """Build an events DataFrame with the loader's columns and dtypes."""
    return _frame(rows, "events")
