"""Aligned, equalised faces of every indexed clip into a Zarr store (one entry per clip, onset..offset).

Per clip: hash the frame files -> content key -> kept if the store already holds that key, else taken from the
shared cache, else computed: decode frames, mediapipe landmarks on the reference frame (onset by default), one
similarity transform (eyes level at fixed positions) applied to every frame, luminance equalisation; then published
to the cache. No face on the reference frame or an undecodable frame: the clip is reported and skipped, never fatal.
"""

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import cv2
import numpy as np

from mer_pipeline import __version__
from mer_pipeline.config import CacheParams, FacesParams, Scale, params_hash
from mer_pipeline.datasets.base import ClipRecord
from mer_pipeline.errors import ClipError
from mer_pipeline.faces.align import apply_alignment, eye_targets, similarity_from_eyes, transform_points
from mer_pipeline.faces.equalise import equalise
from mer_pipeline.faces.landmarks import eye_centres
from mer_pipeline.problems import ProblemLog
from mer_pipeline.scale import run_tasks
from mer_pipeline.store import clips as store
from mer_pipeline.store.cache import Cache, code_version, content_key

Landmarker = Callable[[np.ndarray], np.ndarray | None]
CODE_FILES = ("align.py", "equalise.py", "landmarks.py", "pipeline.py")


@dataclass(frozen=True)
class AlignedClip:
    """frames: (T, size, size, 3) uint8 RGB; matrix: (2, 3) source -> aligned; landmarks: (N, 2) source (x, y)."""

    frames: np.ndarray
    matrix: np.ndarray
    landmarks: np.ndarray


def cache_arrays(clip: AlignedClip) -> dict[str, np.ndarray]:
    """A faces cache entry's arrays: the AlignedClip fields, by name."""
    return {"frames": clip.frames, "matrix": clip.matrix, "landmarks": clip.landmarks}


@dataclass(frozen=True)
class FacesJob:
    """What a per-clip task needs (paths and params only, so it travels to dask workers)."""

    store: str
    dataset_root: str
    params: FacesParams
    cache: CacheParams = field(default_factory=CacheParams)
    compute: bool = True  # False: take from the shared cache only (`cache pull`)


def read_frame_bytes(root: Path, files: tuple[str, ...], clip_id: str) -> tuple[list[bytes], str]:
    """The frame files' bytes and the sha256 over them in order."""
    digest, raw = hashlib.sha256(), []
    for name in files:
        try:
            raw.append((root / name).read_bytes())
        except OSError as exc:
            raise ClipError(clip_id, f"frame {root / name} unreadable ({exc.strerror})") from None
        digest.update(raw[-1])
    return raw, digest.hexdigest()


def decode_frames(raw: list[bytes], root: Path, files: tuple[str, ...], clip_id: str) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB; grayscale frames (SAMM) are replicated to 3 channels."""
    frames = []
    for data, name in zip(raw, files):
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ClipError(clip_id, f"frame {root / name} cannot be decoded")
        if frames and bgr.shape != frames[0].shape:
            raise ClipError(clip_id, f"frame {root / name} is {bgr.shape[1]}x{bgr.shape[0]}, unlike the clip's first")
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return np.stack(frames)


def align_clip(frames: np.ndarray, reference: int, landmarker: Landmarker, params: FacesParams, clip_id: str) -> AlignedClip:
    """Align and equalise a clip with one transform computed on frame `reference` (index into frames)."""
    landmarks = landmarker(frames[reference])
    if landmarks is None:
        raise ClipError(clip_id, f"no face found on reference frame {reference}")
    matrix = similarity_from_eyes(eye_centres(landmarks), eye_targets(params))
    aligned = apply_alignment(frames, matrix, params.size)
    return AlignedClip(equalise(aligned, params.equalise, params.clahe_clip, params.clahe_tiles), matrix, landmarks)


@lru_cache(maxsize=1)
def faces_code_version() -> str:
    here = Path(__file__).parent
    libs = f"mediapipe {version('mediapipe')} opencv {version('opencv-contrib-python')}"
    return code_version(*(here / f for f in CODE_FILES), extra=libs)


def faces_key(rec: ClipRecord, checksum: str, params: FacesParams) -> str:
    """Everything that determines a faces entry's arrays: clip, its frames' bytes, key frames, params, code."""
    p = {k: v for k, v in asdict(params).items() if k != "out"}
    return content_key("faces", {"clip": rec.clip_id, "input_sha256": checksum, "onset": rec.onset,
                                 "apex": rec.apex, "offset": rec.offset, "params": p, "code": faces_code_version()})


def faces_provenance(params: FacesParams, index_meta: dict) -> dict:
    return {
        "kind": "faces",
        "dataset": index_meta["dataset"],
        "params": asdict(params),
        "params_hash": params_hash({k: v for k, v in asdict(params).items() if k != "out"}),  # what, not where
        "package_version": __version__,
        "index_sha256": index_meta["index_sha256"],
        "dataset_root": index_meta["root"],
    }


def entry_metadata(rec: ClipRecord, clip: AlignedClip, reference: int, checksum: str, key: str) -> dict:
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
        "content_key": key,
        "transform": clip.matrix.tolist(),
        "eye_centres_aligned": transform_points(eye_centres(clip.landmarks), clip.matrix).tolist(),
        "landmarks": clip.landmarks.tolist(),  # full precision: JSON floats round-trip exactly (cache push)
    }


@lru_cache(maxsize=2)
def _process_landmarker(min_detection_confidence: float):
    """One mediapipe graph per process (graphs do not pickle; each dask worker builds its own)."""
    from mer_pipeline.faces.landmarks import MediapipeLandmarker

    return MediapipeLandmarker(min_detection_confidence)


def process_clip(job: FacesJob, rec: ClipRecord, landmarker: Landmarker | None = None) -> tuple[str, str]:
    """One clip: ("kept" | "cached" | "written" | "skipped" | "missing", problem or "")."""
    root_path, params = Path(job.dataset_root), job.params
    files = rec.key_frame_files()
    try:
        raw, checksum = read_frame_bytes(root_path, files, rec.clip_id)
        key = faces_key(rec, checksum, params)
        root = store.open_writable(job.store)
        existing = store.entry_attrs(root, rec.clip_id)
        if existing and existing.get("content_key") == key:
            return "kept", ""
        reference = 0 if params.reference == "onset" else rec.apex - rec.onset
        cache = Cache(job.cache.url, job.cache.storage_options) if job.cache.url else None
        hit = cache.get("faces", key) if cache else None
        if hit:
            clip, status = AlignedClip(**hit[0]), "cached"
        elif not job.compute:
            return "missing", ""
        else:
            frames = decode_frames(raw, root_path, files, rec.clip_id)
            lm = landmarker or _process_landmarker(params.min_detection_confidence)
            clip, status = align_clip(frames, reference, lm, params, rec.clip_id), "written"
            if cache:
                cache.put("faces", key, cache_arrays(clip), {"clip_id": rec.clip_id})
    except ClipError as err:
        return "skipped", err.reason
    store.write_entry(root, rec.clip_id, {"frames": clip.frames}, entry_metadata(rec, clip, reference, checksum, key))
    return status, ""


def run_faces(
    records: list[ClipRecord],
    dataset_root: Path,
    out: Path,
    params: FacesParams,
    index_meta: dict,
    landmarker: Landmarker | None,
    log: ProblemLog,
    progress=None,
    cache: CacheParams = CacheParams(),
    scale: Scale = Scale(),
    compute: bool = True,
) -> dict:
    """Write the faces store; entries already complete for the same content key are kept. Returns counts."""
    store.open_store(out, faces_provenance(params, index_meta))
    job = FacesJob(str(out), str(dataset_root), params, cache, compute)
    if landmarker is not None:  # an injected landmarker (tests) stays in this process
        results = [process_clip(job, rec, landmarker) for rec in (progress(records) if progress else records)]
    else:
        results = run_tasks(process_clip, job, records, scale, progress)
    counts = {"written": 0, "cached": 0, "kept": 0, "skipped": 0, "missing": 0}
    for rec, (status, problem) in zip(records, results):
        counts[status] += 1
        if problem:
            log.add(rec.clip_id, problem, "skipped")
    return counts


def push_faces(store_path: Path, cache: Cache) -> dict:
    """Publish every complete entry of a faces store that the cache lacks."""
    root = store.open_existing(store_path)
    counts = {"pushed": 0, "present": 0}
    for clip_id in store.complete_entries(root):
        key = store.entry_attrs(root, clip_id)["content_key"]
        if cache.has("faces", key):
            counts["present"] += 1
            continue
        arrays, attrs = store.read_entry(root, clip_id)
        clip = AlignedClip(arrays["frames"], np.asarray(attrs["transform"]), np.asarray(attrs["landmarks"]))
        cache.put("faces", key, cache_arrays(clip), {"clip_id": clip_id})
        counts["pushed"] += 1
    return counts
