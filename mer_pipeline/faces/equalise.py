"""Histogram equalisation on luminance (Y of YCrCb), leaving chroma untouched."""

import cv2
import numpy as np


def equalise(frames: np.ndarray, method: str, clip_limit: float = 2.0, tiles: int = 8) -> np.ndarray:
    """Equalise each frame's luminance.

    Args:
        frames: (T, H, W, 3) uint8 RGB.
        method: "none", "global" (cv2.equalizeHist) or "clahe".
        clip_limit, tiles: CLAHE contrast limit and grid (tiles x tiles).

    Returns:
        (T, H, W, 3) uint8 RGB.
    """
    assert frames.ndim == 4 and frames.shape[-1] == 3 and frames.dtype == np.uint8, (frames.shape, frames.dtype)
    if method == "none":
        return frames.copy()
    if method == "global":
        op = cv2.equalizeHist
    elif method == "clahe":
        op = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tiles, tiles)).apply
    else:
        raise ValueError(f"unknown equalisation {method!r}")
    out = np.empty_like(frames)
    for i, frame in enumerate(frames):
        ycc = cv2.cvtColor(frame, cv2.COLOR_RGB2YCrCb)
        ycc[..., 0] = op(np.ascontiguousarray(ycc[..., 0]))
        out[i] = cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)
    return out
