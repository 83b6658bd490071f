"""conflictstats: sourced conflict casualty and displacement figures, and honest statistics.

>>> import conflictstats as cs
>>> figures = cs.load("figures")          # the default dataset shipped with the package

Importing the package loads neither statsmodels nor matplotlib; models live in
``conflictstats.models`` and are imported on first use (``cs.fit``).
"""

from __future__ import annotations

from importlib import metadata as _metadata

from .api import cite, list_datasets, list_tables, load
from .errors import ArgumentError, ConflictstatsError, IntegrityError, UnknownNameError, UnreadableError, ValidationError
# Imported now, not on first use: the module conflictstats.fetch would otherwise shadow the
# function as soon as anything imports it (load(release=...) does). It is light: pooch is
# imported only when a download starts.
from .fetch import fetch
from .registry import DEFAULT_DATASET

try:
    __version__ = _metadata.version("conflictstats")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from an uninstalled source tree
    __version__ = "0+unknown"

__all__ = [
    # data
    "load", "list_datasets", "list_tables", "cite", "fetch", "DEFAULT_DATASET",
    # models (imported on first use)
    "fit", "compare",
    # errors
    "ArgumentError", "ConflictstatsError", "IntegrityError", "UnknownNameError", "UnreadableError", "ValidationError",
    # metadata
    "__version__",
]

_LAZY = {"fit": ("conflictstats.models", "fit"), "compare": ("conflictstats.models.compare", "compare")}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'conflictstats' has no attribute {name!r}")
