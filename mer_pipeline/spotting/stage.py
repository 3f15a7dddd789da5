"""The spotting stage: faces store -> <spotting.out>/<dataset>/{apexes.csv, curves.json, audit.csv, audit.png,
problems.csv} and <spotting.metrics>/spotting_<dataset>.json.

Per clip the motion curve of each region (curve.py) and its peak; over the dataset the noise floor (median of the
clips' floors); per clip the spotted apex (the peak, or the middle frame where there is no motion above the floor),
the audit's flags (audit.py), and the apex error against the sheet and, where the dataset ships one, the ground truth.
"""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from mer_pipeline import paths
from mer_pipeline.config import FacesParams, SpottingParams
from mer_pipeline.faces.align import transform_points
from mer_pipeline.problems import ProblemLog
from mer_pipeline.spotting.audit import MIN_FRAMES, flags_of, moved, write_audit
from mer_pipeline.spotting.curve import DIGITS, Peak, find_peak, region_curves, region_masks
from mer_pipeline.store import clips as faces_store
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
        row = SpotRow(entry.clip_id, entry.subject, entry.onset, entry.offset, entry.apex, entry.apex_source,
                      entry.onset + peak.index, "spotted", entry.onset + peak.index, peak.region, peak.peak,
                      peak.floor, "")
        tolerance = max(2, round(params.audit_apex_seconds * entry.fps))
        flags = flags_of(row, frames, floor, params.min_peak_ratio, tolerance)
        still = not moved(peak.peak, frames, floor, params.min_peak_ratio)
        rows.append(replace(row, flags="; ".join(flags),
                            **({"spotted_apex": middle, "spotted_source": "middle"} if still else {})))
    return rows, floor


def apex_errors(rows: list[SpotRow], truth: dict[str, int]) -> dict:
    """Mean absolute error (frames) of the spotted apex and the share within +-2 frames, over the clips in truth."""
    errors = np.array([abs(r.spotted_apex - truth[r.clip_id]) for r in rows if r.clip_id in truth])
    if not len(errors):
        return {"clips": 0}
    return {"clips": int(len(errors)), "mae_frames": round(float(errors.mean()), 4),
            "within_2": round(float((errors <= 2).mean()), 4), "max_frames": int(errors.max())}


def ground_truth_apexes(root: Path) -> dict[str, int] | None:
    """clip id -> true apex frame, for a dataset that ships ground truth (the synthetic one); None otherwise."""
    if not (Path(root) / "ground_truth" / "clips.csv").is_file():
        return None
    from mer_pipeline.synth.generate import read_ground_truth

    return {cid: row["apex"] for cid, row in read_ground_truth(root).items()}


def spot_stage(dataset: str, faces: FacesParams, params: SpottingParams, dataset_root: str | None = None,
               progress=None) -> dict:
    """Spot the apex of every complete faces entry of `dataset` into `<spotting.out>/<dataset>/` and
    `<spotting.metrics>/spotting_<dataset>.json`; scored against the ground truth where the dataset root has one."""
    truth = ground_truth_apexes(Path(dataset_root)) if dataset_root else None
    result = spot_store(paths.faces_store(faces, dataset), paths.spotting_dir(params, dataset),
                        paths.spotting_metrics(params, dataset), params, dataset, truth, progress)
    return {"dataset": dataset, **result}


def spot_store(store_path: Path, out: Path, metrics_path: Path, params: SpottingParams, dataset: str,
               truth: dict[str, int] | None = None, progress=None) -> dict:
    """Spot every complete entry of a faces store; write the apex table, curves, audit, problems and metrics."""
    root, ids = faces_store.open_complete(store_path)
    entries, peaks = [], []
    for clip_id in progress(ids) if progress else ids:
        frames, entry = faces_store.read_entry(root, clip_id)
        entries.append(entry)
        peaks.append(spot_entry(frames, entry, params))
    rows, floor = apex_rows(entries, peaks, params)
    out.mkdir(parents=True, exist_ok=True)
    curves = {r.clip_id: p.curve for r, p in zip(rows, peaks)}
    (out / "curves.json").write_text(json.dumps(
        {cid: [round(float(v), DIGITS) for v in c] for cid, c in curves.items()}, indent=0) + "\n")
    write_audit(out, rows, curves, params.audit_plots)
    log = ProblemLog(dataset)
    for r in rows:
        for flag in filter(None, r.flags.split("; ")):
            log.add(r.clip_id, flag, "flagged")
    log.write(out / paths.PROBLEMS_FILE)
    write_spots(out / paths.APEX_TABLE, rows)  # last: the table modalities read
    annotated = {r.clip_id: r.index_apex for r in rows if r.index_source == "annotated"}
    metrics = {"clips": len(rows), "noise_floor_px": round(floor, DIGITS),
               "no_motion": sum(r.spotted_source == "middle" for r in rows),
               "flagged": sum(bool(r.flags) for r in rows), "vs_annotated": apex_errors(rows, annotated),
               **({"vs_truth": apex_errors(rows, truth)} if truth is not None else {})}
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return {"out": str(out), **metrics, "problems": [p.line() for p in log.items]}
