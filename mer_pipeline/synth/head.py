"""Rigid head motion of a seated person, per frame, with its ground truth.

A clip's head path is a smooth random trajectory (a slow sway: translation, in-plane rotation about the face centre
and scale) plus, with probability `head_jerk_prob`, one quick jerk (a translation step over about 3 frames).
Amplitudes are the largest excursion from the clip's first frame within the clip (params `synth.head_*`).

Convention: a transform is (2, 3) float64 mapping the still face's coordinates (x, y) to frame t's, origin
top-left; frame_t(H_t x) = still_face_t(x).
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


def head_path(rng: np.random.Generator, n: int, params: SynthParams, centre: tuple[float, float]) -> np.ndarray:
    """(n, 2, 3) per-frame head transforms (still face -> frame t), identity-free at frame 0 except a jerk."""
    tx, ty = (params.head_translation_px * rng.uniform(0.5, 1.0) * _smooth(rng, n) for _ in range(2))
    angle = np.deg2rad(params.head_rotation_deg) * rng.uniform(0.5, 1.0) * _smooth(rng, n)
    scale = 1.0 + params.head_scale * rng.uniform(0.5, 1.0) * _smooth(rng, n)
    if params.head_jerk_px > 0 and rng.uniform() < params.head_jerk_prob:
        at, direction = rng.uniform(0.2, 0.8) * n, rng.uniform(0, 2 * np.pi)
        step = params.head_jerk_px / (1 + np.exp(-(np.arange(n) - at) / 0.7))  # a jump over about 3 frames
        tx, ty = tx + step * np.cos(direction), ty + step * np.sin(direction)
    c = np.asarray(centre, np.float64)
    out = np.empty((n, 2, 3))
    for t in range(n):
        linear = scale[t] * np.array([[np.cos(angle[t]), -np.sin(angle[t])], [np.sin(angle[t]), np.cos(angle[t])]])
        out[t, :, :2] = linear
        out[t, :, 2] = c + np.array([tx[t], ty[t]]) - linear @ c  # rotate and scale about the face centre
    return out
