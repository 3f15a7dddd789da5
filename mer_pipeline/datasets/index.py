"""Build the clip index of a dataset: validate each candidate clip, repair where a policy exists, else exclude.

Policies (each recorded in the problems report):
- apex missing ('/', blank) or outside onset..offset -> middle frame, onset + (offset - onset) // 2 (repaired);
- onset or offset missing, onset after offset -> excluded;
- clip folder missing, no frames, frames missing inside onset..offset, duplicated frame numbers, a frame that cannot
  be decoded -> excluded;
- emotion not in the dataset's emotion list -> excluded;
- a clip listed twice -> the second row excluded; a folder with no sheet row -> ignored.
"""

import csv
import hashlib
import json
from dataclasses import asdict, fields, replace
from pathlib import Path

from mer_pipeline import __version__, paths
from mer_pipeline.config import DatasetParams, IndexParams, LabelTable, params_hash
from mer_pipeline.datasets.base import Adapter, Candidate, ClipRecord
from mer_pipeline.datasets.frames import list_frames, missing_frames, unreadable
from mer_pipeline.datasets.labels import class_labels, normalise_emotion
from mer_pipeline.errors import ClipError, UserError
from mer_pipeline.paths import INDEX_FILE, PROBLEMS_FILE
from mer_pipeline.paths import INDEX_META_FILE as META_FILE
from mer_pipeline.problems import ProblemLog
from mer_pipeline.progress import bar, tracked

LIST_FIELDS = ("frames", "frame_numbers")


def build_index(
    dataset: str,
    adapter: Adapter,
    params: DatasetParams,
    labels: LabelTable,
    log: ProblemLog,
    verify_frames: bool = True,
    progress=None,
) -> list[ClipRecord]:
    """Scan the dataset root with `adapter` and return the valid clips; problems go to `log`."""
    root = Path(params.root)
    if not root.is_dir():
        raise UserError(f"{root}: dataset root not found (expected the {dataset} folder as distributed)")
    candidates = adapter.scan(root, params, log)
    records, seen = [], set()
    with tracked(candidates, progress) as wrapped:
        for cand in wrapped:
            if cand.clip_id in seen:
                log.add(cand.clip_id, "listed twice in the sheet", "excluded")
                continue
            seen.add(cand.clip_id)
            try:
                records.append(_validate(dataset, root, cand, adapter, params, labels, log, verify_frames))
            except ClipError as err:
                log.add(err.clip_id, err.reason, "excluded")
    return records


def _validate(dataset, root, cand: Candidate, adapter, params, labels, log, verify_frames) -> ClipRecord:
    emotion = normalise_emotion(cand.emotion)
    if emotion not in labels.emotions:
        raise ClipError(cand.clip_id, f"unknown emotion {cand.emotion!r} (known: {', '.join(labels.emotions)})")
    if not cand.folder.is_dir():
        raise ClipError(cand.clip_id, f"clip folder missing: {cand.folder}")
    listing = list_frames(cand.folder, adapter.frame_pattern)
    if not listing.numbers:
        raise ClipError(cand.clip_id, f"no frame files in {cand.folder}")
    if listing.duplicates:
        raise ClipError(cand.clip_id, f"frame numbers not ascending: {listing.duplicates[:5]} occur twice")
    onset, apex, offset, source = _key_frames(cand, listing.numbers, log)
    missing = missing_frames(listing.numbers, onset, offset)
    if missing:
        shown = ", ".join(map(str, missing[:5])) + (" ..." if len(missing) > 5 else "")
        raise ClipError(cand.clip_id, f"frames missing in {cand.folder} between onset {onset} and offset {offset}: {shown}")
    if verify_frames:
        for name, number in zip(listing.names, listing.numbers):
            if onset <= number <= offset and (why := unreadable(cand.folder / name)):
                raise ClipError(cand.clip_id, f"frame {cand.folder / name} unreadable: {why}")
    rel = cand.folder.relative_to(root)
    return ClipRecord(
        dataset=dataset,
        subject=cand.subject,
        clip_id=cand.clip_id,
        frames=tuple(str(rel / n) for n in listing.names),
        frame_numbers=listing.numbers,
        n_frames=offset - onset + 1,
        onset=onset,
        apex=apex,
        offset=offset,
        apex_source=source,
        emotion=emotion,
        fps=params.fps,
        **dict(zip(("label3", "label3_name", "label5", "label5_name"), class_labels(emotion, labels))),
    )


def _key_frames(cand: Candidate, numbers: tuple[int, ...], log: ProblemLog) -> tuple[int, int, int, str]:
    if cand.bounds_from_frames:
        onset, offset = numbers[0], numbers[-1]
        return onset, onset + (offset - onset) // 2, offset, "middle"
    onset, apex, offset = cand.onset, cand.apex, cand.offset
    if onset is None or offset is None:
        raise ClipError(cand.clip_id, f"onset or offset not annotated (onset={onset}, offset={offset})")
    if onset > offset:
        raise ClipError(cand.clip_id, f"onset {onset} after offset {offset}")
    middle = onset + (offset - onset) // 2
    if apex is None:
        log.add(cand.clip_id, "apex not annotated", "repaired")
        return onset, middle, offset, "middle"
    if not onset <= apex <= offset:
        log.add(cand.clip_id, f"apex {apex} outside onset..offset {onset}..{offset}", "repaired")
        return onset, middle, offset, "middle"
    return onset, apex, offset, "annotated"


def write_index(out_dir: Path, records: list[ClipRecord], log: ProblemLog, meta: dict) -> None:
    """Write clips.csv (list columns as JSON), problems.csv and index.json (root, counts, provenance)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [f.name for f in fields(ClipRecord)]
    tmp = out_dir / (INDEX_FILE + ".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=names)
        writer.writeheader()
        for rec in records:
            row = asdict(rec)
            for key in LIST_FIELDS:
                row[key] = json.dumps(list(row[key]))
            writer.writerow(row)
    tmp.replace(out_dir / INDEX_FILE)
    log.write(out_dir / PROBLEMS_FILE)
    meta = {
        **meta,
        "clips": len(records),
        "problems": len(log),
        "package_version": __version__,
        "index_sha256": hashlib.sha256((out_dir / INDEX_FILE).read_bytes()).hexdigest(),
    }
    (out_dir / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def index_meta(dataset: str, params: DatasetParams, labels: LabelTable) -> dict:
    return {
        "dataset": dataset,
        "root": params.root,
        "params": asdict(params),
        "labels": asdict(labels),
        "params_hash": params_hash({"dataset": asdict(params), "labels": asdict(labels)}),
    }


def read_index(out_dir: Path) -> tuple[list[ClipRecord], dict]:
    """Read clips.csv and index.json written by `write_index`."""
    path, meta_path = out_dir / INDEX_FILE, out_dir / META_FILE
    if not path.is_file() or not meta_path.is_file():
        raise UserError(f"{out_dir}: no clip index (expected {INDEX_FILE} and {META_FILE}; run `mer-pipeline index`)")
    types = {f.name: f.type for f in fields(ClipRecord)}
    records = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            values = {}
            for key, text in row.items():
                if key in LIST_FIELDS:
                    values[key] = tuple(json.loads(text))
                elif types[key] in (int, "int"):
                    values[key] = int(text)
                elif types[key] in (float, "float"):
                    values[key] = float(text)
                else:
                    values[key] = text
            records.append(ClipRecord(**values))
    return records, json.loads(meta_path.read_text())


def index_stage(dataset: str, dparams: DatasetParams, labels: LabelTable, iparams: IndexParams,
                root: str | None = None) -> dict:
    """Index `dataset` (root from params unless `root` is given) into `<index.out>/<dataset>/`."""
    from mer_pipeline.datasets import ADAPTERS

    if root:
        dparams = replace(dparams, root=root)
    log = ProblemLog(dataset)
    records = build_index(dataset, ADAPTERS.get(dparams.adapter), dparams, labels, log, iparams.verify_frames,
                          progress=bar(f"index {dataset}"))
    out = paths.index_dir(iparams, dataset)
    write_index(out, records, log, index_meta(dataset, dparams, labels))
    return {"dataset": dataset, "out": str(out), "clips": len(records), "problems": [p.line() for p in log.items],
            "excluded": log.count("excluded"), "repaired": log.count("repaired")}
