"""Rendering pseudo-subjects and clips: identity variation, onset -> apex -> offset motion, nuisance."""

from dataclasses import dataclass

import cv2
import numpy as np
from skimage import data as skdata

# Crop of the astronaut photograph that holds the face (x, y, side), in astronaut pixels.
FACE_BOX = (125.0, 25.0, 200.0)


@dataclass(frozen=True)
class Identity:
    """A pseudo-subject: geometry (astronaut -> frame affine) and photometry (channel gains, lighting slope)."""

    affine: np.ndarray  # (2, 3) float64, astronaut (x, y) -> frame (x, y)
    gains: np.ndarray  # (3,) float32 RGB gains
    light_slope: float  # multiplicative left-to-right lighting gradient across the frame


def make_identity(rng: np.random.Generator, size: int) -> Identity:
    """Random scale (+-8 %), shape (aspect +-6 %), roll (+-3 deg), shift (+-4 % of size), colour and lighting."""
    x0, y0, side = FACE_BOX
    base = size / side
    sx = base * rng.uniform(0.92, 1.08)
    sy = sx * rng.uniform(0.94, 1.06)
    angle = np.deg2rad(rng.uniform(-3, 3))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    linear = rot @ np.diag([sx, sy])
    centre_src = np.array([x0 + side / 2, y0 + side / 2])
    centre_dst = np.array([size / 2, size / 2]) + rng.uniform(-0.04, 0.04, 2) * size
    affine = np.hstack([linear, (centre_dst - linear @ centre_src)[:, None]])
    return Identity(affine, rng.uniform(0.85, 1.15, 3).astype(np.float32), float(rng.uniform(-0.15, 0.15)))


def identity_image(identity: Identity, size: int) -> np.ndarray:
    """The pseudo-subject's neutral face. Returns (size, size, 3) float32 RGB in [0, 255]."""
    photo = skdata.astronaut()
    face = cv2.warpAffine(photo, identity.affine, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    ramp = 1.0 + identity.light_slope * np.linspace(-1, 1, size, dtype=np.float32)  # (W,)
    return np.clip(face.astype(np.float32) * identity.gains * ramp[None, :, None], 0, 255)


def intensity_profile(n: int, onset: int, apex: int, offset: int) -> np.ndarray:
    """Raised-cosine rise onset -> apex and fall apex -> offset, zero outside; indices 0-based. Returns (n,)."""
    t = np.arange(n, dtype=np.float64)
    rise = 0.5 - 0.5 * np.cos(np.pi * (t - onset) / max(apex - onset, 1))
    fall = 0.5 + 0.5 * np.cos(np.pi * (t - apex) / max(offset - apex, 1))
    return np.where(t < onset, 0.0, np.where(t <= apex, rise, np.where(t <= offset, fall, 0.0)))


def render_frame(
    face: np.ndarray, field: np.ndarray, intensity: float, map_x: np.ndarray, map_y: np.ndarray
) -> np.ndarray:
    """frame(x) = still(B x), still(y) = face(y - intensity * field(y)) (backward mapping, first order exact).

    Args:
        face: (H, W, 3) float32 neutral face.
        field: (H, W, 2) float32 apex displacement (dx, dy) in still-face pixels.
        intensity: the expression's profile value at this frame.
        map_x, map_y: (H, W) float32 the head's backward map B: the still-face position each frame pixel shows
            (synth/head.affine_map for a 2D head, synth/mesh.frame_map for a 3D one).
    """
    d = cv2.remap(field, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) * np.float32(intensity)
    return cv2.remap(face, map_x - d[..., 0], map_y - d[..., 1], cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def expression_flow(
    field: np.ndarray, scale_onset: float, scale_apex: float, map_x: np.ndarray, map_y: np.ndarray, linear: np.ndarray
) -> np.ndarray:
    """Onset -> apex flow of the expression alone, on the onset frame's grid (the head held where it is at onset).

    Returns (H, W, 2) float32: L (y1 - y0) at x0, with y0 = B x0 (the onset frame's backward map `map_x`, `map_y`),
    y0 -> y1 the still-face motion (`forward_flow`) and L the head's forward linear part at x0: `linear` (2, 2) for
    a 2D head (its transform's), (H, W, 2, 2) per pixel for a 3D one (the inverse of the map's own).
    """
    still = forward_flow(field, scale_onset, scale_apex)
    at = cv2.remap(still, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if linear.ndim == 2:
        return (at @ linear.T.astype(np.float32)).astype(np.float32)
    return np.einsum("hwij,hwj->hwi", linear.astype(np.float32), at).astype(np.float32)


def forward_flow(field: np.ndarray, scale_onset: float, scale_apex: float) -> np.ndarray:
    """Exact onset -> apex flow of the still (head-motion-free) face, where still_t(x) = base(x - s_t * field(x)).

    A base point q sits at x0 = q + s_on * field(x0) at onset and at x1 with x1 = q + s_ap * field(x1) at the apex;
    x1 is solved by fixed-point iteration (the field is smooth
    and a few pixels large, so it converges in a few steps). Returns (H, W, 2) float32, x1 - x0 on the grid of x0.
    """
    h, w = field.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    grid = np.stack([xs, ys], -1)  # (H, W, 2) positions x0
    q = grid - np.float32(scale_onset) * field
    x1 = grid.copy()
    for _ in range(20):
        at_x1 = cv2.remap(field, x1[..., 0], x1[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        x1 = q + np.float32(scale_apex) * at_x1
    return (x1 - grid).astype(np.float32)
