"""Per-frame stabilisation: every frame of a clip registered to the reference frame, so the aligned clip keeps the
face's non-rigid motion (the expression) and loses the head's rigid motion.

Methods (params `faces.stabilise`):
- none: the reference frame's transform for every frame (the head's motion stays in the clip).
- landmarks: mediapipe landmarks on every frame; a least-squares similarity from the rigid landmarks (forehead, nose
  bridge, outer eye corners) onto the reference's. Landmark jitter goes straight into the clip.
- registration: each frame, pre-aligned with the reference transform, registered onto the aligned reference frame by
  a robust (RANSAC, then least squares on the inliers) similarity fit to dense optical flow (OpenCV DIS) on a mask of
  the rigid regions taken from the reference landmarks (forehead, nose bridge, outer eye corners, temples; not mouth,
  brows or eyelids, which carry the expression); each frame starts from its predecessor's estimate.

Convention: points are (x, y) pixels, origin top-left; matrices are 2x3 source -> aligned (as cv2.warpAffine takes
them). A frame's quality numbers: `scores` (registration: share of mask pixels whose flow agrees with the fit within
0.3 px; landmarks: 1 - fit residual / 10 px; none: 1), `motion` (px at the aligned size: how far the head had moved
the face-hull points from where they are on the reference), `check` (px: on every `check_every`-th frame, landmarks
found on the stabilised frame against the reference's aligned landmarks on the rigid regions; -1 = no face found
there; NaN = not checked).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from mer_pipeline.config import FacesParams
from mer_pipeline.face_mesh import (
    MESH_POINTS,
    RIGID_LANDMARKS,
)
from mer_pipeline.faces import depth as depth_model
from mer_pipeline.faces.align import transform_points
from mer_pipeline.faces.depth import register_cameras
from mer_pipeline.faces.depth import remap as depth_remap
from mer_pipeline.faces.registration import Registration, canvas_of, similarity_fit, to3, track

Locate = Callable[[np.ndarray, np.ndarray], np.ndarray | None]  # (RGB frame, expected landmarks) -> the face there


@dataclass(frozen=True)
class Stabilised:
    """matrices: (T, 2, 3) float64 source -> aligned per frame; scores, motion, check: (T,) float32 (module doc);
    with `registration_3d`, cameras (T, 3, 4) float64 and depth (size, size) float32: frame t's aligned pixel p
    shows source position cameras[t] [p, depth(p), 1], depth the parallax depth (faces/depth.py; matrices then hold
    its plane d = 0, for the tracking numbers), and landmark_depth (N,) the reference landmarks' depth (z, source px)
    the depth map was built from (refined from the clip where the head turns); None otherwise."""

    matrices: np.ndarray
    scores: np.ndarray
    motion: np.ndarray
    check: np.ndarray
    cameras: np.ndarray | None = None
    depth: np.ndarray | None = None
    landmark_depth: np.ndarray | None = None

    def sources(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(size, size) float64 source x and y that frame t's aligned pixels show."""
        size = self.depth.shape[0]
        ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
        return depth_model.apply(self.cameras[t], xs, ys, self.depth.astype(np.float64))

    def warp(self, frame: np.ndarray, t: int, interpolation: int, border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
        """Frame t (source pixels) in the aligned square, through its depth-aware warp (needs `depth`)."""
        return depth_remap(frame, *self.sources(t), interpolation, border)


def stabilise(
    frames: Sequence[np.ndarray],
    reference: int,
    ref_matrix: np.ndarray,
    ref_landmarks: np.ndarray,
    params: FacesParams,
    locate: Locate,
    ref_depth: np.ndarray | None = None,
) -> Stabilised:
    """Per-frame transforms of a clip (see the module doc).

    Args:
        frames: T (H, W, 3) uint8 RGB source frames (an array or a list).
        reference: index of the reference frame.
        ref_matrix: (2, 3) source -> aligned transform of the reference frame.
        ref_landmarks: (N, 2) landmarks of the reference frame, source pixels.
        locate: (RGB frame, expected landmarks) -> the landmarks of the face nearest to them, or None (used by
            `landmarks` and for the tracking checks).
        ref_depth: (N,) depth (z, source pixels) of the reference landmarks, for `registration_3d` (None: flat).
    """
    assert frames[0].ndim == 3 and ref_matrix.shape == (2, 3), (frames[0].shape, ref_matrix.shape)
    T, size = len(frames), params.size
    ref_aligned = transform_points(ref_landmarks, ref_matrix)
    hull = ref_aligned[:MESH_POINTS]
    matrices = np.repeat(ref_matrix[None], T, 0)
    scores = np.ones(T, np.float32)
    if params.stabilise == "landmarks":
        for t in range(T):
            lm = ref_landmarks if t == reference else locate(frames[t], ref_landmarks)
            if lm is None:
                scores[t] = 0.0
                continue
            m = similarity_fit(lm[list(RIGID_LANDMARKS)], ref_aligned[list(RIGID_LANDMARKS)])
            residual = np.linalg.norm(
                transform_points(lm[list(RIGID_LANDMARKS)], m) - ref_aligned[list(RIGID_LANDMARKS)], axis=1
            ).mean()
            matrices[t], scores[t] = m, max(0.0, 1.0 - residual / 10.0)
    cameras, depth, landmark_depth = None, None, None
    if params.stabilise in ("registration", "registration_3d"):
        zoom, mask, canvas = canvas_of(ref_landmarks, ref_matrix, params)
        if params.stabilise == "registration_3d":
            flat = np.zeros(len(ref_landmarks)) if ref_depth is None else ref_depth
            cameras, depth, landmark_depth = register_cameras(
                frames, reference, canvas, zoom, mask, ref_landmarks, flat, ref_matrix, params, matrices, scores
            )
        else:
            register = Registration(canvas, frames[reference], mask, params)
            for t, (w, cc) in track(register, frames, reference, np.eye(2, 3)).items():
                if t != reference:  # canvas_t(W q) ~ canvas_ref(q)  =>  source -> aligned: Z^-1 W^-1 Z M_ref
                    matrices[t] = (np.linalg.inv(to3(zoom)) @ np.linalg.inv(to3(w)) @ to3(canvas))[:2]
                    scores[t] = cc
    motion = np.array(
        [
            np.linalg.norm(transform_points(hull, (to3(ref_matrix) @ np.linalg.inv(to3(m)))[:2]) - hull, axis=1).mean()
            for m in matrices
        ],
        np.float32,
    )
    check = np.full(T, np.nan, np.float32)
    result = Stabilised(matrices, scores, motion, check, cameras, depth, landmark_depth)  # checks filled in below

    def view(t: int) -> np.ndarray:  # frame t stabilised; outside the source black, so no face is invented
        if depth is None:
            return _aligned(frames[t], matrices[t], size)
        return result.warp(frames[t], t, cv2.INTER_LINEAR, cv2.BORDER_CONSTANT)

    if params.check_every:
        # Landmarks found on the aligned reference frame: the checks compare like with like (mediapipe's answer
        # depends a little on the crop and resolution it sees).
        found = locate(_aligned(frames[reference], ref_matrix, size), ref_aligned)
        base = ref_aligned if found is None else found
        for t in sorted({*range(0, T, params.check_every), T - 1}):
            # the reference frame is where `base` was found (static-image landmarks: the same answer again)
            same = t == reference and found is not None
            check[t] = 0.0 if same else _check(view(t), base, locate)
        lost = np.flatnonzero(check < 0)
        if len(lost):  # the first lost frame: look back to the last good check
            for t in range(int(lost[0]) - 1, max(int(lost[0]) - params.check_every, 0), -1):
                check[t] = _check(view(t), base, locate)
                if check[t] >= 0:
                    break
    return result


def _aligned(frame: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """A frame warped into the aligned square; outside the source is black, so a face that left is not invented."""
    return cv2.warpAffine(frame, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def _check(stabilised: np.ndarray, base: np.ndarray, locate: Locate) -> float:
    """Median distance (px) of the rigid landmarks found on a stabilised frame from those on the aligned reference;
    -1: no face there."""
    lm = locate(stabilised, base)
    if lm is None:
        return -1.0
    idx = list(RIGID_LANDMARKS)
    return float(np.median(np.linalg.norm(lm[idx] - base[idx], axis=1)))


def flags(stab: Stabilised, params: FacesParams) -> list[str]:
    """Tracking problems of a clip, each naming its frame (0-based index into onset..offset)."""
    out = []
    lost = np.flatnonzero(stab.check < 0)
    if len(lost):
        out.append(f"face lost from frame {int(lost[0])}")
    off = np.flatnonzero(stab.check > params.check_tolerance_px)
    bad = np.union1d(off, np.flatnonzero(stab.scores < params.min_score))
    if len(bad) and not (len(lost) and bad[0] >= lost[0]):
        if params.stabilise == "none":
            out.append(f"face {stab.check[off[0]]:.0f} px off the reference at frame {int(off[0])} (no stabilisation)")
        else:
            what = "landmarks" if params.stabilise == "landmarks" else "registration"
            out.append(f"{what} failed at frame {int(bad[0])}")
    if stab.motion.max(initial=0) > params.max_motion_px:
        out.append(f"head moved {stab.motion.max():.0f} px")
    return out
