"""`conflictstats report`: the campaign reports (index.html + report.md + SVG charts) from the
shipped data, the cross-campaign comparison, and the index page linking them.

One command, same bytes every time: every number is computed at build time from the dataset
and the models, charts are written with fixed metadata, files are written atomically, and a
SHA256SUMS in each output folder lists them. Modules: context (data numbers), fitted (model
runs), charts (matplotlib, imported lazily), sections (a campaign's content), comparison (the
comparison and the index page), html / markdown (renderers), progress (the terminal display).
"""

from __future__ import annotations

from pathlib import Path

from ..registry import DEFAULT_DATASET

__all__ = ["build_report", "build_all", "default_out_dir", "reports_root"]

FIGURES_DIR = "figures"


def reports_root() -> Path:
    """reports/ of the checkout when run from one, else ./reports/."""
    from ..registry import repo_root

    return (repo_root() or Path.cwd()) / "reports"


def default_out_dir(dataset: str) -> Path:
    """reports/<dataset>/ of the checkout when run from one, else ./reports/<dataset>/."""
    return reports_root() / dataset


def build_report(dataset: str = DEFAULT_DATASET, out_dir: Path | str | None = None,
                 progress: bool = True, models: bool = True, evaluation: Path | str | None = None) -> list[Path]:
    """Build one campaign report into ``out_dir``; returns the paths written (sorted).

    ``evaluation`` is the recorded evaluation results (JSON) the model-checking sections quote;
    by default the dataset's own ``evaluation.json`` (shipped with the data, so a wheel and a
    checkout build the same bytes). ``models=False`` leaves the model sections saying "not
    available in this build" (a quick preview).
    """
    from ..registry import dataset_info
    from .progress import Progress

    info = dataset_info(dataset)  # refuses unknown names before anything is written
    out = Path(out_dir) if out_dir is not None else default_out_dir(info.name)
    bar = Progress(total=3, enabled=progress)
    paths, _, _ = _campaign(info.name, out, bar, models, evaluation)
    bar.finish(f"report written to {out / 'index.html'}")
    return paths


def build_all(out_root: Path | str | None = None, progress: bool = True,
              datasets: list[str] | None = None) -> list[Path]:
    """Every dataset's report (each with its own evaluation.json), the comparison of them and
    the index page, into ``out_root`` (default: reports/); returns the paths written (sorted).
    The comparison reuses the campaign reports' fits: one fit per dataset and metric."""
    from ..manifest import write_with_sums
    from ..registry import list_datasets
    from . import html
    from .comparison import COMPARISON, index_document
    from .progress import Progress

    names = list(datasets) if datasets is not None else list_datasets()
    root = Path(out_root) if out_root is not None else reports_root()
    bar = Progress(total=3 * len(names) + 3, enabled=progress)
    paths, contexts, runs = [], {}, {}
    for name in names:
        written, contexts[name], runs[name] = _campaign(name, root / name, bar, True, None)
        paths += written
    compared = len(names) >= 2
    if compared:
        paths += _comparison(contexts, runs, root / COMPARISON, bar)
    with bar.step("writing the index page"):
        root.mkdir(parents=True, exist_ok=True)
        write_with_sums(root, {"index.html": html.render(index_document(contexts, compared)).encode("utf-8")})
    bar.finish(f"{len(names)} report(s){' and the comparison' if compared else ''} written; open "
               f"{root / 'index.html'}")
    return sorted(paths + [root / "index.html", root / "SHA256SUMS"])


def _campaign(name: str, out: Path, bar, models: bool, evaluation: Path | str | None):
    """One campaign report into ``out``: (paths written, its DataContext, its model runs)."""
    from ..registry import dataset_info
    from .context import DataContext
    from .fitted import EVALUATION_FILE, Evaluation, fit_metric
    from .sections import Builder

    info = dataset_info(name)
    with bar.step(f"loading dataset {info.name} (release {info.release})"):
        ctx = DataContext(info.name)
        metrics = ctx.modelled_metrics
        recorded = Evaluation.read(Path(evaluation) if evaluation is not None else info.path / EVALUATION_FILE)
        bar.total += len(metrics) if models else 0
    runs = {}
    if models:
        for metric in metrics:
            with bar.step(f"fitting model: {metric}"):
                runs[metric] = fit_metric(ctx, metric)
    with bar.step("drawing charts and writing text"):
        doc, files = Builder(ctx, runs, recorded).build()
    return _write(doc, files, out, bar), ctx, runs


def _comparison(contexts: dict, runs: dict, out: Path, bar) -> list[Path]:
    from .comparison import ComparisonBuilder

    with bar.step("comparing the campaigns"):
        doc, files = ComparisonBuilder(contexts, runs).build()
    return _write(doc, files, out, bar)


def _write(doc, files: dict[str, bytes], out: Path, bar) -> list[Path]:
    """Render ``doc`` beside its chart files into ``out``, atomically, with a SHA256SUMS."""
    from ..manifest import write_with_sums
    from ..store import remove_stale, sweep_temporaries
    from . import html, markdown

    files = dict(files, **{"index.html": html.render(doc).encode("utf-8"),
                           "report.md": markdown.render(doc).encode("utf-8")})
    with bar.step(f"writing {len(files)} files to {out}"):
        out.mkdir(parents=True, exist_ok=True)
        sweep_temporaries(out)
        sweep_temporaries(out / FIGURES_DIR)
        if (out / FIGURES_DIR).is_dir():  # charts of an earlier build that this one does not draw
            keep = [Path(n).name for n in files if n.startswith(FIGURES_DIR + "/")]
            remove_stale(out / FIGURES_DIR, keep, "*.svg")
        write_with_sums(out, dict(sorted(files.items())))
    return sorted([out / name for name in files] + [out / "SHA256SUMS"])
