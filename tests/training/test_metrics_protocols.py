import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score

from mer_pipeline.metrics import scores
from mer_pipeline.training.loss import focal_loss
from mer_pipeline.training.protocols import holdout_fold, loso_folds


def test_metrics_by_hand():
    y = [0, 0, 0, 1, 1, 2]
    p = [0, 0, 1, 1, 2, 2]
    s = scores(y, p, 3, ["neg", "pos", "sur"])
    # F1: neg 2*2/(4+0+1)=0.8, pos 2*1/(2+1+1)=0.5, sur 2*1/(2+1+0)=2/3; recalls 2/3, 1/2, 1
    assert s["acc"] == pytest.approx(4 / 6)
    assert s["uf1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert s["uar"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    assert s["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert s["per_class"]["pos"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}


@pytest.mark.parametrize("seed", range(5))
def test_metrics_agree_with_sklearn(seed):
    rng = np.random.default_rng(seed)
    y, p = rng.integers(0, 5, 60), rng.integers(0, 5, 60)
    p[:10] = y[:10]
    s = scores(y, p, 5)
    assert s["uf1"] == pytest.approx(f1_score(y, p, average="macro"))
    assert s["uar"] == pytest.approx(balanced_accuracy_score(y, p))
    assert s["confusion"] == confusion_matrix(y, p, labels=range(5)).tolist()


def test_absent_class_is_left_out_of_uf1():
    s = scores([0, 1, 1], [0, 1, 1], 5)
    assert s["uf1"] == 1.0 and s["uar"] == 1.0


def test_loso_never_shares_a_subject():
    subjects = ["a", "b", "a", "c", "b", "c", "c"]
    folds = loso_folds(subjects)
    assert [f.name for f in folds] == ["a", "b", "c"]
    for f in folds:
        assert {subjects[i] for i in f.test} == {f.name}
        assert f.name not in {subjects[i] for i in f.train}
        assert sorted([*f.train, *f.test]) == list(range(7))


def test_holdout_is_stratified_and_disjoint():
    labels = np.array([0] * 50 + [1] * 30 + [2] * 20)
    (fold,) = holdout_fold(labels, 0.1, seed=0)
    assert np.intersect1d(fold.train, fold.test).size == 0 and len(fold.train) + len(fold.test) == 100
    assert np.bincount(labels[fold.test]).tolist() == [5, 3, 2]
    assert holdout_fold(labels, 0.1, seed=0)[0].test.tolist() == fold.test.tolist()


def test_focal_loss():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
    target = torch.tensor([0, 2])
    torch.testing.assert_close(focal_loss(logits, target, gamma=0.0), F.cross_entropy(logits, target))
    p = torch.softmax(logits, 1)[[0, 1], target]
    torch.testing.assert_close(focal_loss(logits, target, 2.0), (-((1 - p) ** 2) * p.log()).mean())
    assert focal_loss(logits, target, 2.0) < F.cross_entropy(logits, target)  # easy examples down-weighted
