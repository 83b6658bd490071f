"""`conflictstats report`: the campaign reports (index.html + report.md + SVG charts), their
comparison and the index page, from the shipped data.

One command, same bytes every time: every number is computed at build time from the dataset
and the models, charts are written with fixed metadata, files are written atomically, and a
SHA256SUMS in each output folder lists them; a report's folder is replaced whole
(:mod:`..outfolder`), so concurrent runs never mix. Modules: context (data numbers), fitted
(model runs), charts (matplotlib, imported lazily), sections (a campaign's content), comparison
(the comparison and the index page), html / markdown (renderers); the fits show a progress bar
on a terminal (:mod:`conflictstats.progress`).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from ..registry import DEFAULT_DATASET

__all__ = ["build_report", "build_all", "default_out_dir", "reports_root"]


def reports_root() -> Path:
    """reports/ of the checkout when run from one, else ./reports/."""
    from ..registry import repo_root

    return (repo_root() or Path.cwd()) / "reports"


def default_out_dir(dataset: str) -> Path:
    """reports/<dataset>/ of the checkout when run from one, else ./reports/<dataset>/."""
    return reports_root() / dataset


def build_report(dataset: str = DEFAULT_DATASET, out_dir: Path | str | None = None,
                 progress: bool = True, models: bool = True, evaluation: Path | str | None = None,
                 scheduler: str = "synchronous") -> list[Path]:
    """Build one campaign report into ``out_dir``; returns the paths written (sorted).

    ``evaluation`` is the recorded evaluation results (JSON) the model-checking sections quote;
    by default the dataset's own ``evaluation.json`` (shipped with the data, so a wheel and a
    checkout build the same bytes). ``progress=False`` hides the progress bar that a terminal
    shows while the models are fitted. ``models=False`` leaves the model sections saying "not
    available in this build" (a quick preview). ``scheduler`` says where the model fits run
    (:mod:`conflictstats.scheduling`); the bytes are the same on any scheduler.
    """
    from ..registry import dataset_info
    from ..scheduling import check_scheduler

    info = dataset_info(dataset)  # refuses unknown names before anything is written
    check_scheduler(scheduler)
    out = Path(out_dir) if out_dir is not None else default_out_dir(info.name)
    paths, _, _ = _campaign(info.name, out, models, evaluation, progress, scheduler)
    return paths


def build_all(out_root: Path | str | None = None, progress: bool = True,
              datasets: list[str] | None = None, scheduler: str = "synchronous") -> list[Path]:
    """Every dataset's report (each with its own evaluation.json), the comparison of them and
    the index page, into ``out_root`` (default: reports/); returns the paths written (sorted).
    The comparison reuses the campaign reports' fits: one fit per dataset and metric."""
    from ..manifest import write_with_sums
    from ..registry import list_datasets
    from ..scheduling import check_scheduler
    from . import html
    from .comparison import COMPARISON, index_document

    check_scheduler(scheduler)
    names = list(datasets) if datasets is not None else list_datasets()
    root = Path(out_root) if out_root is not None else reports_root()
    paths, contexts, runs = [], {}, {}
    for name in names:
        written, contexts[name], runs[name] = _campaign(name, root / name, True, None, progress,
                                                        scheduler)
        paths += written
    compared = len(names) >= 2
    if compared:
        from .comparison import ComparisonBuilder

        doc, files = ComparisonBuilder(contexts, runs).build()
        paths += _write(doc, files, root / COMPARISON)
    # the index page sits beside the report folders: written alone, not as a whole folder
    root.mkdir(parents=True, exist_ok=True)
    write_with_sums(root, {"index.html": html.render(index_document(contexts, compared)).encode("utf-8")})
    return sorted(paths + [root / "index.html", root / "SHA256SUMS"])


def _campaign(name: str, out: Path, models: bool, evaluation: Path | str | None, progress: bool,
              scheduler: str):
    """One campaign report into ``out``: (paths written, its DataContext, its model runs)."""
    from ..progress import quiet
    from ..registry import dataset_info
    from ..scheduling import map_tasks
    from .context import DataContext
    from .fitted import EVALUATION_FILE, Evaluation, fit_metric
    from .sections import Builder

    info = dataset_info(name)
    ctx = DataContext(info.name)
    metrics = ctx.modelled_metrics
    recorded = Evaluation.read(Path(evaluation) if evaluation is not None else info.path / EVALUATION_FILE)
    runs = {}
    if models:
        with quiet(not progress):
            runs = dict(zip(metrics, map_tasks(partial(fit_metric, ctx), metrics, scheduler,
                                               desc=f"report {info.name}: fitting models", unit="fit")))
    doc, files = Builder(ctx, runs, recorded).build()
    return _write(doc, files, out), ctx, runs


def _write(doc, files: dict[str, bytes], out: Path) -> list[Path]:
    """Render ``doc`` beside its chart files into ``out``, replaced whole, with a SHA256SUMS."""
    from ..outfolder import write_folder
    from . import html, markdown

    files = dict(files, **{"index.html": html.render(doc).encode("utf-8"),
                           "report.md": markdown.render(doc).encode("utf-8")})
    write_folder(out, dict(sorted(files.items())))  # whole: charts of an earlier build go with it
    return sorted([out / name for name in files] + [out / "SHA256SUMS"])
