"""The spotting stage: faces store -> <spotting.out>/<dataset>/{apexes.csv, curves.json, audit.csv, audit.png,
problems.csv} and <spotting.metrics>/spotting_<dataset>.json.

Each clip's curves are an item of the per-clip engine (CurveTask): kept, taken from the shared cache or computed.

Per clip the motion curve of each region (curve.py) and its peak; over the dataset the noise floor (median of the
clips' floors); per clip the spotted apex (the peak, or the middle frame where there is no motion above the floor),
the audit's flags (audit.py), and the apex error against the sheet and, where the dataset ships one, the ground truth.
"""

import hashlib
import json
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from mer_pipeline import engine, paths
from mer_pipeline.config import CacheParams, FacesParams, SpottingParams
from mer_pipeline.errors import ClipError
from mer_pipeline.faces.align import transform_points
from mer_pipeline.identity import code_version
from mer_pipeline.problems import ProblemLog
from mer_pipeline.spotting.audit import MIN_FRAMES, flags_of, moved, write_audit
from mer_pipeline.spotting.curve import DIGITS, Peak, find_peak, region_curves, region_masks
from mer_pipeline.store import entries
from mer_pipeline.store import faces as faces_store
from mer_pipeline.store.cache import content_key
from mer_pipeline.store.records import FacesEntry
from mer_pipeline.store.spots import SpotRow, write_spots


def spot_entry(frames: np.ndarray, entry: FacesEntry, params: SpottingParams) -> Peak:
    """The peak of one faces entry: frames (T, S, S, 3) uint8, regions from its reference landmarks."""
    if len(frames) < 2:
        return Peak(0, params.regions[0], np.zeros(len(frames)), 0.0, 0.0)
    landmarks = transform_points(entry.landmark_array, entry.matrix)  # source -> aligned (x, y)
    masks = region_masks(landmarks, frames.shape[1], params.regions, params.grow)
    return find_peak(region_curves(frames, masks), tuple(masks), params.smooth_seconds * entry.fps)


def apex_rows(entries: list[FacesEntry], peaks: list[Peak], params: SpottingParams) -> tuple[list[SpotRow], float]:
    """The apex table's rows and the dataset's noise floor."""
    floors = [p.floor for p, e in zip(peaks, entries) if e.key_frames.offset + 1 >= MIN_FRAMES]
    floor = float(np.median(floors)) if floors else 0.0
    rows = []
    for entry, peak in zip(entries, peaks):
        frames = entry.key_frames.offset + 1
        middle = entry.onset + (entry.offset - entry.onset) // 2
        row = SpotRow(
            entry.clip_id,
            entry.subject,
            entry.onset,
            entry.offset,
            entry.apex,
            entry.apex_source,
            entry.onset + peak.index,
            "spotted",
            entry.onset + peak.index,
            peak.region,
            peak.peak,
            peak.floor,
            "",
        )
        tolerance = max(2, round(params.audit_apex_seconds * entry.fps))
        flags = flags_of(row, frames, floor, params.min_peak_ratio, tolerance)
        still = not moved(peak.peak, frames, floor, params.min_peak_ratio)
        rows.append(
            replace(
                row, flags="; ".join(flags), **({"spotted_apex": middle, "spotted_source": "middle"} if still else {})
            )
        )
    return rows, floor


def apex_errors(rows: list[SpotRow], truth: dict[str, int]) -> dict:
    """Mean absolute error (frames) of the spotted apex and the share within +-2 frames, over the clips in truth."""
    errors = np.array([abs(r.spotted_apex - truth[r.clip_id]) for r in rows if r.clip_id in truth])
    if not len(errors):
        return {"clips": 0}
    return {
        "clips": int(len(errors)),
        "mae_frames": round(float(errors.mean()), 4),
        "within_2": round(float((errors <= 2).mean()), 4),
        "max_frames": int(errors.max()),
    }


def ground_truth_apexes(root: Path) -> dict[str, int] | None:
    """clip id -> true apex frame, for a dataset that ships ground truth (the synthetic one); None otherwise."""
    if not (Path(root) / "ground_truth" / "clips.csv").is_file():
        return None
    from mer_pipeline.synth.generate import read_ground_truth

    return {cid: row["apex"] for cid, row in read_ground_truth(root).items()}


CURVE = "curve"  # the shared cache's kind of a clip's motion curves


@lru_cache(maxsize=1)
def curve_code() -> str:
    return code_version(__name__, "mer_pipeline.spotting.curve", libraries=("opencv-contrib-python",))


def curve_problem(arrays: dict[str, np.ndarray]) -> str | None:
    """What is wrong with a curve entry's arrays, whatever its clip (None: nothing): a finite float64 curve, a peak
    (index, value, floor) whose index is a whole frame inside it, a region name as bytes."""
    if set(arrays) != {"curve", "peak", "region"}:
        return f"arrays {sorted(arrays)}, not a curve entry's"
    curve, peak, region = arrays["curve"], arrays["peak"], arrays["region"]
    if (
        curve.dtype != np.float64
        or curve.ndim != 1
        or peak.dtype != np.float64
        or peak.shape != (3,)
        or region.dtype != np.uint8
        or region.ndim != 1
    ):
        return "curve, peak or region of the wrong type or shape"
    if not (
        np.isfinite(curve).all()
        and np.isfinite(peak).all()
        and float(peak[0]).is_integer()
        and 0 <= peak[0] < max(len(curve), 1)
    ):
        return "curve or peak not finite, or the peak outside the curve"
    return None


@dataclass(frozen=True)
class CurveTask:
    """The engine's task for spotting one faces store: items are clip ids; an item's result is the clip's smoothed
    motion curve in the peak region, the peak (index, value) and its noise floor. Kept as one entry file per clip
    under `folder` (store/entries.py); published to the shared cache as kind `curve`."""

    faces: str
    folder: str
    params: SpottingParams
    kind: str = CURVE

    def path(self, clip_id: str) -> Path:
        return Path(self.folder) / f"{hashlib.sha256(clip_id.encode()).hexdigest()[:32]}.npz"

    def prepare(self, clip_id: str) -> tuple[str, FacesEntry]:
        entry = faces_store.entry(faces_store.open_existing(Path(self.faces)), clip_id)
        if entry is None:
            raise ClipError(clip_id, f"no complete entry in {self.faces}")
        p = self.params
        return content_key(
            CURVE,
            {
                "faces": entry.content_key,
                "regions": list(p.regions),
                "grow": p.grow,
                "smooth_seconds": p.smooth_seconds,
                "code": curve_code(),
            },
        ), entry

    def stored_key(self, clip_id: str) -> str | None:
        entry = entries.stored(self.path(clip_id), CURVE)
        faces = faces_store.entry(faces_store.open_existing(Path(self.faces)), clip_id)
        meta = entry[1].get("meta") if entry else None
        if faces is None or not isinstance(meta, dict) or meta.get("clip_id") != clip_id:
            return None
        return entry[1]["key"] if self.accepts(engine.Pending(clip_id, entry[1]["key"], faces), entry[0]) else None

    def compute(self, pending: list[engine.Pending]) -> list[dict[str, np.ndarray]]:
        root = faces_store.open_existing(Path(self.faces))
        out = []
        for p in pending:
            peak = spot_entry(faces_store.read_entry(root, p.item)[0], p.state, self.params)
            out.append(
                {
                    "curve": np.asarray(peak.curve, np.float64),
                    "peak": np.array([peak.index, peak.peak, peak.floor], np.float64),
                    "region": np.frombuffer(peak.region.encode(), np.uint8),
                }
            )
        return out

    def accepts(self, p: engine.Pending, arrays: dict[str, np.ndarray]) -> bool:
        """One finite value per frame of this clip, the peak inside it, a region of spotting.regions."""
        n = p.state.key_frames.offset + 1
        return (
            curve_problem(arrays) is None
            and arrays["curve"].shape == (n,)
            and arrays["peak"][0] < n
            and bytes(arrays["region"]).decode(errors="replace") in self.params.regions
        )

    def write(self, p: engine.Pending, arrays: dict[str, np.ndarray]) -> None:
        entries.write(self.path(p.item), CURVE, p.key, arrays, {"clip_id": p.item})

    def read(self, clip_id: str) -> dict[str, np.ndarray]:
        entry = entries.stored(self.path(clip_id), CURVE)
        if entry is None:
            raise KeyError(f"{self.path(clip_id)}: no curve entry for {clip_id}")
        return entry[0]

    def label(self, clip_id: str) -> str:
        return clip_id


def peak_of(arrays: dict[str, np.ndarray]) -> Peak:
    index, value, floor = arrays["peak"]
    return Peak(int(index), bytes(arrays["region"]).decode(), arrays["curve"], float(value), float(floor))


def spot_stage(
    dataset: str,
    faces: FacesParams,
    params: SpottingParams,
    dataset_root: str | None = None,
    progress=None,
    cache: CacheParams = CacheParams(),
) -> dict:
    """Spot the apex of every complete faces entry of `dataset` into `<spotting.out>/<dataset>/` and
    `<spotting.metrics>/spotting_<dataset>.json`; scored against the ground truth where the dataset root has one."""
    truth = ground_truth_apexes(Path(dataset_root)) if dataset_root else None
    result = spot_store(
        paths.faces_store(faces, dataset),
        paths.spotting_dir(params, dataset),
        paths.spotting_metrics(params, dataset),
        params,
        dataset,
        truth,
        progress,
        paths.curves_dir(params, dataset),
        cache,
    )
    return {"dataset": dataset, **result}


def spot_store(
    store_path: Path,
    out: Path,
    metrics_path: Path,
    params: SpottingParams,
    dataset: str,
    truth: dict[str, int] | None = None,
    progress=None,
    curves_dir: Path | None = None,
    cache: CacheParams = CacheParams(),
) -> dict:
    """Spot every complete entry of a faces store through the engine (curves kept in `curves_dir`, default beside
    `out`, or taken from the shared cache); write the apex table, curves, audit, problems and metrics."""
    root, ids = faces_store.open_complete(store_path)
    task = CurveTask(str(store_path), str(curves_dir or out.with_name(out.name + ".curves")), params)
    outcomes = engine.run(task, ids, cache, progress=progress)
    done = [(cid, o) for cid, o in zip(ids, outcomes) if o.status != "skipped"]
    entries_ = [faces_store.entry(root, cid) for cid, _ in done]
    peaks = [peak_of(task.read(cid)) for cid, _ in done]
    rows, floor = apex_rows(entries_, peaks, params)
    out.mkdir(parents=True, exist_ok=True)
    curves = {r.clip_id: p.curve for r, p in zip(rows, peaks)}
    (out / "curves.json").write_text(
        json.dumps({cid: [round(float(v), DIGITS) for v in c] for cid, c in curves.items()}, indent=0) + "\n"
    )
    write_audit(out, rows, curves, params.audit_plots)
    log = ProblemLog(dataset)
    for cid, o in zip(ids, outcomes):
        if o.status == "skipped":
            log.add(cid, o.problem, "skipped")
    for r in rows:
        for flag in filter(None, r.flags.split("; ")):
            log.add(r.clip_id, flag, "flagged")
    log.write(out / paths.PROBLEMS_FILE)
    write_spots(out / paths.APEX_TABLE, rows)  # last: the table modalities read
    annotated = {r.clip_id: r.index_apex for r in rows if r.index_source == "annotated"}
    metrics = {
        "clips": len(rows),
        "noise_floor_px": round(floor, DIGITS),
        "no_motion": sum(r.spotted_source == "middle" for r in rows),
        "flagged": sum(bool(r.flags) for r in rows),
        "vs_annotated": apex_errors(rows, annotated),
        **({"vs_truth": apex_errors(rows, truth)} if truth is not None else {}),
    }
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return {"out": str(out), **metrics, "curves": engine.counts(outcomes), "problems": [p.line() for p in log.items]}
