"""Aligned, equalised faces of every indexed clip into a Zarr store (one entry per clip, onset..offset).

Per clip: decode frames onset..offset -> mediapipe landmarks on the reference frame (onset by default) ->
one similarity transform (eyes level at fixed positions) applied to every frame -> luminance equalisation.
No face on the reference frame or an undecodable frame: the clip is reported and skipped, never fatal.
"""

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from mer_pipeline import __version__
from mer_pipeline.config import FacesParams, params_hash
from mer_pipeline.datasets.base import ClipRecord
from mer_pipeline.errors import ClipError
from mer_pipeline.faces.align import apply_alignment, eye_targets, similarity_from_eyes, transform_points
from mer_pipeline.faces.equalise import equalise
from mer_pipeline.faces.landmarks import eye_centres
from mer_pipeline.problems import ProblemLog
from mer_pipeline.store import clips as store

Landmarker = Callable[[np.ndarray], np.ndarray | None]


@dataclass(frozen=True)
class AlignedClip:
    """frames: (T, size, size, 3) uint8 RGB; matrix: (2, 3) source -> aligned; landmarks: (N, 2) source (x, y)."""

    frames: np.ndarray
    matrix: np.ndarray
    landmarks: np.ndarray


def load_frames(root: Path, files: tuple[str, ...], clip_id: str) -> tuple[np.ndarray, str]:
    """Decode frames as RGB (grayscale replicated to 3 channels) and hash their bytes.

    Returns:
        (T, H, W, 3) uint8 frames and the sha256 of the files' bytes in order.
    """
    digest, frames = hashlib.sha256(), []
    for name in files:
        path = root / name
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ClipError(clip_id, f"frame {path} unreadable ({exc.strerror})") from None
        digest.update(raw)
        bgr = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ClipError(clip_id, f"frame {path} cannot be decoded")
        if frames and bgr.shape != frames[0].shape:
            raise ClipError(clip_id, f"frame {path} is {bgr.shape[1]}x{bgr.shape[0]}, unlike the clip's first frame")
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return np.stack(frames), digest.hexdigest()


def align_clip(frames: np.ndarray, reference: int, landmarker: Landmarker, params: FacesParams, clip_id: str) -> AlignedClip:
    """Align and equalise a clip with one transform computed on frame `reference`.

    Args:
        frames: (T, H, W, 3) uint8 RGB.
        reference: index into frames of the frame the landmarks are taken on.
    """
    landmarks = landmarker(frames[reference])
    if landmarks is None:
        raise ClipError(clip_id, f"no face found on reference frame {reference}")
    matrix = similarity_from_eyes(eye_centres(landmarks), eye_targets(params))
    aligned = apply_alignment(frames, matrix, params.size)
    return AlignedClip(equalise(aligned, params.equalise, params.clahe_clip, params.clahe_tiles), matrix, landmarks)


def faces_provenance(params: FacesParams, index_meta: dict) -> dict:
    return {
        "kind": "faces",
        "dataset": index_meta["dataset"],
        "params": asdict(params),
        "params_hash": params_hash(params),
        "package_version": __version__,
        "index_sha256": index_meta["index_sha256"],
        "dataset_root": index_meta["root"],
    }


def entry_metadata(rec: ClipRecord, clip: AlignedClip, reference: int, checksum: str) -> dict:
    """Plain-JSON attributes of a faces entry: key frames (frame numbers and 0-based indices), labels, transform."""
    return {
        "clip_id": rec.clip_id,
        "subject": rec.subject,
        "dataset": rec.dataset,
        "emotion": rec.emotion,
        "label3": rec.label3,
        "label5": rec.label5,
        "onset": rec.onset,
        "apex": rec.apex,
        "offset": rec.offset,
        "apex_source": rec.apex_source,
        "key_frames": {"onset": 0, "apex": rec.apex - rec.onset, "offset": rec.offset - rec.onset},
        "reference_index": reference,
        "fps": rec.fps,
        "frames": list(rec.key_frame_files()),
        "input_sha256": checksum,
        "transform": clip.matrix.tolist(),
        "eye_centres_aligned": transform_points(eye_centres(clip.landmarks), clip.matrix).tolist(),
        "landmarks": np.round(clip.landmarks, 2).tolist(),
    }


def run_faces(
    records: list[ClipRecord],
    dataset_root: Path,
    out: Path,
    params: FacesParams,
    index_meta: dict,
    landmarker: Landmarker,
    log: ProblemLog,
    progress=None,
) -> dict:
    """Write the faces store; entries already complete for the same inputs are kept. Returns counts."""
    root = store.open_store(out, faces_provenance(params, index_meta))
    counts = {"written": 0, "kept": 0, "skipped": 0}
    for rec in progress(records) if progress else records:
        files = rec.key_frame_files()
        try:
            frames, checksum = load_frames(dataset_root, files, rec.clip_id)
            existing = store.entry_attrs(root, rec.clip_id)
            if existing and existing.get("input_sha256") == checksum and existing.get("apex") == rec.apex:
                counts["kept"] += 1
                continue
            reference = 0 if params.reference == "onset" else rec.apex - rec.onset
            clip = align_clip(frames, reference, landmarker, params, rec.clip_id)
        except ClipError as err:
            log.add(err.clip_id, err.reason, "skipped")
            counts["skipped"] += 1
            continue
        store.write_entry(root, rec.clip_id, {"frames": clip.frames}, entry_metadata(rec, clip, reference, checksum))
        counts["written"] += 1
    return counts
