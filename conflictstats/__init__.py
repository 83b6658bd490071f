"""conflictstats: sourced conflict casualty and displacement figures, and honest statistics.

>>> import conflictstats as cs
>>> figures = cs.load("figures")          # the idlib-2019 dataset shipped with the package

Importing the package loads neither statsmodels nor matplotlib; models live in
``conflictstats.models`` and are imported on first use (``cs.fit``).
"""

from __future__ import annotations

from .api import cite, list_datasets, list_tables, load
from .errors import ConflictstatsError, IntegrityError, UnknownNameError, UnreadableError, ValidationError

__version__ = "0.1.0"

__all__ = [
    "load", "list_datasets", "list_tables", "cite", "fit", "fetch", "__version__",
    "ConflictstatsError", "IntegrityError", "UnknownNameError", "UnreadableError", "ValidationError",
]

_LAZY = {"fit": ("conflictstats.models", "fit"), "fetch": ("conflictstats.fetch", "fetch")}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'conflictstats' has no attribute {name!r}")
