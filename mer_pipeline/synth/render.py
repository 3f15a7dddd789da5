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


def drift_path(rng: np.random.Generator, n: int, amplitude: float) -> np.ndarray:
    """Slow global head drift: a smooth translation per frame, (n, 2) float, at most `amplitude` px from frame 0."""
    t = np.linspace(0, 1, n)[:, None]
    freq, phase = rng.uniform(0.3, 1.0, (1, 2)), rng.uniform(0, 2 * np.pi, (1, 2))
    path = np.sin(2 * np.pi * freq * t + phase) - np.sin(phase)
    peak = np.abs(path).max()
    return amplitude * path / peak if peak > 0 else path


def warp(image: np.ndarray, displacement: np.ndarray) -> np.ndarray:
    """Move image content by `displacement`: out(x) = image(x - d(x)) (backward mapping, first order exact).

    Args:
        image: (H, W, 3) float32.
        displacement: (H, W, 2) float32 (dx, dy) in pixels.
    """
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    d = displacement.astype(np.float32)
    return cv2.remap(image, xs - d[..., 0], ys - d[..., 1], cv2.INTER_CUBIC,
                     borderMode=cv2.BORDER_REFLECT)


def forward_flow(field: np.ndarray, scale_onset: float, scale_apex: float, drift_onset, drift_apex) -> np.ndarray:
    """Exact onset -> apex flow of the rendered clip, where frame_t(x) = base(x - s_t * field(x) - drift_t).

    A base point q sits at x0 = q + s_on * field(x0) + drift_on in the onset frame and at x1 with
    x1 = q + s_ap * field(x1) + drift_ap at the apex; both are solved by fixed-point iteration (the field is smooth
    and a few pixels large, so it converges in a few steps). Returns (H, W, 2) float32, x1 - x0 on the grid of x0.
    """
    h, w = field.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    grid = np.stack([xs, ys], -1)  # (H, W, 2) positions x0
    q = grid - np.float32(scale_onset) * field - np.asarray(drift_onset, np.float32)
    x1 = grid.copy()
    for _ in range(20):
        at_x1 = cv2.remap(field, x1[..., 0], x1[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        x1 = q + np.float32(scale_apex) * at_x1 + np.asarray(drift_apex, np.float32)
    return (x1 - grid).astype(np.float32)
