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
    EYE_OUTER,
    FOREHEAD,
    MESH_POINTS,
    NOSE_BRIDGE,
    OUTER_EYE_CORNERS,
    RIGID_LANDMARKS,
    TEMPLES,
)
from mer_pipeline.faces.align import transform_points

CROP_MARGIN = 16  # px of registration canvas kept around the mask (DIS patches reach 8 px beyond a pixel)
ZOOM = 0.7  # registration sees the aligned face shrunk about its centre: forehead and temples come into view
Locate = Callable[[np.ndarray, np.ndarray], np.ndarray | None]  # (RGB frame, expected landmarks) -> the face there


@dataclass(frozen=True)
class Stabilised:
    """matrices: (T, 2, 3) float64 source -> aligned per frame; scores, motion, check: (T,) float32 (module doc)."""

    matrices: np.ndarray
    scores: np.ndarray
    motion: np.ndarray
    check: np.ndarray


def to3(m: np.ndarray) -> np.ndarray:
    return np.vstack([m, [0.0, 0.0, 1.0]])


def similarity_fit(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) taking (N, 2) src onto dst. Returns (2, 3)."""
    s = src[:, 0] + 1j * src[:, 1]  # z' = a z + b
    d = dst[:, 0] + 1j * dst[:, 1]
    sc, dc = s - s.mean(), d - d.mean()
    a = (np.conj(sc) @ dc) / (np.conj(sc) @ sc).real
    b = d.mean() - a * s.mean()
    return np.array([[a.real, -a.imag, b.real], [a.imag, a.real, b.imag]])


def rigid_mask(aligned_landmarks: np.ndarray, size: int, forehead: bool = True) -> np.ndarray:
    """(size, size) uint8 mask (1 inside) of the forehead, nose bridge, outer eye corners and temples."""
    mask = np.zeros((size, size), np.uint8)
    eye_dist = float(np.linalg.norm(aligned_landmarks[EYE_OUTER[0]] - aligned_landmarks[EYE_OUTER[1]]))
    for region in (*((FOREHEAD,) if forehead else ()), NOSE_BRIDGE, *TEMPLES):
        pts = aligned_landmarks[list(region)]
        cv2.fillConvexPoly(mask, cv2.convexHull(np.round(pts).astype(np.int32)), 1)
    for corner in OUTER_EYE_CORNERS:
        centre = aligned_landmarks[list(corner)].mean(0)
        cv2.circle(mask, tuple(int(round(v)) for v in centre), max(2, int(round(0.12 * eye_dist))), 1, -1)
    return mask


PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


class Registration:
    """Registration of frames onto one clip's reference view, on a canvas of `registration_size` px: the DIS flow
    object, the mask's sample points and the uint8 template are built once per clip.

    A view is one resampling of the (pyramid-reduced) grey source frame straight onto the canvas under the current
    estimate, then a 1 px Gaussian: the pre-alignment and the estimate are composed, not applied one after another.
    """

    def __init__(self, canvas: np.ndarray, reference: np.ndarray, mask: np.ndarray, params: FacesParams):
        """canvas: (2, 3) source -> canvas; reference: (H, W, 3) uint8 RGB reference frame; mask: the canvas's."""
        self.shape = (mask.shape[1], mask.shape[0])  # (width, height)
        self.levels = 0  # pyrDown steps before warping: the canvas never samples the source sparser than 2:1
        while np.sqrt(abs(np.linalg.det(canvas[:, :2]))) * 2**self.levels < 0.5:
            self.levels += 1
        self.canvas = to3(canvas) @ np.diag([2.0**self.levels, 2.0**self.levels, 1.0])  # reduced source -> canvas
        self.template = np.clip(self.view(self.grey(reference), np.eye(2, 3)), 0, 255).astype(np.uint8)
        self.dis = cv2.DISOpticalFlow_create(PRESETS[params.registration_preset])
        if params.registration_stride:
            self.dis.setPatchStride(params.registration_stride)
        ys, xs = np.nonzero(mask[::2, ::2])
        self.rows, self.cols = ys * 2, xs * 2  # mask pixels, every other row and column
        self.q = np.stack([self.cols, self.rows], 1).astype(np.float32)  # (N, 2) as (x, y)
        self.passes = params.registration_passes

    def grey(self, frame: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 RGB source frame -> uint8 luminance, reduced `levels` times."""
        out = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        for _ in range(self.levels):
            out = cv2.pyrDown(out)
        return out

    def view(self, grey: np.ndarray, warp: np.ndarray) -> np.ndarray:
        """The canvas view of a grey frame moved by `warp` (template -> canvas coords): view(q) = canvas(W q)."""
        m = (np.linalg.inv(to3(warp)) @ self.canvas)[:2]
        moved = cv2.warpAffine(grey, m, self.shape, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return cv2.GaussianBlur(moved.astype(np.float32), (0, 0), 1.0)

    def fit(self, grey: np.ndarray, init: np.ndarray) -> tuple[np.ndarray, float]:
        """Similarity W (template coords -> canvas coords) from dense flow on the mask, fitted robustly; and the share
        of mask pixels that agree with it (inliers within 0.3 px).

        The frame is viewed under `init`; DIS flow from the template to that view gives, at every mask pixel q,
        where q's content now is; a RANSAC similarity of those correspondences (0.3 px, refined on the inliers)
        ignores the pixels an expression moves. Repeated `registration_passes` times, each on what is left.
        """
        warp, share = init.copy(), 0.0
        for _ in range(self.passes):
            back = np.clip(self.view(grey, warp), 0, 255).astype(np.uint8)
            flow = self.dis.calc(self.template, back, None)  # back(q + f) ~ template(q)
            moved = self.q + flow[self.rows, self.cols]
            step, inliers = cv2.estimateAffinePartial2D(
                self.q,
                moved,
                method=cv2.RANSAC,
                ransacReprojThreshold=0.3,
                maxIters=500,
                confidence=0.999,
                refineIters=20,
            )
            if step is None:
                raise cv2.error("no similarity fits the flow")
            warp = (to3(warp) @ to3(step))[:2]  # template -> back -> canvas
            share = float(inliers.mean())
        return warp, share


def stabilise(
    frames: Sequence[np.ndarray],
    reference: int,
    ref_matrix: np.ndarray,
    ref_landmarks: np.ndarray,
    params: FacesParams,
    locate: Locate,
) -> Stabilised:
    """Per-frame transforms of a clip (see the module doc).

    Args:
        frames: T (H, W, 3) uint8 RGB source frames (an array or a list).
        reference: index of the reference frame.
        ref_matrix: (2, 3) source -> aligned transform of the reference frame.
        ref_landmarks: (N, 2) landmarks of the reference frame, source pixels.
        locate: (RGB frame, expected landmarks) -> the landmarks of the face nearest to them, or None (used by
            `landmarks` and for the tracking checks).
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
    elif params.stabilise == "registration":
        k, side = params.registration_size / size, params.registration_size
        zoom = np.array([[ZOOM * k, 0, (1 - ZOOM) * size / 2 * k], [0, ZOOM * k, (1 - ZOOM) * size / 2 * k]])
        mask = rigid_mask(transform_points(ref_landmarks, (to3(zoom) @ to3(ref_matrix))[:2]), side, params.forehead)
        ys, xs = np.nonzero(mask)  # the canvas cropped to the mask and a margin: flow only where it is used
        x0, y0 = max(int(xs.min()) - CROP_MARGIN, 0), max(int(ys.min()) - CROP_MARGIN, 0)
        mask = mask[y0 : int(ys.max()) + CROP_MARGIN + 1, x0 : int(xs.max()) + CROP_MARGIN + 1]
        zoom = zoom - np.array([[0, 0, x0], [0, 0, y0]])  # aligned -> cropped canvas
        canvas = (to3(zoom) @ to3(ref_matrix))[:2]  # source -> registration canvas (aligned, zoomed out, cropped)
        register = Registration(canvas, frames[reference], mask, params)
        order = list(range(reference + 1, T)) + list(range(reference - 1, -1, -1))
        previous = {reference: np.eye(2, 3)}
        for t in order:
            init = previous[t - 1 if t > reference else t + 1]
            try:
                w, cc = register.fit(register.grey(frames[t]), init)
            except cv2.error:
                w, cc = init, 0.0
            previous[t] = w
            # canvas_t(W q) ~ canvas_ref(q)  =>  source -> aligned: Z^-1 W^-1 Z M_ref
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
    if params.check_every:
        # Landmarks found on the aligned reference frame: the checks compare like with like (mediapipe's answer
        # depends a little on the crop and resolution it sees).
        found = locate(_aligned(frames[reference], ref_matrix, size), ref_aligned)
        base = ref_aligned if found is None else found
        for t in sorted({*range(0, T, params.check_every), T - 1}):
            # the reference frame is where `base` was found (static-image landmarks: the same answer again)
            same = t == reference and found is not None
            check[t] = 0.0 if same else _check(frames[t], matrices[t], base, size, locate)
        lost = np.flatnonzero(check < 0)
        if len(lost):  # the first lost frame: look back to the last good check
            for t in range(int(lost[0]) - 1, max(int(lost[0]) - params.check_every, 0), -1):
                check[t] = _check(frames[t], matrices[t], base, size, locate)
                if check[t] >= 0:
                    break
    return Stabilised(matrices, scores, motion, check)


def _aligned(frame: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """A frame warped into the aligned square; outside the source is black, so a face that left is not invented."""
    return cv2.warpAffine(frame, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def _check(frame: np.ndarray, matrix: np.ndarray, base: np.ndarray, size: int, locate: Locate) -> float:
    """Median distance (px) of the rigid landmarks found on the stabilised frame from those on the aligned reference;
    -1: no face there."""
    lm = locate(_aligned(frame, matrix, size), base)
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
