"""Write the synthetic dataset in CASME II's layout, with its coding sheet and ground truth.

Layout written under `out`:
    CASME2-RAW/sub01/EP01_01f/img17.jpg ...        frames, unpadded numbers as CASME II
    CASME2-coding-synthetic.xlsx                   the coding sheet in CASME II's column layout
    ground_truth/clips.csv                         class, onset/apex/offset, amplitude, drift, anchors per clip
    ground_truth/flow/sub01/EP01_01f.npz           `flow`: (H, W, 2) float32 onset -> apex displacement, frame px
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
from mer_pipeline.progress import bar
from mer_pipeline.synth.actions import PATTERNS, anchor_positions, displacement_field
from mer_pipeline.synth.render import (
    drift_path,
    forward_flow,
    identity_image,
    intensity_profile,
    make_identity,
    warp,
)

MARKER = "SYNTHETIC.json"
SHEET = "CASME2-coding-synthetic.xlsx"
SHEET_HEADER = ("Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None, "Action Units",
                "Estimated Emotion")


@dataclass(frozen=True)
class SynthClip:
    subject: int
    filename: str
    emotion: str
    onset: int
    apex: int
    offset: int
    amplitude_px: float
    drift_apex: tuple[float, float]
    anchors: list


def plan(params: SynthParams) -> list[tuple[int, int, str, int]]:
    """(subject, class index, emotion, repeat) for every clip, in writing order."""
    unknown = [c for c in params.classes if c not in PATTERNS]
    if unknown:
        raise UserError(f"params synth.classes: no action pattern for {unknown} (known: {', '.join(PATTERNS)})")
    if params.frames < 8 or params.subjects < 1 or params.clips_per_class < 1 or params.image_size < 128:
        raise UserError("params synth: need frames >= 8, subjects >= 1, clips_per_class >= 1, image_size >= 128")
    return [(s, ci, emo, r) for s in range(1, params.subjects + 1) for ci, emo in enumerate(params.classes)
            for r in range(params.clips_per_class)]


def generate(params: SynthParams, out: Path, progress=None) -> list[SynthClip]:
    """Generate the dataset into `out` (replaced only if it is an earlier synthetic dataset). Deterministic."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UserError(f"{out}: exists and is not a synthetic dataset ({MARKER} missing); refusing to overwrite")
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    jobs = plan(params)
    clips, identities = [], {}
    for subject, ci, emotion, repeat in progress(jobs) if progress else jobs:
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
    drift = drift_path(rng, n, params.drift_px)
    gains = 1.0 + params.flicker * rng.standard_normal(n)
    filename = f"EP{ci + 1:02d}_{repeat + 1:02d}f"
    folder = root / "CASME2-RAW" / f"sub{subject:02d}" / filename
    folder.mkdir(parents=True)
    for t in range(n):
        moved = warp(face, profile[t] * field + drift[t].astype(np.float32))
        noisy = moved * gains[t] + rng.normal(0, params.noise_sigma, moved.shape)
        bgr = cv2.cvtColor(np.clip(noisy, 0, 255).round().astype(np.uint8), cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(folder / f"img{first + t}.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, params.jpeg_quality])
    flow = forward_flow(field, profile[onset], profile[apex], drift[onset], drift[apex])
    flow_path = root / "ground_truth" / "flow" / f"sub{subject:02d}" / f"{filename}.npz"
    flow_path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(flow_path, flow=flow)
    return SynthClip(subject, filename, emotion, first + onset, first + apex, first + offset, round(amplitude, 4),
                     tuple(round(float(v), 4) for v in drift[apex] - drift[onset]),
                     [[round(x, 2), round(y, 2)] for x, y in anchor_positions(pattern, ident.affine)])


def _write_sheet(path: Path, clips: list[SynthClip]) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(list(SHEET_HEADER))
    for c in clips:
        ws.append([c.subject, c.filename, None, c.onset, c.apex, c.offset, None, PATTERNS[c.emotion].action_units,
                   c.emotion])
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
        writer.writerow(["clip_id", "emotion", "onset", "apex", "offset", "amplitude_px", "drift_apex_x",
                         "drift_apex_y", "anchors", "flow"])
        for c in clips:
            clip_id = f"sub{c.subject:02d}/{c.filename}"
            writer.writerow([clip_id, c.emotion, c.onset, c.apex, c.offset, c.amplitude_px, *c.drift_apex,
                             json.dumps(c.anchors), f"flow/{clip_id}.npz"])


def read_ground_truth(root: Path) -> dict[str, dict]:
    """clip_id -> ground-truth row (numbers parsed, anchors as a list of (x, y), flow path absolute)."""
    path = Path(root) / "ground_truth" / "clips.csv"
    if not path.is_file():
        raise UserError(f"{path}: no synthetic ground truth (run `mer-pipeline synth`)")
    rows = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            row.update({k: int(row[k]) for k in ("onset", "apex", "offset")})
            row.update({k: float(row[k]) for k in ("amplitude_px", "drift_apex_x", "drift_apex_y")})
            row["anchors"] = json.loads(row["anchors"])
            row["flow"] = path.parent / row["flow"]
            rows[row["clip_id"]] = row
    return rows


def synth_stage(params: SynthParams) -> dict:
    """The synthetic dataset of params `synth` into `synth.out`."""
    clips = generate(params, Path(params.out), progress=bar("synth clips"))
    return {"out": params.out, "clips": len(clips), "subjects": params.subjects}
