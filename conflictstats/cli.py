"""The `conflictstats` command line. Each sub-command's work lives in the module it names;
this file only parses arguments, so `conflictstats --help` stays quick and lean."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from .errors import EXIT_INTERNAL, EXIT_USAGE, ConflictstatsError
from .registry import DEFAULT_DATASET

# command -> "module:function"; the function takes the parsed args and returns an exit code.
HANDLERS = {
    "list": "conflictstats.commands:cmd_list",
    "show": "conflictstats.commands:cmd_show",
    "build": "conflictstats.commands:cmd_build",
    "validate": "conflictstats.commands:cmd_validate",
    "cite": "conflictstats.commands:cmd_cite",
    "check": "conflictstats.consistency:cmd_check",
    "backtest": "conflictstats.models.cli:backtest_command",
    "simulate": "conflictstats.models.cli:simulate_command",
    "report": "conflictstats.report:report_command",
    "fetch": "conflictstats.fetch:fetch_command",
    "export": "conflictstats.export:export_command",
}


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on a bad option, but 2 means unreadable input here: usage errors are 3."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="conflictstats",
                                description="Sourced conflict figures and honest statistics.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def ds(sp):
        sp.add_argument("--dataset", default=DEFAULT_DATASET, help="dataset name (default: %(default)s)")

    sp = sub.add_parser("list", help="list datasets, their tables and row counts")
    sp = sub.add_parser("show", help="print a table")
    sp.add_argument("table", help="sources, figures, events or codebook")
    sp.add_argument("--metric", help="only figures of this metric")
    sp.add_argument("--format", choices=["table", "csv", "json"], default="table")
    ds(sp)
    sp = sub.add_parser("build", help="validate the curated TOML and write the Parquet tables")
    ds(sp)
    sp.add_argument("--out", help="output folder (default: the dataset's own folder)")
    sp = sub.add_parser("validate", help="check a CSV or Parquet file (or a folder) against the schemas")
    sp.add_argument("path")
    sp.add_argument("--table", help="which table the file holds (default: from the file name or columns)")
    ds(sp)
    sp = sub.add_parser("cite", help="how to cite a dataset")
    ds(sp)
    sp.add_argument("--format", choices=["text", "bibtex", "both"], default="both")
    sp = sub.add_parser("check", help="cross-figure consistency warnings for curators")
    ds(sp)
    sp.add_argument("--strict", action="store_true", help="exit 1 when any warning is unexplained")
    sp = sub.add_parser("backtest", help="leave-one-document-out validation of a metric's model")
    sp.add_argument("--metric", required=True)
    sp.add_argument("--json", action="store_true")
    ds(sp)
    sp = sub.add_parser("simulate", help="calibration on synthetic campaigns with known truth")
    sp.add_argument("--runs", type=int, default=20)
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--bootstrap", type=int, default=0,
                    help="also B parametric-bootstrap refits per run, for percentile intervals")
    sp.add_argument("--json", action="store_true")
    sp = sub.add_parser("report", help="build the campaign report (HTML + Markdown)")
    ds(sp)
    sp.add_argument("--out", help="output folder (default: reports/<dataset> in a checkout, ./reports/<dataset> otherwise)")
    sp.add_argument("--quiet", action="store_true", help="no progress display")
    sp = sub.add_parser("fetch", help="download and verify a published release")
    ds(sp)
    sp.add_argument("--release", help="release to fetch (default: the shipped one)")
    sp.add_argument("--base-url", help="where releases are published (https; http only on loopback)")
    sp.add_argument("--cache-dir", help="where fetched releases are kept (default: $CONFLICTSTATS_DATA or the user cache)")
    sp.add_argument("--sha256sums", help="SHA-256 of the release's SHA256SUMS, for a release this package does not know")
    sp.add_argument("--timeout", type=float, default=30.0, help="seconds per file (default: %(default)s)")
    sp = sub.add_parser("export", help="write the tables as CSV, Parquet or XLSX with a README")
    ds(sp)
    sp.add_argument("--format", choices=["csv", "parquet", "xlsx"], default="csv")
    sp.add_argument("--out", required=True)
    sp.add_argument("--release", help="export a fetched release instead of the shipped data")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        print(__version__)
        return 0
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    module, func = HANDLERS[args.command].split(":")
    try:
        handler = getattr(importlib.import_module(module), func)
        return int(handler(args) or 0)
    except ConflictstatsError as exc:
        print(f"conflictstats {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except MemoryError:
        print(f"conflictstats {args.command}: out of memory.", file=sys.stderr)
        return EXIT_INTERNAL
    except Exception as exc:  # a bug, not bad input: say so in one paragraph, traceback on request
        if os.environ.get("CONFLICTSTATS_DEBUG"):
            raise
        print(f"conflictstats {args.command}: internal error ({type(exc).__name__}: {exc}). This is a bug "
              f"in conflictstats, not a problem with your input; set CONFLICTSTATS_DEBUG=1 to see the "
              f"traceback and please report it.", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
