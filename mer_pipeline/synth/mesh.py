"""The synthetic head as a 3D object: the astronaut's face mesh (x, y, z of mediapipe's 468 points, measured once:
astronaut_mesh.csv) laid on a pseudo-subject's still face, turned (yaw, pitch, roll) about a pivot behind the face,
scaled (a slow approach), moved, and seen by a pinhole camera. A frame is the still face warped piecewise-affinely
over the triangles of the projected mesh (hidden triangles dropped, nearer ones drawn last), so every frame pixel's
still-face position, and every mesh point's frame position, is known exactly.

Convention: points are (x, y) frame pixels, origin top-left; z is depth in the same pixels, positive away from the
camera (mediapipe's sign); a pose is (yaw, pitch, roll) in radians, then (tx, ty) image-plane pixels and a scale;
the zero pose (0, 0, 0, 0, 0, 1) shows the still face unchanged. Background and hair move with the head as a surface
at the depth of the face's outline.
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from scipy.ndimage import map_coordinates
from scipy.spatial import Delaunay

MESH_FILE = Path(__file__).with_name("astronaut_mesh.csv")
CAMERA_FACE_WIDTHS = 5.0  # camera distance from the face, in face widths (about 75 cm for a 15 cm wide face)
PIVOT_FACE_WIDTHS = 0.6  # the head turns about a point this far behind the face's outline
GRID_PX = 32  # spacing of the background points
OUTLINE_PERCENTILE = 95  # depth of the face's outline (and so of the background): this percentile of the mesh's z


@lru_cache(maxsize=1)
def astronaut_mesh() -> np.ndarray:
    """(468, 3) float64 mesh points (x, y, z) of the astronaut photograph, astronaut pixels."""
    return np.loadtxt(MESH_FILE, delimiter=",", comments="#", skiprows=4)


def still_points(affine: np.ndarray) -> np.ndarray:
    """(468, 2) still-face positions of the mesh's points on the face that `affine` (2, 3), astronaut -> frame, puts
    in the frame."""
    return astronaut_mesh()[:, :2] @ affine[:, :2].T + affine[:, 2]


@dataclass(frozen=True)
class HeadMesh:
    """A pseudo-subject's head: `still` (P, 2) still-face positions of the mesh points (the first 468) and of the
    background points; `rest` (P, 3) the same points in camera space (unprojected at the zero pose); `triangles`
    (K, 3); `pivot` (3,); `distance` the camera distance and `centre` (2,) the principal point, px."""

    still: np.ndarray
    rest: np.ndarray
    triangles: np.ndarray
    pivot: np.ndarray
    distance: float
    centre: np.ndarray
    size: int


def head_mesh(affine: np.ndarray, size: int) -> HeadMesh:
    """The mesh of the face that `affine` (2, 3), astronaut -> frame, puts in a (size, size) frame."""
    astro = astronaut_mesh()
    scale = float(np.sqrt(abs(np.linalg.det(affine[:, :2]))))
    face = np.c_[still_points(affine), astro[:, 2] * scale]  # (468, 3) frame px
    outline = cv2.convexHull(face[:, :2].astype(np.float32))
    back = float(np.percentile(face[:, 2], OUTLINE_PERCENTILE))
    g = np.arange(-2 * GRID_PX, size + 2 * GRID_PX + 1, GRID_PX, dtype=np.float64)
    grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    outside = np.array([cv2.pointPolygonTest(outline, (float(x), float(y)), True) < -GRID_PX / 3 for x, y in grid])
    points = np.r_[face, np.c_[grid[outside], np.full(int(outside.sum()), back)]]
    width = float(np.ptp(face[:, 0]))
    distance, centre = CAMERA_FACE_WIDTHS * width, np.array([size / 2, size / 2])
    rest = np.c_[centre + (points[:, :2] - centre) * (distance + points[:, 2:]) / distance, points[:, 2]]
    pivot = np.r_[face[:, :2].mean(0), back + PIVOT_FACE_WIDTHS * width]
    triangles = Delaunay(points[:, :2]).simplices.astype(np.int64)
    return HeadMesh(points[:, :2], rest, triangles, pivot, distance, centre, size)


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """(3, 3) rotation: pitch about x, then yaw about y, then roll about the camera axis (radians)."""
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return rz @ ry @ rx


def project(mesh: HeadMesh, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frame positions (P, 2) and depths (P,) of the mesh's points at `pose` (6,)."""
    yaw, pitch, roll, tx, ty, s = pose
    moved = s * (mesh.rest - mesh.pivot) @ rotation(yaw, pitch, roll).T + mesh.pivot
    frame = mesh.centre + (moved[:, :2] - mesh.centre) * mesh.distance / (mesh.distance + moved[:, 2:])
    return frame + np.array([tx, ty]), moved[:, 2]


def frame_map(mesh: HeadMesh, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The backward map of the frame at `pose`: (map_x, map_y) (H, W) float32, the still-face position each frame
    pixel shows, and (H, W, 2, 2) float32 its linear part d(still)/d(frame) (per triangle)."""
    frame, depth = project(mesh, pose)
    tri = mesh.triangles
    a, b, c = frame[tri[:, 0]], frame[tri[:, 1]], frame[tri[:, 2]]
    sa, sb, sc = (mesh.still[tri[:, k]] for k in range(3))
    turned = (b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0]
    still = (sb - sa)[:, 0] * (sc - sa)[:, 1] - (sb - sa)[:, 1] * (sc - sa)[:, 0]
    index = np.full((mesh.size, mesh.size), -1, np.int32)
    for k in np.argsort(-depth[tri].mean(1), kind="stable"):  # far first: nearer triangles are drawn over them
        if turned[k] * still[k] > 0:  # a triangle turned away from the camera is hidden
            corners = np.round(frame[tri[k]] * 16).astype(np.int32)
            cv2.fillConvexPoly(index, corners, int(k), lineType=cv2.LINE_8, shift=4)
            cv2.polylines(index, [corners], True, int(k), lineType=cv2.LINE_8, shift=4)  # no gaps on shared edges
    frame_h = np.concatenate([frame[tri], np.ones((len(tri), 3, 1))], 2)  # (K, 3, 3) rows [x, y, 1]
    affine = np.linalg.solve(frame_h, mesh.still[tri])  # (K, 3, 2): [x, y, 1] @ affine = still
    k = np.maximum(index, 0)
    ys, xs = np.mgrid[0 : mesh.size, 0 : mesh.size].astype(np.float64)
    map_x = xs * affine[k, 0, 0] + ys * affine[k, 1, 0] + affine[k, 2, 0]
    map_y = xs * affine[k, 0, 1] + ys * affine[k, 1, 1] + affine[k, 2, 1]
    linear = np.transpose(affine[k, :2, :], (0, 1, 3, 2))  # (H, W, 2, 2): rows d(still x, y) / d(frame x, y)
    # rounded far below a pixel: the same frames on every machine whatever the last bits of the solve
    return np.round(map_x, 4).astype(np.float32), np.round(map_y, 4).astype(np.float32), linear.astype(np.float32)


def carry(mesh: HeadMesh, pose: np.ndarray, to: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Where frame points (N, 2) seen at `pose` are in the frame at pose `to`: through the still face (the backward
    map of `pose`), then its triangle's corners at `to` (the mesh moves piecewise-affinely)."""
    map_x, map_y, _ = frame_map(mesh, pose)
    still = np.stack([map_coordinates(m, points[:, ::-1].T, order=1, mode="nearest") for m in (map_x, map_y)], 1)
    triangulation = Delaunay(mesh.still)
    k = triangulation.find_simplex(still)
    inner = triangulation.transform[k]
    b = np.einsum("nij,nj->ni", inner[:, :2], still - inner[:, 2])
    corners = project(mesh, to)[0][triangulation.simplices[k]]  # (N, 3, 2)
    return np.einsum("nk,nkd->nd", np.c_[b, 1 - b.sum(1)], corners)
