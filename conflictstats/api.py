"""The public Python API for shipped data: load(), list_datasets(), list_tables(), cite().

Loading reads one Parquet file after checking its SHA-256 against the dataset's SHA256SUMS;
it needs neither pandera nor statsmodels, so it stays fast.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import datamodel as c
from .errors import UnknownNameError, UnreadableError
from .registry import DEFAULT_DATASET, dataset_dir, dataset_info, list_datasets
from .manifest import read_sums, read_verified
from .store import PARQUET_KEY

__all__ = ["load", "list_datasets", "list_tables", "cite", "table_path"]


def list_tables(dataset: str = DEFAULT_DATASET) -> list[str]:
    """The tables of a dataset, in the contract's order.

    >>> list_tables(DEFAULT_DATASET)
    ['sources', 'figures', 'events', 'codebook']
    """
    dataset_dir(dataset)
    return list(c.TABLES)


def _check_table(table: str) -> None:
    from .suggest import check_name

    check_name("table", table, c.TABLES)


def _folder(dataset: str, release: str | None) -> Path:
    if release is None:
        return dataset_dir(dataset)
    from .fetch import release_dir  # only when a fetched release is asked for

    return release_dir(dataset, release)


def table_path(table: str, dataset: str = DEFAULT_DATASET, release: str | None = None) -> Path:
    """Path of a table's Parquet file (shipped, or of a fetched release).

    >>> table_path("events").name
    'events.parquet'
    """
    _check_table(table)
    return _folder(dataset, release) / f"{table}.parquet"


def read_table_file(path: Path, table: str, expected_sha256: str | None) -> pd.DataFrame:
    """Read a verified Parquet file into a DataFrame with the package's public dtypes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .store import parquet_metadata
    from .tables import arrow_schema_problems, to_public

    data = read_verified(path, expected_sha256)
    try:
        # One thread: pyarrow's thread pool can abort the interpreter after reading a corrupt file.
        arrow = pq.read_table(pa.BufferReader(data), use_threads=False, page_checksum_verification=True)
        meta = parquet_metadata(data)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise UnreadableError(f"{path}: not a readable Parquet file ({type(exc).__name__}: "
                              f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}).") from None
    if not isinstance(meta, dict) or meta.get("table") != table:
        found = meta.get("table") if isinstance(meta, dict) else None
        raise UnreadableError(f"{path}: holds table '{found}', not '{table}' (its '{PARQUET_KEY.decode()}' "
                              f"metadata says so).")
    problems = arrow_schema_problems(arrow.schema, table)
    metrics = meta.get("metrics")
    if metrics is not None and not (isinstance(metrics, list) and all(isinstance(m, str) for m in metrics)
                                    and len(set(metrics)) == len(metrics)):
        problems.append("its metadata 'metrics' is not a list of distinct names")
    if problems:
        raise UnreadableError(f"{path}: is not the {table} table as conflictstats writes it: "
                              f"{'; '.join(problems)}. Rebuild it with `conflictstats build` or fetch it again.")
    try:
        return to_public(arrow.to_pandas(date_as_object=False), table, metrics)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise UnreadableError(f"{path}: cannot be converted to the {table} table ({exc}).") from None


def load(table: str, dataset: str = DEFAULT_DATASET, release: str | None = None) -> pd.DataFrame:
    """Load one table of a dataset as a pandas DataFrame.

    ``table`` is one of sources, figures, events, codebook. Dates are datetime64, enumerations
    categorical, counts nullable Int64. ``release`` reads a release fetched with
    :func:`conflictstats.fetch` instead of the data shipped with the package.

    >>> import conflictstats as cs
    >>> figures = cs.load("figures")
    >>> list(figures.columns[:5])
    ['figure_id', 'source_id', 'metric', 'value', 'qualifier']
    >>> str(figures["period_end"].dtype).startswith("datetime64")
    True
    >>> sources = cs.load("sources")  # every figure's document, with its URL
    >>> bool(figures.merge(sources, on="source_id")["url"].str.startswith("http").all())
    True
    """
    path = table_path(table, dataset, release)
    sums = read_sums(path.parent)
    return read_table_file(path, table, sums.get(path.name))


def cite(dataset: str = DEFAULT_DATASET, format: str = "text") -> str:
    """How to cite a dataset: ``format`` is "text" or "bibtex".

    >>> cite(format="bibtex").startswith("@misc{conflictstats_")
    True
    """
    info = dataset_info(dataset)
    if format == "text":
        return info.citation()
    if format == "bibtex":
        return info.bibtex()
    from .suggest import unknown_name

    raise unknown_name("citation format", format, ["text", "bibtex"])
