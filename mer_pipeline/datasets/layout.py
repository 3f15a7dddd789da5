"""Finding the parts of a dataset as distributed: its annotation sheet and its frames folder."""

import re
from pathlib import Path

from mer_pipeline.config import DatasetParams
from mer_pipeline.datasets.base import Candidate
from mer_pipeline.datasets.sheets import frame_number, read_sheet, subject_number
from mer_pipeline.errors import UserError
from mer_pipeline.problems import ProblemLog


def locate_sheet(root: Path, configured: str, patterns: tuple[str, ...], expected: str) -> Path:
    """The sheet named in params (relative to root), else the first file matching `patterns` in root."""
    if configured:
        path = root / configured
        if not path.is_file():
            raise UserError(f"{path}: annotation sheet not found (expected {expected})")
        return path
    for pattern in patterns:
        hits = sorted(p for p in root.glob(pattern) if p.is_file() and not p.name.startswith("~$"))
        if hits:
            return hits[-1]  # newest coding-sheet date sorts last
    raise UserError(f"{root}: no annotation sheet found (expected {expected})")


def locate_frames_root(
    root: Path, configured: str, candidates: tuple[str, ...], subject_dir: re.Pattern[str], expected: str
) -> Path:
    """The folder whose children are subject folders: params' frames_dir, else the first of `candidates` that
    holds subject folders directly or one level down (archives often unzip to CASME2-RAW/CASME2-RAW/)."""
    names = (configured,) if configured else candidates
    for name in names:
        base = root / name
        for folder in (base, *sorted(p for p in base.glob("*") if p.is_dir())):
            if folder.is_dir() and any(subject_dir.match(p.name) and p.is_dir() for p in folder.iterdir()):
                return folder
    raise UserError(f"{root}: no frames folder with subject folders found under {', '.join(names)} (expected {expected})")


def subject_folders(frames_root: Path, subject_dir: re.Pattern[str]) -> dict[int, Path]:
    """Subject number -> folder, from folder names like sub01 / 006 / s1."""
    found = {}
    for p in sorted(frames_root.iterdir()):
        m = subject_dir.match(p.name)
        if m and p.is_dir():
            found[int(m.group(1))] = p
    return found


def clip_folder(subject_folder: Path | None, name: str, log: ProblemLog, clip_id: str) -> Path:
    """The clip folder `name` inside the subject folder, matching case-insensitively when needed.

    Returns the expected path even when absent, so validation can report it as missing.
    """
    if subject_folder is None:
        return Path("<no subject folder>") / name
    exact = subject_folder / name
    if exact.is_dir():
        return exact
    folded = [p for p in subject_folder.iterdir() if p.is_dir() and p.name.lower() == name.lower()]
    if len(folded) == 1:
        log.add(clip_id, f"sheet name {name!r} matched folder {folded[0].name!r} ignoring case", "repaired")
        return folded[0]
    return exact


def report_unlisted(frames_root: Path, listed: set[Path], subject_dir: re.Pattern[str], log: ProblemLog) -> None:
    """Clip folders that no sheet row names: reported and left out of the index."""
    for subject in subject_folders(frames_root, subject_dir).values():
        for folder in sorted(p for p in subject.iterdir() if p.is_dir()):
            if folder not in listed:
                log.add(str(folder.relative_to(frames_root)), "clip folder has no row in the annotation sheet", "ignored")


def scan_sheet_layout(
    root: Path,
    params: DatasetParams,
    log: ProblemLog,
    *,
    sheets: tuple[str, ...],
    frame_dirs: tuple[str, ...],
    subject_dir: re.Pattern[str],
    subject_format: str,
    expected: str,
) -> list[Candidate]:
    """Candidates of a sheet-annotated dataset (CASME II, SAMM): one per sheet row, folders without a row reported.

    `subject_format` turns the sheet's numeric Subject into the folder-style id ("sub{:02d}", "{:03d}").
    """
    sheet = locate_sheet(root, params.sheet, sheets, expected)
    frames_root = locate_frames_root(root, params.frames_dir, frame_dirs, subject_dir, expected)
    subjects = subject_folders(frames_root, subject_dir)
    candidates = []
    for row in read_sheet(sheet):
        number = subject_number(row["subject"])
        name = str(row["filename"]).strip()
        if number is None or not name:
            log.add(f"{sheet.name} row {row['sheet_row']}", f"bad Subject/Filename {row['subject']!r}/{name!r}", "excluded")
            continue
        subject = subject_format.format(number)
        clip_id = f"{subject}/{name}"
        candidates.append(
            Candidate(
                subject=subject,
                clip_id=clip_id,
                folder=clip_folder(subjects.get(number), name, log, clip_id),
                emotion=row["emotion"],
                onset=frame_number(row["onset"]),
                apex=frame_number(row["apex"]),
                offset=frame_number(row["offset"]),
                sheet_row=row["sheet_row"],
            )
        )
    report_unlisted(frames_root, {c.folder for c in candidates}, subject_dir, log)
    return candidates
