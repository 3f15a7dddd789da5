"""Fold jobs: one training of one (experiment, seed, fold) as an item of the per-clip engine.

A fold job's content key hashes the code identity of training and the models, the experiment, the recipe, the seed,
the fold's train and test clips with each sample's content key in its stores and its label, and the arithmetic
settings on the device (device type, autocast, layout, and on the CPU the fixed thread count train.cpu_threads).
Its result is one entry of plain arrays:

    probs      (n_test, K) float32   class probabilities of the fold's test clips, in fold order
    loss       (epochs,) float64     mean training loss per epoch
    seconds    (2,) float64          training and prediction wall time (not part of any output file)
    weights/*  the final weights (state-dict arrays), only where train.save_checkpoints asks for this fold

Entries live in the local fold store, `<train.folds>/<group>/<experiment>/seed<seed>/fold<nnn>.npz`, each written
whole or not at all (the shared cache's entry format, written to a temporary name and renamed), so a run killed at
any moment keeps every finished fold and never reads a partial one; the same entries are published to the shared
cache under kind `fold`. Nothing is unpickled: weights are arrays read with allow_pickle=False.

Folds trained together (`train.folds_at_once`) give the same results as alone (training/loop.py), so a fold's key
does not depend on its group.
"""

import hashlib
import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch

from mer_pipeline import engine
from mer_pipeline.config import ExperimentParams, ModalitiesParams, TrainParams
from mer_pipeline.device import resolve_device
from mer_pipeline.identity import code_version
from mer_pipeline.models import create_model
from mer_pipeline.store import entries
from mer_pipeline.store.cache import content_key
from mer_pipeline.training.data import Samples, load_samples
from mer_pipeline.training.loop import Job, Recipe, predict, seed_everything, train_together
from mer_pipeline.training.protocols import Fold, holdout_fold, loso_folds

LIBRARIES = ("torch", "torchvision", "numpy")
WEIGHTS = "weights/"
KIND = "fold"


def fold_problem(arrays: dict[str, np.ndarray]) -> str | None:
    """What is wrong with a fold entry's arrays, whatever its fold (None: nothing): finite float32 (n, k)
    probabilities, a finite float64 loss per epoch, its timing, and finite weights if any."""
    probs, loss = arrays.get("probs"), arrays.get("loss")
    if (
        probs is None
        or loss is None
        or "seconds" not in arrays
        or set(arrays) - {"probs", "loss", "seconds"} != {a for a in arrays if a.startswith(WEIGHTS)}
    ):
        return f"arrays {sorted(arrays)[:6]}, not a fold entry's"
    if probs.dtype != np.float32 or probs.ndim != 2 or loss.dtype != np.float64 or loss.ndim != 1:
        return "probabilities or loss of the wrong type or shape"
    if not all(np.isfinite(a).all() for a in arrays.values() if a.dtype.kind == "f"):
        return "values that are not finite"
    return None


def recipe_of(t: TrainParams) -> Recipe:
    return Recipe(
        t.epochs,
        t.batch_size,
        t.lr,
        t.weight_decay,
        t.focal_gamma,
        t.hflip,
        t.rotations,
        t.mixed_precision,
        t.channels_last,
    )


@lru_cache(maxsize=1)
def training_code() -> str:
    """The code identity of a fold job: training, the models, the store readers, and the libraries' versions."""
    return code_version("mer_pipeline.training.folds", libraries=LIBRARIES)


def library_versions() -> dict[str, str]:
    return {lib: version(lib) for lib in LIBRARIES}


@dataclass(frozen=True)
class FoldJob:
    """One engine item: fold index `fold` of experiment `experiment` trained with seed `seed`."""

    experiment: str
    seed: int
    fold: int


@dataclass(frozen=True)
class Data:
    """An experiment's samples and folds, as a process loaded them."""

    samples: Samples
    folds: list[Fold]


_LOADED: dict[tuple[str, str], Data] = {}  # (run id, experiment) -> data; a dask worker loads once per run


@dataclass(frozen=True)
class FoldTask:
    """The engine's task for the fold jobs of one experiment group. Holds names, params and paths only (it travels to
    dask workers, which read their samples from the stores themselves)."""

    experiments: dict[str, ExperimentParams]
    class_names: dict[str, tuple[str, ...]]
    train: TrainParams
    stores: ModalitiesParams
    folder: str  # the group's local fold store
    device: str
    run: str = field(default_factory=lambda: uuid.uuid4().hex)
    kind: str = KIND

    def data(self, name: str) -> Data:
        """The samples and folds of experiment `name` (loaded once per process and run)."""
        if (self.run, name) not in _LOADED:
            exp, t = self.experiments[name], self.train
            samples = load_samples(
                self.stores, list(exp.datasets), list(exp.modalities), f"label{exp.classes}", t.input_size
            )
            y = samples.y.numpy()
            folds = (
                loso_folds(samples.subjects)
                if exp.protocol == "loso"
                else holdout_fold(y, t.test_fraction, t.split_seed)
            )
            for old in [k for k in _LOADED if k[0] != self.run]:
                del _LOADED[old]
            _LOADED[(self.run, name)] = Data(samples, folds)
        return _LOADED[(self.run, name)]

    def items(self) -> list[FoldJob]:
        """Every fold job of the group: experiments in order, then seeds, then folds."""
        return [
            FoldJob(name, seed, f)
            for name in self.experiments
            for seed in self.train.run_seeds
            for f in range(len(self.data(name).folds))
        ]

    def path(self, job: FoldJob) -> Path:
        return Path(self.folder) / job.experiment / f"seed{job.seed}" / f"fold{job.fold:03d}.npz"

    def wants_weights(self, job: FoldJob) -> bool:
        """Whether train.save_checkpoints asks for this fold's weights (the last seed's folds: all, or the last)."""
        t = self.train
        if t.save_checkpoints == "none" or job.seed != t.run_seeds[-1]:
            return False
        return t.save_checkpoints == "all" or job.fold == len(self.data(job.experiment).folds) - 1

    def prepare(self, job: FoldJob) -> tuple[str, tuple[Data, Fold]]:
        data = self.data(job.experiment)
        fold, s = data.folds[job.fold], data.samples
        y = s.y.numpy()

        def digest(idx: np.ndarray) -> str:
            rows = [[s.clip_ids[i], s.keys[i], int(y[i])] for i in idx]
            return hashlib.sha256(json.dumps(rows).encode()).hexdigest()

        device = resolve_device(self.device)
        speed = recipe_of(self.train).speed(device)
        key = content_key(
            KIND,
            {
                "code": training_code(),
                "experiment": asdict(self.experiments[job.experiment]),
                "recipe": asdict(recipe_of(self.train)),
                "input_size": self.train.input_size,
                "classes": list(self.class_names[job.experiment]),
                "seed": job.seed,
                "fold": [job.fold, fold.name],
                "train": digest(fold.train),
                "test": digest(fold.test),
                "weights": self.wants_weights(job),
                "device": [device.type, str(speed.autocast), str(speed.layout)],
                **({"cpu_threads": self.train.cpu_threads} if device.type == "cpu" else {}),
            },
        )
        return key, (data, fold)

    def stored_key(self, job: FoldJob) -> str | None:
        entry = self._stored(job)
        return entry[1]["key"] if entry else None

    def _stored(self, job: FoldJob) -> tuple[dict[str, np.ndarray], dict] | None:
        """(arrays, manifest) of the local entry when it is intact and holds this fold's result; None otherwise."""
        entry = entries.stored(self.path(job), KIND)
        if entry is None:
            return None
        pending = engine.Pending(job, entry[1]["key"], (self.data(job.experiment), None))
        return entry if self.accepts(pending, entry[0]) else None

    def accepts(self, p: engine.Pending, arrays: dict[str, np.ndarray]) -> bool:
        """An entry holds this fold's result: probabilities for each of its test clips, one loss per epoch, weights
        exactly where asked, all finite."""
        data, job = p.state[0], p.item
        n, k = len(data.folds[job.fold].test), len(self.class_names[job.experiment])
        weights = any(name.startswith(WEIGHTS) for name in arrays)
        return (
            fold_problem(arrays) is None
            and arrays["probs"].shape == (n, k)
            and arrays["loss"].shape == (self.train.epochs,)
            and weights == self.wants_weights(job)
        )

    def compute(self, pending: list[engine.Pending]) -> list[dict[str, np.ndarray]]:
        """Train the pending folds together (train.folds_at_once of them), one group per experiment, and predict
        their test clips."""
        device = resolve_device(self.device)
        threads = torch.get_num_threads()
        if device.type == "cpu" and self.train.cpu_threads:
            torch.set_num_threads(self.train.cpu_threads)
        try:
            return self._train(pending, device)
        finally:
            torch.set_num_threads(threads)

    def _train(self, pending: list[engine.Pending], device: torch.device) -> list[dict[str, np.ndarray]]:
        recipe = recipe_of(self.train)
        out: dict[int, dict[str, np.ndarray]] = {}
        for name in dict.fromkeys(p.item.experiment for p in pending):
            members = [(i, p) for i, p in enumerate(pending) if p.item.experiment == name]
            s, exp = members[0][1].state[0].samples, self.experiments[name]
            jobs, losses = [], []
            for _, p in members:
                fold, fold_seed = p.state[1], p.item.seed * 1000 + p.item.fold
                seed_everything(fold_seed)  # before building the model: its initial weights come from the seed too
                model = create_model(exp.model, len(self.class_names[name]), s.x.shape[1], **exp.model_kwargs())
                losses.append([])
                jobs.append(
                    Job(
                        model,
                        s.x[fold.train],
                        s.y[fold.train],
                        fold_seed,
                        lambda e, loss, rows=losses[-1]: rows.append(loss),
                    )
                )
            start = time.perf_counter()
            train_together(jobs, s.kinds, recipe, device)
            train_s = (time.perf_counter() - start) / len(jobs)
            for (i, p), job, loss in zip(members, jobs, losses):
                start = time.perf_counter()
                probs = predict(job.model, s.x[p.state[1].test], device, speed=recipe.speed(device)).numpy()
                arrays = {
                    "probs": probs.astype(np.float32),
                    "loss": np.array(loss, np.float64),
                    "seconds": np.array([train_s, time.perf_counter() - start], np.float64),
                }
                if self.wants_weights(p.item):
                    arrays |= {
                        WEIGHTS + k: v.detach().cpu().contiguous().numpy() for k, v in job.model.state_dict().items()
                    }
                out[i] = arrays
        return [out[i] for i in range(len(pending))]

    def write(self, p: engine.Pending, arrays: dict[str, np.ndarray]) -> None:
        entries.write(self.path(p.item), KIND, p.key, arrays, {"clip_id": self.label(p.item)})

    def read(self, job: FoldJob) -> dict[str, np.ndarray]:
        entry = self._stored(job)
        if entry is None:
            raise KeyError(f"{self.path(job)}: no complete fold result")
        return entry[0]

    def label(self, job: FoldJob) -> str:
        return f"{job.experiment} seed {job.seed} fold {self.data(job.experiment).folds[job.fold].name}"


def load_weights(model: torch.nn.Module, arrays: dict[str, np.ndarray]) -> torch.nn.Module:
    """A model with the weights of a fold entry (arrays only, never unpickled)."""
    model.load_state_dict({k[len(WEIGHTS) :]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith(WEIGHTS)})
    return model


def push_folds(folder: Path, cache) -> dict[str, int]:
    """Publish every intact fold entry under `folder` (a group's fold store, or train.folds) that the cache lacks."""
    return entries.push(folder, "fold*.npz", KIND, cache)
