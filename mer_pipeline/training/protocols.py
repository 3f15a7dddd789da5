"""Evaluation protocols: leave-one-subject-out and the stratified 90/10 train/test split of the paper's Table I.

Neither gives the model a say on the test fold: training runs for a fixed number of epochs (no epoch or checkpoint
is chosen by its test score, the leakage several public MER repositories have).
"""

from dataclasses import dataclass

import numpy as np

from mer_pipeline.errors import UserError


@dataclass(frozen=True)
class Fold:
    name: str
    train: np.ndarray  # indices
    test: np.ndarray


def loso_folds(subjects: list[str]) -> list[Fold]:
    """One fold per subject; a subject is never in both the train and the test part."""
    subjects_arr = np.asarray(subjects)
    folds = [
        Fold(s, np.flatnonzero(subjects_arr != s), np.flatnonzero(subjects_arr == s)) for s in sorted(set(subjects))
    ]
    if len(folds) < 2:
        raise UserError("LOSO needs at least two subjects")
    return folds


def holdout_fold(labels: np.ndarray, test_fraction: float, seed: int) -> list[Fold]:
    """A stratified split: about `test_fraction` of each class (at least one clip of a class with two or more)."""
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n = int(round(len(idx) * test_fraction)) if len(idx) > 1 else 0
        test.extend(idx[: max(n, 1 if len(idx) > 1 else 0)])
    test = np.sort(np.asarray(test, int))
    return [Fold("holdout", np.setdiff1d(np.arange(len(labels)), test), test)]
