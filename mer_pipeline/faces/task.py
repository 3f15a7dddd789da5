"""The faces stage: aligned faces of every indexed clip into a Zarr store (one entry per clip, onset..offset),
through the per-clip engine.

Per clip: hash the frame files -> content key -> kept if the store holds that key, else taken from the shared
cache, else computed (faces/clip.py) and published. No face on the reference frame or an undecodable frame: the
clip is reported and skipped, never fatal.

In one process, clips are computed on one thread per core (`clip_threads`, at most 4): OpenCV and mediapipe release
Python's lock, each thread has its own mediapipe graph and OpenCV runs one thread each; the bytes are those of one
thread. Beyond that, a dask cluster (`--workers`) runs one process per clip task.
"""

import os
from dataclasses import asdict, dataclass, field
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from mer_pipeline import __version__, engine, paths
from mer_pipeline.config import CacheParams, FacesParams, IndexParams, Scale, params_hash
from mer_pipeline.datasets.base import ClipRecord
from mer_pipeline.datasets.index import read_index
from mer_pipeline.errors import ClipError
from mer_pipeline.faces.align import transform_points
from mer_pipeline.faces.clip import (
    LIBRARIES,
    AlignedClip,
    Landmarker,
    align_clip,
    decode_frames,
    read_frame_bytes,
    thread_landmarker,
)
from mer_pipeline.faces.landmarks import eye_centres
from mer_pipeline.faces.quality import write_quality
from mer_pipeline.faces.stabilise import flags
from mer_pipeline.identity import code_version
from mer_pipeline.problems import ProblemLog
from mer_pipeline.store import faces as faces_store
from mer_pipeline.store.cache import content_key
from mer_pipeline.store.lock import holding
from mer_pipeline.store.opening import open_writable
from mer_pipeline.store.records import FacesEntry, KeyFrames


@lru_cache(maxsize=1)
def faces_code_version() -> str:
    return code_version("mer_pipeline.faces.clip", libraries=LIBRARIES)


def faces_key(rec: ClipRecord, checksum: str, params: FacesParams) -> str:
    """Everything that determines a faces entry's arrays: clip, its frames' bytes, key frames, params, code."""
    p = {k: v for k, v in asdict(params).items() if k != "out"}
    return content_key(
        "faces",
        {
            "clip": rec.clip_id,
            "input_sha256": checksum,
            "onset": rec.onset,
            "apex": rec.apex,
            "offset": rec.offset,
            "params": p,
            "code": faces_code_version(),
        },
    )


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


def _listed(values: np.ndarray) -> list:
    return [None if np.isnan(v) else float(v) for v in values]


def faces_entry(
    rec: ClipRecord,
    clip: AlignedClip,
    reference: int,
    checksum: str,
    key: str,
    params: FacesParams,
    problems: list[str],
) -> FacesEntry:
    """The stored metadata of a clip: key frames (frame numbers and 0-based indices), labels, transforms, tracking."""
    ref_matrix = clip.matrices[reference]
    return FacesEntry(
        clip_id=rec.clip_id,
        subject=rec.subject,
        dataset=rec.dataset,
        emotion=rec.emotion,
        label3=rec.label3,
        label5=rec.label5,
        onset=rec.onset,
        apex=rec.apex,
        offset=rec.offset,
        apex_source=rec.apex_source,
        key_frames=KeyFrames(0, rec.apex - rec.onset, rec.offset - rec.onset),
        reference_index=reference,
        fps=rec.fps,
        frames=list(rec.key_frame_files()),
        input_sha256=checksum,
        content_key=key,
        transform=ref_matrix.tolist(),
        eye_centres_aligned=transform_points(eye_centres(clip.landmarks), ref_matrix).tolist(),
        landmarks=clip.landmarks.tolist(),
        transforms=clip.matrices.tolist(),
        stabilise=params.stabilise,
        faces_found=int(clip.faces_found),
        face_rule="largest on the reference frame; nearest to the reference on checks",
        tracking={"scores": _listed(clip.scores), "motion": _listed(clip.motion), "check": _listed(clip.check)},
        flags=problems,
        cameras=clip.cameras.tolist(),
        landmark_depth=clip.depth.tolist(),
    )


def entry_problem(arrays: dict[str, np.ndarray]) -> str | None:
    """What is wrong with a faces cache entry's arrays, whatever its clip (None: nothing): exactly AlignedClip's
    arrays, frames (T, S, S, 3) uint8, finite (T, 2, 3) transforms, (N, 2) finite landmarks, (T,) tracking numbers,
    and cameras (T, 3, 4) with depth (N,) or neither."""
    names = set(AlignedClip.__dataclass_fields__)
    if set(arrays) != names:
        return f"arrays {sorted(arrays)}, not a faces entry's {sorted(names)}"
    f, m, lm = arrays["frames"], arrays["matrices"], arrays["landmarks"]
    if f.dtype != np.uint8 or f.ndim != 4 or f.shape[1] != f.shape[2] or f.shape[3] != 3 or f.shape[0] < 1:
        return f"frames {f.dtype} {f.shape}, not uint8 (T, S, S, 3)"
    if (
        m.shape != (len(f), 2, 3)
        or not np.isfinite(m).all()
        or lm.ndim != 2
        or lm.shape[1] != 2
        or not np.isfinite(lm).all()
    ):
        return f"transforms {m.shape} or landmarks {lm.shape} do not fit {len(f)} frames, or are not finite"
    if any(arrays[n].shape != (len(f),) or arrays[n].dtype.kind != "f" for n in ("scores", "motion", "check")):
        return "tracking numbers are not one float per frame"
    if arrays["faces_found"].shape != () or arrays["faces_found"].dtype.kind not in "iu":
        return "faces_found is not one integer"
    c, d = arrays["cameras"], arrays["depth"]
    if (
        c.shape not in ((0, 3, 4), (len(f), 3, 4))
        or d.shape not in ((0,), (len(lm),))
        or (len(c) == 0) != (len(d) == 0)
    ):
        return f"cameras {c.shape} or depth {d.shape} do not fit {len(f)} frames and {len(lm)} landmarks"
    if c.dtype.kind != "f" or d.dtype.kind != "f" or not (np.isfinite(c).all() and np.isfinite(d).all()):
        return "cameras or depth are not finite floats"
    return None


MAX_THREADS = 4  # clip threads in one process; beyond that, a dask cluster (--workers) scales without the GIL


def clip_threads() -> int:
    """Clips computed at once in one process: one per core this process may use, at most MAX_THREADS."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()  # none on macOS
    return max(1, min(cores or 1, MAX_THREADS))


@dataclass(frozen=True)
class FacesTask:
    """The engine's task for faces: items are clip records. Holds paths and params (travels to dask workers);
    an injected landmarker (tests) keeps the run in this process."""

    store: str
    dataset_root: str
    params: FacesParams
    landmarker: Landmarker | None = field(default=None, compare=False)
    cv_threads: int = 0  # OpenCV threads per process (0: OpenCV's default); 1 when processes or threads share the cores
    kind: str = "faces"

    def reference(self, rec: ClipRecord) -> int:
        return 0 if self.params.reference == "onset" else rec.apex - rec.onset

    def prepare(self, rec: ClipRecord) -> tuple[str, tuple[list[bytes], str]]:
        raw, checksum = read_frame_bytes(Path(self.dataset_root), rec.key_frame_files(), rec.clip_id)
        return faces_key(rec, checksum, self.params), (raw, checksum)

    def stored_key(self, rec: ClipRecord) -> str | None:
        entry = faces_store.entry(open_writable(self.store), rec.clip_id)
        return entry.content_key if entry else None

    def accepts(self, p: engine.Pending, arrays: dict[str, np.ndarray]) -> bool:
        """A cache entry is this clip's faces: an entry's arrays, onset..offset frames at the configured size."""
        rec = p.item
        return entry_problem(arrays) is None and arrays["frames"].shape[:2] == (
            rec.offset - rec.onset + 1,
            self.params.size,
        )

    def compute(self, pending: list[engine.Pending]) -> list[dict[str, np.ndarray] | ClipError]:
        if self.cv_threads:
            import cv2

            cv2.setNumThreads(self.cv_threads)
        # each thread its own graph: the engine may compute batches on several threads (`clip_threads`)
        lm = self.landmarker or thread_landmarker(self.params.min_detection_confidence, self.params.max_faces)
        out = []
        for p in pending:
            rec, (raw, _) = p.item, p.state
            try:
                frames = decode_frames(raw, Path(self.dataset_root), rec.key_frame_files(), rec.clip_id)
                out.append(align_clip(frames, self.reference(rec), lm, self.params, rec.clip_id).arrays())
            except ClipError as err:
                out.append(err)
        return out

    def write(self, p: engine.Pending, arrays: dict[str, np.ndarray]) -> None:
        clip = AlignedClip(**arrays)
        problems = flags(clip.stabilised(), self.params)
        if problems and self.params.on_tracking_problem == "exclude":
            raise ClipError(p.item.clip_id, "; ".join(problems))
        entry = faces_entry(p.item, clip, self.reference(p.item), p.state[1], p.key, self.params, problems)
        faces_store.write_entry(open_writable(self.store), entry, clip.frames)

    def label(self, rec: ClipRecord) -> str:
        return rec.clip_id


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
    """Write the faces store; entries already complete for the same content key are kept. Returns counts. The store
    is held (store/lock.py) for the whole run."""
    with holding(out):
        faces_store.open_store(out, faces_provenance(params, index_meta))
        if landmarker is not None:  # an injected landmarker (tests) stays in this process, on this thread
            scale = Scale()
        threads = clip_threads() if landmarker is None and not (scale.workers or scale.scheduler) else 1
        task = FacesTask(
            str(out), str(dataset_root), params, landmarker, cv_threads=1 if scale.workers or threads > 1 else 0
        )
        outcomes = engine.run(task, records, cache, scale, compute=compute, progress=progress, threads=threads)
        root, flagged = faces_store.open_existing(out), 0
        for rec, o in zip(records, outcomes):
            if o.problem:
                log.add(rec.clip_id, o.problem, "skipped")
            elif (entry := faces_store.entry(root, rec.clip_id)) is not None and entry.flags:
                flagged += 1
                for problem in entry.flags:
                    log.add(rec.clip_id, problem, "flagged")
        return {**engine.counts(outcomes), "flagged": flagged}


def faces_stage(
    dataset: str,
    index: IndexParams,
    params: FacesParams,
    cache: CacheParams = CacheParams(),
    scale: Scale = Scale(),
    compute: bool = True,
    progress=None,
) -> dict:
    """Align the faces of the indexed clips into `<faces.out>/<dataset>/faces.zarr` (+ problems.csv)."""
    records, meta = read_index(paths.index_dir(index, dataset))
    out = paths.faces_store(params, dataset)
    out.parent.mkdir(parents=True, exist_ok=True)
    log = ProblemLog(dataset)
    counts = run_faces(records, Path(meta["root"]), out, params, meta, None, log, progress, cache, scale, compute)
    log.write(paths.faces_dir(params, dataset) / paths.PROBLEMS_FILE)
    write_quality(out, [r.clip_id for r in records], paths.faces_dir(params, dataset))
    return {"dataset": dataset, "out": str(out), **counts, "problems": [p.line() for p in log.items]}


def push_faces(store_path: Path, cache) -> dict:
    """Publish every complete entry of a faces store that the cache lacks (read as stored, nothing recomputed)."""
    root = faces_store.open_existing(store_path)
    stored = [
        engine.Stored(e.content_key, cid, partial(_entry_arrays, root, cid))
        for cid in faces_store.complete_entries(root)
        if (e := faces_store.entry(root, cid)) is not None
    ]
    return engine.push(FacesTask.kind, stored, cache)


def _entry_arrays(root, clip_id: str) -> dict[str, np.ndarray]:
    """A complete entry's arrays, as a cache entry holds them."""
    frames, e = faces_store.read_entry(root, clip_id)
    return AlignedClip(
        frames,
        e.matrices,
        e.landmark_array,
        e.tracking_array("scores"),
        e.tracking_array("motion"),
        e.tracking_array("check"),
        np.array(e.faces_found),
        e.camera_array,
        e.depth_array,
    ).arrays()
