"""Registration of a clip's frames onto its reference view by dense optical flow on the rigid regions: the canvas
(the aligned face zoomed out and cropped to the mask), the mask, the flow object, and a robust similarity fit per
frame (faces/stabilise.py describes the method; faces/depth.py adds the depth-aware camera).

Convention: points are (x, y) pixels, origin top-left; matrices are 2x3 source -> destination.
"""

from collections.abc import Callable, Sequence

import cv2
import numpy as np

from mer_pipeline.config import FacesParams
from mer_pipeline.face_mesh import EYE_OUTER, FOREHEAD, NOSE_BRIDGE, OUTER_EYE_CORNERS, TEMPLES
from mer_pipeline.faces.align import transform_points

CROP_MARGIN = 16  # px of registration canvas kept around the mask (DIS patches reach 8 px beyond a pixel)
ZOOM = 0.7  # registration sees the aligned face shrunk about its centre: forehead and temples come into view


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


def canvas_of(ref_landmarks: np.ndarray, ref_matrix: np.ndarray, params: FacesParams):
    """(zoom (2, 3) aligned -> canvas, mask (h, w) uint8 of the rigid regions, canvas (2, 3) source -> canvas): the
    registration canvas, the aligned face zoomed out about its centre and cropped to the mask and a margin."""
    size = params.size
    k, side = params.registration_size / size, params.registration_size
    zoom = np.array([[ZOOM * k, 0, (1 - ZOOM) * size / 2 * k], [0, ZOOM * k, (1 - ZOOM) * size / 2 * k]])
    mask = rigid_mask(transform_points(ref_landmarks, (to3(zoom) @ to3(ref_matrix))[:2]), side, params.forehead)
    ys, xs = np.nonzero(mask)  # the canvas cropped to the mask and a margin: flow only where it is used
    x0, y0 = max(int(xs.min()) - CROP_MARGIN, 0), max(int(ys.min()) - CROP_MARGIN, 0)
    mask = mask[y0 : int(ys.max()) + CROP_MARGIN + 1, x0 : int(xs.max()) + CROP_MARGIN + 1]
    zoom = zoom - np.array([[0, 0, x0], [0, 0, y0]])  # aligned -> cropped canvas
    return zoom, mask, (to3(zoom) @ to3(ref_matrix))[:2]


def track(
    register,
    frames: Sequence[np.ndarray],
    reference: int,
    identity: np.ndarray,
    fitted: Callable | None = None,
    start: dict | None = None,
) -> dict:
    """Frame index -> (warp, score) of every frame, registered outwards from the reference, each frame starting
    from `start[t]` where given, else from its neighbour's estimate (a frame no warp fits keeps its starting warp,
    with score 0); `fitted(t)` is called after each frame a warp fits."""
    out, start = {reference: (identity, 1.0)}, start or {}
    for t in [*range(reference + 1, len(frames)), *range(reference - 1, -1, -1)]:
        init = start[t] if t in start else out[t - 1 if t > reference else t + 1][0]
        try:
            out[t] = register.fit(register.grey(frames[t]), init)
        except cv2.error:
            out[t] = (init, 0.0)
            continue
        if fitted is not None:
            fitted(t)
    return out
