"""The train stage: an experiment group from params `experiments` (or one of its expanded experiments)."""

import json

from mer_pipeline import engine, paths
from mer_pipeline.config import THREE_CLASS_NAMES, ExperimentParams, Params, Scale
from mer_pipeline.device import resolve_device
from mer_pipeline.errors import UserError
from mer_pipeline.progress import bar
from mer_pipeline.training.experiment import write_experiment
from mer_pipeline.training.folds import FoldTask

METRIC_KEYS = ("acc", "acc_std", "uf1", "uf1_std", "uar", "uar_std", "n")  # means over seeds and their spread


def class_names_for(params: Params, exp: ExperimentParams) -> list[str]:
    """3-class: MEGC 2019 names; 5-class: the datasets' five_class_names (a composite must share them)."""
    if exp.classes == 3:
        return list(THREE_CLASS_NAMES)
    names = {tuple(params.labels_of(d).five_class_names) for d in exp.datasets}
    if len(names) != 1 or not next(iter(names)):
        raise UserError(f"5-class experiment on {list(exp.datasets)}: the datasets have no common 5-class names")
    return list(next(iter(names)))


def train_stage(
    params: Params, name: str, device: str | None = None, scale: Scale = Scale(), compute: bool = True
) -> dict:
    """Run experiment group `name` (every combination it expands to) or one expanded experiment by its full name.

    Every (experiment, seed, fold) is one fold job of the engine: kept from the local fold store
    (`<train.folds>/<group>/`), taken from the shared cache, or trained (`train.folds_at_once` together; on dask
    one task per such group of folds). Then writes `<train.metrics>/<group>.json` ({acc, acc_std, uf1, uf1_std, uar,
    uar_std, n}: means over the seeds and their standard deviation, or {experiment suffix: {...}} for a group of
    several; for `dvc metrics show`) and, per experiment, its folder under `<train.out>/<group>/` (the group folder
    itself for a single experiment). With `compute` false (`cache pull`) nothing is trained and nothing written but
    the fold entries the shared cache holds.
    """
    t = params.train
    _, todo = params.experiments_named(name)
    group = name  # a group, or one expanded experiment under its own name
    dev = resolve_device(device or t.device)
    task = FoldTask(
        dict(todo),
        {e: tuple(class_names_for(params, exp)) for e, exp in todo.items()},
        t,
        params.modalities,
        str(paths.folds_dir(t, group)),
        str(dev),
    )
    items = task.items()
    outcomes = engine.run(
        task, items, params.cache, scale, t.folds_at_once, compute, bar(f"{group}: fold jobs"), per_task=t.folds_at_once
    )
    counts = engine.counts(outcomes)
    problems = [
        f"{task.label(job)}: {o.problem or o.status}"
        for job, o in zip(items, outcomes)
        if o.status in ("skipped", "missing")
    ]
    result = {"group": group, "device": str(dev), "fold_jobs": len(items), **counts, "problems": problems}
    if not compute:
        return result
    if problems:
        raise UserError(f"experiment {group}: {len(problems)} fold jobs did not finish, the first: {problems[0]}")
    out, summary, results = paths.experiments_dir(t, group), {}, []
    for exp_name in todo:
        folder = out if len(todo) == 1 else out / exp_name
        r = write_experiment(exp_name, task, folder, dev)
        summary[exp_name] = {k: r[k] for k in METRIC_KEYS}
        results.append({"experiment": exp_name, **summary[exp_name], "folds": r["folds"]})
    if len(summary) == 1:  # flat keys, so single experiments share columns in `dvc metrics show`
        summary = next(iter(summary.values()))
    else:
        summary = {k[len(group) + 1 :] if k.startswith(group + "-") else k: v for k, v in summary.items()}
    metrics = paths.metrics_file(t, group)
    metrics.parent.mkdir(parents=True, exist_ok=True)
    metrics.write_text(json.dumps(summary, indent=2) + "\n")
    return {**result, "out": str(out), "experiments": results}
