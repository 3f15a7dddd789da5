"""The reference frame's similarity alignment: eyes level and centred; the face's size set by its landmarks (brows to
chin between margins) or by the eye distance.

Convention: points are (x, y) pixels, origin top-left; the 2x3 matrix maps source -> destination (as
cv2.warpAffine takes it without WARP_INVERSE_MAP).
"""

from collections.abc import Sequence

import cv2
import numpy as np

from mer_pipeline.config import FacesParams
from mer_pipeline.faces.landmarks import eye_centres

BROWS = (70, 63, 105, 66, 107, 336, 296, 334, 293, 300)  # face-mesh points along the top of both brows
CHIN = 152


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


def crop_similarity(landmarks: np.ndarray, params: FacesParams) -> np.ndarray:
    """Source -> aligned (2, 3) similarity of the reference frame.

    Eyes level and their midpoint centred horizontally. crop `eyes`: eye centres at `eye_targets`. crop `landmarks`:
    scaled so that the top of the brows lands `margin_top * size` from the top and the chin `margin_bottom * size`
    from the bottom, so repression's chin and mouth movements (AU15, AU17) stay inside whatever the face's shape.
    """
    eyes = eye_centres(landmarks)
    if params.crop == "eyes":
        return similarity_from_eyes(eyes, eye_targets(params))
    z = landmarks[:, 0] + 1j * landmarks[:, 1]
    e = eyes[:, 0] + 1j * eyes[:, 1]
    mid, level = e.mean(), np.exp(-1j * np.angle(e[1] - e[0]))  # rotation that makes the eye line level
    rotated = (z - mid) * level  # eye midpoint at 0, eyes on the real axis
    brow, chin = rotated[list(BROWS)].imag.min(), rotated[CHIN].imag
    if chin - brow < 1e-6:
        raise ValueError("chin not below the brows")
    scale = (1 - params.margin_top - params.margin_bottom) * params.size / (chin - brow)
    a = scale * level
    b = complex(params.size / 2, params.margin_top * params.size - scale * brow) - a * mid
    return np.array([[a.real, -a.imag, b.real], [a.imag, a.real, b.imag]])


def apply_alignment(frames: Sequence[np.ndarray], matrices: np.ndarray, size: int) -> np.ndarray:
    """Warp each frame with its matrix (bicubic: after stabilisation each frame is resampled at its own sub-pixel
    phase, and bilinear blur, which depends on the phase, reads as flow; measured in benchmarks/stabilisation.py).

    Args:
        frames: T (H, W, 3) uint8 (an array or a list).
        matrices: (T, 2, 3) source -> destination, one per frame (or one (2, 3) for all).
        size: output side in pixels.

    Returns:
        (T, size, size, 3) uint8.
    """
    assert all(f.ndim == 3 and f.shape[-1] == 3 for f in frames), [f.shape for f in frames[:1]]
    matrices = np.broadcast_to(matrices, (len(frames), 2, 3))
    out = np.empty((len(frames), size, size, 3), np.uint8)
    for f, m, o in zip(frames, matrices, out):
        cv2.warpAffine(f, quantise(m), (size, size), dst=o, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return out


def quantise(matrix: np.ndarray) -> np.ndarray:
    """A transform rounded far below what matters (1e-6 of a pixel per 1000 px) so that a float difference in the
    last bits between CPUs cannot change a warped pixel."""
    return np.round(np.asarray(matrix, np.float64), 9)


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Map (N, 2) points (x, y) with a (2, 3) matrix."""
    return points @ matrix[:, :2].T + matrix[:, 2]
