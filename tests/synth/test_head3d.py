"""The 3D head model of the synthetic dataset (synth/mesh.py): the mesh is mediapipe's measurement of the
photograph, the zero pose is the still face, frames show the face where the true points say, and a turned head is
not a similarity (what makes it a test for stabilisation)."""

from dataclasses import replace

import cv2
import numpy as np
import pytest

from mer_pipeline.config import SynthParams
from mer_pipeline.faces.registration import similarity_fit
from mer_pipeline.synth.generate import generate, read_ground_truth
from mer_pipeline.synth.mesh import astronaut_mesh, frame_map, head_mesh, project
from mer_pipeline.synth.render import identity_image, make_identity

SMALL = {"subjects": 1, "clips_per_class": 1, "frames": 10, "image_size": 160, "noise_sigma": 0.0, "flicker": 0.0}
STILL = {"head_translation_px": 0.0, "head_rotation_deg": 0.0, "head_scale": 0.0, "head_jerk_px": 0.0}


def subject(size=160):
    ident = make_identity(np.random.default_rng([0, 1]), size)
    return ident, head_mesh(ident.affine, size)


def test_the_mesh_file_is_what_the_landmarker_measures():
    from mer_pipeline.evaluation.astronaut_mesh import measure

    np.testing.assert_allclose(measure(), astronaut_mesh(), atol=0.01)  # written rounded to 0.01 px


def test_the_zero_pose_shows_the_still_face():
    _, mesh = subject()
    zero = np.array([0, 0, 0, 0, 0, 1.0])
    np.testing.assert_allclose(project(mesh, zero)[0], mesh.still, atol=1e-9)
    map_x, map_y, linear = frame_map(mesh, zero)
    ys, xs = np.mgrid[0:160, 0:160]
    assert np.abs(map_x - xs).max() < 1e-3 and np.abs(map_y - ys).max() < 1e-3
    np.testing.assert_allclose(linear, np.broadcast_to(np.eye(2), linear.shape), atol=1e-4)


def test_a_turned_head_shows_the_face_where_the_true_points_are_and_is_no_similarity():
    """Frame colours at the true frame positions of the mesh points match the still face's at those points; a
    similarity fitted to the same points misses them by pixels (the parallax of nose against temples)."""
    ident, mesh = subject()
    face = identity_image(ident, 160)
    pose = np.array([np.deg2rad(8.0), np.deg2rad(5.0), 0.0, 1.0, -0.5, 1.0])
    map_x, map_y, _ = frame_map(mesh, pose)
    frame = cv2.remap(face, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    still, moved = mesh.still[:468], project(mesh, pose)[0][:468]

    def colours(image, points):
        grid = points.astype(np.float32).reshape(-1, 1, 2)
        return cv2.remap(image, grid[..., 0], grid[..., 1], cv2.INTER_LINEAR).reshape(-1, 3)

    at_truth = np.abs(colours(frame, moved) - colours(face, still)).mean()
    fit = similarity_fit(still, moved)
    by_similarity = still @ fit[:, :2].T + fit[:, 2]
    at_similarity = np.abs(colours(frame, by_similarity) - colours(face, still)).mean()
    miss = np.linalg.norm(by_similarity - moved, axis=1)
    assert at_truth < 3.0 and at_similarity > 2 * at_truth
    assert miss.max() > 2.0 and np.median(miss) > 0.5


def test_a_3d_head_held_still_renders_the_2d_dataset(tmp_path):
    """The 3D path at the zero pose gives the 2D path's frames and expression flow: the flow's per-pixel head part
    reduces to the identity."""
    flat = SynthParams(**SMALL, **STILL)
    generate(flat, tmp_path / "2d")
    generate(replace(flat, head_model="3d"), tmp_path / "3d")
    two, three = read_ground_truth(tmp_path / "2d"), read_ground_truth(tmp_path / "3d")
    for clip_id, gt in two.items():
        np.testing.assert_allclose(np.load(three[clip_id]["flow"])["flow"], np.load(gt["flow"])["flow"], atol=2e-3)
        np.testing.assert_allclose(np.load(three[clip_id]["head"])["points"], np.load(gt["head"])["points"], atol=1e-6)
        assert set(np.load(three[clip_id]["head"]).files) == {"poses", "points"}
        a, b = (
            cv2.imread(str(root / "CASME2-RAW" / clip_id / f"img{gt['apex']}.jpg")).astype(float)
            for root in (tmp_path / "2d", tmp_path / "3d")
        )
        assert np.abs(a - b).mean() < 0.5


def test_3d_motion_turns_the_head_within_its_amplitudes(tmp_path):
    params = SynthParams(**SMALL, head_model="3d", head_yaw_deg=8.0, head_pitch_deg=4.0)
    generate(params, tmp_path / "s")
    for gt in read_ground_truth(tmp_path / "s").values():
        poses = np.load(gt["head"])["poses"]
        assert np.abs(np.rad2deg(poses[:, 0])).max() <= 8.0 + 1e-6 and np.abs(np.rad2deg(poses[:, 1])).max() <= 4.0
        assert np.abs(np.rad2deg(poses[:, 0])).max() > 2.0 and gt["head_px"] > 1.0


def test_3d_params_are_checked():
    from mer_pipeline.errors import UserError

    with pytest.raises(UserError, match="head_model must be one of 2d, 3d"):
        SynthParams(head_model="4d")
    with pytest.raises(UserError, match=r"synth.head_yaw_deg must be in \[0, 30\]"):
        SynthParams(head_yaw_deg=45.0)
