"""Depth-aware registration's pieces (faces/depth.py), on numbers worked out by hand: a camera is recovered from
points with depth and outliers, a flat face gives a homography, locate inverts a camera, the depth map interpolates
the mesh and continues it outside."""

import numpy as np

from mer_pipeline.faces import depth


def camera_of(yaw_deg: float, shift=(2.0, -1.0), perspective=2e-4) -> np.ndarray:
    """A (3, 4) camera: a small turn about the vertical axis, a shift and a little perspective."""
    a = np.deg2rad(yaw_deg)
    return np.array([[np.cos(a), 0, np.sin(a), shift[0]], [0, 1, 0, shift[1]], [perspective, 0, 0, 1]])


def scene(rng, n=400):
    q = rng.uniform(0, 160, (n, 2))
    z = 30 * np.cos((q[:, 0] - 80) / 60) * np.cos((q[:, 1] - 80) / 60) - 30  # a face-like bulge, nose forward
    return q, z


def test_a_camera_is_recovered_from_points_with_depth_and_outliers():
    rng = np.random.default_rng(0)
    q, z = scene(rng)
    truth = camera_of(6.0)
    moved = np.stack(depth.apply(truth, q[:, 0], q[:, 1], z), 1)
    wrong = rng.random(len(q)) < 0.2  # a fifth of the points move with the expression, not the head
    moved[wrong] += rng.uniform(1.5, 4.0, (wrong.sum(), 2))
    camera, inliers = depth.fit(q, z, moved + rng.normal(0, 0.05, moved.shape), 0.6, np.random.default_rng(1))
    assert (inliers == ~wrong).mean() > 0.98
    found = np.stack(depth.apply(camera, q[:, 0], q[:, 1], z), 1)
    truth_xy = np.stack(depth.apply(truth, q[:, 0], q[:, 1], z), 1)
    assert np.abs(found - truth_xy).max() < 0.1  # the parallax of a 6 degree turn is ~6 px across this bulge
    assert np.ptp(truth_xy[:, 0] - q[:, 0]) > 5


def test_a_flat_face_gives_a_homography_and_identity_composes_away():
    rng = np.random.default_rng(2)
    q = rng.uniform(0, 100, (200, 2))
    h = np.array([[1.01, 0.02, 0, 3.0], [-0.02, 0.99, 0, 1.0], [1e-4, -5e-5, 0, 1.0]])
    moved = np.stack(depth.apply(h, q[:, 0], q[:, 1], np.zeros(len(q))), 1)
    camera, inliers = depth.fit(q, np.zeros(len(q)), moved, 0.3, np.random.default_rng(3))
    assert inliers.all() and np.allclose(camera[:, 2], 0) and np.allclose(camera, h, atol=1e-6)
    np.testing.assert_allclose(depth.compose(depth.IDENTITY, camera), camera, atol=1e-12)
    np.testing.assert_allclose(depth.compose(camera, depth.IDENTITY), camera, atol=1e-12)


def test_locate_inverts_a_camera_over_a_depth_map():
    rng = np.random.default_rng(4)
    ys, xs = np.mgrid[0:64, 0:64]
    depth_map = (10 * np.sin(xs / 15.0) + 5 * np.cos(ys / 20.0)).astype(np.float32)
    p = rng.uniform(8, 56, (50, 2))
    z = np.array([depth_map[int(round(y)), int(round(x))] for x, y in p])
    camera = camera_of(4.0, perspective=1e-4)
    source = np.stack(depth.apply(camera, p[:, 0], p[:, 1], z), 1)
    found = depth.locate(camera, depth_map, source, source)
    # exact up to the depth map's bilinear reading at p against the nearest pixel used above
    assert np.abs(found - p).max() < 0.6 and np.median(np.abs(found - p)) < 0.1


def test_the_depth_map_interpolates_the_mesh_and_continues_it_outside():
    points = np.array([[10.0, 10], [50, 10], [10, 50], [50, 50], [30, 30]] + [[0.0, 0.0]] * 463)
    values = np.array([0.0, 0, 0, 0, -20] + [0.0] * 463)
    points[5:] = [30.0, 30.0]  # the rest sit on the centre, with its depth
    values[5:] = -20.0
    d = depth.depth_map(points, values, (64, 64))
    assert d[30, 30] == -20 and d[10, 10] == 0 and -20 < d[20, 20] < 0
    assert d[0, 0] == d[10, 10] and d[63, 63] == d[50, 50]  # outside: the nearest face depth
