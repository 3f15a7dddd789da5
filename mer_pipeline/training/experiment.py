"""Run one experiment: samples from the modality stores -> folds -> train (fixed epochs) -> pooled predictions ->
metrics. Writes, under the experiment's folder:
    results.json      pooled ACC/UF1/UAR, per-fold and per-class figures, confusion matrix, config
    predictions.csv   clip_id, dataset, subject, fold, y_true, y_pred, p_<class>...
    train_loss.csv    fold, epoch, loss
    checkpoint.pt     weights + plain metadata of the last fold (params train.save_checkpoints)
"""

import csv
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from mer_pipeline import __version__
from mer_pipeline.config import ExperimentParams, ModalitiesParams, TrainParams
from mer_pipeline.metrics import scores
from mer_pipeline.models import create_model, parameter_count
from mer_pipeline.training.checkpoint import save_checkpoint
from mer_pipeline.training.data import load_samples
from mer_pipeline.training.loop import Recipe, predict, seed_everything, train
from mer_pipeline.training.protocols import holdout_fold, loso_folds


def recipe_of(t: TrainParams) -> Recipe:
    return Recipe(t.epochs, t.batch_size, t.lr, t.weight_decay, t.focal_gamma, t.hflip, t.rotations)


def run_experiment(name: str, exp: ExperimentParams, t: TrainParams, class_names: list[str], stores: ModalitiesParams,
                   out: Path, device: torch.device, progress=None) -> dict:
    samples = load_samples(stores, list(exp.datasets), list(exp.modalities), f"label{exp.classes}", t.input_size)
    y = samples.y.numpy()
    folds = loso_folds(samples.subjects) if exp.protocol == "loso" else holdout_fold(y, t.test_fraction, t.seed)
    in_chans, k = samples.x.shape[1], len(class_names)
    pred = np.full(len(y), -1)
    probs = np.zeros((len(y), k), np.float32)
    fold_of = np.full(len(y), "", object)
    losses, per_fold = [], {}
    for f, fold in enumerate(progress(folds) if progress else folds):
        seed_everything(t.seed + f)  # before building the model: its initial weights come from the seed too
        model = create_model(exp.model, k, in_chans, **exp.model_params)
        train(model, samples.x[fold.train], samples.y[fold.train], samples.kinds, recipe_of(t), device, t.seed + f,
              on_epoch=lambda e, loss, name=fold.name: losses.append((name, e + 1, loss)))
        p = predict(model, samples.x[fold.test], device).numpy()
        probs[fold.test], pred[fold.test], fold_of[fold.test] = p, p.argmax(1), fold.name
        per_fold[fold.name] = {k2: v for k2, v in scores(y[fold.test], pred[fold.test], k).items()
                               if k2 in ("acc", "uf1", "uar", "n")}
        if t.save_checkpoints == "all" or (t.save_checkpoints == "last" and f == len(folds) - 1):
            suffix = "" if t.save_checkpoints == "last" else f"_{fold.name.replace('/', '_')}"
            save_checkpoint(out / f"checkpoint{suffix}.pt", model.cpu(), {
                "model": exp.model, "num_classes": k, "in_chans": in_chans, "model_params": exp.model_params,
                "class_names": class_names, "modalities": list(exp.modalities), "input_size": t.input_size,
                "package_version": __version__, "fold": fold.name,
                "test_clips": [samples.clip_ids[i] for i in fold.test]})
    tested = pred >= 0
    result = {
        "experiment": name, **scores(y[tested], pred[tested], k, class_names), "per_fold": per_fold,
        "config": asdict(exp), "recipe": {**asdict(recipe_of(t)), "input_size": t.input_size, "profile": t.profile},
        "class_names": class_names, "folds": len(folds), "parameters": parameter_count(model),
        "package_version": __version__,
    }
    _write(out, name, result, samples, fold_of, y, pred, probs, class_names, losses)
    return result


def _write(out, name, result, samples, fold_of, y, pred, probs, class_names, losses) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    with open(out / "predictions.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["clip_id", "dataset", "subject", "fold", "y_true", "y_pred", *[f"p_{c}" for c in class_names]])
        for i in np.flatnonzero(pred >= 0):
            w.writerow([samples.clip_ids[i], samples.datasets[i], samples.subjects[i], fold_of[i],
                        class_names[y[i]], class_names[pred[i]], *[f"{v:.4f}" for v in probs[i]]])
    with open(out / "train_loss.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["fold", "epoch", "loss"])
        w.writerows([(f, e, f"{loss:.5f}") for f, e, loss in losses])
