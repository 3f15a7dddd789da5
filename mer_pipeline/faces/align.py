"""Similarity alignment from two eye centres, computed once per clip and applied to every frame.

Convention: points are (x, y) pixels, origin top-left; the 2x3 matrix maps source -> destination (as
cv2.warpAffine takes it without WARP_INVERSE_MAP).
"""

import cv2
import numpy as np

from mer_pipeline.config import FacesParams


def eye_targets(params: FacesParams) -> np.ndarray:
    """(2, 2) destination eye centres (x, y): level, centred, `eye_distance * size` apart at `eye_y * size`."""
    half = params.eye_distance * params.size / 2
    cx, y = params.size / 2, params.eye_y * params.size
    return np.array([[cx - half, y], [cx + half, y]])


def similarity_from_eyes(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The rotation + uniform scale + translation taking src eyes exactly onto dst eyes.

    Args:
        src: (2, 2) source eye centres (x, y), image-left eye first.
        dst: (2, 2) destination eye centres, same order.

    Returns:
        (2, 3) float64 matrix, source -> destination.
    """
    assert src.shape == (2, 2) and dst.shape == (2, 2), (src.shape, dst.shape)
    s = src[:, 0] + 1j * src[:, 1]  # points as complex numbers: z' = a z + b is a similarity
    d = dst[:, 0] + 1j * dst[:, 1]
    if abs(s[1] - s[0]) < 1e-6:
        raise ValueError("eye centres coincide")
    a = (d[1] - d[0]) / (s[1] - s[0])
    b = d[0] - a * s[0]
    return np.array([[a.real, -a.imag, b.real], [a.imag, a.real, b.imag]])


def apply_alignment(frames: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Warp every frame with the same matrix.

    Args:
        frames: (T, H, W, 3) uint8.
        matrix: (2, 3) source -> destination.
        size: output side in pixels.

    Returns:
        (T, size, size, 3) uint8.
    """
    assert frames.ndim == 4 and frames.shape[-1] == 3, frames.shape
    return np.stack([
        cv2.warpAffine(f, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        for f in frames
    ])


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Map (N, 2) points (x, y) with a (2, 3) matrix."""
    return points @ matrix[:, :2].T + matrix[:, 2]
