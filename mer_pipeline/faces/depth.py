"""Depth-aware registration: a head that turns out of the image plane moves its nose more than its temples, which
no 2D transform of the frame can undo. With the reference frame's depth (mediapipe's z of the face mesh, interpolated
over the mesh into a depth map), a frame is modelled as a camera view of the rigid head: the position of reference
point q with depth z(q) is

    W(q) = (P [x, y, d, 1])_xy / (P [x, y, d, 1])_w        P (3, 4), its last entry 1;  d = D z / (D + z)

a projective camera on the head's points, exact in the parallax depth d (D the camera's distance, `parallax`). P is
the view of the head moved rigidly (rotation and translation, 6 numbers: `pose_camera`) by a pinhole camera whose
focal length is D and whose principal point is the source frame's centre. It is fitted to dense flow like the
similarity of faces/stabilise.py: a general projective P (11 numbers, RANSAC on 6 points, then least squares on the
inliers: `fit`) picks the points that move with the head, and the pose is fitted to those by robust least squares
(`fit_pose`), each pass on the exact correspondences of the frame viewed under the last estimate; a frame is warped
through it per pixel. The general P alone fits the flow's local biases with its 5 extra numbers and carries them to
the lower face, far from the rigid regions it is fitted on (docs/faces.md measures both on the 3D set).

Mediapipe's depth of one frame is about a pixel off, and a turning head shows it as parallax no pose explains: where
the head turns by more than REFINE_DEG, `register_cameras` corrects the mesh vertices' depths from the clip itself
(`refine_depth`: every frame's pose and the corrections fitted together to the last pass's mask correspondences)
and registers the clip again through the corrected depth map.

Convention: points (x, y) pixels, origin top-left; depth z in the same pixels, negative towards the camera
(mediapipe's sign); depth maps (`depth_map`, and so a faces entry's cameras) hold the parallax depth d; a pose is
(rotation vector (3,) radians, translation (3,) px) of the head in the camera's space.
"""

import cv2
import numpy as np
from scipy import sparse
from scipy.interpolate import LinearNDInterpolator
from scipy.ndimage import distance_transform_edt
from scipy.optimize import least_squares
from scipy.spatial import ConvexHull, Delaunay

from mer_pipeline.face_mesh import MESH_POINTS
from mer_pipeline.faces.align import transform_points
from mer_pipeline.faces.registration import Registration, to3, track

CAMERA_PX = 0.6  # inlier threshold of the camera fit and of the comparison with the similarity (px on the canvas)
CAMERA_MARGIN = 0.08  # the camera is taken where it explains this much more of the mask than the similarity
CAMERA_FACE_WIDTHS = 5.0  # the camera's assumed distance: a seated person about 75 cm away (a wrong one: 2nd order)
POSE_PX = 0.3  # the pose fit's robust loss turns from quadratic to linear at this residual (px on the canvas)
SETTLE_PX = 0.15  # scale of the pose fit's second, redescending (Cauchy) loss (px on the canvas)
DECIMALS = 9  # cameras are rounded to this many decimals: every CPU warps and stores the same numbers
RING = (1.1, 1.3)  # beyond the outline, its depth is held out to these multiples of its distance from the face centre
DEPTH_PASSES = 2  # passes beyond `registration_passes` a depth-aware fit may take to converge
CONVERGED_PX = 0.05  # a pass that moves no mask point by more than this (canvas px) ends the fit
COLUMNS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]  # the camera's 11 free entries (row-major, the last one is 1)
FLAT_COLUMNS = [0, 1, 3, 4, 5, 7, 8, 9]  # those of a homography: no depth column
CHUNK = 64  # RANSAC hypotheses scored at a time
REFINE_DEG = 2.0  # the reference's depth is refined on a clip whose head turns out of the image plane by more than this
REFINE_PRIOR = 0.3  # weight of a vertex's depth correction in the refinement (per canvas px of correction)
REFINE_SMOOTH = 1.0  # weight of the corrections' mesh Laplacian: neighbouring vertices move together
REFINE_EVALUATIONS = 30  # least-squares evaluations of the refinement at most
DEPTH_DECIMALS = 4  # refined landmark depths are rounded to this many decimals (source px)
IDENTITY = np.array([[1.0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]])


def depth_map(points: np.ndarray, depth: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) float32 parallax depth (see `parallax`) of the mesh points' depths `depth` (N,) at their positions
    `points` (N, 2), interpolated linearly over their triangulation; beyond the face's outline each outline point's
    depth is held outwards (a ring of points at RING times its distance from the centre), then the nearest."""
    h, w = shape
    nodes, owner = _nodes(points)
    inside = LinearNDInterpolator(nodes, parallax(points, depth)[owner])
    ys, xs = np.mgrid[0:h, 0:w]
    out = inside(xs, ys)
    missing = np.isnan(out)
    if missing.all():
        return np.zeros(shape, np.float32)
    _, (iy, ix) = distance_transform_edt(missing, return_indices=True)
    out = out[iy, ix]
    return np.round(out, 3).astype(np.float32)


def _nodes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the nodes (M, 2) `depth_map` interpolates between: the mesh points and the rings held out beyond the
    outline, the mesh point (M,) each takes its depth from)."""
    face = points[:MESH_POINTS]
    outline = ConvexHull(face).vertices
    centre = face.mean(0)
    ring = [centre + (face[outline] - centre) * k for k in RING]
    return np.concatenate([face, *ring]), np.concatenate([np.arange(MESH_POINTS), *[outline] * len(RING)])


def mesh_weights(points: np.ndarray, sample: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
    """`depth_map` written out at sample points (S, 2): (weights (S, 468) sparse, with the map there = weights @
    the mesh points' parallax depths, (S,) bool: inside the map's triangulation, where that holds). The weights are
    the barycentric ones of the triangulation LinearNDInterpolator builds on the same nodes."""
    nodes, owner = _nodes(points)
    triangulation = Delaunay(nodes)
    simplex = triangulation.find_simplex(sample)
    inside = simplex >= 0
    affine = triangulation.transform[simplex]  # (S, 3, 2): barycentric coordinates of x = affine[:2] (x - affine[2])
    partial = np.einsum("sij,sj->si", affine[:, :2], sample - affine[:, 2])
    weights = np.c_[partial, 1 - partial.sum(1)] * inside[:, None]
    rows = np.repeat(np.arange(len(sample)), 3)
    columns = owner[triangulation.simplices[simplex]].ravel()
    shape = (len(sample), MESH_POINTS)
    return sparse.csr_matrix((weights.ravel(), (rows, columns)), shape=shape), inside  # repeated entries add up


def mesh_laplacian(points: np.ndarray) -> sparse.csr_matrix:
    """(468, 468) graph Laplacian of the mesh points (N, 2)' Delaunay triangulation: (L d)_i = the number of
    neighbours of i times d_i minus their sum; zero for a constant d, so penalising it keeps neighbours alike."""
    simplices = Delaunay(points[:MESH_POINTS]).simplices
    pairs = np.concatenate([simplices[:, [a, b]] for a, b in ((0, 1), (1, 2), (0, 2))])
    pairs = np.unique(np.sort(pairs, 1), axis=0)
    n = MESH_POINTS
    adjacency = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    adjacency = (adjacency + adjacency.T).tocsr()
    return (sparse.diags(np.asarray(adjacency.sum(1)).ravel()) - adjacency).tocsr()


def parallax(points: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """The depth coordinate in which a camera view of the head is exactly projective: D z / (D + z), D the camera's
    distance (CAMERA_FACE_WIDTHS times the face's width, the units of `points`). A view from another camera position
    maps an image point x with distance D + z to H x + e / (D + z) (plane plus parallax); z itself would leave a
    model error growing with z^2 / D^2 (0.1 px at the temples of a face turned by 8 degrees)."""
    distance = camera_distance(points)
    return distance * depth / (distance + depth)


def camera_distance(points: np.ndarray) -> float:
    """The camera's assumed distance D from a face whose mesh points are `points` (N, 2): CAMERA_FACE_WIDTHS times
    its width, in the units of `points`."""
    return CAMERA_FACE_WIDTHS * float(np.ptp(points[:MESH_POINTS, 0]))


def pose_camera(pose: np.ndarray, distance: float, centre: np.ndarray) -> np.ndarray:
    """The camera (3, 4) of the head moved by `pose` (6,): a reference point (x, y) at parallax depth d lies in the
    camera's space at D / (D - d) (x - cx, y - cy, D), the pinhole camera (focal length D = `distance`, principal
    point `centre` (2,)) sees it moved by the pose's rotation R and translation t at K (R X + t). Zero pose: the
    identity [x, y, ., 1]."""
    lift, pinhole = _pinhole(distance, centre)
    rotation = cv2.Rodrigues(np.asarray(pose[:3], np.float64))[0]
    camera = pinhole @ np.c_[rotation, pose[3:6]] @ lift
    return camera / camera[2, 3]


def camera_pose(camera: np.ndarray, distance: float, centre: np.ndarray) -> np.ndarray:
    """The pose (6,) whose `pose_camera` is nearest to `camera` (3, 4): its rotation part projected onto the
    rotations (a similarity or a general camera gives the rigid motion closest to it)."""
    lift, pinhole = _pinhole(distance, centre)
    motion = np.linalg.inv(pinhole) @ camera @ np.linalg.inv(lift)  # ~ [R | t] up to scale
    scale = np.cbrt(np.linalg.det(motion[:, :3]))
    u, _, vt = np.linalg.svd(motion[:, :3] / scale)
    rotation = u @ np.diag([1.0, 1.0, np.linalg.det(u @ vt)]) @ vt
    return np.r_[cv2.Rodrigues(rotation)[0][:, 0], motion[:, 3] / scale]


def _pinhole(distance: float, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lift (4, 4): a reference point (x, y, d, 1) -> its camera-space position X (homogeneous), pinhole (3, 3):
    camera space -> image) of the camera with focal length `distance` and principal point `centre`."""
    (cx, cy), d = centre, distance
    lift = np.array([[d, 0, 0, -cx * d], [0, d, 0, -cy * d], [0, 0, 0, d * d], [0, 0, -1, d]])
    return lift, np.array([[d, 0, cx], [0, d, cy], [0, 0, 1]])


def fit_pose(
    q: np.ndarray, depth: np.ndarray, moved: np.ndarray, distance: float, centre: np.ndarray, start: np.ndarray
) -> np.ndarray:
    """The pose (6,) taking points q (N, 2) with parallax depths (N,) onto `moved` (N, 2), from `start` (6,): least
    squares with a robust loss (soft L1 beyond POSE_PX), then again from there with a redescending one (Cauchy,
    SETTLE_PX). Soft L1 caps each point's pull but keeps it: skin an expression moves by a few tenths of a pixel
    inside the rigid regions (the forehead under a brow raise) still pulls the head along with it; under the
    Cauchy loss a point's pull fades beyond SETTLE_PX, so the fit settles on the points that move with the head
    (docs/faces.md measures both on the 3D set)."""

    def residuals(pose: np.ndarray) -> np.ndarray:
        u, v = apply(pose_camera(pose, distance, centre), q[:, 0], q[:, 1], depth)
        return np.r_[u - moved[:, 0], v - moved[:, 1]]

    # rotations in radians move points ~D per radian, translations 1 px per px: scaled to comparable steps
    steps = np.r_[np.full(3, 1.0 / distance), np.ones(3)]
    rough = least_squares(residuals, start, loss="soft_l1", f_scale=POSE_PX, x_scale=steps).x
    return least_squares(residuals, rough, loss="cauchy", f_scale=SETTLE_PX, x_scale=steps).x


def fit_head(
    q: np.ndarray,
    depth: np.ndarray,
    moved: np.ndarray,
    distance: float,
    centre: np.ndarray,
    start: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray | None:
    """The head's pose (6,) from correspondences q (N, 2) with parallax depths (N,) -> `moved` (N, 2): the points
    a general camera explains within CAMERA_PX (`fit`: RANSAC, robust to the points an expression moves), then the
    pose on them (`fit_pose`, from `start`). None when no camera fits."""
    found = fit(q, depth, moved, CAMERA_PX, rng)
    if found is None:
        return None
    head = found[1]
    return fit_pose(q[head], depth[head], moved[head], distance, centre, start)


def refine_depth(
    q: np.ndarray,
    depth: np.ndarray,
    weights: sparse.csr_matrix,
    smooth: sparse.csr_matrix,
    moved: np.ndarray,
    poses: np.ndarray,
    distance: float,
    centre: np.ndarray,
) -> np.ndarray:
    """Corrections (V,) to the parallax depths of the mesh vertices, from the parallax a turning head shows: bundle
    adjustment of the F frames' poses and the corrections together, so that points q (S, 2) at parallax depths
    `depth` + `weights` (S, V) @ corrections land where each frame shows them, `moved` (F, S, 2), from the poses
    `poses` (F, 6). Robust least squares (soft L1 beyond POSE_PX, as `fit_pose` begins: points the expression
    moves weigh little), with the corrections held small (REFINE_PRIOR) and alike on neighbouring vertices
    (REFINE_SMOOTH, on the Laplacian `smooth` (V, V)); an analytic sparse Jacobian, at most REFINE_EVALUATIONS
    evaluations. Returns the corrections and the frames' poses (F, 6) fitted with them."""
    frames, count, vertices = len(moved), len(q), weights.shape[1]
    lift, pinhole = _pinhole(distance, centre)
    stacked = sparse.vstack([weights, weights]).tocsr()  # (2S, V): u rows, then v rows
    regular = sparse.vstack([REFINE_PRIOR * sparse.identity(vertices), REFINE_SMOOTH * smooth])

    def views(x: np.ndarray):  # per frame: camera-space points (4, S), (u, v) (2, S), h (3, S), R, dR / dr, pose
        delta = x[6 * frames :]
        space = lift @ np.vstack([q.T, depth + weights @ delta, np.ones(count)])
        for pose in x[: 6 * frames].reshape(frames, 6):
            rotation, turn = cv2.Rodrigues(pose[:3])
            h = pinhole @ (rotation @ space[:3] + np.outer(pose[3:], space[3]))
            yield space, h[:2] / h[2], h, rotation, turn, pose

    def residuals(x: np.ndarray) -> np.ndarray:
        out = [(uv - moved[i].T).ravel() for i, (_, uv, *_) in enumerate(views(x))]
        return np.concatenate([*out, regular @ x[6 * frames :]])

    def jacobian(x: np.ndarray) -> sparse.csr_matrix:
        poses, depths = [], []
        for space, uv, h, rotation, turn, pose in views(x):
            # dh / d(rotation vector k) = K dR_k X, dh / dt = K X_w, dh / d(depth) = K (R lift_z + t lift_w)
            dh = np.stack(
                [pinhole @ (turn[k].reshape(3, 3) @ space[:3]) for k in range(3)]
                + [np.outer(pinhole[:, k], space[3]) for k in range(3)],
                2,
            )
            dz = pinhole @ (rotation @ lift[:3, 2] + pose[3:] * lift[3, 2])
            # (u, v) = h_xy / h_w: d(u, v) = (dh_xy - (u, v) dh_w) / h_w
            poses.append(((dh[:2] - uv[:, :, None] * dh[2]) / h[2][:, None]).reshape(2 * count, 6))
            depths.append(sparse.diags(((dz[:2, None] - uv * dz[2]) / h[2]).ravel()) @ stacked)
        top = sparse.hstack([sparse.block_diag(poses), sparse.vstack(depths)])
        bottom = sparse.hstack([sparse.csr_matrix((regular.shape[0], 6 * frames)), regular])
        return sparse.vstack([top, bottom]).tocsr()

    start = np.r_[np.asarray(poses, np.float64).ravel(), np.zeros(vertices)]
    steps = np.r_[np.tile(np.r_[np.full(3, 1.0 / distance), np.ones(3)], frames), np.ones(vertices)]
    found = least_squares(
        residuals,
        start,
        jac=jacobian,
        loss="soft_l1",
        f_scale=POSE_PX,
        x_scale=steps,
        max_nfev=REFINE_EVALUATIONS,
    )
    return found.x[6 * frames :], found.x[: 6 * frames].reshape(frames, 6)


def apply(camera: np.ndarray, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """W for points given as arrays x, y, z of one shape: (x', y') of the same shape."""
    h = [camera[i, 0] * x + camera[i, 1] * y + camera[i, 2] * z + camera[i, 3] for i in range(3)]
    return h[0] / h[2], h[1] / h[2]


def locate(camera: np.ndarray, depth: np.ndarray, points: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Where source points (N, 2) are in the aligned square under `camera` (3, 4) (aligned (x, y, z, 1) -> source)
    and the aligned depth map `depth` (H, W): p with camera [p, depth(p), 1] ~ the point, found from `start` (N, 2)
    by fixed-point steps (the depth of a face changes slowly)."""
    p = start
    for _ in range(5):
        z = cv2.remap(
            depth, *(v.astype(np.float32)[:, None] for v in p.T), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )[:, 0].astype(np.float64)
        plane = np.stack(
            [
                np.broadcast_to(camera[:, 0], (len(z), 3)),
                np.broadcast_to(camera[:, 1], (len(z), 3)),
                camera[:, 2] * z[:, None] + camera[:, 3],
            ],
            2,
        )  # (N, 3, 3): (x, y, 1) -> source
        h = np.linalg.solve(plane, np.c_[points, np.ones(len(points))][..., None])[..., 0]
        p = h[:, :2] / h[:, 2:]
    return p


def fit(
    q: np.ndarray, depth: np.ndarray, moved: np.ndarray, threshold: float, rng: np.random.Generator, tries: int = 500
) -> tuple[np.ndarray, np.ndarray] | None:
    """The camera taking points q (N, 2) with depths (N,) onto `moved` (N, 2), robustly: RANSAC on 6 points, then
    least squares on the inliers (within `threshold` px), twice. Without depth variation (a flat depth) it is a
    homography. Returns (camera (3, 4), inliers (N,) bool), or None when no sample is well posed."""
    with_depth = np.ptp(depth) > 1e-6
    centre = q.mean(0)
    scale = float(np.abs(q - centre).max()) or 1.0
    x, y = ((q - centre) / scale).T
    z = depth / scale if with_depth else np.zeros(len(q))
    u, v = ((moved - centre) / scale).T
    one, zero = np.ones(len(q)), np.zeros(len(q))
    cols = COLUMNS if with_depth else FLAT_COLUMNS
    rows_u = np.stack([x, y, z, one, zero, zero, zero, zero, -u * x, -u * y, -u * z], 1)[:, cols]
    rows_v = np.stack([zero, zero, zero, zero, x, y, z, one, -v * x, -v * y, -v * z], 1)[:, cols]
    design = np.stack([rows_u, rows_v], 1)  # (N, 2, k)
    target = np.stack([u, v], 1)  # (N, 2)
    k = len(cols)
    need = (k + 1) // 2
    if len(q) < need + 1:
        return None
    samples = np.stack([rng.choice(len(q), need, replace=False) for _ in range(tries)])
    a = design[samples].reshape(tries, 2 * need, k)
    b = target[samples].reshape(tries, 2 * need, 1)
    theta = _solve(a, b)  # (tries', k)
    if theta is None:
        return None
    inliers, most = None, -1
    for i in range(0, len(theta), CHUNK):  # a block of hypotheses at a time: its (CHUNK, N) arrays stay in cache
        within = _errors(design, target, theta[i : i + CHUNK]) * scale < threshold  # px
        counts = within.sum(1)
        if counts.max() > most:  # the first of the samples with the most inliers
            inliers, most = within[np.argmax(counts)], counts.max()
    for _ in range(2):
        if inliers.sum() < need + 1:
            return None
        t = np.linalg.lstsq(design[inliers].reshape(-1, k), target[inliers].reshape(-1), rcond=None)[0]
        inliers = _errors(design, target, t[None])[0] * scale < threshold
    full = np.zeros(11)
    full[cols] = t
    normalised = np.array([full[0:4], full[4:8], [*full[8:11], 1.0]])
    into = np.array(
        [
            [1 / scale, 0, 0, -centre[0] / scale],
            [0, 1 / scale, 0, -centre[1] / scale],
            [0, 0, 1 / scale, 0],
            [0, 0, 0, 1],
        ]
    )  # (x, y, z, 1) -> normalised
    out = np.array([[scale, 0, centre[0]], [0, scale, centre[1]], [0, 0, 1]])  # normalised image -> px
    camera = out @ normalised @ into
    return camera / camera[2, 3], inliers


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """(S', k) least-norm solutions of the S systems a (S, m, k) x = b (S, m, 1) that have full rank k, or None when
    none has: np.linalg.matrix_rank and np.linalg.pinv's arithmetic, on one singular value decomposition."""
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    ok = (s > s.max(1, keepdims=True) * max(a.shape[1:]) * np.finfo(a.dtype).eps).sum(1) == a.shape[2]
    if not ok.any():
        return None
    u, s, vt = u[ok], s[ok], vt[ok]
    large = s > 1e-15 * s.max(1, keepdims=True)
    inverse = np.divide(1, s, where=large, out=np.zeros_like(s))
    return (np.swapaxes(vt, -1, -2) @ (inverse[..., None] * np.swapaxes(u, -1, -2)) @ b[ok])[..., 0]


def _errors(design: np.ndarray, target: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """(S, N) reprojection errors (normalised units) of S parameter vectors theta (S, k) on the N points."""
    full = np.zeros((len(theta), 11))
    full[:, COLUMNS if theta.shape[1] == len(COLUMNS) else FLAT_COLUMNS] = theta
    x, y = design[:, 0, 0], design[:, 0, 1]
    z = design[:, 0, 2] if theta.shape[1] == len(COLUMNS) else np.zeros(len(x))

    def plane(row: np.ndarray, last: np.ndarray | float) -> np.ndarray:  # row_0 x + row_1 y + row_2 z + last, in place
        out = row[:, 0:1] * x
        out += row[:, 1:2] * y
        out += row[:, 2:3] * z
        out += last
        return out

    w = plane(full[:, 8:11], 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # a degenerate sample's plane at infinity: no inliers
        pu, pv = plane(full[:, 0:4], full[:, 3:4]), plane(full[:, 4:8], full[:, 7:8])
        pu /= w
        pv /= w
        pu -= target[:, 0]
        pv -= target[:, 1]
        return np.nan_to_num(np.hypot(pu, pv, out=pu), nan=np.inf, posinf=np.inf)


def remap(image: np.ndarray, source_x: np.ndarray, source_y: np.ndarray, interpolation: int, border: int) -> np.ndarray:
    """image sampled at (source_x, source_y) (H, W) float, rounded far below a pixel so every CPU samples the same."""
    mx, my = (np.round(v, 4).astype(np.float32) for v in (source_x, source_y))
    return cv2.remap(image, mx, my, interpolation, borderMode=border)


class DepthRegistration(Registration):
    """Registration whose warp is depth-aware (faces/depth.py): a view of the head moved rigidly, fitted to the same
    dense flow on the same mask; `depth` is the canvas's depth map, `distance` and `centre` the camera's (canvas px:
    `pose_camera`)."""

    def __init__(self, canvas, reference, mask, params, depth: np.ndarray, distance: float, centre: np.ndarray):
        self.depth, self.distance, self.centre = depth, distance, centre
        self.grid = np.mgrid[0 : mask.shape[0], 0 : mask.shape[1]][::-1].astype(np.float64)  # (2, H, W) x, y
        self.rng = np.random.default_rng(0)  # RANSAC's samples: the same on every run
        super().__init__(canvas, reference, mask, params)
        # flow down to the canvas's own resolution: a camera (more numbers than the similarity's 4) follows local
        # flow biases that a coarser flow leaves
        self.dis.setFinestScale(0)
        self.z = depth[self.rows, self.cols]

    def view(self, grey: np.ndarray, warp: np.ndarray) -> np.ndarray:
        """The canvas view of a grey frame moved by `warp` (3, 3): view(q) = canvas(W q)."""
        if warp.shape == (2, 3):  # the template, built by the parent
            warp = IDENTITY
        wx, wy = apply(warp, *self.grid, self.depth)
        inv = np.linalg.inv(self.canvas)  # canvas -> reduced source
        moved = remap(
            grey,
            inv[0, 0] * wx + inv[0, 1] * wy + inv[0, 2],
            inv[1, 0] * wx + inv[1, 1] * wy + inv[1, 2],
            cv2.INTER_LINEAR,
            cv2.BORDER_REPLICATE,
        )
        return cv2.GaussianBlur(moved.astype(np.float32), (0, 0), 1.0)

    def depth_at(self, points: np.ndarray) -> np.ndarray:
        """(N,) the canvas depth at points (N, 2), bilinear."""
        x, y = (v.astype(np.float32)[:, None] for v in points.T)
        return cv2.remap(self.depth, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)[:, 0].astype(np.float64)

    def fit(self, grey: np.ndarray, init: np.ndarray) -> tuple[np.ndarray, float]:
        """The warp (3, 4) of a frame from the flow on the mask, and the share of mask pixels that agree with it.

        Each pass views the frame under the current warp W, and the flow f from the template to that view says
        that template point q shows at view point q + f, so at canvas point W(q + f) with the depth there: those
        correspondences, exact (no composition of warps), are fitted anew. A general camera (RANSAC) finds the
        points that move with the head, and the head's pose is fitted to them, starting from the pose nearest to
        `init`. The pose is taken where it explains clearly more of the rigid regions than a similarity does (a
        head turning out of the image plane), else the similarity (fewer numbers: less jitter on a head that does
        not turn). Passes repeat until the warp moves the mask by less than CONVERGED_PX, at most
        `registration_passes` + DEPTH_PASSES times: a flow over a turned face is biased by its foreshortening,
        which the next view undoes.
        """
        warp, share = init.copy(), 0.0
        self.moved = None
        q = self.q.astype(np.float64)
        pose = camera_pose(init, self.distance, self.centre)
        before = np.stack(apply(warp, *q.T, self.z), 1)
        for _ in range(self.passes + DEPTH_PASSES):
            back = np.clip(self.view(grey, warp), 0, 255).astype(np.uint8)
            flow = self.dis.calc(self.template, back, None)
            inner = q + flow[self.rows, self.cols]
            moved = np.stack(apply(warp, *inner.T, self.depth_at(inner)), 1)
            found = fit_head(q, self.z, moved, self.distance, self.centre, pose, self.rng)
            similar, _ = cv2.estimateAffinePartial2D(
                self.q,
                moved.astype(np.float32),
                method=cv2.RANSAC,
                ransacReprojThreshold=0.3,
                maxIters=500,
                confidence=0.999,
                refineIters=20,
            )
            if found is None and similar is None:
                raise cv2.error("no warp fits the flow")
            sim_share = (
                -1.0
                if similar is None
                else float((np.linalg.norm(q @ similar[:, :2].T + similar[:, 2] - moved, axis=1) < CAMERA_PX).mean())
            )
            cam_share = -1.0
            if found is not None:
                pose, camera = found, pose_camera(found, self.distance, self.centre)
                cam_share = float((np.hypot(*(np.stack(apply(camera, *q.T, self.z), 1) - moved).T) < CAMERA_PX).mean())
            if cam_share > sim_share + CAMERA_MARGIN:
                warp, share = camera, cam_share
            else:
                warp = np.array(
                    [[*similar[0, :2], 0.0, similar[0, 2]], [*similar[1, :2], 0.0, similar[1, 2]], [0.0, 0.0, 0.0, 1.0]]
                )
                share = sim_share
            now = np.stack(apply(warp, *q.T, self.z), 1)
            step, before = float(np.abs(now - before).max()), now
            if step < CONVERGED_PX:
                break
        self.moved = moved  # the last pass's correspondences, for `register_cameras`' depth refinement
        return warp, share


def _scale(m: np.ndarray) -> float:
    return float(np.sqrt(abs(np.linalg.det(m[:2, :2]))))


def aligned_depth(landmarks: np.ndarray, depth: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """(size, size) float32 depth map of the aligned reference frame from its landmarks (N, 2) and their depths (N,),
    source px, under the reference transform `matrix` (2, 3)."""
    return depth_map(transform_points(landmarks, matrix), depth * _scale(matrix), (size, size))


def register_cameras(
    frames, reference, canvas, zoom, mask, ref_landmarks, ref_depth, ref_matrix, params, matrices, scores
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Depth-aware registration of every frame (in place into matrices, scores); returns (cameras (T, 3, 4) aligned
    (x, y, z, 1) -> source, depth (size, size) aligned depth map, the landmarks' depth (N,) it used).

    Where the head turns out of the image plane by more than REFINE_DEG, the clip's own parallax corrects the
    reference's depth (mediapipe's mesh from one frame is off by about a pixel at the temples and the eye corners):
    `refine_depth` on the last pass's correspondences of every frame, and the clip is registered again with it."""
    on_canvas = transform_points(ref_landmarks, canvas)
    height, width = frames[reference].shape[:2]
    centre = canvas @ [width / 2, height / 2, 1.0]  # the source frame's centre on the canvas: the principal point
    distance = camera_distance(on_canvas)
    k = _scale(canvas)  # canvas px per source px

    def register_all(z: np.ndarray, start: dict | None = None) -> tuple[DepthRegistration, dict, dict]:
        canvas_depth = depth_map(on_canvas, z * k, mask.shape)
        register = DepthRegistration(canvas, frames[reference], mask, params, canvas_depth, distance, centre)
        moved = {}
        found = track(register, frames, reference, IDENTITY, lambda t: moved.__setitem__(t, register.moved), start)
        return register, found, moved

    register, found, moved = register_all(ref_depth)
    turned = [t for t in moved if found[t][0][:, 2].any()]  # the frames whose warp is a camera, not the similarity
    poses = {t: camera_pose(found[t][0], distance, centre) for t in moved}
    if turned and max(np.hypot(*poses[t][:2]) for t in turned) > np.deg2rad(REFINE_DEG):
        q = register.q.astype(np.float64)
        weights, inside = mesh_weights(on_canvas, q)
        frames_seen = sorted(moved)
        correction, refined = refine_depth(
            q[inside],
            register.z[inside],
            weights[inside],
            mesh_laplacian(on_canvas),
            np.stack([moved[t][inside] for t in frames_seen]),
            np.stack([poses[t] for t in frames_seen]),
            distance,
            centre,
        )
        # parallax d = D z / (D + z)  <=>  z = D d / (D - d); canvas px -> source px
        vertices = parallax(on_canvas, ref_depth * k)[:MESH_POINTS] + correction
        ref_depth = ref_depth.copy()
        ref_depth[:MESH_POINTS] = np.round(distance * vertices / (distance - vertices) / k, DEPTH_DECIMALS)
        # each frame starts from its pose in the adjustment, already fitted to the corrected depth
        start = {t: pose_camera(pose, distance, centre) for t, pose in zip(frames_seen, refined, strict=True)}
        register, found, _ = register_all(ref_depth, start)
    zk = _scale(zoom)  # canvas depth = zk * aligned depth
    lift = np.array(
        [
            [zoom[0, 0], zoom[0, 1], 0, zoom[0, 2]],
            [zoom[1, 0], zoom[1, 1], 0, zoom[1, 2]],
            [0, 0, zk, 0],
            [0, 0, 0, 1.0],
        ]
    )  # aligned (x, y, z, 1) -> canvas (x, y, z, 1)
    cameras = np.zeros((len(frames), 3, 4))
    for t, (w, cc) in found.items():
        # aligned (p, z) -> canvas (Z p, k z) -> W -> source C^-1 (.); matrices: its plane z = 0, inverted
        cameras[t] = np.round(np.linalg.inv(to3(canvas)) @ w @ lift, DECIMALS)
        if t != reference:
            plane = np.linalg.inv(cameras[t][:, [0, 1, 3]])
            matrices[t] = (plane / plane[2, 2])[:2]
            scores[t] = cc
    return cameras, aligned_depth(ref_landmarks, ref_depth, ref_matrix, params.size), ref_depth
