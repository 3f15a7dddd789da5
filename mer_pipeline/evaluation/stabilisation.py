"""Scoring stabilisation against the synthetic ground truth.

A faces entry holds per-frame transforms M_t (source frame t -> aligned); the generator wrote where each point of
the face mesh truly is in every frame, q_t (the head's rigid motion alone, 2D or 3D). Perfect stabilisation puts a
point at the same aligned position in every frame, so the residual rigid motion of frame t is
mean_n |M_t q_t,n - M_r q_r,n| over the mesh's points (px at the aligned size; r the reference frame).
"""

import numpy as np

from mer_pipeline.faces.depth import aligned_depth, locate
from mer_pipeline.store import faces as faces_store
from mer_pipeline.synth.generate import read_ground_truth


def residuals(matrices: np.ndarray, points: np.ndarray, reference: int) -> np.ndarray:
    """(T,) mean residual (px) per frame. matrices: (T, 2, 3) source -> aligned; points: (T, N, 2) the true source
    positions of N head points in each frame."""
    return point_residuals(matrices, points, reference).mean(1)


def point_residuals(matrices: np.ndarray, points: np.ndarray, reference: int) -> np.ndarray:
    """(T, N) `residuals` per point: how far (px) each point is, in frame t's aligned face, from where it is in the
    reference's."""
    aligned = np.einsum("tij,tnj->tni", matrices[:, :, :2], points) + matrices[:, None, :, 2]  # (T, N, 2)
    return np.linalg.norm(aligned - aligned[reference], axis=-1)


def residual_motion(faces_path, dataset_root) -> dict[str, np.ndarray]:
    """clip id -> (T,) residual rigid motion per frame (px) for every complete entry with ground truth."""
    return {clip_id: e.mean(1) for clip_id, e in point_motion(faces_path, dataset_root).items()}


def point_motion(faces_path, dataset_root) -> dict[str, np.ndarray]:
    """clip id -> (T, N) `residual_motion` per mesh point."""
    root = faces_store.open_existing(faces_path)
    truth = read_ground_truth(dataset_root)
    out = {}
    for clip_id in faces_store.complete_entries(root):
        entry = faces_store.entry(root, clip_id)
        if clip_id not in truth:
            continue
        first = entry.onset - truth[clip_id]["first"]
        points = np.load(truth[clip_id]["head"])["points"][first : first + len(entry.transforms)]
        if len(entry.camera_array):
            out[clip_id] = camera_point_residuals(entry, points, faces_store.entry_side(root, clip_id))
        else:
            out[clip_id] = point_residuals(entry.matrices, points, entry.reference_index)
    return out


def camera_point_residuals(entry, points: np.ndarray, size: int) -> np.ndarray:
    """(T, N) as `point_residuals`, for an entry stabilised through per-frame cameras and the reference's depth
    (registration_3d): a point's aligned position is where its camera shows it."""
    depth = aligned_depth(entry.landmark_array, entry.depth_array, entry.matrix, size)
    aligned = np.stack(
        [
            locate(camera, depth, pts, pts @ m[:, :2].T + m[:, 2])
            for camera, pts, m in zip(entry.camera_array, points, entry.matrices)
        ]
    )
    return np.linalg.norm(aligned - aligned[entry.reference_index], axis=-1)
