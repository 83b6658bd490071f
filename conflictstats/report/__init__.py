"""`conflictstats report`: the campaign report (index.html + report.md + SVG charts) from the shipped data.

One command, same bytes every time: every number is computed at build time from the dataset
and the models, charts are written with fixed metadata, files are written atomically, and a
SHA256SUMS in the output folder lists them. Modules: context (data numbers), fitted (model
runs), charts (matplotlib, imported lazily), sections (the content), html / markdown
(renderers), progress (the terminal display).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..registry import DEFAULT_DATASET

__all__ = ["build_report", "default_out_dir", "report_command"]

FIGURES_DIR = "figures"
BACKTEST = False  # the committed report's setting (see build_report)


def default_out_dir(dataset: str) -> Path:
    """reports/<dataset>/ of the checkout when run from one, else ./reports/<dataset>/."""
    from .. import registry

    if registry.in_checkout():
        return Path(registry.__file__).resolve().parent.parent / "reports" / dataset
    return Path.cwd() / "reports" / dataset


def build_report(dataset: str = DEFAULT_DATASET, out_dir: Path | str | None = None,
                 progress: bool = True, models: bool = True, backtest: bool = BACKTEST) -> list[Path]:
    """Build the report into ``out_dir``; returns the paths written (sorted).

    ``models=False`` / ``backtest=False`` leave those sections saying "not available in this
    build" (``models=False`` is a quick preview). The backtest is off by default: it refits the
    model once per document, far beyond the build's time budget; turn it on in BACKTEST once
    conflictstats.models offers a fast backtest.
    """
    from ..registry import dataset_info
    from ..manifest import write_with_sums
    from ..store import remove_stale, sweep_temporaries
    from . import html, markdown
    from .context import DataContext
    from .fitted import backtest_metric, fit_metric
    from .progress import Progress
    from .sections import Builder

    info = dataset_info(dataset)  # refuses unknown names before anything is written
    out = Path(out_dir) if out_dir is not None else default_out_dir(info.name)
    bar = Progress(total=3, enabled=progress)
    with bar.step(f"loading dataset {info.name} (release {info.release})"):
        ctx = DataContext(info.name)
        metrics = ctx.modelled_metrics
        bar.total = 1 + (len(metrics) if models else 0) * (2 if backtest else 1) + 2
    runs = {}
    if models:
        for metric in metrics:
            with bar.step(f"fitting model: {metric}"):
                runs[metric] = fit_metric(ctx, metric)
        if backtest:
            for metric in metrics:
                with bar.step(f"backtest (leave one document out): {metric}"):
                    if runs[metric].error is None:
                        backtest_metric(ctx, runs[metric])
    with bar.step("drawing charts and writing text"):
        doc, files = Builder(ctx, runs, backtest_done=models and backtest).build()
        files["index.html"] = html.render(doc).encode("utf-8")
        files["report.md"] = markdown.render(doc).encode("utf-8")
    with bar.step(f"writing {len(files)} files to {out}"):
        out.mkdir(parents=True, exist_ok=True)
        sweep_temporaries(out)
        sweep_temporaries(out / FIGURES_DIR)
        if (out / FIGURES_DIR).is_dir():  # charts of an earlier build that this one does not draw
            keep = [Path(n).name for n in files if n.startswith(FIGURES_DIR + "/")]
            remove_stale(out / FIGURES_DIR, keep, "*.svg")
        write_with_sums(out, dict(sorted(files.items())))
    bar.finish(f"report written to {out / 'index.html'}")
    return sorted([out / name for name in files] + [out / "SHA256SUMS"])


def report_command(args: argparse.Namespace) -> int:
    """CLI handler: ``conflictstats report [--dataset D] [--out DIR] [--quiet]``."""
    import sys

    from ..errors import UnreadableError

    try:
        paths = build_report(args.dataset, Path(args.out) if args.out else None,
                             progress=not getattr(args, "quiet", False))
    except OSError as exc:  # an unwritable --out, a full disk: a message, not a traceback
        where = exc.filename or args.out or "the output folder"
        raise UnreadableError(f"{where}: cannot write the report: {exc.strerror or exc}.") from None
    if not getattr(args, "quiet", False):
        print(f"wrote {len(paths)} files; open {paths[0].parent / 'index.html'}", file=sys.stdout)
    return 0
