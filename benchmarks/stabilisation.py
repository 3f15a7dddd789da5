"""Stabilisation methods compared on the synthetic ground truth (none / landmarks / registration / registration_3d).

For each method, on the default synthetic dataset (params `synth`, 2D head motion on), on the same dataset without
head motion, and on a 3D set (the same clips with the head turning out of the image plane, yaw and pitch up to
`--turn` degrees: synth `head_model: 3d`): the residual rigid motion after stabilisation (px at the aligned size, mean
over the face mesh's points; median and max over all frames of all clips), the jitter a method adds to still heads
(same, on the motion-free copy), the flow EPE of the expression (TV-L1 onset -> apex on the aligned faces against the
true expression flow; the oracles align with the true head motion: the floor set by resampling a moved face), apex
spotting, and on the 3D set how well the faces stage's flags ("registration failed",
"face lost") find the clips whose residual exceeds OFF_PX in some frame (precision / recall).

    python benchmarks/stabilisation.py [--subjects 4] [--out benchmarks/results]
"""

import argparse
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch
from publish import publish  # benchmarks/publish.py: the one output helper

from mer_pipeline.config import DatasetParams, Params
from mer_pipeline.datasets import ADAPTERS
from mer_pipeline.datasets.index import build_index, index_meta, read_index, write_index
from mer_pipeline.evaluation.flow_truth import aligned_ground_truth, face_mask, mean_epe, onset_apex_pairs
from mer_pipeline.evaluation.stabilisation import point_motion
from mer_pipeline.faces.align import apply_alignment
from mer_pipeline.faces.equalise import equalise
from mer_pipeline.faces.landmarks import MediapipeLandmarker
from mer_pipeline.faces.task import run_faces
from mer_pipeline.modalities.optical_flow import flow_pairs
from mer_pipeline.problems import ProblemLog
from mer_pipeline.spotting.stage import ground_truth_apexes, spot_store
from mer_pipeline.store import faces as faces_store
from mer_pipeline.synth.generate import generate, read_ground_truth
from mer_pipeline.synth.mesh import HeadMesh, carry, head_mesh
from mer_pipeline.synth.render import make_identity

METHODS = ("none", "landmarks", "registration", "registration_3d")
OFF_PX = 2.0  # a clip is "off" when some frame keeps more rigid motion than this (px at the aligned size)
# the flags that say a stabilised clip is off: each method's tracking failure (faces/stabilise.flags), or a lost face
FLAGS = ("registration failed", "landmarks failed", "face lost", "face ")


def dataset(params: Params, root: Path, kind: str, turn: float = 8.0):
    synth = replace(params.synth, out=str(root / "synthetic"))
    if kind == "still":
        synth = replace(synth, head_translation_px=0.0, head_rotation_deg=0.0, head_scale=0.0, head_jerk_px=0.0)
    if kind == "3d":
        synth = replace(synth, head_model="3d", head_yaw_deg=turn, head_pitch_deg=turn)
    generate(synth, root / "synthetic")
    dp = DatasetParams(adapter="casme2", root=str(root / "synthetic"), fps=200, labels="casme2")
    log = ProblemLog("synthetic")
    labels = params.labels["casme2"]
    records = build_index("synthetic", ADAPTERS.get("casme2"), dp, labels, log)
    write_index(root / "index", records, log, index_meta("synthetic", dp, labels))
    return read_index(root / "index")


def measure(params: Params, root: Path, records, meta, method: str, landmarker) -> dict:
    faces = replace(params.faces, stabilise=method)
    store = root / f"faces_{method}.zarr"
    start = time.perf_counter()
    log = ProblemLog("synthetic")
    run_faces(records, root / "synthetic", store, faces, meta, landmarker, log)
    seconds = time.perf_counter() - start
    per_point, epe = accuracy(params, root, store)
    per_clip = {c: e.mean(1) for c, e in per_point.items()}
    per_frame = np.concatenate(list(per_clip.values()))
    off = {c for c, r in per_clip.items() if r.max() > OFF_PX}
    faces = faces_store.open_existing(store)
    checks = {c: np.nanmax(faces_store.entry(faces, c).tracking_array("check")) for c in per_clip}
    flagged = {p.where for p in log.items if p.action == "flagged" and p.problem.startswith(FLAGS)}
    spotted = spot_store(
        store,
        root / f"spot_{method}",
        root / f"spot_{method}.json",
        params.spotting,
        "synthetic",
        ground_truth_apexes(root / "synthetic"),
    )["vs_truth"]
    return {
        "median_px": float(np.median(per_frame)),
        "max_px": float(per_frame.max()),
        "epe_px": epe,
        "faces_s": seconds,
        "over_2px_frames": int((per_frame > 2.0).sum()),
        "frames": len(per_frame),
        "off_clips": len(off),
        "flagged_clips": len(flagged),
        "flag_precision": len(off & flagged) / len(flagged) if flagged else None,
        "flag_recall": len(off & flagged) / len(off) if off else None,
        "check_max_on_good_px": float(max((v for c, v in checks.items() if c not in off), default=0.0)),
        "apex_mae_frames": spotted["mae_frames"],
        "apex_within_2": spotted["within_2"],
    }


def accuracy(params: Params, root: Path, store: Path) -> tuple[dict[str, np.ndarray], float]:
    """(clip id -> (T, 468) residual rigid motion per frame and mesh point px, flow EPE of the expression px) of a
    faces store."""
    first, second, truths, masks, _ = onset_apex_pairs(store, root / "synthetic")
    epe = mean_epe(flow_pairs(first, second, params.modalities.of("optical_flow")), truths, masks)
    return point_motion(store, root / "synthetic"), epe


def subject_mesh(params: Params, clip_id: str) -> HeadMesh:
    """The 3D head of a clip's subject, rebuilt as the generator builds it (synth/generate.py: from the subject's
    seed)."""
    subject = int(clip_id.split("/")[0].removeprefix("sub"))
    ident = make_identity(np.random.default_rng([params.synth.seed, subject]), params.synth.image_size)
    return head_mesh(ident.affine, params.synth.image_size)


def oracle_epe(params: Params, root: Path, store: Path) -> float:
    """Flow EPE when onset and apex are aligned with the TRUE head motion (`true_pair`): the floor set by resampling
    a moved face, which no stabilisation can go below. The store only lends each clip's reference transform."""
    truth, faces = read_ground_truth(root / "synthetic"), faces_store.open_existing(store)
    size = params.faces.size
    first, second, truths, masks = [], [], [], []
    for clip_id in faces_store.complete_entries(faces):
        e, gt = faces_store.entry(faces, clip_id), truth[clip_id]
        raw = [
            cv2.cvtColor(cv2.imread(str(root / "synthetic" / e.frames[i])), cv2.COLOR_BGR2RGB)
            for i in (0, e.key_frames.apex)
        ]
        pair = equalise(
            true_pair(params, e, gt, raw), params.faces.equalise, params.faces.clahe_clip, params.faces.clahe_tiles
        )
        clip = torch.from_numpy(pair).permute(0, 3, 1, 2).float() / 255
        first.append(clip[0])
        second.append(clip[1])
        truths.append(aligned_ground_truth(np.load(gt["flow"])["flow"], e.matrix, size))
        masks.append(face_mask(e.landmark_array, e.matrix, size))
    flows = flow_pairs(torch.stack(first), torch.stack(second), params.modalities.of("optical_flow"))
    return mean_epe(flows, truths, masks)


def true_pair(params: Params, e, gt: dict, raw: list[np.ndarray]) -> np.ndarray:
    """(2, size, size, 3) onset (the reference) and apex aligned by the true head motion. 2D: the apex's transform
    M_ref H_ref H_apex^-1. 3D: each aligned pixel of the onset carried through the head's mesh to the apex frame
    (synth/mesh.carry; the mesh rebuilt as the generator builds it, from the subject's seed)."""
    size, head = params.faces.size, np.load(gt["head"])
    if "transforms" in head:
        h = {k: np.vstack([head["transforms"][getattr(e, k) - gt["first"]], [0, 0, 1]]) for k in ("onset", "apex")}
        ref = np.vstack([e.matrix, [0, 0, 1]]) @ h["onset"]  # reference = onset
        return apply_alignment(np.stack(raw), np.stack([e.matrix, (ref @ np.linalg.inv(h["apex"]))[:2]]), size)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    inv = np.linalg.inv(np.vstack([e.matrix, [0, 0, 1]]))[:2]  # aligned -> onset source
    poses = head["poses"]
    at_apex = carry(
        subject_mesh(params, e.clip_id),
        poses[e.onset - gt["first"]],
        poses[e.apex - gt["first"]],
        np.c_[xs.ravel(), ys.ravel()] @ inv[:, :2].T + inv[:, 2],
    )
    map_x, map_y = (np.round(v.reshape(size, size), 4).astype(np.float32) for v in at_apex.T)
    return np.stack(
        [
            cv2.warpAffine(raw[0], e.matrix, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE),
            cv2.remap(raw[1], map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE),
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--subjects", type=int, default=None)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--turn", type=float, default=8.0, help="largest yaw and pitch of the 3D set, degrees")
    args = ap.parse_args()
    params = Params.load(args.params)
    if args.subjects:
        params = replace(params, synth=replace(params.synth, subjects=args.subjects))
    landmarker = MediapipeLandmarker(params.faces.min_detection_confidence, params.faces.max_faces)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("moving", "still", "3d"):
            root = Path(tmp) / kind
            records, meta = dataset(params, root, kind, args.turn)
            for method in args.methods:
                rows.setdefault(method, {})[kind] = measure(params, root, records, meta, method, landmarker)
            if "registration" in args.methods and kind != "3d":  # a 3D head has no true 2D transform
                rows.setdefault("true transforms (oracle)", {})[kind] = {
                    "epe_px": oracle_epe(params, root, root / "faces_registration.zarr")
                }
            if kind == "3d":  # the floor on the 3D set: the apex carried back by the true head motion
                store = next(root.glob("faces_*.zarr"))
                rows.setdefault("true head motion (oracle)", {})[kind] = {"epe_px": oracle_epe(params, root, store)}
            shutil.rmtree(root)
    lines = [
        f"Synthetic default ({params.synth.subjects * len(params.synth.classes) * params.synth.clips_per_class} "
        f"clips, {params.synth.frames} frames at {params.synth.image_size} px; head motion up to "
        f"{params.synth.head_translation_px} px, {params.synth.head_rotation_deg} deg, scale "
        f"{params.synth.head_scale}, jerks of {params.synth.head_jerk_px} px in "
        f"{params.synth.head_jerk_prob:.0%} of clips); aligned faces {params.faces.size} px.",
        "",
        "| method | residual median px | residual max px | jitter on still heads, median / max px | "
        "flow EPE px (moving / still) | apex MAE frames, within +-2 (moving / still) | faces s (moving) |",
        "|---|---|---|---|---|---|---|",
    ]
    for method, r in rows.items():
        if "moving" not in r:  # the 3D set's own oracle
            continue
        m, s = r["moving"], r["still"]
        if "median_px" not in m:  # the oracle: flow only
            lines.append(f"| {method} | 0 | 0 | 0 / 0 | {m['epe_px']:.3f} / {s['epe_px']:.3f} | | |")
            continue
        lines.append(
            f"| {method} | {m['median_px']:.3f} | {m['max_px']:.3f} | {s['median_px']:.3f} / "
            f"{s['max_px']:.3f} | {m['epe_px']:.3f} / {s['epe_px']:.3f} | {m['apex_mae_frames']:.2f}, "
            f"{m['apex_within_2']:.0%} / {s['apex_mae_frames']:.2f}, {s['apex_within_2']:.0%} | "
            f"{m['faces_s']:.1f} |"
        )
    lines += [
        "",
        f"3D set: the same clips with the head also turning out of the image plane (yaw and pitch up to {args.turn:g} "
        f"deg, a 3D mesh seen by a camera; synth `head_model: 3d`). Off = a clip with a frame over {OFF_PX:g} px; "
        "flags = registration / landmarks failed, face lost, or (none) face off the reference "
        f"(faces.check_tolerance_px {params.faces.check_tolerance_px:g}); a check is "
        "the landmarks found on a stabilised frame against the reference's.",
        "",
        "| method | residual median px | residual max px | frames over 2 px | flow EPE px (3D / still) | "
        "apex MAE frames, within +-2 | clips off | flag precision / recall | largest check on clips not off px |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for method in args.methods:
        m, s = rows[method]["3d"], rows[method]["still"]
        pr = " / ".join("-" if v is None else f"{v:.0%}" for v in (m["flag_precision"], m["flag_recall"]))
        lines.append(
            f"| {method} | {m['median_px']:.3f} | {m['max_px']:.3f} | {m['over_2px_frames']} of {m['frames']} | "
            f"{m['epe_px']:.3f} / {s['epe_px']:.3f} | {m['apex_mae_frames']:.2f}, {m['apex_within_2']:.0%} | "
            f"{m['off_clips']} | {pr} ({m['flagged_clips']} flagged) | {m['check_max_on_good_px']:.2f} |"
        )
    lines.append(
        f"| true head motion (oracle) | 0 | 0 | 0 | {rows['true head motion (oracle)']['3d']['epe_px']:.3f} | | | | |"
    )
    publish(args.out, "stabilisation", rows, lines)


if __name__ == "__main__":
    main()
