"""Copy the recorded benchmark runs into a dataset's evaluation.json, the file the report quotes.

Run from the repository root after ``python benchmarks/bench_models.py [--dataset D]`` and
``python benchmarks/run.py``: ``python benchmarks/record_evaluation.py [DATASET]``. Another
dataset than the default gets only what was measured on it (its ``models-<D>.json``: the
real-data backtests); the simulation and the speed measurements are of the default dataset's
runs and are not copied, so its report says they are not recorded. The report
(``conflictstats report --evaluation PATH``) reads this file, never ``benchmarks/results/``, so an
installed wheel and a checkout build the same report.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conflictstats.manifest import write_if_changed
from conflictstats.registry import DEFAULT_DATASET, dataset_info
from conflictstats.report.fitted import EVALUATION_FILE
from conflictstats.store import dumps_json

RESULTS = Path(__file__).resolve().parent / "results"


def main(dataset: str = DEFAULT_DATASET) -> None:
    default = dataset == DEFAULT_DATASET
    name = "models.json" if default else f"models-{dataset}.json"
    models = json.loads((RESULTS / name).read_text(encoding="utf-8"))
    if models.get("dataset", dataset) != dataset:
        raise SystemExit(f"{RESULTS / name} holds runs of {models['dataset']}, not {dataset}")
    if default:
        perf = json.loads((RESULTS / "full.json").read_text(encoding="utf-8"))
        about = ("Recorded evaluation results the campaign report quotes (conflictstats report --evaluation). "
                 "'models' is copied from benchmarks/results/models.json (python benchmarks/bench_models.py), "
                 "'performance' from benchmarks/results/full.json (python benchmarks/run.py).")
    else:
        perf = {}
        about = (f"Recorded evaluation results the {dataset} report quotes (conflictstats report --evaluation). "
                 f"'models' is copied from benchmarks/results/{name} (python benchmarks/bench_models.py "
                 f"--dataset {dataset} --skip-simulation --bootstrap-runs 0): the backtests on this dataset's "
                 f"figures. No simulation and no speed measurements are recorded for this dataset.")
    evaluation = {
        "about": about,
        "models": {k: models[k] for k in ("simulation", "simulation_bootstrap", "real_data") if k in models},
        "performance": {k: perf[k] for k in ("benchmarks", "machine") if k in perf},
    }
    folder = dataset_info(dataset).path
    changed = write_if_changed(folder, {EVALUATION_FILE: dumps_json(evaluation)})
    print(f"{folder / EVALUATION_FILE}: {'written' if changed else 'up to date'}")


if __name__ == "__main__":
    main(*sys.argv[1:])
