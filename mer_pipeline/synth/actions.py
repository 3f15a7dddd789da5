"""Action-unit-like local warps on skimage's astronaut photograph.

Convention: points are (x, y) in pixels of the 512x512 astronaut image, origin top-left. The anchor positions were
measured once with mediapipe face mesh (eye corners 33/133 and 362/263, brows 105/334 and 55/285, mouth corners
61/291, nose wings 129/358) and are fixed facts of that photograph.
"""

from dataclasses import dataclass

import numpy as np

ANCHORS = {
    "eye_left": (204.3, 102.3),
    "eye_right": (246.4, 104.6),
    "brow_left": (198.8, 86.9),
    "brow_right": (253.0, 90.7),
    "brow_inner_left": (216.7, 94.6),
    "brow_inner_right": (234.3, 96.1),
    "mouth_left": (201.8, 139.2),
    "mouth_right": (245.0, 141.0),
    "nose_left": (208.0, 123.5),
    "nose_right": (240.1, 125.3),
    "lip_upper": (223.5, 143.2),
}


@dataclass(frozen=True)
class Movement:
    """One Gaussian bump of displacement: at `anchor`, direction `direction` (unit length at apex), width `sigma`
    in astronaut pixels."""

    anchor: str
    direction: tuple[float, float]
    sigma: float


@dataclass(frozen=True)
class ActionPattern:
    """The movements of one emotion class and the action units they imitate (as a coding sheet writes them)."""

    action_units: str
    movements: tuple[Movement, ...]


def _unit(dx: float, dy: float) -> tuple[float, float]:
    n = float(np.hypot(dx, dy))
    return dx / n, dy / n


PATTERNS = {
    # AU12 lip-corner puller (+AU6): corners move up and outward.
    "happiness": ActionPattern(
        "6+12",
        (
            Movement("mouth_left", _unit(-0.6, -0.8), 6.0),
            Movement("mouth_right", _unit(0.6, -0.8), 6.0),
        ),
    ),
    # AU1+2 inner and outer brow raiser.
    "surprise": ActionPattern(
        "1+2",
        (
            Movement("brow_left", (0.0, -1.0), 7.0),
            Movement("brow_right", (0.0, -1.0), 7.0),
            Movement("brow_inner_left", (0.0, -1.0), 5.0),
            Movement("brow_inner_right", (0.0, -1.0), 5.0),
        ),
    ),
    # AU4 brow lowerer (inner brows down and together) + AU9 nose wrinkler (nose wings up).
    "disgust": ActionPattern(
        "4+9",
        (
            Movement("brow_inner_left", _unit(0.5, 0.85), 5.0),
            Movement("brow_inner_right", _unit(-0.5, 0.85), 5.0),
            Movement("nose_left", (0.0, -1.0), 4.5),
            Movement("nose_right", (0.0, -1.0), 4.5),
        ),
    ),
    # AU15 lip-corner depressor (+AU14 dimpler pulling inward).
    "repression": ActionPattern(
        "14+15",
        (
            Movement("mouth_left", _unit(0.3, 0.95), 6.0),
            Movement("mouth_right", _unit(-0.3, 0.95), 6.0),
        ),
    ),
}


def displacement_field(
    pattern: ActionPattern, affine: np.ndarray, shape: tuple[int, int], amplitude: float
) -> np.ndarray:
    """Apex displacement of `pattern` in frame coordinates.

    Args:
        pattern: the movements to render.
        affine: (2, 3) float, astronaut (x, y) -> frame (x, y).
        shape: (H, W) of the frame.
        amplitude: peak displacement in frame pixels.

    Returns:
        (H, W, 2) float32, displacement (dx, dy) in frame pixels at each frame pixel.
    """
    assert affine.shape == (2, 3), affine.shape
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    linear = affine[:, :2]
    scale = float(np.sqrt(abs(np.linalg.det(linear))))
    field = np.zeros((h, w, 2), np.float32)
    for mv in pattern.movements:
        cx, cy = affine @ np.array([*ANCHORS[mv.anchor], 1.0])
        direction = linear @ np.array(mv.direction)
        direction = direction / np.linalg.norm(direction)
        sigma = mv.sigma * scale
        weight = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma**2))
        field += amplitude * weight[..., None] * direction.astype(np.float32)  # (H, W, 1) * (2,)
    peak = float(np.linalg.norm(field, axis=-1).max())
    return field * (amplitude / peak) if peak > 0 else field


def anchor_positions(pattern: ActionPattern, affine: np.ndarray) -> list[tuple[float, float]]:
    """Frame (x, y) of the pattern's anchors, for checking where motion appears."""
    return [tuple(float(v) for v in affine @ np.array([*ANCHORS[mv.anchor], 1.0])) for mv in pattern.movements]
