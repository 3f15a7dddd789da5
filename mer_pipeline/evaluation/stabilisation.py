"""Scoring stabilisation against the synthetic ground truth.

A faces entry holds per-frame transforms M_t (source frame t -> aligned); the generator wrote each frame's true head
transform H_t (still face -> frame t). Perfect stabilisation makes M_t H_t the same for every frame, so the residual
rigid motion of frame t at an aligned point p of the reference is |M_t H_t (M_r H_r)^-1 p - p|, averaged over the
reference's face-hull landmarks (px at the aligned size).
"""

import numpy as np

from mer_pipeline.face_mesh import MESH_POINTS
from mer_pipeline.store import faces as faces_store
from mer_pipeline.synth.generate import read_ground_truth


def to3(m: np.ndarray) -> np.ndarray:
    return np.concatenate([m, np.broadcast_to([0.0, 0.0, 1.0], (*m.shape[:-2], 1, 3))], -2)


def residuals(matrices: np.ndarray, heads: np.ndarray, reference: int, points: np.ndarray) -> np.ndarray:
    """(T,) mean residual (px) per frame. matrices, heads: (T, 2, 3); points: (N, 2) aligned reference points."""
    composite = to3(matrices) @ to3(heads)  # still face -> aligned, per frame
    moved = composite @ np.linalg.inv(composite[reference])  # aligned reference -> aligned frame t
    p = np.c_[points, np.ones(len(points))]
    return np.linalg.norm(np.einsum("tij,nj->tni", moved[:, :2], p) - points, axis=-1).mean(1)


def residual_motion(faces_path, dataset_root) -> dict[str, np.ndarray]:
    """clip id -> (T,) residual rigid motion per frame (px) for every complete entry with ground truth."""
    root = faces_store.open_existing(faces_path)
    truth = read_ground_truth(dataset_root)
    out = {}
    for clip_id in faces_store.complete_entries(root):
        entry = faces_store.entry(root, clip_id)
        if clip_id not in truth:
            continue
        heads = np.load(truth[clip_id]["head"])["transforms"]
        first = entry.onset - truth[clip_id]["first"]
        heads = heads[first : first + len(entry.transforms)]
        points = entry.landmark_array[:MESH_POINTS] @ entry.matrix[:, :2].T + entry.matrix[:, 2]
        out[clip_id] = residuals(entry.matrices, heads, entry.reference_index, points)
    return out
