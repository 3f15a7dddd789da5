"""One job per stage (synth, index, faces): output paths, problem reports and progress around one library call.

The CLI and the DVC stage scripts both call these, so `mer-pipeline faces` and `dvc repro` do the same thing.
"""

import json
from dataclasses import replace
from pathlib import Path

from mer_pipeline.config import DatasetParams, FacesParams, IndexParams, LabelTable, ModalitiesParams, SynthParams
from mer_pipeline.datasets import ADAPTERS
from mer_pipeline.datasets.index import PROBLEMS_FILE, build_index, index_meta, read_index, write_index
from mer_pipeline.faces.pipeline import run_faces
from mer_pipeline.problems import ProblemLog
from mer_pipeline.progress import bar
from mer_pipeline.synth.generate import generate

FACES_STORE = "faces.zarr"


def synth_job(params: SynthParams) -> dict:
    clips = generate(params, Path(params.out), progress=bar("synth clips"))
    return {"out": params.out, "clips": len(clips), "subjects": params.subjects}


def index_job(dataset: str, dparams: DatasetParams, labels: LabelTable, iparams: IndexParams, root: str | None = None) -> dict:
    """Index `dataset` (root from params unless `root` is given) into `<index.out>/<dataset>/`."""
    if root:
        dparams = replace(dparams, root=root)
    log = ProblemLog(dataset)
    records = build_index(dataset, ADAPTERS.get(dparams.adapter), dparams, labels, log, iparams.verify_frames,
                          progress=bar(f"index {dataset}"))
    out = Path(iparams.out) / dataset
    write_index(out, records, log, index_meta(dataset, dparams, labels))
    return {"dataset": dataset, "out": str(out), "clips": len(records), "problems": [p.line() for p in log.items],
            "excluded": log.count("excluded"), "repaired": log.count("repaired")}


def faces_job(dataset: str, iparams: IndexParams, fparams: FacesParams) -> dict:
    """Align the faces of the indexed clips into `<faces.out>/<dataset>/faces.zarr` (+ problems.csv)."""
    from mer_pipeline.faces.landmarks import MediapipeLandmarker

    records, meta = read_index(Path(iparams.out) / dataset)
    out = Path(fparams.out) / dataset
    out.mkdir(parents=True, exist_ok=True)
    log = ProblemLog(dataset)
    landmarker = MediapipeLandmarker(fparams.min_detection_confidence)
    try:
        counts = run_faces(records, Path(meta["root"]), out / FACES_STORE, fparams, meta, landmarker, log,
                           progress=bar(f"faces {dataset}"))
    finally:
        landmarker.close()
    log.write(out / PROBLEMS_FILE)
    return {"dataset": dataset, "out": str(out / FACES_STORE), **counts, "problems": [p.line() for p in log.items]}


def modalities_job(dataset: str, fparams: FacesParams, mparams: ModalitiesParams, names: list[str]) -> dict:
    """Modality stores `<modalities.out>/<dataset>/<name>.zarr` from the dataset's faces store."""
    from mer_pipeline.modalities.runner import run_modality

    faces = Path(fparams.out) / dataset / FACES_STORE
    out = Path(mparams.out) / dataset
    results = [run_modality(name, faces, out / f"{name}.zarr", mparams, progress=bar(f"{name} (batches)"))
               for name in names or mparams.names]
    return {"dataset": dataset, "modalities": results}


def preview_job(dataset: str, mparams: ModalitiesParams, out: Path) -> dict:
    from mer_pipeline.modalities.preview import write_preview

    rows = write_preview(Path(mparams.out) / dataset, list(mparams.names), out)
    return {"dataset": dataset, "out": str(out), "rows": rows}


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
    from mer_pipeline.config import TrainParams, expand_experiments, section
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
    from mer_pipeline.config import TrainParams, section
    from mer_pipeline.evaluation.report import rescore

    t = section(params, "train", TrainParams)
    return rescore(Path(t.out), name)


def report_job(params: dict, out: Path) -> dict:
    from mer_pipeline.config import TrainParams, section
    from mer_pipeline.evaluation.report import write_report

    t = section(params, "train", TrainParams)
    return write_report(Path(t.out), out, Path(section(params, "modalities", ModalitiesParams).out))
