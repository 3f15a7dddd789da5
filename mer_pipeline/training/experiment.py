"""Run one experiment: samples from the modality stores -> folds -> train (fixed epochs), once per seed -> pooled
predictions per seed -> metrics with their spread over seeds. Writes, under the experiment's folder:
    results.json      ACC/UF1/UAR mean and std over seeds, each seed's pooled figures and per-fold figures, per-fold
                      mean/std with clip counts, per-class figures and confusion over all seeds, config, protocol
    predictions.csv   seed, clip_id, dataset, subject, fold, y_true, y_pred, p_<class>...
    train_loss.csv    seed, fold, epoch, loss
    checkpoint.pt     weights + plain metadata of the last seed's last fold (params train.save_checkpoints)
"""

import csv
import json
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch

from mer_pipeline import __version__, paths
from mer_pipeline.config import ExperimentParams, ModalitiesParams, TrainParams, input_store, params_hash
from mer_pipeline.identity import code_version
from mer_pipeline.metrics import scores, spread
from mer_pipeline.models import create_model, parameter_count
from mer_pipeline.store.modality import provenance_of
from mer_pipeline.training.checkpoint import save_checkpoint
from mer_pipeline.training.data import load_samples
from mer_pipeline.training.loop import Job, Recipe, predict, seed_everything, train_together
from mer_pipeline.training.protocols import holdout_fold, loso_folds


LIBRARIES = ("torch", "torchvision", "numpy")


def recipe_of(t: TrainParams) -> Recipe:
    return Recipe(t.epochs, t.batch_size, t.lr, t.weight_decay, t.focal_gamma, t.hflip, t.rotations,
                  t.mixed_precision, t.channels_last)


def run_experiment(name: str, exp: ExperimentParams, t: TrainParams, class_names: list[str], stores: ModalitiesParams,
                   out: Path, device: torch.device, progress=None) -> dict:
    """Every seed of `t.run_seeds` over every fold. Metrics are pooled over the folds within a seed; the result holds
    each seed's and their mean and standard deviation (ddof 0)."""
    samples = load_samples(stores, list(exp.datasets), list(exp.modalities), f"label{exp.classes}", t.input_size)
    y, k = samples.y.numpy(), len(class_names)
    folds = loso_folds(samples.subjects) if exp.protocol == "loso" else holdout_fold(y, t.test_fraction, t.split_seed)
    runs = [_run_seed(seed, exp, t, samples, folds, k, class_names, out, device, progress) for seed in t.run_seeds]
    per_seed = {str(seed): run["scores"] for seed, run in zip(t.run_seeds, runs)}
    pooled = scores(np.concatenate([y[r["tested"]] for r in runs]), np.concatenate([r["pred"][r["tested"]] for r in runs]),
                    k, class_names)  # confusion and per-class figures over every seed's predictions
    result = {
        "experiment": name, **spread(list(per_seed.values())), "n": runs[0]["scores"]["n"], "seeds": per_seed,
        "per_class": pooled["per_class"], "confusion": pooled["confusion"],
        "per_fold": {f.name: {**spread([r["scores"]["per_fold"][f.name] for r in runs]), "n": len(f.test)}
                     for f in folds},
        "config": asdict(exp), "recipe": {**asdict(recipe_of(t)), "input_size": t.input_size, "profile": t.profile,
                                          "seeds": list(t.run_seeds)},
        "protocol": {"name": exp.protocol, "folds": len(folds), "test_clips": [len(f.test) for f in folds]},
        "class_names": class_names, "folds": len(folds), "parameters": runs[-1]["parameters"],
        "package_version": __version__, "provenance": provenance(exp, t, stores, device),
    }
    _write(out, result, samples, runs, t.run_seeds, y, class_names)
    return result


def provenance(exp: ExperimentParams, t: TrainParams, stores: ModalitiesParams, device: torch.device) -> dict:
    """What made a result, as content (the same on every machine for the same inputs): the code identity of the
    train stage (its import closure and library versions), the params hash, each input store's identity, the device
    and the seeds. A git commit is not written: it would make every output differ per commit, and `dvc.lock` already
    ties outputs to the commit that recorded them."""
    return {
        "code": code_version("mer_pipeline.training.stage", libraries=LIBRARIES),
        "params_hash": params_hash({"experiment": asdict(exp), "train": asdict(t)}),
        "inputs": [{**provenance_of(paths.modality_store(stores, d, input_store(m)[0])), "image": input_store(m)[1]}
                   for d in exp.datasets for m in exp.modalities],
        "libraries": {lib: version(lib) for lib in LIBRARIES}, "device": str(device), "seeds": list(t.run_seeds),
    }


def _run_seed(seed, exp, t, samples, folds, k, class_names, out, device, progress) -> dict:
    """One seed over every fold (`t.folds_at_once` of them trained together): predictions, pooled and per-fold
    scores, losses; checkpoints of the last seed."""
    y, in_chans = samples.y.numpy(), samples.x.shape[1]
    pred, probs = np.full(len(y), -1), np.zeros((len(y), k), np.float32)
    fold_of, losses, per_fold = np.full(len(y), "", object), [[] for _ in folds], {}
    recipe, group = recipe_of(t), []
    for f, fold in enumerate(progress(folds) if progress else folds):
        fold_seed = seed * 1000 + f
        seed_everything(fold_seed)  # before building the model: its initial weights come from the seed too
        model = create_model(exp.model, k, in_chans, **exp.model_params)
        record = (lambda e, loss, f=f, name=fold.name: losses[f].append((seed, name, e + 1, loss)))
        group.append((f, fold, Job(model, samples.x[fold.train], samples.y[fold.train], fold_seed, record)))
        if len(group) < t.folds_at_once and f < len(folds) - 1:
            continue
        train_together([job for _, _, job in group], samples.kinds, recipe, device)
        for i, member, job in group:
            model = job.model
            p = predict(model, samples.x[member.test], device, speed=recipe.speed(device)).numpy()
            probs[member.test], pred[member.test], fold_of[member.test] = p, p.argmax(1), member.name
            per_fold[member.name] = {k2: v for k2, v in scores(y[member.test], pred[member.test], k).items()
                                     if k2 in ("acc", "uf1", "uar", "n")}
            last_seed = seed == t.run_seeds[-1]
            if last_seed and (t.save_checkpoints == "all" or (t.save_checkpoints == "last" and i == len(folds) - 1)):
                suffix = "" if t.save_checkpoints == "last" else f"_{member.name.replace('/', '_')}"
                save_checkpoint(out / f"checkpoint{suffix}.pt", model.cpu(), {
                    "model": exp.model, "num_classes": k, "in_chans": in_chans, "model_params": exp.model_params,
                    "class_names": class_names, "modalities": list(exp.modalities), "input_size": t.input_size,
                    "package_version": __version__, "fold": member.name, "seed": seed,
                    "test_clips": [samples.clip_ids[j] for j in member.test]})
        group = []
    tested = pred >= 0
    pooled = scores(y[tested], pred[tested], k, class_names)
    return {"pred": pred, "probs": probs, "fold_of": fold_of, "tested": tested,
            "losses": [row for fold_losses in losses for row in fold_losses],
            "scores": {**{k2: pooled[k2] for k2 in ("acc", "uf1", "uar", "n")}, "per_fold": per_fold},
            "parameters": parameter_count(model)}


def _write(out, result, samples, runs, seeds, y, class_names) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    with open(out / "predictions.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["seed", "clip_id", "dataset", "subject", "fold", "y_true", "y_pred",
                    *[f"p_{c}" for c in class_names]])
        for seed, run in zip(seeds, runs):
            for i in np.flatnonzero(run["tested"]):
                w.writerow([seed, samples.clip_ids[i], samples.datasets[i], samples.subjects[i], run["fold_of"][i],
                            class_names[y[i]], class_names[run["pred"][i]], *[f"{v:.4f}" for v in run["probs"][i]]])
    with open(out / "train_loss.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["seed", "fold", "epoch", "loss"])
        w.writerows([(s, f, e, f"{loss:.5f}") for run in runs for s, f, e, loss in run["losses"]])
