"""`conflictstats report`: the campaign report (index.html + report.md + SVG charts) from the shipped data.

One command, same bytes every time: every number is computed at build time from the dataset
and the models, charts are written with fixed metadata, files are written atomically, and a
SHA256SUMS in the output folder lists them; the folder is replaced whole (:mod:`..outfolder`), so
concurrent runs never mix. Modules: context (data numbers), fitted (model runs), charts
(matplotlib, imported lazily), sections (the content), html / markdown (renderers), progress
(the terminal display).
"""

from __future__ import annotations

from pathlib import Path

from ..registry import DEFAULT_DATASET

__all__ = ["build_report", "default_out_dir"]


def default_out_dir(dataset: str) -> Path:
    """reports/<dataset>/ of the checkout when run from one, else ./reports/<dataset>/."""
    from ..registry import repo_root

    return (repo_root() or Path.cwd()) / "reports" / dataset


def build_report(dataset: str = DEFAULT_DATASET, out_dir: Path | str | None = None,
                 progress: bool = True, models: bool = True, evaluation: Path | str | None = None) -> list[Path]:
    """Build the report into ``out_dir``; returns the paths written (sorted).

    ``evaluation`` is the recorded evaluation results (JSON) the model-checking sections quote;
    by default the dataset's own ``evaluation.json`` (shipped with the data, so a wheel and a
    checkout build the same bytes). ``models=False`` leaves the model sections saying "not
    available in this build" (a quick preview).
    """
    from ..registry import dataset_info
    from ..outfolder import write_folder
    from . import html, markdown
    from .context import DataContext
    from .fitted import EVALUATION_FILE, Evaluation, fit_metric
    from .progress import Progress
    from .sections import Builder

    info = dataset_info(dataset)  # refuses unknown names before anything is written
    out = Path(out_dir) if out_dir is not None else default_out_dir(info.name)
    bar = Progress(total=3, enabled=progress)
    with bar.step(f"loading dataset {info.name} (release {info.release})"):
        ctx = DataContext(info.name)
        metrics = ctx.modelled_metrics
        recorded = Evaluation.read(Path(evaluation) if evaluation is not None else info.path / EVALUATION_FILE)
        bar.total = 1 + (len(metrics) if models else 0) + 2
    runs = {}
    if models:
        for metric in metrics:
            with bar.step(f"fitting model: {metric}"):
                runs[metric] = fit_metric(ctx, metric)
    with bar.step("drawing charts and writing text"):
        doc, files = Builder(ctx, runs, recorded).build()
        files["index.html"] = html.render(doc).encode("utf-8")
        files["report.md"] = markdown.render(doc).encode("utf-8")
    with bar.step(f"writing {len(files)} files to {out}"):
        write_folder(out, dict(sorted(files.items())))  # whole: charts of an earlier build go with it
    bar.finish(f"report written to {out / 'index.html'}")
    return sorted([out / name for name in files] + [out / "SHA256SUMS"])
