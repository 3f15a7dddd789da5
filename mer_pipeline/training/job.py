"""The train stage (and `mer-pipeline evaluate`): experiment groups from params `experiments`."""

import json
from pathlib import Path

from mer_pipeline.config import ModalitiesParams
from mer_pipeline.progress import bar


def class_names_for(params: dict, exp) -> list[str]:
    """3-class: MEGC 2019 names; 5-class: the datasets' five_class_names (a composite must share them)."""
    from mer_pipeline.config import THREE_CLASS_NAMES, dataset_params, label_table
    from mer_pipeline.errors import UserError

    if exp.classes == 3:
        return list(THREE_CLASS_NAMES)
    names = {tuple(label_table(params, dataset_params(params, d).labels).five_class_names) for d in exp.datasets}
    if len(names) != 1 or not next(iter(names)):
        raise UserError(f"5-class experiment on {list(exp.datasets)}: the datasets have no common 5-class names")
    return list(next(iter(names)))


def train_job(params: dict, name: str, device: str | None = None) -> dict:
    """Run experiment group `name` (every combination it expands to) or one expanded experiment by its full name.

    Writes `<train.metrics>/<group>.json` ({acc, uf1, uar, n}, or {experiment suffix: {...}} for a group of
    several; for `dvc metrics show`) and, per
    experiment, its folder under `<train.out>/<group>/` (the group folder itself for a single experiment).
    """
    from mer_pipeline.config import section
    from mer_pipeline.training.params import TrainParams, expand_experiments
    from mer_pipeline.errors import UserError
    from mer_pipeline.modalities.runner import resolve_device
    from mer_pipeline.training.experiment import run_experiment

    t = section(params, "train", TrainParams)
    mparams = section(params, "modalities", ModalitiesParams)
    groups = params.get("experiments") or {}
    if name in groups:
        todo = expand_experiments({name: groups[name]})
        group = name
    else:
        todo = {k: v for k, v in expand_experiments(groups).items() if k == name}
        group = name
        if not todo:
            raise UserError(f"unknown experiment {name!r} (groups: {', '.join(sorted(groups))})")
    dev = resolve_device(device or t.device)
    out, summary, results = Path(t.out) / group, {}, []
    for exp_name, exp in todo.items():
        folder = out if len(todo) == 1 else out / exp_name
        r = run_experiment(exp_name, exp, t, class_names_for(params, exp), Path(mparams.out), folder, dev,
                           progress=bar(f"{exp_name} folds"))
        summary[exp_name] = {k: r[k] for k in ("acc", "uf1", "uar", "n")}
        results.append({"experiment": exp_name, **summary[exp_name], "folds": r["folds"]})
    if len(summary) == 1:  # flat keys, so single experiments share columns in `dvc metrics show`
        summary = next(iter(summary.values()))
    else:
        summary = {k[len(group) + 1 :] if k.startswith(group + "-") else k: v for k, v in summary.items()}
    metrics = Path(t.metrics) / f"{group}.json"
    metrics.parent.mkdir(parents=True, exist_ok=True)
    metrics.write_text(json.dumps(summary, indent=2) + "\n")
    return {"group": group, "out": str(out), "device": str(dev), "experiments": results}


def evaluate_job(params: dict, name: str) -> dict:
    """Re-score an experiment's predictions.csv (pooled over folds) without training."""
    from mer_pipeline.config import section
    from mer_pipeline.training.params import TrainParams
    from mer_pipeline.evaluation.report import rescore

    t = section(params, "train", TrainParams)
    return rescore(Path(t.out), name)
