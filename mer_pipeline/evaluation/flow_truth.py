"""Scoring optical flow against the synthetic ground truth in aligned-face coordinates.

The ground-truth flow lives in raw-frame pixels; a faces entry holds the similarity A (source -> aligned, (x, y),
origin top-left) used for the whole clip. A source point x moving by u(x) appears at A x moving by L u(x), L the
linear part of A, so the aligned ground truth is gt_al(y) = L u(A^-1 y).
"""

import cv2
import numpy as np


def aligned_ground_truth(flow: np.ndarray, transform: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 2) source-pixel flow -> (size, size, 2) flow in aligned pixels. transform: (2, 3) source -> aligned."""
    m = np.asarray(transform, np.float64)
    sampled = cv2.warpAffine(
        flow.astype(np.float32), m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )  # u(A^-1 y) on the aligned grid
    return sampled @ m[:, :2].T.astype(np.float32)  # (size, size, 2) @ L^T


def face_mask(landmarks: np.ndarray, transform: np.ndarray, size: int) -> np.ndarray:
    """(size, size) bool: inside the convex hull of the face landmarks mapped to aligned coordinates."""
    m = np.asarray(transform, np.float64)
    pts = np.asarray(landmarks)[:468] @ m[:, :2].T + m[:, 2]
    mask = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(pts).astype(np.int32)), 1)
    return mask.astype(bool)


def endpoint_error(estimate: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    """Mean Euclidean distance between (H, W, 2) flows over mask."""
    return float(np.linalg.norm(estimate - truth, axis=-1)[mask].mean())


def onset_apex_pairs(faces_path, truth_root) -> tuple:
    """Onset and apex frames of every complete faces entry with synthetic ground truth.

    Returns:
        first, second: (B, 3, S, S) float tensors in [0, 1]; truths: list of (S, S, 2) aligned ground-truth flows;
        masks: list of (S, S) face masks; ids: the clip ids.
    """
    import torch

    from mer_pipeline.store import faces as faces_store
    from mer_pipeline.synth.generate import read_ground_truth

    faces = faces_store.open_existing(faces_path)
    gt = read_ground_truth(truth_root)
    first, second, truths, masks, ids = [], [], [], [], []
    for clip_id in faces_store.complete_entries(faces):
        if clip_id not in gt:
            continue
        stored, entry = faces_store.read_entry(faces, clip_id)
        frames = torch.from_numpy(stored).permute(0, 3, 1, 2).float() / 255  # (T, S, S, 3) -> (T, 3, S, S)
        size = frames.shape[-1]
        first.append(frames[entry.key_frames.onset])
        second.append(frames[entry.key_frames.apex])
        truths.append(aligned_ground_truth(np.load(gt[clip_id]["flow"])["flow"], entry.matrix, size))
        masks.append(face_mask(entry.landmark_array, entry.matrix, size))
        ids.append(clip_id)
    return torch.stack(first), torch.stack(second), truths, masks, ids


def mean_epe(flows, truths: list[np.ndarray], masks: list[np.ndarray]) -> float:
    """Mean over clips of the in-face EPE; flows (B, >=2, S, S) tensor, (u, v) first."""
    return float(
        np.mean([endpoint_error(f[:2].permute(1, 2, 0).cpu().numpy(), t, m) for f, t, m in zip(flows, truths, masks)])
    )
