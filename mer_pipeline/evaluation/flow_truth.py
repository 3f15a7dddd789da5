"""Scoring against the synthetic ground truth in aligned-face coordinates.

The ground-truth flow lives in raw-frame pixels; a faces entry holds the similarity A (source -> aligned, (x, y),
origin top-left) used for the whole clip. A source point x moving by u(x) appears at A x moving by L u(x), L the
linear part of A, so the aligned ground truth is gt_al(y) = L u(A^-1 y).
"""

import cv2
import numpy as np


def aligned_ground_truth(flow: np.ndarray, transform: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 2) source-pixel flow -> (size, size, 2) flow in aligned pixels. transform: (2, 3) source -> aligned."""
    m = np.asarray(transform, np.float64)
    sampled = cv2.warpAffine(flow.astype(np.float32), m, (size, size), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)  # u(A^-1 y) on the aligned grid
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
