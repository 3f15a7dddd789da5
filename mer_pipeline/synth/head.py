"""Rigid head motion of a seated person, per frame, with its ground truth.

A clip's head path is a smooth random trajectory (a slow sway: translation, in-plane rotation about the face centre
and scale) plus, with probability `head_jerk_prob`, one quick jerk (a translation step over about 3 frames).
Amplitudes are the largest excursion from the clip's first frame within the clip (params `synth.head_*`). With
`head_model: 3d` the head also turns out of the image plane (yaw and pitch up to `head_yaw_deg`, `head_pitch_deg`)
as a 3D mesh seen by a camera (synth/mesh.py); `2d` moves the face by the similarity alone.

Convention: a transform is (2, 3) float64 mapping the still face's coordinates (x, y) to frame t's, origin
top-left; frame_t(H_t x) = still_face_t(x). A pose is (yaw, pitch, roll, tx, ty, scale) (synth/mesh.py).
"""

import numpy as np

from mer_pipeline.config import SynthParams


def _smooth(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n,) a smooth path from 0 with peak |value| 1 (sum of two slow sinusoids), or zeros for n < 2."""
    t = np.linspace(0, 1, n)
    path = np.zeros(n)
    for _ in range(2):
        freq, phase = rng.uniform(0.2, 0.9), rng.uniform(0, 2 * np.pi)
        path += rng.uniform(0.5, 1.0) * (np.sin(2 * np.pi * freq * t + phase) - np.sin(phase))
    peak = np.abs(path).max()
    return path / peak if peak > 0 else path


def _sway(rng: np.random.Generator, n: int, params: SynthParams) -> tuple[np.ndarray, ...]:
    """(tx, ty, roll, scale), each (n,): the in-plane part of a head path, jerk included."""
    tx, ty = (params.head_translation_px * rng.uniform(0.5, 1.0) * _smooth(rng, n) for _ in range(2))
    angle = np.deg2rad(params.head_rotation_deg) * rng.uniform(0.5, 1.0) * _smooth(rng, n)
    scale = 1.0 + params.head_scale * rng.uniform(0.5, 1.0) * _smooth(rng, n)
    if params.head_jerk_px > 0 and rng.uniform() < params.head_jerk_prob:
        at, direction = rng.uniform(0.2, 0.8) * n, rng.uniform(0, 2 * np.pi)
        step = params.head_jerk_px / (1 + np.exp(-(np.arange(n) - at) / 0.7))  # a jump over about 3 frames
        tx, ty = tx + step * np.cos(direction), ty + step * np.sin(direction)
    return tx, ty, angle, scale


def head_path(rng: np.random.Generator, n: int, params: SynthParams, centre: tuple[float, float]) -> np.ndarray:
    """(n, 2, 3) per-frame head transforms (still face -> frame t), identity-free at frame 0 except a jerk."""
    tx, ty, angle, scale = _sway(rng, n, params)
    c = np.asarray(centre, np.float64)
    out = np.empty((n, 2, 3))
    for t in range(n):
        linear = scale[t] * np.array([[np.cos(angle[t]), -np.sin(angle[t])], [np.sin(angle[t]), np.cos(angle[t])]])
        out[t, :, :2] = linear
        out[t, :, 2] = c + np.array([tx[t], ty[t]]) - linear @ c  # rotate and scale about the face centre
    return out


def head_poses(rng: np.random.Generator, n: int, params: SynthParams) -> np.ndarray:
    """(n, 6) per-frame 3D head poses (yaw, pitch, roll radians, tx, ty px, scale): the sway of `head_path` and a
    smooth turn out of the image plane, zero at frame 0 except a jerk; rounded to 1e-6 so every machine renders the
    same frames."""
    tx, ty, roll, scale = _sway(rng, n, params)
    yaw = np.deg2rad(params.head_yaw_deg) * rng.uniform(0.5, 1.0) * _smooth(rng, n)
    pitch = np.deg2rad(params.head_pitch_deg) * rng.uniform(0.5, 1.0) * _smooth(rng, n)
    return np.round(np.stack([yaw, pitch, roll, tx, ty, scale], 1), 6)


def affine_map(head: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The backward map (map_x, map_y) (size, size) float32 of the head transform `head` (2, 3): the still-face
    position H^-1 x each frame pixel x shows."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    inv = np.linalg.inv(np.vstack([head, [0, 0, 1]]))[:2]
    map_x = (xs * inv[0, 0] + ys * inv[0, 1] + inv[0, 2]).astype(np.float32)
    map_y = (xs * inv[1, 0] + ys * inv[1, 1] + inv[1, 2]).astype(np.float32)
    return map_x, map_y
