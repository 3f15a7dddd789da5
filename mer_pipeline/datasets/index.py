"""Build the clip index of a dataset: validate each candidate clip, repair where a policy exists, else exclude.

Policies (each recorded in the problems report):
- apex missing ('/', blank) or outside onset..offset -> middle frame, onset + (offset - onset) // 2 (repaired);
- onset or offset missing, onset after offset -> excluded;
- clip folder missing, no frames, frames missing inside onset..offset, duplicated frame numbers, a frame that cannot
  be decoded -> excluded;
- emotion not in the dataset's emotion list -> excluded;
- a clip listed twice -> the second row excluded; a folder with no sheet row -> ignored;
- a subject or clip name from the sheet that is not one plain folder name (a separator, `.`, `..`, an absolute
  path) or that reaches outside the dataset root, a folder or frame name that is not UTF-8 -> excluded;
- a frame over MAX_FRAME_PIXELS -> excluded; fewer frames from onset to offset than index.min_frames -> excluded.

The index is written all or nothing: index.json, written last, marks it complete and holds the checksum of
clips.csv; a folder holding files the project did not write is never written into.
"""

import csv
import hashlib
import json
import os
from dataclasses import asdict, fields, replace
from pathlib import Path

from mer_pipeline import __version__, paths
from mer_pipeline.config import DatasetParams, IndexParams, LabelTable, params_hash
from mer_pipeline.datasets.base import Adapter, Candidate, ClipRecord, plain_name
from mer_pipeline.datasets.frames import list_frames, missing_frames, unreadable
from mer_pipeline.datasets.labels import class_labels, normalise_emotion
from mer_pipeline.errors import ClipError, UserError
from mer_pipeline.paths import INDEX_FILE, PROBLEMS_FILE
from mer_pipeline.paths import INDEX_META_FILE as META_FILE
from mer_pipeline.problems import HEADER as PROBLEMS_HEADER
from mer_pipeline.problems import ProblemLog, printable
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
    min_frames: int = IndexParams.min_frames,
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
            if why := unsafe_names(root, cand):
                log.add(cand.clip_id, why, "excluded")
                continue
            try:
                records.append(_validate(dataset, root, cand, adapter, params, labels, log, verify_frames, min_frames))
            except ClipError as err:
                log.add(err.clip_id, err.reason, "excluded")
    return records


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8, read as surrogates
        return False
    return True


def unsafe_names(root: Path, cand: Candidate) -> str | None:
    """Why the names the sheet gave a clip cannot be used (None: they can): its subject and its name must each be
    one plain folder name, its folder inside the dataset root, its folder name UTF-8."""
    parts = cand.clip_id.split("/")
    if not (plain_name(cand.subject) and len(parts) == 2 and all(map(plain_name, parts))):
        return (
            f"sheet Subject/Filename {cand.clip_id!r} is not a plain folder name (a separator, '..' or an "
            "absolute path): not read"
        )
    if (
        not os.path.abspath(cand.folder).startswith(os.path.join(os.path.abspath(root), ""))
        and cand.folder.is_absolute()
    ):  # (a relative folder is the adapter's "<no subject folder>": reported missing)
        return f"clip folder {cand.folder} is outside the dataset root {root}: not read"
    if not (_utf8(cand.clip_id) and _utf8(str(cand.folder))):
        return f"folder name {printable(str(cand.folder))} is not UTF-8"
    return None


def _validate(dataset, root, cand: Candidate, adapter, params, labels, log, verify_frames, min_frames) -> ClipRecord:
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
    if bad := [n for n in listing.names if not _utf8(n)]:
        raise ClipError(cand.clip_id, f"frame file name {printable(bad[0])} in {cand.folder} is not UTF-8")
    onset, apex, offset, source = _key_frames(cand, listing.numbers, log)
    if (n := offset - onset + 1) < min_frames:
        raise ClipError(
            cand.clip_id,
            f"{n} frame{'' if n == 1 else 's'} from onset {onset} to offset {offset}, "
            f"fewer than index.min_frames {min_frames}",
        )
    missing = missing_frames(listing.numbers, onset, offset)
    if missing:
        shown = ", ".join(map(str, missing[:5])) + (" ..." if len(missing) > 5 else "")
        raise ClipError(
            cand.clip_id, f"frames missing in {cand.folder} between onset {onset} and offset {offset}: {shown}"
        )
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


def _check_own_folder(out_dir: Path) -> None:
    """One line when `out_dir` is a file, or a folder holding files this project did not write (a user's own
    clips.csv is never overwritten)."""
    for folder in (out_dir, *out_dir.parents):
        if folder.exists() and not folder.is_dir():
            raise UserError(f"{folder}: is a file, not a folder for the clip index (set index.out)")
    if not out_dir.is_dir():
        return
    heads = {INDEX_FILE: ",".join(f.name for f in fields(ClipRecord)), PROBLEMS_FILE: ",".join(PROBLEMS_HEADER)}
    for p in sorted(out_dir.iterdir()):
        if p.name.endswith(".tmp") and p.name.removesuffix(".tmp") in (INDEX_FILE, PROBLEMS_FILE, META_FILE):
            continue
        ours = p.is_file() and (p.name == META_FILE or p.name in heads and _first_line(p) == heads[p.name])
        if not ours:
            raise UserError(
                f"{p}: not written by mer_pipeline; refusing to write the clip index into {out_dir} "
                "(set index.out to a folder of its own)"
            )


def _first_line(path: Path) -> str:
    with open(path, newline="", errors="replace") as f:
        return f.readline(4096).rstrip("\r\n")


def write_index(out_dir: Path, records: list[ClipRecord], log: ProblemLog, meta: dict) -> None:
    """Write clips.csv (list columns as JSON), problems.csv and index.json (root, counts, provenance), all or
    nothing: each to a temporary file first, index.json removed before and renamed into place last."""
    _check_own_folder(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [f.name for f in fields(ClipRecord)]
    tmp = {name: out_dir / (name + ".tmp") for name in (INDEX_FILE, PROBLEMS_FILE, META_FILE)}
    with open(tmp[INDEX_FILE], "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=names)
        writer.writeheader()
        for rec in records:
            row = asdict(rec)
            for key in LIST_FIELDS:
                row[key] = json.dumps(list(row[key]))
            writer.writerow(row)
    log.write(tmp[PROBLEMS_FILE])
    meta = {
        **meta,
        "clips": len(records),
        "problems": len(log),
        "package_version": __version__,
        "index_sha256": hashlib.sha256(tmp[INDEX_FILE].read_bytes()).hexdigest(),
    }
    tmp[META_FILE].write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    (out_dir / META_FILE).unlink(missing_ok=True)  # the index is incomplete until index.json is back
    tmp[INDEX_FILE].replace(out_dir / INDEX_FILE)
    tmp[PROBLEMS_FILE].replace(out_dir / PROBLEMS_FILE)
    tmp[META_FILE].replace(out_dir / META_FILE)


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
    try:
        meta = json.loads(meta_path.read_text())
        sha = meta["index_sha256"]
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{meta_path}: not an index.json this project wrote; run `mer-pipeline index` again") from None
    if hashlib.sha256(path.read_bytes()).hexdigest() != sha:
        raise UserError(
            f"{path}: does not match its index.json (edited, or from another run); run `mer-pipeline index` again"
        )
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
    return records, meta


def index_stage(
    dataset: str, dparams: DatasetParams, labels: LabelTable, iparams: IndexParams, root: str | None = None
) -> dict:
    """Index `dataset` (root from params unless `root` is given) into `<index.out>/<dataset>/`."""
    from mer_pipeline.datasets import ADAPTERS

    if root:
        dparams = replace(dparams, root=root)
    log = ProblemLog(dataset)
    out = paths.index_dir(iparams, dataset)
    _check_own_folder(out)  # before the scan: a folder that is not ours is refused at once
    records = build_index(
        dataset,
        ADAPTERS.get(dparams.adapter),
        dparams,
        labels,
        log,
        iparams.verify_frames,
        progress=bar(f"index {dataset}"),
        min_frames=iparams.min_frames,
    )
    write_index(out, records, log, index_meta(dataset, dparams, labels))
    return {
        "dataset": dataset,
        "out": str(out),
        "clips": len(records),
        "problems": [p.line() for p in log.items],
        "excluded": log.count("excluded"),
        "repaired": log.count("repaired"),
    }
