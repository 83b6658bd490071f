"""Handlers of the data commands: list, show, build, validate, cite."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from . import datamodel as c
from .api import cite, list_tables, load
from .errors import EXIT_INVALID, UnreadableError
from .registry import dataset_info, list_datasets

SHOW_COLUMNS = {
    "figures": ["period_end", "period_start", "metric", "value", "qualifier", "originator", "area", "source_id"],
    "sources": ["source_id", "published", "publisher", "doc_type", "title"],
    "events": ["date", "kind", "place", "description", "source_id"],
    "codebook": ["metric", "unit", "label", "hxl"],
}


def cmd_list(args: argparse.Namespace) -> int:
    for name in list_datasets():
        info = dataset_info(name)
        print(f"{name}  release {info.release}  ({info.title})")
        for table in list_tables(name):
            print(f"  {table:<9} {len(load(table, name)):>6} rows")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    df = load(args.table, args.dataset)
    if args.metric:
        if args.table != "figures":
            raise UnreadableError("--metric applies to the figures table only.")
        known = list(df["metric"].cat.categories)
        if args.metric not in known:
            from .errors import UnknownNameError

            raise UnknownNameError(f"unknown metric '{args.metric}'; metrics: {', '.join(known)}.")
        df = df[df["metric"] == args.metric]
    if args.table == "figures":
        df = df.sort_values(["period_end", "figure_id"], kind="stable")
    if args.format == "csv":
        out = df.copy()
        if "admin1_pcodes" in out:
            out["admin1_pcodes"] = out["admin1_pcodes"].map(";".join)
        out.to_csv(sys.stdout, index=False, date_format="%Y-%m-%d")
    elif args.format == "json":
        sys.stdout.write(df.to_json(orient="records", date_format="iso", force_ascii=False, indent=1) + "\n")
    else:
        view = df[SHOW_COLUMNS[args.table]].copy()
        for col in view.columns:
            if pd.api.types.is_datetime64_any_dtype(view[col]):
                view[col] = view[col].dt.strftime("%Y-%m-%d").fillna("")
        with pd.option_context("display.max_rows", None, "display.max_colwidth", 48, "display.width", 200):
            print(view.to_string(index=False))
        print(f"({len(view)} rows)")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from .build import build, write_table_schemas
    from .registry import in_checkout

    result = build(args.dataset, Path(args.out) if args.out else None)
    for table, n in result.rows.items():
        print(f"{table:<9} {n:>6} rows")
    print(f"wrote {len(result.changed)} changed file(s) to {result.out_dir}"
          + (f": {', '.join(result.changed)}" if result.changed else " (all up to date)"))
    if in_checkout() and not args.out:
        write_table_schemas(Path(__file__).resolve().parent.parent / "schemas")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from .errors import ValidationError
    from .validation import check_curated

    path = Path(args.path)
    info = dataset_info(args.dataset)
    if path.is_dir():
        raw, where = _read_folder(path)
        _, failures = check_curated(raw, info, where)
        tables = sorted(raw)
    else:
        from .userfiles import guess_table, read_table

        frame, where = read_table(path)
        table = args.table or guess_table(path, list(frame.columns))
        if table not in c.TABLES:
            from .errors import UnknownNameError

            raise UnknownNameError(f"unknown table '{table}'; tables: {', '.join(c.TABLES)}.")
        raw = {table: frame}
        # Cross-table rules need the other tables: take them from beside the file, else the dataset.
        context = _context_tables(path, table, args.dataset)
        raw.update({k: v for k, v in context.items() if k != table})
        wheres = {table: where}
        _, failures = check_curated(raw, info, wheres)
        failures = [f for f in failures if f.table == table]
        tables = [table]
    if failures:
        print(ValidationError(failures, what=str(path)))
        return EXIT_INVALID
    print(f"{path}: valid ({', '.join(tables)})")
    return 0


def _read_folder(path: Path):
    if (path / "dataset.toml").is_file():
        from .curated import read_curated

        return read_curated(path)
    from .userfiles import read_table

    raw, where = {}, {}
    for table in c.TABLES:
        for suffix in (".csv", ".parquet"):
            f = path / f"{table}{suffix}"
            if f.is_file():
                raw[table], where[table] = read_table(f)
                break
    if not raw:
        raise UnreadableError(f"{path}: no table files found (expected sources.csv, figures.csv, ... or .parquet).")
    return raw, where


def _context_tables(path: Path, table: str, dataset: str) -> dict[str, pd.DataFrame]:
    from .userfiles import read_table

    out = {}
    needs = {"figures": ("sources", "codebook"), "events": ("sources",)}.get(table, ())
    for other in needs:
        sibling = next((path.parent / f"{other}{s}" for s in (".csv", ".parquet")
                        if (path.parent / f"{other}{s}").is_file() and path.parent / f"{other}{s}" != path), None)
        if sibling is not None:
            out[other] = read_table(sibling)[0]
        else:
            df = load(other, dataset)
            out[other] = _as_raw(df)
    return out


def _as_raw(df: pd.DataFrame) -> pd.DataFrame:
    """A loaded table back to plain Python values, to serve as context for validation."""
    out = df.astype("object")
    for col in out.columns:
        out[col] = [None if (v is None or v is pd.NaT or (not isinstance(v, list) and pd.isna(v))) else
                    (v.date() if isinstance(v, pd.Timestamp) else v) for v in df[col]]
    return out


def cmd_cite(args: argparse.Namespace) -> int:
    if args.format in ("text", "both"):
        print(cite(args.dataset, "text"))
    if args.format == "both":
        print()
    if args.format in ("bibtex", "both"):
        print(cite(args.dataset, "bibtex"))
    return 0
