"""Write the synthetic dataset in CASME II's layout, with its coding sheet and ground truth.

Layout written under `out`:
    CASME2-RAW/sub01/EP01_01f/img17.jpg ...        frames, unpadded numbers as CASME II
    CASME2-coding-synthetic.xlsx                   the coding sheet in CASME II's column layout
    ground_truth/clips.csv                         class, onset/apex/offset, first frame number, amplitude, the
                                                   head's largest excursion, anchors per clip
    ground_truth/flow/sub01/EP01_01f.npz           `flow`: (H, W, 2) float32 onset -> apex displacement of the
                                                   expression alone, onset-frame px (head held at its onset pose)
    ground_truth/head/sub01/EP01_01f.npz           the true rigid head motion per frame of the folder: `points`
                                                   (n, 468, 2) float64 frame (x, y) px of the face mesh's points
                                                   (mediapipe's indices, the expression left out); with
                                                   head_model 2d `transforms` (n, 2, 3) float64 still face -> frame,
                                                   with 3d `poses` (n, 6) (synth/mesh.py)
    SYNTHETIC.json                                 marker + params: only a folder with it is ever replaced
"""

import csv
import json
import re
import shutil
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from openpyxl import Workbook

from mer_pipeline import __version__
from mer_pipeline.config import SynthParams
from mer_pipeline.errors import UserError
from mer_pipeline.progress import bar, tracked
from mer_pipeline.synth.actions import PATTERNS, anchor_positions, displacement_field
from mer_pipeline.synth.head import affine_map, head_path, head_poses
from mer_pipeline.synth.mesh import HeadMesh, frame_map, head_mesh, project, still_points
from mer_pipeline.synth.render import expression_flow, identity_image, intensity_profile, make_identity, render_frame

MARKER = "SYNTHETIC.json"
SHEET = "CASME2-coding-synthetic.xlsx"
SHEET_HEADER = (
    "Subject",
    "Filename",
    None,
    "OnsetFrame",
    "ApexFrame",
    "OffsetFrame",
    None,
    "Action Units",
    "Estimated Emotion",
)


@dataclass(frozen=True)
class SynthClip:
    subject: int
    filename: str
    emotion: str
    onset: int
    apex: int
    offset: int
    amplitude_px: float
    first: int
    head_px: float
    anchors: list


def plan(params: SynthParams) -> list[tuple[int, int, str, int]]:
    """(subject, class index, emotion, repeat) for every clip, in writing order."""
    unknown = [c for c in params.classes if c not in PATTERNS]
    if unknown:
        raise UserError(f"params synth.classes: no action pattern for {unknown} (known: {', '.join(PATTERNS)})")
    if params.frames < 8 or params.subjects < 1 or params.clips_per_class < 1 or params.image_size < 128:
        raise UserError("params synth: need frames >= 8, subjects >= 1, clips_per_class >= 1, image_size >= 128")
    return [
        (s, ci, emo, r)
        for s in range(1, params.subjects + 1)
        for ci, emo in enumerate(params.classes)
        for r in range(params.clips_per_class)
    ]


def generate(params: SynthParams, out: Path, progress=None) -> list[SynthClip]:
    """Generate the dataset into `out` (replaced only if it is an earlier synthetic dataset). Deterministic."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UserError(f"{out}: exists and is not a synthetic dataset ({MARKER} missing); refusing to overwrite")
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    jobs = plan(params)
    clips, identities = [], {}
    with tracked(jobs, progress) as wrapped:
        for subject, ci, emotion, repeat in wrapped:
            if subject not in identities:
                ident = make_identity(np.random.default_rng([params.seed, subject]), params.image_size)
                identities[subject] = (ident, identity_image(ident, params.image_size))
            rng = np.random.default_rng([params.seed, subject, ci, repeat])
            clips.append(_write_clip(partial, params, subject, ci, emotion, repeat, *identities[subject], rng))
    _write_sheet(partial / SHEET, clips)
    _write_ground_truth(partial / "ground_truth" / "clips.csv", clips)
    (partial / MARKER).write_text(json.dumps({"params": asdict(params), "version": __version__}, indent=2) + "\n")
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    return clips


def _write_clip(root, params, subject, ci, emotion, repeat, ident, face, rng) -> SynthClip:
    n, size = params.frames, params.image_size
    onset = int(rng.integers(2, 5))
    offset = n - 1 - int(rng.integers(1, 4))
    apex = onset + int(round((offset - onset) * rng.uniform(0.35, 0.6)))
    first = int(rng.integers(1, 90))  # frame numbers cross a digit boundary in many clips, as in CASME II
    amplitude = params.amplitude_px * float(rng.uniform(0.8, 1.2))
    pattern = PATTERNS[emotion]
    field = displacement_field(pattern, ident.affine, (size, size), amplitude)
    profile = intensity_profile(n, onset, apex, offset)
    motion = HeadMotion.of(rng, n, params, ident.affine)
    gains = 1.0 + params.flicker * rng.standard_normal(n)
    filename = f"EP{ci + 1:02d}_{repeat + 1:02d}f"
    folder = root / "CASME2-RAW" / f"sub{subject:02d}" / filename
    folder.mkdir(parents=True)
    for t in range(n):
        map_x, map_y, linear = motion.frame(t)
        moved = render_frame(face, field, profile[t], map_x, map_y)
        noisy = moved * gains[t] + rng.normal(0, params.noise_sigma, moved.shape)
        bgr = cv2.cvtColor(np.clip(noisy, 0, 255).round().astype(np.uint8), cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(folder / f"img{first + t}.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, params.jpeg_quality])
        if t == onset:
            flow = expression_flow(field, profile[onset], profile[apex], map_x, map_y, linear)
    for kind, arrays in (("flow", {"flow": flow}), ("head", motion.truth())):
        path = root / "ground_truth" / kind / f"sub{subject:02d}" / f"{filename}.npz"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **arrays)
    return SynthClip(
        subject,
        filename,
        emotion,
        first + onset,
        first + apex,
        first + offset,
        round(amplitude, 4),
        first,
        round(head_excursion(motion.points), 4),
        [[round(x, 2), round(y, 2)] for x, y in anchor_positions(pattern, ident.affine)],
    )


def head_excursion(points: np.ndarray) -> float:
    """The head's largest displacement (px) of a face-mesh point from where it is at frame 0; points (n, P, 2)."""
    return float(np.linalg.norm(points - points[:1], axis=-1).max())


@dataclass(frozen=True)
class HeadMotion:
    """A clip's rigid head motion: per frame a 2D transform (`head_model: 2d`) or a 3D pose of the head's mesh
    (`3d`), and the frame positions of the face mesh's points, `points` (n, 468, 2)."""

    size: int
    points: np.ndarray
    transforms: np.ndarray | None = None  # (n, 2, 3) still face -> frame, 2d
    poses: np.ndarray | None = None  # (n, 6), 3d
    mesh: HeadMesh | None = None  # 3d

    @classmethod
    def of(cls, rng: np.random.Generator, n: int, params: SynthParams, affine: np.ndarray) -> "HeadMotion":
        size, still = params.image_size, still_points(affine)
        if params.head_model == "2d":
            head = head_path(rng, n, params, (size / 2, size / 2))
            return cls(size, np.einsum("tij,nj->tni", head[:, :, :2], still) + head[:, None, :, 2], transforms=head)
        mesh, poses = head_mesh(affine, size), head_poses(rng, n, params)
        points = np.stack([project(mesh, pose)[0][: len(still)] for pose in poses])
        return cls(size, points, poses=poses, mesh=mesh)

    def frame(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Frame t's backward map (map_x, map_y) and the head's forward linear part, for the expression flow (2D:
        (2, 2), 3D: (H, W, 2, 2))."""
        if self.transforms is not None:
            return *affine_map(self.transforms[t], self.size), self.transforms[t][:, :2]
        map_x, map_y, back = frame_map(self.mesh, self.poses[t])
        return map_x, map_y, np.linalg.inv(back)

    def truth(self) -> dict[str, np.ndarray]:
        """The arrays of the clip's ground-truth head file."""
        head = {"transforms": self.transforms} if self.transforms is not None else {"poses": self.poses}
        return {**head, "points": self.points}


def _write_sheet(path: Path, clips: list[SynthClip]) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(list(SHEET_HEADER))
    for c in clips:
        ws.append(
            [c.subject, c.filename, None, c.onset, c.apex, c.offset, None, PATTERNS[c.emotion].action_units, c.emotion]
        )
    wb.save(path)
    _strip_timestamps(path)


def _strip_timestamps(path: Path) -> None:
    """openpyxl stamps the save time into docProps/core.xml and the zip members; fix both so the dataset is
    byte-for-byte reproducible (DVC hashes it)."""
    with zipfile.ZipFile(path) as z:
        members = [(info.filename, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", data)
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)


def _write_ground_truth(path: Path, clips: list[SynthClip]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "clip_id",
                "emotion",
                "onset",
                "apex",
                "offset",
                "first",
                "amplitude_px",
                "head_px",
                "anchors",
                "flow",
                "head",
            ]
        )
        for c in clips:
            clip_id = f"sub{c.subject:02d}/{c.filename}"
            writer.writerow(
                [
                    clip_id,
                    c.emotion,
                    c.onset,
                    c.apex,
                    c.offset,
                    c.first,
                    c.amplitude_px,
                    c.head_px,
                    json.dumps(c.anchors),
                    f"flow/{clip_id}.npz",
                    f"head/{clip_id}.npz",
                ]
            )


def read_ground_truth(root: Path) -> dict[str, dict]:
    """clip_id -> ground-truth row (numbers parsed, anchors as a list of (x, y), flow path absolute)."""
    path = Path(root) / "ground_truth" / "clips.csv"
    if not path.is_file():
        raise UserError(f"{path}: no synthetic ground truth (run `mer-pipeline synth`)")
    rows = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            row.update({k: int(row[k]) for k in ("onset", "apex", "offset", "first")})
            row.update({k: float(row[k]) for k in ("amplitude_px", "head_px")})
            row["anchors"] = json.loads(row["anchors"])
            row["flow"], row["head"] = path.parent / row["flow"], path.parent / row["head"]
            rows[row["clip_id"]] = row
    return rows


def synth_stage(params: SynthParams) -> dict:
    """The synthetic dataset of params `synth` into `synth.out`."""
    clips = generate(params, Path(params.out), progress=bar("synth clips"))
    return {"out": params.out, "clips": len(clips), "subjects": params.subjects}
