"""MMEW as distributed: MMEW/Micro_Expression/<emotion>/<Filename>/<n>.jpg (folders by emotion, not by subject;
frame numbers unpadded) and the sheet MMEW_Micro_Exp.xlsx with columns Subject, Filename, OnsetFrame, ApexFrame,
OffsetFrame, Action Units, Estimated Emotion, remarks.

Variants accepted: the emotion folders anywhere up to three folders below the root (found as the folder holding the
most of the sheet's emotions, ignoring case), the sheet up to two folders down in either capitalisation, frame names
with a prefix (the frame number is the last digits of the name). A clip whose folder sits under another emotion
folder than its sheet row says is found there and reported (the sheet's emotion is used); a sheet row whose folder
is absent is excluded, a folder without a row is reported and left out. Subjects are written S01, S02, ...
"""

import re
from pathlib import Path

from mer_pipeline.config import DatasetParams
from mer_pipeline.datasets.base import Adapter, Candidate
from mer_pipeline.datasets.labels import normalise_emotion
from mer_pipeline.datasets.layout import child_dir, find_parent_of, locate_sheet, report_unlisted_under
from mer_pipeline.datasets.sheets import frame_number, read_sheet, subject_number
from mer_pipeline.errors import UserError
from mer_pipeline.problems import ProblemLog

FRAME_PATTERN = re.compile(r"^(?:.*\D)?(\d+)\.(?:jpe?g|png|bmp)$", re.IGNORECASE)
SHEETS = ("mmew_micro_exp*.xls*", "mmew*micro*.xls*")
EXPECTED = "MMEW/Micro_Expression/happiness/<Filename>/1.jpg and MMEW_Micro_Exp.xlsx"


def subject_id(value: object) -> str:
    number = subject_number(value)
    return f"S{number:02d}" if number is not None else str(value).strip()


def scan(root: Path, params: DatasetParams, log: ProblemLog) -> list[Candidate]:
    sheet = locate_sheet(root, params.sheet, SHEETS, EXPECTED)
    rows = read_sheet(sheet)
    emotions = {normalise_emotion(r["emotion"]) for r in rows if r["emotion"] is not None}
    frames_root = root / params.frames_dir if params.frames_dir else find_parent_of(root, emotions)
    if frames_root is None or not frames_root.is_dir():
        raise UserError(
            f"{root}: no folder of emotion folders ({', '.join(sorted(emotions))}) found (expected {EXPECTED})"
        )
    emotion_dirs = sorted(p for p in frames_root.iterdir() if p.is_dir())
    candidates = []
    for row in rows:
        name, emotion = str(row["filename"]).strip(), normalise_emotion(row["emotion"])
        if not name:
            log.add(f"{sheet.name} row {row['sheet_row']}", "no Filename", "excluded")
            continue
        subject = subject_id(row["subject"])
        clip_id = f"{subject}/{name}"
        folder = clip_dir(frames_root, emotion_dirs, emotion, name, clip_id, log)
        candidates.append(
            Candidate(
                subject=subject,
                clip_id=clip_id,
                folder=folder,
                emotion=row["emotion"],
                onset=frame_number(row["onset"]),
                apex=frame_number(row["apex"]),
                offset=frame_number(row["offset"]),
                sheet_row=row["sheet_row"],
            )
        )
    report_unlisted_under(emotion_dirs, {c.folder for c in candidates}, frames_root, log)
    return candidates


def clip_dir(
    frames_root: Path, emotion_dirs: list[Path], emotion: str, name: str, clip_id: str, log: ProblemLog
) -> Path:
    """<emotion>/<name>, else <name> under whichever emotion folder holds it (reported); the expected path when
    none does, so the index reports it missing."""
    own = child_dir(frames_root, emotion)
    if own is not None and (found := child_dir(own, name)) is not None:
        return found
    elsewhere = [f for d in emotion_dirs if d != own and (f := child_dir(d, name)) is not None]
    if len(elsewhere) == 1:
        log.add(
            clip_id,
            f"folder is under {elsewhere[0].parent.name}/ while the sheet says {emotion!r} "
            "(the sheet's emotion is used)",
            "repaired",
        )
        return elsewhere[0]
    return frames_root / emotion / name


ADAPTER = Adapter("mmew", FRAME_PATTERN, scan)
