"""Where registration_3d's error on the 3D set comes from: the reference frame's geometry, measured by swapping it
for the truth.

registration_3d takes the reference frame's face mesh from mediapipe: the points' positions (x, y) and their depth
(z) make the depth map every frame is warped through (faces/depth.py). The generator knows both exactly (the 3D
mesh at the reference frame's pose, synth/mesh.py). Each row runs the faces stage with registration_3d on the same
3D set (benchmarks/stabilisation.py's, yaw and pitch up to `--turn` degrees), with the reference landmarks' first
468 points (the mesh; iris points stay mediapipe's) replaced as the row says (how far their positions are from the
true ones, mean over points and clips, is the table's first figure), and scores it as that benchmark does:
residual rigid motion (px at the aligned size; median and max over all frames), the same split into the mesh's rigid
landmarks (forehead, nose bridge, eye corners, temples: where the registration looks) and the rest, and the flow EPE
of the expression, with the floor set by aligning with the true head motion. Rows marked "true correspondences"
also replace the dense flow the pose is fitted to: each frame's pose is fitted (faces/depth.py `fit_pose`) to where
the head's motion truly carries the registration's mask points (synth/mesh.carry), so what they leave is the
reference geometry's share of the error and the warp model's.

    python benchmarks/stabilisation_error.py [--subjects 4] [--out benchmarks/results]
"""

import argparse
import hashlib
import tempfile
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from unittest import mock

import numpy as np
from publish import publish  # benchmarks/publish.py: the one output helper
from stabilisation import accuracy, dataset, oracle_epe, subject_mesh  # benchmarks/stabilisation.py

from mer_pipeline.config import Params
from mer_pipeline.face_mesh import MESH_POINTS, RIGID_LANDMARKS
from mer_pipeline.faces.clip import decode_frames
from mer_pipeline.faces.depth import fit_pose, pose_camera
from mer_pipeline.faces.landmarks import MediapipeLandmarker
from mer_pipeline.faces.registration import similarity_fit
from mer_pipeline.faces.task import run_faces
from mer_pipeline.problems import ProblemLog
from mer_pipeline.synth.generate import read_ground_truth
from mer_pipeline.synth.mesh import carry, project

NEAR_PX = 12.0  # "near the rigid landmarks": within this of one of them (source px at the synthetic frame size)
# row -> what of the reference landmarks is taken from the truth
ROWS = {
    "mediapipe (the pipeline)": (),
    "mediapipe, best similarity onto the true positions": ("similarity",),
    "true depth z, mediapipe positions": ("z",),
    "true positions near the rigid landmarks, mediapipe's elsewhere": ("xy near",),
    "true positions away from the rigid landmarks, mediapipe's near them": ("xy away",),
    "true positions x, y, mediapipe depth": ("xy",),
    "true positions and depth": ("xy", "z"),
    "mediapipe, true correspondences": ("correspondences",),
    "true positions and depth, true correspondences": ("xy", "z", "correspondences"),
}


class TrueReference:
    """A landmarker (faces/clip.py's protocol) that answers as mediapipe, except on a reference frame it knows: there
    the mesh points take from `truth` (frame sha256 -> (468, 3) true x, y, z) what `swap` says."""

    def __init__(self, landmarker: MediapipeLandmarker, truth: dict[str, np.ndarray], swap: tuple[str, ...]):
        self.landmarker, self.truth, self.swap = landmarker, truth, swap
        self.off: list[float] = []  # per reference frame: mean distance (px) of its mesh points from the true ones

    def __call__(self, rgb: np.ndarray) -> list[np.ndarray]:
        return self.landmarker(rgb)

    def with_depth(self, rgb: np.ndarray) -> list[np.ndarray]:
        found = self.landmarker.with_depth(rgb)
        true = self.truth.get(hashlib.sha256(rgb.tobytes()).hexdigest())
        if true is None or len(found) != 1:
            return found
        face = found[0].copy()
        if "similarity" in self.swap:  # a global bias of mediapipe's positions, removed
            m = similarity_fit(face[:MESH_POINTS, :2], true[:, :2])
            face[:, :2] = face[:, :2] @ m[:, :2].T + m[:, 2]
        near = np.linalg.norm(true[:, None, :2] - true[None, list(RIGID_LANDMARKS), :2], axis=2).min(1) < NEAR_PX
        chosen = {"xy": np.ones(MESH_POINTS, bool), "xy near": near, "xy away": ~near}
        for part, points in chosen.items():
            if part in self.swap:
                face[:MESH_POINTS][points, :2] = true[points, :2]
        if "z" in self.swap:
            face[:MESH_POINTS, 2] = true[:, 2]
        self.off.append(float(np.linalg.norm(face[:MESH_POINTS, :2] - true[:, :2], axis=1).mean()))
        return [face]


class TrueCorrespondences:
    """faces/registration.py `track` for registration_3d (faces/depth.py `register_cameras`) with the dense flow
    replaced by the truth: on a clip it knows (by its reference frame's sha256), each frame's pose is fitted to where
    the head's motion carries the mask points from the reference frame (synth/mesh.carry), starting from its
    neighbour's pose; those correspondences are what the depth refinement then sees (`fitted`)."""

    def __init__(self, clips: dict[str, tuple]):
        self.clips = clips  # reference sha256 -> (HeadMesh, poses (F, 6), index of the reference frame in poses)

    def __call__(self, register, frames, reference: int, identity: np.ndarray, fitted=None) -> dict:
        mesh, poses, at = self.clips[hashlib.sha256(frames[reference].tobytes()).hexdigest()]
        canvas = register.canvas @ np.diag([2.0**-register.levels, 2.0**-register.levels, 1.0])  # source -> canvas
        q = register.q.astype(np.float64)
        inverse = np.linalg.inv(canvas)
        source = q @ inverse[:2, :2].T + inverse[:2, 2]
        out, pose = {reference: (identity, 1.0)}, {reference: np.zeros(6)}
        for t in [*range(reference + 1, len(frames)), *range(reference - 1, -1, -1)]:
            moved = carry(mesh, poses[at], poses[at + t - reference], source) @ canvas[:2, :2].T + canvas[:2, 2]
            start = pose[t - 1 if t > reference else t + 1]
            pose[t] = fit_pose(q, register.z, moved, register.distance, register.centre, start)
            out[t] = (pose_camera(pose[t], register.distance, register.centre), 1.0)
            register.moved = moved
            if fitted is not None:
                fitted(t)
        return out


def true_clips(params: Params, root: Path, records) -> dict[str, tuple]:
    """Reference frame sha256 (of its decoded RGB, as the faces stage sees it) -> (the subject's HeadMesh, the clip's
    true poses (F, 6), the reference frame's index in them)."""
    truth, out = read_ground_truth(root / "synthetic"), {}
    for rec in records:
        ref = 0 if params.faces.reference == "onset" else rec.apex - rec.onset
        name = rec.key_frame_files()[ref]
        rgb = decode_frames([(root / "synthetic" / name).read_bytes()], root / "synthetic", (name,), rec.clip_id)[0]
        gt = truth[rec.clip_id]
        mesh, poses = subject_mesh(params, rec.clip_id), np.load(gt["head"])["poses"]
        out[hashlib.sha256(rgb.tobytes()).hexdigest()] = (mesh, poses, rec.onset + ref - gt["first"])
    return out


def true_references(clips: dict[str, tuple]) -> dict[str, np.ndarray]:
    """`true_clips`' reference frames -> (468, 3) the mesh's true x, y (frame px) and depth (px, mediapipe's sign)
    there."""
    out = {}
    for key, (mesh, poses, at) in clips.items():
        points, depth = project(mesh, poses[at])
        out[key] = np.c_[points[:MESH_POINTS], depth[:MESH_POINTS]]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--subjects", type=int, default=None)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--turn", type=float, default=8.0, help="largest yaw and pitch of the 3D set, degrees")
    args = ap.parse_args()
    params = Params.load(args.params)
    if args.subjects:
        params = replace(params, synth=replace(params.synth, subjects=args.subjects))
    faces = replace(params.faces, stabilise="registration_3d")
    landmarker = MediapipeLandmarker(faces.min_detection_confidence, faces.max_faces)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        records, meta = dataset(params, root, "3d", args.turn)
        clips = true_clips(params, root, records)
        truth = true_references(clips)
        for i, (row, swap) in enumerate(ROWS.items()):
            store = root / f"faces_{i}.zarr"
            reference = TrueReference(landmarker, truth, swap)
            flow = "correspondences" in swap
            with mock.patch("mer_pipeline.faces.depth.track", TrueCorrespondences(clips)) if flow else nullcontext():
                run_faces(records, root / "synthetic", store, faces, meta, reference, ProblemLog("synthetic"))
            per_point, epe = accuracy(params, root, store)
            n = np.concatenate(list(per_point.values()))  # (frames, 468)
            per_frame, rigid = n.mean(1), np.isin(np.arange(MESH_POINTS), RIGID_LANDMARKS)
            rows[row] = {
                "reference_off_px": float(np.mean(reference.off)),
                "median_px": float(np.median(per_frame)),
                "max_px": float(per_frame.max()),
                "rigid_mean_px": float(n[:, rigid].mean()),
                "other_mean_px": float(n[:, ~rigid].mean()),
                "epe_px": epe,
            }
        floor = oracle_epe(params, root, root / "faces_0.zarr")
    lines = [
        f"3D set ({len(records)} clips; yaw and pitch up to {args.turn:g} deg), `registration_3d`, the reference "
        "frame's mesh points from mediapipe or the truth.",
        "",
        "| reference landmarks | their positions off the truth px | residual median px | residual max px | "
        "mean at rigid landmarks / elsewhere px | flow EPE px |",
        "|---|---|---|---|---|---|",
        *(
            f"| {row} | {r['reference_off_px']:.2f} | {r['median_px']:.3f} | {r['max_px']:.3f} | "
            f"{r['rigid_mean_px']:.3f} / {r['other_mean_px']:.3f} | {r['epe_px']:.3f} |"
            for row, r in rows.items()
        ),
        f"| true head motion (oracle) | | 0 | 0 | 0 / 0 | {floor:.3f} |",
    ]
    publish(args.out, "stabilisation_error", {**rows, "true head motion (oracle)": {"epe_px": floor}}, lines)


if __name__ == "__main__":
    main()
