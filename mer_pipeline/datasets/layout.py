"""Finding the parts of a dataset as distributed: its annotation sheet and its frames folder."""

import re
from fnmatch import fnmatch
from pathlib import Path

from mer_pipeline.config import DatasetParams
from mer_pipeline.datasets.base import Candidate, plain_name
from mer_pipeline.datasets.sheets import frame_number, read_sheet, subject_number
from mer_pipeline.errors import UserError
from mer_pipeline.problems import ProblemLog

SHEET_DEPTH = 2


def locate_sheet(root: Path, configured: str, patterns: tuple[str, ...], expected: str) -> Path:
    """The sheet named in params (relative to root), else the first file matching `patterns` in root or up to
    SHEET_DEPTH folders below it (a download may add a top folder), shallowest first. Patterns are matched ignoring
    case (`CAS(ME)3_...` and `cas(me)3_...` are both seen); among several matches of one pattern and depth the last
    by name wins (the newest coding-sheet date sorts last)."""
    if configured:
        path = root / configured
        if not path.is_file():
            raise UserError(f"{path}: annotation sheet not found (expected {expected})")
        return path
    levels = [[root]]
    for _ in range(SHEET_DEPTH):
        levels.append(
            sorted(d for parent in levels[-1] for d in parent.iterdir() if d.is_dir() and not d.name.startswith("."))
        )
    for pattern in patterns:
        for folders in levels:
            hits = sorted(
                p
                for d in folders
                for p in d.iterdir()
                if p.is_file() and not p.name.startswith("~$") and fnmatch(p.name.lower(), pattern.lower())
            )
            if hits:
                return hits[-1]
    raise UserError(f"{root}: no annotation sheet found (expected {expected})")


def find_parent_of(root: Path, names: set[str], depth: int = 3) -> Path | None:
    """The folder at most `depth` levels below root (root included) whose sub-folders match the most of `names`
    (ignoring case); None when none matches. For layouts whose folder names come from the sheet (MMEW, 4DME)."""
    wanted = {n.lower() for n in names}
    best, best_hits, level = None, 0, [root]
    for _ in range(depth + 1):
        for folder in level:
            hits = len(wanted & {p.name.lower() for p in folder.iterdir() if p.is_dir()})
            if hits > best_hits:
                best, best_hits = folder, hits
        level = sorted(d for parent in level for d in parent.iterdir() if d.is_dir() and not d.name.startswith("."))
    return best


def child_dir(parent: Path, name: str) -> Path | None:
    """The sub-folder `name` of parent, matched exactly or else ignoring case; None when absent or ambiguous."""
    exact = parent / name
    if exact.is_dir():
        return exact
    folded = [p for p in parent.iterdir() if p.is_dir() and p.name.lower() == name.lower()] if parent.is_dir() else []
    return folded[0] if len(folded) == 1 else None


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
    raise UserError(
        f"{root}: no frames folder with subject folders found under {', '.join(names)} (expected {expected})"
    )


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
    if not plain_name(name):  # never looked up: the index excludes it (index.unsafe_names)
        return subject_folder / name
    found = child_dir(subject_folder, name)
    if found is None:
        return subject_folder / name
    if found.name != name:
        log.add(clip_id, f"sheet name {name!r} matched folder {found.name!r} ignoring case", "repaired")
    return found


def report_unlisted(frames_root: Path, listed: set[Path], subject_dir: re.Pattern[str], log: ProblemLog) -> None:
    """Clip folders that no sheet row names: reported and left out of the index."""
    report_unlisted_under(list(subject_folders(frames_root, subject_dir).values()), listed, frames_root, log)


def report_unlisted_under(
    parents: list[Path],
    listed: set[Path],
    frames_root: Path,
    log: ProblemLog,
    problem: str = "clip folder has no row in the annotation sheet",
) -> None:
    """Folders inside `parents` (subject or emotion folders) that no sheet row names: reported and left out."""
    for parent in parents:
        for folder in sorted(p for p in parent.iterdir() if p.is_dir()):
            if folder not in listed:
                log.add(str(folder.relative_to(frames_root)), problem, "ignored")


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
            log.add(
                f"{sheet.name} row {row['sheet_row']}", f"bad Subject/Filename {row['subject']!r}/{name!r}", "excluded"
            )
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
