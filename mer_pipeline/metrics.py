"""MER metrics on predictions pooled over all folds, as MEGC 2019 and the paper compute them.

ACC: overall accuracy. UF1: per-class F1 = 2TP / (2TP + FP + FN) from TP/FP/FN pooled over all folds, averaged over
the classes that occur in the ground truth or the predictions (sklearn's macro F1; a class of the label set that
never occurs, e.g. "others" on the synthetic data, is left out rather than counted as 0). UAR: mean per-class
recall over the classes present in the ground truth (= balanced accuracy). Averaging per subject or per
fold is non-standard and is not done here; per-fold figures are reported beside, for inspection only.
"""

import numpy as np


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) counts: rows = true class, columns = predicted class."""
    m = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(m, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return m


def scores(y_true, y_pred, num_classes: int, class_names: list[str] | None = None) -> dict:
    """ACC, UF1, UAR, per-class precision/recall/F1/support and the confusion matrix."""
    m = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(m).astype(float)
    fp, fn = m.sum(0) - tp, m.sum(1) - tp
    support = m.sum(1)
    f1 = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros_like(tp), where=(2 * tp + fp + fn) > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
    occurs = (support + m.sum(0)) > 0
    names = class_names or [str(i) for i in range(num_classes)]
    return {
        "acc": float(tp.sum() / max(m.sum(), 1)),
        "uf1": float(f1[occurs].mean()) if occurs.any() else 0.0,
        "uar": float(recall[support > 0].mean()) if (support > 0).any() else 0.0,
        "n": int(m.sum()),
        "per_class": {
            names[i]: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i in range(num_classes)
        },
        "confusion": m.tolist(),
    }


def spread(results: list[dict]) -> dict:
    """Mean and standard deviation (ddof 0) of acc, uf1 and uar over runs (seeds), as key and key_std."""
    out = {}
    for key in ("acc", "uf1", "uar"):
        values = np.array([r[key] for r in results], np.float64)
        out[key], out[f"{key}_std"] = float(values.mean()), float(values.std())
    return out
