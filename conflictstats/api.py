"""The public Python API for shipped data: load(), list_datasets(), list_tables(), cite().

Loading reads one Parquet file after checking its SHA-256 against the dataset's SHA256SUMS;
it needs neither pandera nor statsmodels, so it stays fast.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import contract as c
from .errors import UnknownNameError, UnreadableError
from .registry import DEFAULT_DATASET, dataset_dir, dataset_info, list_datasets
from .store import read_sums, read_verified

__all__ = ["load", "list_datasets", "list_tables", "cite", "table_path"]


def list_tables(dataset: str = DEFAULT_DATASET) -> list[str]:
    """The tables of a dataset, in the contract's order."""
    dataset_dir(dataset)
    return list(c.TABLES)


def _check_table(table: str) -> None:
    if table not in c.TABLES:
        raise UnknownNameError(f"unknown table '{table}'; tables: {', '.join(c.TABLES)}.")


def _folder(dataset: str, release: str | None) -> Path:
    if release is None:
        return dataset_dir(dataset)
    from .fetch import release_dir  # only when a fetched release is asked for

    return release_dir(dataset, release)


def table_path(table: str, dataset: str = DEFAULT_DATASET, release: str | None = None) -> Path:
    """Path of a table's Parquet file (shipped, or of a fetched release)."""
    _check_table(table)
    return _folder(dataset, release) / f"{table}.parquet"


def read_table_file(path: Path, table: str, expected_sha256: str | None) -> pd.DataFrame:
    """Read a verified Parquet file into a DataFrame with the package's public dtypes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .store import parquet_metadata
    from .tables import to_public

    data = read_verified(path, expected_sha256)
    try:
        arrow = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise UnreadableError(f"{path}: not a readable Parquet file ({exc}).") from None
    meta = parquet_metadata(data)
    if meta.get("table") != table:
        raise UnreadableError(f"{path}: holds table '{meta.get('table')}', not '{table}'.")
    df = arrow.to_pandas(date_as_object=False)
    return to_public(df, table, meta.get("metrics"))


def load(table: str, dataset: str = DEFAULT_DATASET, release: str | None = None) -> pd.DataFrame:
    """Load one table of a dataset as a pandas DataFrame.

    ``table`` is one of sources, figures, events, codebook. Dates are datetime64, enumerations
    categorical, counts nullable Int64. ``release`` reads a release fetched with
    :func:`conflictstats.fetch` instead of the data shipped with the package.
    """
    path = table_path(table, dataset, release)
    sums = read_sums(path.parent)
    return read_table_file(path, table, sums.get(path.name))


def cite(dataset: str = DEFAULT_DATASET, format: str = "text") -> str:
    """How to cite a dataset: ``format`` is "text" or "bibtex"."""
    info = dataset_info(dataset)
    if format == "text":
        return info.citation()
    if format == "bibtex":
        return info.bibtex()
    raise UnknownNameError(f"unknown citation format '{format}'; use 'text' or 'bibtex'.")
