"""The motion curve of a clip and its peak.

Per region r of the face (brows, eyes, nose, mouth: hulls of mediapipe face-mesh points on the reference frame, in
aligned-face pixels, grown by `grow` eye distances), m_r(t) = mean over the region of |flow(onset -> t)| (DIS dense
flow on luminance). The clip's curve is the region whose smoothed curve peaks highest; the apex is that peak.
Conventions: landmarks are (x, y) aligned-face pixels, origin top-left; t = 0 is the onset (the faces entry's first
frame).
"""

from dataclasses import dataclass

import cv2
import numpy as np

from mer_pipeline.face_mesh import EYE_OUTER, REGIONS

DIGITS = 4  # curves are stored and compared rounded: far below the noise, the same on every CPU


def region_masks(landmarks: np.ndarray, size: int, regions: tuple[str, ...], grow: float) -> dict[str, np.ndarray]:
    """(size, size) bool mask per region name, from (N >= 468, 2) aligned-face landmarks."""
    eye_distance = float(np.linalg.norm(landmarks[EYE_OUTER[0]] - landmarks[EYE_OUTER[1]]))
    radius = int(round(grow * eye_distance))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)) if radius else None
    masks = {}
    for name in regions:
        mask = np.zeros((size, size), np.uint8)
        for part in REGIONS[name]:
            cv2.fillConvexPoly(mask, cv2.convexHull(np.round(landmarks[list(part)]).astype(np.int32)), 1)
        masks[name] = (cv2.dilate(mask, kernel) if kernel is not None else mask).astype(bool)
    return masks


def region_curves(frames: np.ndarray, masks: dict[str, np.ndarray]) -> np.ndarray:
    """Mean flow magnitude onset -> t inside each mask.

    Args:
        frames: (T, S, S, 3) uint8 RGB aligned faces, onset first.
        masks: name -> (S, S) bool.

    Returns:
        (T, R) float64, row 0 zero, columns in the order of `masks`.
    """
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    curves = np.zeros((len(frames), len(masks)))
    for t in range(1, len(frames)):
        flow = dis.calc(grey[0], grey[t], None)
        magnitude = np.hypot(flow[..., 0], flow[..., 1])
        curves[t] = [magnitude[m].mean() for m in masks.values()]
    return curves


def smooth(curves: np.ndarray, sigma: float) -> np.ndarray:
    """(T, R) curves smoothed along time with a Gaussian of `sigma` frames (edges repeated); none below 0.3."""
    if sigma < 0.3 or len(curves) < 3:
        return curves.copy()
    radius = max(1, int(np.ceil(3 * sigma)))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    padded = np.pad(curves, [(radius, radius), (0, 0)], mode="edge")  # (T + 2 radius, R)
    return np.stack([np.convolve(padded[:, j], kernel / kernel.sum(), "valid") for j in range(curves.shape[1])], 1)


@dataclass(frozen=True)
class Peak:
    """A clip's spotted peak: `index` into the clip (0 = onset), the region it is in, the smoothed curve there,
    its peak value and the clip's noise floor (the raw curve's smallest value after the onset: the frames where the
    face is back at or not yet away from neutral)."""

    index: int
    region: str
    curve: np.ndarray
    peak: float
    floor: float


def find_peak(curves: np.ndarray, names: tuple[str, ...], sigma: float) -> Peak:
    """The peak of the region whose smoothed curve peaks highest; ties go to the earlier frame, then region order.

    Args:
        curves: (T, R) raw region curves (region_curves), T >= 2.
        names: the R region names.
        sigma: smoothing in frames.
    """
    smoothed = np.round(smooth(curves, sigma), DIGITS)
    r = int(np.argmax(smoothed.max(0)))
    index = int(np.argmax(smoothed[:, r]))
    return Peak(index, names[r], smoothed[:, r], float(smoothed[index, r]), round(float(curves[1:, r].min()), DIGITS))
