"""Where datasets live and what each one declares (coverage, release, license, citation).

Installed wheels carry the datasets inside the package (``conflictstats/datasets``, found with
importlib.resources); a source checkout uses the top-level ``datasets/`` folder. Dataset names
are checked against the registry before any path is built, so a name like ``../x`` never
reaches the file system.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .errors import UnknownNameError, UnreadableError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_DATASET = "idlib-2019"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


DATASETS_ENV = "CONFLICTSTATS_DATASETS"


_PACKAGE_PARENT = Path(__file__).resolve().parent.parent


def repo_root() -> Path | None:
    """The source checkout this package runs from (the one place that knows it), or None when
    the package is installed from a wheel."""
    root = _PACKAGE_PARENT
    return root if (root / "pyproject.toml").is_file() and (root / "datasets").is_dir() else None


def datasets_root() -> Path:
    """The folder holding one sub-folder per dataset.

    ``CONFLICTSTATS_DATASETS`` points it elsewhere (a copy to build or check without touching
    the shipped data, as the tests do); dataset names are still checked before use.
    """
    override = os.environ.get(DATASETS_ENV)
    if override:
        return Path(override)
    packaged = resources.files("conflictstats").joinpath("datasets")
    if packaged.is_dir():
        return Path(str(packaged))
    return _PACKAGE_PARENT / "datasets"


def in_checkout() -> bool:
    """True when running from a source checkout (the curated text is editable there)."""
    return repo_root() is not None


def list_datasets() -> list[str]:
    """Names of the datasets shipped with this installation.

    >>> DEFAULT_DATASET in list_datasets()
    True
    """
    root = datasets_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "dataset.toml").is_file() and _NAME.match(p.name))


def dataset_dir(name: str) -> Path:
    """The folder of a registered dataset; refuses unknown or malformed names."""
    if not isinstance(name, str) or not _NAME.match(name):
        from .suggest import closest

        near = closest(name, list_datasets())
        raise UnknownNameError(f"'{name}' is not a valid dataset name (lowercase letters, digits and '-')"
                               + (f"; did you mean {' or '.join(near)}?" if near else "."))
    from .suggest import check_name

    return datasets_root() / check_name("dataset", name, list_datasets())


@dataclass(frozen=True)
class DatasetInfo:
    """The facts of dataset.toml, the one place they are written."""

    name: str
    title: str
    description: str
    release: str
    release_date: dt.date
    license: str
    code_license: str
    coverage_start: dt.date
    coverage_end: dt.date
    campaign_start: dt.date
    campaign_end: dt.date
    campaign_pcodes: tuple[str, ...]  # admin-1 p-codes of the campaign area (models keep figures inside it)
    authors: tuple[str, ...]
    homepage: str
    path: Path
    # metric -> originator groups the models take as the reference scale, first present wins
    # (optional ``[dataset.reference_originators]``; otherwise the models' own rule decides)
    reference_originators: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    # event_id of the dated, sourced event that starts the offensive: day 0 when campaigns are
    # compared (optional; otherwise the earliest offensive_start event)
    offensive_start_event: str | None = None

    @property
    def coverage(self) -> tuple[dt.date, dt.date]:
        return (self.coverage_start, self.coverage_end)

    def citation(self) -> str:
        who = ", ".join(self.authors)
        return (f"{who} ({self.release_date.year}). {self.title}. conflictstats dataset '{self.name}', "
                f"release {self.release}. License {self.license}. {self.homepage}")

    def bibtex(self) -> str:
        key = f"conflictstats_{self.name.replace('-', '_')}_{self.release.replace('.', '_')}"
        return (f"@misc{{{key},\n"
                f"  author = {{{' and '.join(self.authors)}}},\n"
                f"  title = {{{self.title}}},\n"
                f"  year = {{{self.release_date.year}}},\n"
                f"  version = {{{self.release}}},\n"
                f"  howpublished = {{conflictstats dataset {self.name}}},\n"
                f"  url = {{{self.homepage}}},\n"
                f"  note = {{License {self.license}}}\n}}")


def dataset_info(name: str = DEFAULT_DATASET) -> DatasetInfo:
    """The dataset's declared facts (cached per datasets root, so an override is honoured)."""
    return _dataset_info(name, str(datasets_root()))


@lru_cache(maxsize=None)
def _dataset_info(name: str, root: str) -> DatasetInfo:
    path = dataset_dir(name)
    where = path / "dataset.toml"
    try:
        with open(where, "rb") as fh:
            d = tomllib.load(fh)["dataset"]
        for key in _DATE_KEYS:
            if type(d[key]) is not dt.date:
                raise TypeError(f"'{key}' must be a date written YYYY-MM-DD, not {d[key]!r}")
        return DatasetInfo(
            name=d["name"], title=d["title"], description=" ".join(d["description"].split()),
            release=d["release"], release_date=d["release_date"], license=d["license"],
            code_license=d["code_license"], coverage_start=d["coverage_start"],
            coverage_end=d["coverage_end"], campaign_start=d["campaign_start"],
            campaign_end=d["campaign_end"], campaign_pcodes=tuple(d["campaign_pcodes"]),
            authors=tuple(d["authors"]), homepage=d["homepage"], path=path,
            reference_originators=_references(d.get("reference_originators", {})),
            offensive_start_event=_optional_text(d, "offensive_start_event"),
        )
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UnreadableError(f"{where}: cannot be read as TOML ({exc}).") from None
    except KeyError as exc:
        raise UnreadableError(f"{where}: the [dataset] table lacks the key {exc}.") from None
    except (TypeError, AttributeError) as exc:
        raise UnreadableError(f"{where}: [dataset] {exc}.") from None


def _optional_text(d: dict, key: str) -> str | None:
    value = d.get(key)
    if value is not None and not (isinstance(value, str) and value):
        raise TypeError(f"'{key}' must be text, not {value!r}")
    return value


def _references(table: object) -> dict[str, tuple[str, ...]]:
    """``metric = "OHCHR"`` or ``metric = ["OHCHR", "SNHR"]`` entries, checked."""
    if not isinstance(table, dict):
        raise TypeError("'reference_originators' must be a table of metric = originator group(s)")
    out = {}
    for metric, names in table.items():
        names = [names] if isinstance(names, str) else names
        if not (isinstance(names, list) and names and all(isinstance(n, str) and n for n in names)):
            raise TypeError(f"reference_originators.{metric} must be a group name or a list of them, "
                            f"not {table[metric]!r}")
        out[metric] = tuple(names)
    return out


_DATE_KEYS = ("release_date", "coverage_start", "coverage_end", "campaign_start", "campaign_end")


ORIGINATORS_FILE = "originators.toml"
CODEBOOK_FILE = "codebook.toml"  # the metrics, shared like the originators (read by curated.py)


def read_originators() -> list[dict]:
    """The [[originator]] entries (key, label, type, notes, aliases) of the registry every dataset
    shares, ``originators.toml`` beside the dataset folders; [] if there is none."""
    from .curated import load_toml

    path = datasets_root() / ORIGINATORS_FILE
    return load_toml(path).get("originator", []) if path.is_file() else []


def originator_groups() -> dict[str, str]:
    """Alias (an originator as sources name it) -> group label; refuses an alias in two groups."""
    out: dict[str, str] = {}
    for i, entry in enumerate(read_originators(), 1):
        aliases = entry.get("aliases") if isinstance(entry, dict) else None
        if not (isinstance(entry.get("label") if isinstance(entry, dict) else None, str)
                and isinstance(aliases, list) and all(isinstance(a, str) for a in aliases)):
            raise UnreadableError(f"{ORIGINATORS_FILE}: [[originator]] #{i} needs a text 'label' and an "
                                  f"'aliases' list of names, e.g. aliases = [\"SNHR\"].")
        for alias in aliases:
            if alias in out and out[alias] != entry["label"]:
                raise UnreadableError(f"{ORIGINATORS_FILE}: '{alias}' is listed under both "
                                      f"'{out[alias]}' and '{entry['label']}'.")
            out[alias] = entry["label"]
    return out
