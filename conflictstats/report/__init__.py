"""`conflictstats report`: the campaign report (index.html + report.md + SVG charts) from the shipped data.

One command, same bytes every time: every number is computed at build time from the dataset
and the models, charts are written with fixed metadata, files are written atomically, and a
SHA256SUMS in the output folder lists them; the folder is replaced whole (:mod:`..outfolder`), so
concurrent runs never mix. Modules: context (data numbers), fitted (model runs), charts
(matplotlib, imported lazily), sections (the content), html / markdown (renderers); the fits show a progress bar on a terminal
(:mod:`conflictstats.progress`).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from ..registry import DEFAULT_DATASET

__all__ = ["build_report", "default_out_dir"]


def default_out_dir(dataset: str) -> Path:
    """reports/<dataset>/ of the checkout when run from one, else ./reports/<dataset>/."""
    from ..registry import repo_root

    return (repo_root() or Path.cwd()) / "reports" / dataset


def build_report(dataset: str = DEFAULT_DATASET, out_dir: Path | str | None = None,
                 progress: bool = True, models: bool = True, evaluation: Path | str | None = None,
                 scheduler: str = "synchronous") -> list[Path]:
    """Build the report into ``out_dir``; returns the paths written (sorted).

    ``evaluation`` is the recorded evaluation results (JSON) the model-checking sections quote;
    by default the dataset's own ``evaluation.json`` (shipped with the data, so a wheel and a
    checkout build the same bytes). ``progress=False`` hides the progress bar that a terminal
    shows while the models are fitted. ``models=False`` leaves the model sections saying "not
    available in this build" (a quick preview). ``scheduler`` says where the model fits run
    (:mod:`conflictstats.scheduling`); the bytes are the same on any scheduler.
    """
    from ..progress import quiet
    from ..scheduling import check_scheduler, map_tasks
    from ..registry import dataset_info
    from ..outfolder import write_folder
    from . import html, markdown
    from .context import DataContext
    from .fitted import EVALUATION_FILE, Evaluation, fit_metric
    from .sections import Builder

    info = dataset_info(dataset)  # refuses unknown names before anything is written
    check_scheduler(scheduler)
    out = Path(out_dir) if out_dir is not None else default_out_dir(info.name)
    ctx = DataContext(info.name)
    metrics = ctx.modelled_metrics
    recorded = Evaluation.read(Path(evaluation) if evaluation is not None else info.path / EVALUATION_FILE)
    runs = {}
    if models:
        with quiet(not progress):
            runs = dict(zip(metrics, map_tasks(partial(fit_metric, ctx), metrics, scheduler,
                                               desc=f"report {info.name}: fitting models", unit="fit")))
    doc, files = Builder(ctx, runs, recorded).build()
    files["index.html"] = html.render(doc).encode("utf-8")
    files["report.md"] = markdown.render(doc).encode("utf-8")
    write_folder(out, dict(sorted(files.items())))  # whole: charts of an earlier build go with it
    return sorted([out / name for name in files] + [out / "SHA256SUMS"])
