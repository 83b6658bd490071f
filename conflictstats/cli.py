"""The `conflictstats` command line: the parser and every command's handler, in one thin module.

Handlers only turn parsed options into calls of the domain modules and print what they return;
option choices come from the modules that own them. Domain modules are imported inside each
handler, so `conflictstats --help` stays quick and lean. Every usage error exits 3.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import (EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE, ConflictstatsError, UnknownNameError,
                     terminal_safe)
from .progress import quiet
from .registry import DEFAULT_DATASET

# --- data commands ---------------------------------------------------------------------------------

SHOW_FORMATS = ("table", "csv", "json")
CITE_FORMATS = ("text", "bibtex", "both")
SHOW_COLUMNS = {
    "figures": ["period_end", "period_start", "metric", "value", "qualifier", "originator", "area", "source_id"],
    "sources": ["source_id", "published", "publisher", "doc_type", "title"],
    "events": ["date", "kind", "place", "description", "source_id"],
    "codebook": ["metric", "unit", "label", "hxl"],
}


def cmd_list(args: argparse.Namespace) -> int:
    from .api import list_tables, load
    from .registry import dataset_info, list_datasets

    for name in list_datasets():
        info = dataset_info(name)
        print(f"{name}  release {info.release}  ({info.title})")
        for table in list_tables(name):
            print(f"  {table:<9} {len(load(table, name)):>6} rows")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    import pandas as pd

    from .api import load

    df = load(args.table, args.dataset)
    if args.metric:
        if args.table != "figures":
            raise UnknownNameError("--metric applies to the figures table only.")
        from .suggest import check_name

        check_name("metric", args.metric, df["metric"].cat.categories)
        df = df[df["metric"] == args.metric]
    if args.table == "figures":
        df = df.sort_values(["period_end", "figure_id"], kind="stable")
    if args.format == "csv":
        from .export import csv_text  # formula-leading text gets the export's apostrophe

        out = df.copy()
        if "admin1_pcodes" in out:
            out["admin1_pcodes"] = out["admin1_pcodes"].map(";".join)
        for col in out.columns:
            if not (pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_datetime64_any_dtype(out[col])):
                out[col] = pd.Series([csv_text(v) for v in out[col].astype(object)], index=out.index, dtype=object)
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
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    from .build import build, write_table_schemas
    from .registry import repo_root

    result = build(args.dataset, Path(args.out) if args.out else None)
    for table, n in result.rows.items():
        print(f"{table:<9} {n:>6} rows")
    print(terminal_safe(f"wrote {len(result.changed)} changed file(s) to {result.out_dir}"
                        + (f": {', '.join(result.changed)}" if result.changed else " (all up to date)")))
    root = repo_root()
    if root is not None and not args.out:
        write_table_schemas(root / "schemas")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from .limits import current
    from .userfiles import validate_path

    limits = current(rows=args.max_rows, columns=args.max_columns, failures_per_rule=args.max_failures)
    tables, log = validate_path(Path(args.path), args.table, args.dataset, limits)
    if log.total():
        print(terminal_safe(log.report(str(args.path))))
        return EXIT_INVALID
    print(terminal_safe(f"{args.path}: valid ({', '.join(tables)})"))
    return EXIT_OK


def cmd_cite(args: argparse.Namespace) -> int:
    from .api import cite

    texts = [cite(args.dataset, f) for f in ("text", "bibtex") if args.format in (f, "both")]
    print("\n\n".join(texts))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """Print the warnings; exit 1 only with --strict and at least one unexplained warning."""
    from .consistency import check_dataset, summary

    result = check_dataset(args.dataset)
    print(terminal_safe(summary(result)))
    return EXIT_INVALID if args.strict and result.unexplained else EXIT_OK


def cmd_fetch(args: argparse.Namespace) -> int:
    from .fetch import fetch

    paths = fetch(args.dataset, args.release, args.base_url, args.cache_dir, sha256sums=args.sha256sums,
                  timeout=args.timeout)
    total = sum(p.stat().st_size for p in paths.values())
    for name, path in sorted(paths.items()):
        print(f"{name:<18} {path.stat().st_size:>9} bytes  {path}")
    folder = next(iter(paths.values())).parent
    print(f"release {folder.name} of {args.dataset}: {len(paths)} files, {total} bytes, all SHA-256 verified, "
          f"in {folder}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from .export import export

    paths = export(args.dataset, args.format, args.out, args.release)
    for name, path in paths.items():
        print(f"{name:<28} {path.stat().st_size:>9} bytes")
    print(terminal_safe(f"exported {args.dataset} as {args.format} to {Path(args.out)} ({len(paths)} files; "
                        f"cite it as README.md says)"))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Without --dataset: every dataset's report, the comparison and the index page."""
    from .errors import UnreadableError
    from .report import build_all, build_report, reports_root

    if args.evaluation and not args.dataset:
        raise UnknownNameError("--evaluation applies to one report: give --dataset too.")
    try:
        if args.dataset:
            paths = build_report(args.dataset, Path(args.out) if args.out else None, progress=not args.quiet,
                                 evaluation=Path(args.evaluation) if args.evaluation else None,
                                 scheduler=args.scheduler)
        else:
            paths = build_all(Path(args.out) if args.out else None, progress=not args.quiet,
                              scheduler=args.scheduler)
    except OSError as exc:  # an unwritable --out, a full disk: a message, not a traceback
        where = exc.filename or args.out or "the output folder"
        raise UnreadableError(f"{where}: cannot write the report: {exc.strerror or exc}.") from None
    if not args.quiet:
        where = paths[0].parent if args.dataset else Path(args.out) if args.out else reports_root()
        print(terminal_safe(f"wrote {len(paths)} files; open {where / 'index.html'}"))
    return EXIT_OK


# --- model commands --------------------------------------------------------------------------------

def json_safe(obj):
    """JSON-safe copy: NaN -> None, numpy scalars -> Python, frames dropped."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items() if k != "predictions"}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "item") and not hasattr(obj, "columns"):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def format_scores(result: dict, title: str) -> str:
    """A small fixed-width table: model and both baselines side by side."""
    from conflictstats.models.baselines import SCORE_KEYS as SCORES  # the models' score names

    rows = [("model", result), ("carry forward", result["baseline_carry_forward"]),
            ("interpolate", result["baseline_interpolate"])]
    lines = [title, f"{'':<16}" + "".join(f"{k:>22}" for k in SCORES)]
    for name, r in rows:
        lines.append(f"{name:<16}" + "".join(f"{r.get(k, float('nan')):>22.3f}" for k in SCORES))
    lines.append(f"held-out figures: {result['n_held_out']}")
    for k, v in result.items():
        if k not in SCORES and not isinstance(v, (dict, list)) and k not in ("n_held_out", "predictions"):
            lines.append(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}")
    return "\n".join(lines)


def _print_scores(res: dict, as_json: bool, title: str) -> None:
    print(json.dumps(json_safe(res), indent=2, sort_keys=True) if as_json else format_scores(res, title))


def cmd_backtest(args: argparse.Namespace) -> int:
    """``conflictstats backtest --metric M [--mode lodo|forecast] [--dataset D] [--json]``."""
    from conflictstats.models import backtest

    res = backtest(args.metric, dataset=args.dataset, mode=args.mode, scheduler=args.scheduler)
    _print_scores(res, args.json, f"Backtest ({res['mode']}): {args.metric}")
    if not args.json:
        for f in res.get("failed_refits", []):
            print(f"failed refit: {f}")
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace) -> int:
    """``conflictstats simulate [--runs N] [--seed S] [--bootstrap B] [--json]``."""
    from conflictstats.models import simulate

    res = simulate(runs=args.runs, seed=args.seed, bootstrap=args.bootstrap, scheduler=args.scheduler)
    _print_scores(res, args.json, f"Synthetic campaigns: {res['runs']} runs, seed {res['seed']}")
    return EXIT_OK


# --- the parser ------------------------------------------------------------------------------------

HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "list": cmd_list, "show": cmd_show, "build": cmd_build, "validate": cmd_validate, "cite": cmd_cite,
    "check": cmd_check, "backtest": cmd_backtest, "simulate": cmd_simulate, "report": cmd_report,
    "fetch": cmd_fetch, "export": cmd_export,
}


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on a bad option, but 2 means unreadable input here: usage errors are 3."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, terminal_safe(f"{self.prog}: error: {message}") + "\n")


def quiet_option(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--quiet", action="store_true",
                    help="no progress bar (it is shown only when stderr is a terminal)")


def parser() -> argparse.ArgumentParser:
    from .export import FORMATS as EXPORT_FORMATS
    from .scheduling import SCHEDULERS, SYNCHRONOUS

    p = _Parser(prog="conflictstats", description="Sourced conflict figures and honest statistics.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    p.set_defaults(quiet=False)  # commands with long steps add --quiet
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help: str, dataset: bool = True, fits: bool = False) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help)
        if dataset:
            sp.add_argument("--dataset", default=DEFAULT_DATASET, help="dataset name (default: %(default)s)")
        if fits:  # commands whose model fits can run on a Dask cluster
            sp.add_argument("--scheduler", default=SYNCHRONOUS, help=f"where the model fits run: "
                            f"{', '.join(SCHEDULERS)} (default: %(default)s; the results are the same)")
        return sp

    command("list", "list datasets, their tables and row counts", dataset=False)
    sp = command("show", "print a table")
    sp.add_argument("table", help="sources, figures, events or codebook")
    sp.add_argument("--metric", help="only figures of this metric")
    sp.add_argument("--format", choices=SHOW_FORMATS, default="table")
    sp = command("build", "validate the curated TOML and write the Parquet tables")
    sp.add_argument("--out", help="output folder (default: the dataset's own folder)")
    sp = command("validate", "check a CSV or Parquet file (or a folder) against the schemas")
    sp.add_argument("path")
    sp.add_argument("--table", help="which table the file holds (default: from the file name or columns)")
    sp.add_argument("--max-rows", type=int, metavar="N", help="rows read from one file (default 2,000,000 or "
                    "$CONFLICTSTATS_MAX_ROWS; 0: no limit)")
    sp.add_argument("--max-columns", type=int, metavar="N", help="columns read from one file (default 1,000 or "
                    "$CONFLICTSTATS_MAX_COLUMNS; 0: no limit)")
    sp.add_argument("--max-failures", type=int, metavar="N", help="failures printed per rule, then a count (default "
                    "10 or $CONFLICTSTATS_MAX_FAILURES; 0: all)")
    sp = command("cite", "how to cite a dataset")
    sp.add_argument("--format", choices=CITE_FORMATS, default="both")
    sp = command("check", "cross-figure consistency warnings for curators")
    sp.add_argument("--strict", action="store_true", help="exit 1 when any warning is unexplained")
    sp = command("backtest", "out-of-sample validation of a metric's model (leave one document out, "
                 "or forecast: fit up to a cut-off, predict the next 14 days' figures)", fits=True)
    sp.add_argument("--metric", required=True)
    sp.add_argument("--mode", default="lodo", help="lodo (leave one document out, the default) or "
                    "forecast; checked by the models (an unknown mode exits 3)")
    sp.add_argument("--json", action="store_true")
    quiet_option(sp)
    sp = command("simulate", "calibration on synthetic campaigns with known truth", dataset=False, fits=True)
    sp.add_argument("--runs", type=int, default=20)
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--bootstrap", type=int, default=0,
                    help="also B parametric-bootstrap refits per run, for percentile intervals")
    sp.add_argument("--json", action="store_true")
    quiet_option(sp)
    sp = command("report", "build every campaign report, their comparison and the index page (HTML + "
                 "Markdown); --dataset D for one report", dataset=False, fits=True)
    sp.add_argument("--dataset", help="build only this dataset's report (default: all, with the comparison)")
    sp.add_argument("--out", help="output folder (default: reports/ in a checkout, ./reports/ otherwise; with "
                    "--dataset, the report's own folder, default reports/<dataset>)")
    sp.add_argument("--evaluation", help="recorded evaluation results (JSON) the report quotes (default: the "
                    "dataset's own evaluation.json)")
    quiet_option(sp)
    sp = command("fetch", "download and verify a published release")
    sp.add_argument("--release", help="release to fetch (default: the shipped one)")
    sp.add_argument("--base-url", help="where releases are published (https; http only on loopback)")
    sp.add_argument("--cache-dir", help="where fetched releases are kept (default: $CONFLICTSTATS_DATA or the "
                    "user cache)")
    sp.add_argument("--sha256sums", help="SHA-256 of the release's SHA256SUMS, for a release this package does "
                    "not know")
    sp.add_argument("--timeout", type=float, default=30.0, help="seconds per file (default: %(default)s)")
    quiet_option(sp)
    sp = command("export", "write the tables as CSV, Parquet or XLSX with a README")
    sp.add_argument("--format", choices=EXPORT_FORMATS, default="csv")
    sp.add_argument("--out", required=True)
    sp.add_argument("--release", help="export a fetched release instead of the shipped data")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.version:
        from . import __version__

        print(__version__)
        return EXIT_OK
    if not args.command:
        p.print_help()
        return EXIT_USAGE
    try:
        with quiet(args.quiet):
            return int(HANDLERS[args.command](args) or 0)
    except ConflictstatsError as exc:
        print(f"conflictstats {args.command}: {terminal_safe(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # the disk refused (read-only, full, permissions): the environment, not a bug
        where = exc.filename or "a file"
        print(terminal_safe(f"conflictstats {args.command}: cannot read or write {where}: {exc.strerror or exc}."),
              file=sys.stderr)
        return EXIT_UNREADABLE
    except MemoryError:
        print(f"conflictstats {args.command}: out of memory.", file=sys.stderr)
        return EXIT_INTERNAL
    except Exception as exc:  # a bug, not bad input: say so in one paragraph, traceback on request
        if os.environ.get("CONFLICTSTATS_DEBUG"):
            raise
        print(f"conflictstats {args.command}: internal error ({type(exc).__name__}: {terminal_safe(exc)}). This is a bug "
              f"in conflictstats, not a problem with your input; set CONFLICTSTATS_DEBUG=1 to see the "
              f"traceback and please report it.", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
