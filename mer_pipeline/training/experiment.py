"""One experiment's files, assembled from its fold jobs' results (training/folds.py) in fold order: per seed the
pooled predictions -> metrics with their spread over seeds. Writes, under the experiment's folder:
    results.json      ACC/UF1/UAR mean and std over seeds, each seed's pooled figures and per-fold figures, per-fold
                      mean/std with clip counts, per-class figures and confusion over all seeds, config, protocol
    predictions.csv   seed, clip_id, dataset, subject, fold, y_true, y_pred, p_<class>...
    train_loss.csv    seed, fold, epoch, loss
    checkpoint.pt     weights + plain metadata of the last seed's last fold (params train.save_checkpoints)
"""

import csv
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from mer_pipeline import __version__, paths
from mer_pipeline.config import input_store, params_hash
from mer_pipeline.identity import code_version
from mer_pipeline.metrics import scores, spread
from mer_pipeline.models import create_model, parameter_count
from mer_pipeline.store.modality import provenance_of
from mer_pipeline.training.checkpoint import save_checkpoint
from mer_pipeline.training.folds import LIBRARIES, FoldJob, FoldTask, library_versions, load_weights, recipe_of

OUTPUT_PATHS = ("out", "metrics", "folds")  # train params that say where results go, not what they are


def write_experiment(name: str, task: FoldTask, out: Path, device: torch.device) -> dict:
    """Every seed of `train.run_seeds` over every fold, from the fold entries `task` holds. Metrics are pooled over
    the folds within a seed; the result holds each seed's and their mean and standard deviation (ddof 0)."""
    exp, t, class_names = task.experiments[name], task.train, list(task.class_names[name])
    data = task.data(name)
    samples, folds = data.samples, data.folds
    y, k = samples.y.numpy(), len(class_names)
    runs = [_seed_run(task, name, seed, out) for seed in t.run_seeds]
    per_seed = {str(seed): run["scores"] for seed, run in zip(t.run_seeds, runs)}
    pooled = scores(
        np.concatenate([y[r["tested"]] for r in runs]),
        np.concatenate([r["pred"][r["tested"]] for r in runs]),
        k,
        class_names,
    )  # confusion and per-class figures over every seed's predictions
    model = create_model(exp.model, k, samples.x.shape[1], **exp.model_kwargs())
    result = {
        "experiment": name,
        **spread(list(per_seed.values())),
        "n": runs[0]["scores"]["n"],
        "seeds": per_seed,
        "per_class": pooled["per_class"],
        "confusion": pooled["confusion"],
        "per_fold": {
            f.name: {**spread([r["scores"]["per_fold"][f.name] for r in runs]), "n": len(f.test)} for f in folds
        },
        "config": asdict(exp),
        "recipe": {
            **asdict(recipe_of(t)),
            "input_size": t.input_size,
            "profile": t.profile,
            "seeds": list(t.run_seeds),
        },
        "protocol": {"name": exp.protocol, "folds": len(folds), "test_clips": [len(f.test) for f in folds]},
        "class_names": class_names,
        "folds": len(folds),
        "parameters": parameter_count(model),
        "package_version": __version__,
        "provenance": provenance(task, name, device),
    }
    _write(out, result, samples, runs, t.run_seeds, y, class_names)
    return result


def provenance(task: FoldTask, name: str, device: torch.device) -> dict:
    """What made a result, as content (the same on every machine for the same inputs): the code identity of the
    train stage (its import closure and library versions), the params hash, each input store's identity, the device
    and the seeds. A git commit is not written: it would make every output differ per commit, and `dvc.lock` already
    ties outputs to the commit that recorded them. The params hash leaves out where outputs are written."""
    exp, t = task.experiments[name], task.train
    return {
        "code": code_version("mer_pipeline.training.stage", libraries=LIBRARIES),
        "params_hash": params_hash(
            {"experiment": asdict(exp), "train": {k: v for k, v in asdict(t).items() if k not in OUTPUT_PATHS}}
        ),
        "inputs": [
            {**provenance_of(paths.modality_store(task.stores, d, input_store(m)[0])), "image": input_store(m)[1]}
            for d in exp.datasets
            for m in exp.modalities
        ],
        "libraries": library_versions(),
        "device": str(device),
        "seeds": list(t.run_seeds),
    }


def _seed_run(task: FoldTask, name: str, seed: int, out: Path) -> dict:
    """One seed's predictions, pooled and per-fold scores and losses from its fold entries; the checkpoints
    train.save_checkpoints asks for."""
    exp, t, class_names = task.experiments[name], task.train, list(task.class_names[name])
    data = task.data(name)
    samples, folds, k = data.samples, data.folds, len(class_names)
    y, in_chans = samples.y.numpy(), samples.x.shape[1]
    pred, probs = np.full(len(y), -1), np.zeros((len(y), k), np.float32)
    fold_of, losses, per_fold = np.full(len(y), "", object), [], {}
    for f, fold in enumerate(folds):
        job = FoldJob(name, seed, f)
        arrays = task.read(job)
        p = arrays["probs"]
        probs[fold.test], pred[fold.test], fold_of[fold.test] = p, p.argmax(1), fold.name
        per_fold[fold.name] = {
            k2: v for k2, v in scores(y[fold.test], pred[fold.test], k).items() if k2 in ("acc", "uf1", "uar", "n")
        }
        losses += [(seed, fold.name, e + 1, float(loss)) for e, loss in enumerate(arrays["loss"])]
        if task.wants_weights(job):
            suffix = "" if t.save_checkpoints == "last" else f"_{fold.name.replace('/', '_')}"
            model = load_weights(create_model(exp.model, k, in_chans, **exp.model_kwargs()), arrays)
            save_checkpoint(
                out / f"checkpoint{suffix}.pt",
                model,
                {
                    "model": exp.model,
                    "num_classes": k,
                    "in_chans": in_chans,
                    "model_params": exp.model_kwargs(),
                    "class_names": class_names,
                    "modalities": list(exp.modalities),
                    "input_size": t.input_size,
                    "package_version": __version__,
                    "fold": fold.name,
                    "seed": seed,
                    "test_clips": [samples.clip_ids[j] for j in fold.test],
                },
            )
    tested = pred >= 0
    pooled = scores(y[tested], pred[tested], k, class_names)
    return {
        "pred": pred,
        "probs": probs,
        "fold_of": fold_of,
        "tested": tested,
        "losses": losses,
        "scores": {**{k2: pooled[k2] for k2 in ("acc", "uf1", "uar", "n")}, "per_fold": per_fold},
    }


def _write(out, result, samples, runs, seeds, y, class_names) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    with open(out / "predictions.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["seed", "clip_id", "dataset", "subject", "fold", "y_true", "y_pred", *[f"p_{c}" for c in class_names]]
        )
        for seed, run in zip(seeds, runs):
            for i in np.flatnonzero(run["tested"]):
                w.writerow(
                    [
                        seed,
                        samples.clip_ids[i],
                        samples.datasets[i],
                        samples.subjects[i],
                        run["fold_of"][i],
                        class_names[y[i]],
                        class_names[run["pred"][i]],
                        *[f"{v:.4f}" for v in run["probs"][i]],
                    ]
                )
    with open(out / "train_loss.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["seed", "fold", "epoch", "loss"])
        w.writerows([(s, f, e, f"{loss:.5f}") for run in runs for s, f, e, loss in run["losses"]])
