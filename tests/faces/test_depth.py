"""Depth-aware registration's pieces (faces/depth.py), on numbers worked out by hand: a camera is recovered from
points with depth and outliers, a flat face gives a homography, locate inverts a camera, the depth map interpolates
the mesh and continues it outside."""

import warnings

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


def test_a_flat_face_gives_a_homography():
    rng = np.random.default_rng(2)
    q = rng.uniform(0, 100, (200, 2))
    h = np.array([[1.01, 0.02, 0, 3.0], [-0.02, 0.99, 0, 1.0], [1e-4, -5e-5, 0, 1.0]])
    moved = np.stack(depth.apply(h, q[:, 0], q[:, 1], np.zeros(len(q))), 1)
    camera, inliers = depth.fit(q, np.zeros(len(q)), moved, 0.3, np.random.default_rng(3))
    assert inliers.all() and np.allclose(camera[:, 2], 0) and np.allclose(camera, h, atol=1e-6)


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
    nose = depth.parallax(points, values)[4]  # -20 as parallax depth: D = 5 face widths = 200 px, -20 * 200 / 180
    assert np.isclose(nose, -200 / 9) and np.isclose(d[30, 30], nose, atol=1e-3)
    assert d[10, 10] == 0 and nose < d[20, 20] < 0
    assert d[0, 0] == d[10, 10] and d[63, 63] == d[50, 50]  # outside: the outline's depth held outwards


def test_the_outline_depth_is_held_outwards_where_the_nearest_pixel_would_fall_inside():
    """A face whose outline is far behind its inside: just beyond an outline point the map keeps that point's depth,
    as the head's surface continues there, not the depth of the nearest pixel inside, which is far nearer."""
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    outline = 32 + 20 * np.c_[np.cos(angles), np.sin(angles)]
    inner = 32 + 18 * np.c_[np.cos(angles), np.sin(angles)]
    points = np.concatenate([outline, inner, np.full((468 - 48, 2), 32.0)])
    values = np.concatenate([np.full(24, 40.0), np.full(24, 0.0), np.full(468 - 48, -10.0)])
    d = depth.depth_map(points, values, (64, 64))
    far = depth.parallax(points, values)[0]
    for x, y in 32 + 22 * np.c_[np.cos(angles), np.sin(angles)]:  # 1.1 times out: between outline and ring
        assert abs(d[int(round(y)), int(round(x))] - far) < 0.05 * far


def test_a_camera_view_of_the_head_is_exactly_projective_in_parallax_depth():
    """The synthetic head seen turned by a pinhole camera (synth/mesh.py): a camera fitted to its mesh points with
    their parallax depth reproduces them (0.1 thousandth of a px here); with the raw depth it misses by 0.04 px."""
    from mer_pipeline.synth.mesh import head_mesh, project

    mesh = head_mesh(np.array([[0.6, 0.0, 40.0], [0.0, 0.6, 30.0]]), 320)
    ref_xy, ref_z = (v[:468] for v in project(mesh, np.array([0.02, -0.03, 0.01, 1.0, -2.0, 1.0])))
    moved = project(mesh, np.array([0.12, 0.1, -0.02, 3.0, 1.0, 1.01]))[0][:468]  # about 7 and 8 degrees more
    d = depth.parallax(ref_xy, ref_z)
    # the assumed distance is the face width at this pose, not the still face's: a fraction of a percent apart
    errors = {}
    for name, z in (("parallax", d), ("raw", ref_z)):
        camera, _ = depth.fit(ref_xy, z, moved, 100.0, np.random.default_rng(0))
        errors[name] = np.hypot(*(np.stack(depth.apply(camera, *ref_xy.T, z), 1) - moved).T).mean()
    assert errors["parallax"] < 0.001 < 0.03 < errors["raw"], errors


def test_the_zero_pose_is_the_identity_and_a_camera_gives_its_pose_back():
    centre, distance = np.array([150.0, 140.0]), 700.0
    assert np.allclose(depth.pose_camera(np.zeros(6), distance, centre), depth.IDENTITY)
    pose = np.array([0.05, -0.12, 0.02, 3.0, -4.0, 12.0])  # about 3, 7 and 1 degrees; px
    camera = depth.pose_camera(pose, distance, centre)
    assert np.allclose(depth.camera_pose(camera, distance, centre), pose, atol=1e-9)
    assert np.allclose(depth.camera_pose(camera * 3.0, distance, centre), pose, atol=1e-9)  # a camera's scale is free


def test_the_pose_of_a_turned_synthetic_head_is_recovered_from_its_points_despite_the_expression():
    """The synthetic head (synth/mesh.py) turned rigidly about its pivot by 7 and 8 degrees and seen by its pinhole
    camera: the pose fitted to the moved mesh points, a fifth of them moved further by an expression, puts the
    others where they are to a hundredth of a pixel; without depth (a similarity) they miss by pixels."""
    from mer_pipeline.faces.registration import similarity_fit
    from mer_pipeline.synth.mesh import head_mesh, project

    mesh = head_mesh(np.array([[0.6, 0.0, 40.0], [0.0, 0.6, 30.0]]), 320)
    ref_xy, ref_z = (v[:468] for v in project(mesh, np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0])))
    moved = project(mesh, np.array([0.12, 0.14, -0.02, 0.0, 0.0, 1.0]))[0][:468]
    rng = np.random.default_rng(5)
    expression = rng.random(468) < 0.2
    seen = moved + expression[:, None] * rng.uniform(1.5, 4.0, (468, 2))
    d = depth.parallax(ref_xy, ref_z)
    assert np.isclose(depth.camera_distance(ref_xy), mesh.distance)
    pose = depth.fit_head(ref_xy, d, seen, mesh.distance, mesh.centre, np.zeros(6), np.random.default_rng(0))
    found = np.stack(depth.apply(depth.pose_camera(pose, mesh.distance, mesh.centre), *ref_xy.T, d), 1)
    assert np.abs(found - moved)[~expression].max() < 0.01
    flat = similarity_fit(ref_xy[~expression], moved[~expression])
    assert np.abs(ref_xy @ flat[:, :2].T + flat[:, 2] - moved).max() > 2.0


def test_skin_an_expression_moves_by_tenths_of_a_pixel_does_not_pull_the_pose():
    """The synthetic head turned as above, its upper face raised by a smooth bump (a brow raise reaching into the
    forehead: up to 1 px, more than 0.05 px on about 40 % of the points, most of them within a RANSAC threshold)
    and every point jittered by 0.05 px of flow noise: the pose fitted to all points puts the points the bump leaves
    alone within 0.075 px of where they are (the soft-L1 fit alone, the method before, misses by 0.106)."""
    from mer_pipeline.synth.mesh import head_mesh, project

    mesh = head_mesh(np.array([[0.6, 0.0, 40.0], [0.0, 0.6, 30.0]]), 320)
    ref_xy, ref_z = (v[:468] for v in project(mesh, np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0])))
    moved = project(mesh, np.array([0.12, 0.14, -0.02, 0.0, 0.0, 1.0]))[0][:468]
    width = np.ptp(ref_xy[:, 0])
    brow = ref_xy[np.argmin(ref_xy[:, 1])] + [0.0, 0.3 * width]
    bump = np.exp(-((ref_xy - brow) ** 2).sum(1) / (2 * (0.15 * width) ** 2))  # peak 1 px, upwards
    seen = moved + np.c_[np.zeros(468), -bump] + np.random.default_rng(1).normal(0, 0.05, (468, 2))
    still = bump < 0.05
    assert 0.3 < 1 - still.mean() < 0.5
    d = depth.parallax(ref_xy, ref_z)
    pose = depth.fit_pose(ref_xy, d, seen, mesh.distance, mesh.centre, np.zeros(6))
    found = np.stack(depth.apply(depth.pose_camera(pose, mesh.distance, mesh.centre), *ref_xy.T, d), 1)
    assert np.linalg.norm(found - moved, axis=1)[still].mean() < 0.075


def test_the_ransac_solve_is_numpys_rank_test_and_pseudo_inverse_on_one_decomposition():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(40, 12, 11))
    a[::3, :, 4] = a[::3, :, 2] * 2.0  # every third system lacks a column's worth of rank
    a[1::7] = 0.0  # and some are all zero
    b = rng.normal(size=(40, 12, 1))
    ok = np.linalg.matrix_rank(a) == 11
    assert 0 < ok.sum() < len(a)
    assert np.array_equal(depth._solve(a, b), (np.linalg.pinv(a[ok]) @ b[ok])[..., 0])  # bit for bit
    assert depth._solve(a[~ok], b[~ok]) is None


def test_a_point_on_a_hypothesis_plane_at_infinity_is_never_an_inlier_and_scales_without_overflow():
    x, y, z = np.array([1.0, 0.5]), np.array([0.0, 0.5]), np.array([0.0, 0.2])
    one, zero = np.ones(2), np.zeros(2)
    design = np.stack([np.stack([x, y, z, one, *[zero] * 7], 1)] * 2, 1)  # (N, 2, 11); _errors reads x, y, z
    theta = np.zeros((1, 11))
    theta[0, [0, 8]] = [1.0, -1.0]  # u = x / (1 - x): the first point (x = 1) is on the plane at infinity
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        errors = depth._errors(design, np.zeros((2, 2)), theta) * 1e3
    assert np.isinf(errors[0, 0]) and not (errors[0, 0] < 0.6)
    assert np.isclose(errors[0, 1], 1e3)  # the other point: u = 0.5 / 0.5


def test_scoring_the_hypotheses_in_blocks_picks_the_same_sample_as_scoring_them_all_at_once(monkeypatch):
    rng = np.random.default_rng(7)
    q, z = scene(rng, 300)
    moved = np.stack(depth.apply(camera_of(5.0), q[:, 0], q[:, 1], z), 1) + rng.normal(0, 0.3, (300, 2))
    moved[:60] += rng.uniform(1.0, 3.0, (60, 2))  # the expression's points
    blocks = depth.fit(q, z, moved, 0.6, np.random.default_rng(1))
    monkeypatch.setattr(depth, "CHUNK", 10**6)  # one block: every hypothesis scored together
    whole = depth.fit(q, z, moved, 0.6, np.random.default_rng(1))
    assert depth.CHUNK != 64 and np.array_equal(blocks[0], whole[0]) and np.array_equal(blocks[1], whole[1])


def test_the_mesh_weights_write_out_the_depth_map():
    """`mesh_weights` times the mesh's parallax depths is the depth map itself, at its pixels (to its rounding)."""
    from mer_pipeline.synth.mesh import head_mesh, project

    mesh = head_mesh(np.array([[0.6, 0.0, 40.0], [0.0, 0.6, 30.0]]), 320)
    xy, z = (v[:468] for v in project(mesh, np.array([0.02, -0.03, 0.01, 1.0, -2.0, 1.0])))
    drawn = depth.depth_map(xy, z, (320, 320))
    pixels = np.round(np.random.default_rng(0).uniform(xy.min(0), xy.max(0), (2000, 2)))
    weights, inside = depth.mesh_weights(xy, pixels)
    assert inside.mean() > 0.9 and weights.shape == (2000, 468)
    found = weights @ depth.parallax(xy, z)
    at = drawn[pixels[:, 1].astype(int), pixels[:, 0].astype(int)]
    assert np.abs(found - at)[inside].max() < 6e-4  # the map holds 3 decimals
    assert np.ptp(at[inside]) > 20  # a face's relief, not a flat map


def _turning_views(rng):
    """The synthetic head's mesh points (468, 2) at rest, their parallax depths (468,), and where 6 frames turning
    it by up to about 6 degrees (and shifting it) show them (6, 468, 2); the camera's distance and centre."""
    from mer_pipeline.synth.mesh import head_mesh, project

    mesh = head_mesh(np.array([[0.6, 0.0, 40.0], [0.0, 0.6, 30.0]]), 320)
    xy, z = (v[:468] for v in project(mesh, np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0])))
    turns = np.linspace(0.02, 0.1, 6)[:, None] * np.array([1.0, -0.8, 0.1])
    poses = np.c_[turns, rng.normal(0, 2.0, (6, 2)), np.ones(6)]
    seen = np.stack([project(mesh, p)[0][:468] for p in poses])
    return xy, depth.parallax(xy, z), seen, mesh.distance, mesh.centre


def _refined(error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The corrections (468,) and poses (6, 6) `refine_depth` finds for the reference's depths off by `error`
    (468,), from exact correspondences, the poses started at rest."""
    xy, d, seen, distance, centre = _turning_views(np.random.default_rng(3))
    weights, inside = depth.mesh_weights(xy, xy)
    assert inside.all()
    smooth = depth.mesh_laplacian(xy)
    return depth.refine_depth(xy, d + error, weights, smooth, seen, np.zeros((6, 6)), distance, centre)


def test_the_depth_refinement_finds_a_wrong_reference_depth_from_the_parallax():
    """A cheek 3 px too far forward (a smooth bump on a 55 px face) and the head seen turning: the corrections have
    the error's shape (correlation over 0.9) and undo a quarter of it at least; the regularisation (REFINE_PRIOR,
    REFINE_SMOOTH) holds them short of all of it, and a turn cannot tell the mean depth from the distance, so the
    comparison is about the mean."""
    xy = _turning_views(np.random.default_rng(3))[0]
    error = 3.0 * np.exp(-np.sum((xy - xy.mean(0) - [12.0, 6.0]) ** 2, 1) / (2 * 6.0**2))
    correction = _refined(error)[0]
    before, after = error - error.mean(), error + correction - (error + correction).mean()
    # measured: 0.94; 0.41 -> 0.29 px
    assert np.corrcoef(error, -correction)[0, 1] > 0.9
    assert np.abs(after).mean() < 0.75 * np.abs(before).mean()


def test_the_depth_refinement_leaves_a_right_depth_alone_and_gives_each_frames_pose():
    """With the reference's depth right, the corrections stay under a tenth of a pixel (measured 0.05: the synthetic
    head's projection and the pose model differ by that much), and the poses it returns (what `register_cameras`
    starts the second registration from) carry the reference points to where each frame shows them, from poses
    started at rest 5.7 px away on average (measured: 0.022 px mean, 0.14 px at worst)."""
    correction, poses = _refined(np.zeros(468))
    assert np.abs(correction).max() < 0.1
    xy, d, seen, distance, centre = _turning_views(np.random.default_rng(3))
    off = np.stack(
        [
            np.hypot(
                *(np.stack(depth.apply(depth.pose_camera(pose, distance, centre), *xy.T, d + correction), 1) - at).T
            )
            for pose, at in zip(poses, seen, strict=True)
        ]
    )  # (6, 468) px
    assert off.mean() < 0.05 and off.max() < 0.3


def test_the_depth_refinements_jacobian_is_its_residuals_derivative(monkeypatch):
    """The analytic sparse Jacobian `refine_depth` hands least_squares matches central differences of its
    residuals, at poses and corrections away from the start."""
    seen = {}

    def capture(residuals, start, jac, **kwargs):
        seen.update(residuals=residuals, jac=jac, start=start)
        return type("Found", (), {"x": start})

    monkeypatch.setattr(depth, "least_squares", capture)
    rng = np.random.default_rng(1)
    xy, d, moved, distance, centre = _turning_views(rng)
    q = xy[rng.choice(468, 40, replace=False)] + rng.normal(0, 1.0, (40, 2))
    weights, inside = depth.mesh_weights(xy, q)
    q, weights = q[inside], weights[inside]
    depth.refine_depth(
        q, weights @ d, weights, depth.mesh_laplacian(xy), moved[:3, : len(q)], np.zeros((3, 6)), distance, centre
    )
    x = seen["start"] + np.r_[rng.normal(0, 0.05, 18), rng.normal(0, 2.0, 468)]
    analytic = seen["jac"](x).toarray()
    step = 1e-6
    numeric = np.stack(
        [(seen["residuals"](x + e) - seen["residuals"](x - e)) / (2 * step) for e in step * np.eye(len(x))], 1
    )
    assert np.abs(analytic - numeric).max() < 1e-5 * np.abs(numeric).max()
