"""CAS(ME)^3 part A as distributed: part_A/data/part_A/spNO.1/b/color/175.jpg (a depth/ folder beside color/,
frame numbers unpadded) and the sheet cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx (first sheet `label`; columns
Subject = spNO.1, Filename = a..m, Onset, Apex, Offset, AU, Objective class, emotion).

Variants accepted: the frames folder at part_A/data/part_A/, data/part_A/, part_A/ or the root, one extra top folder
allowed; clip folders with color/ or with the frames directly in them; the sheet in the root or up to two folders
down, in either capitalisation, or the full label file CAS(ME)3_part_A_v2.xls, whose `Expression type` column is read
to keep micro-expressions only (macro rows are reported as ignored).

A `Filename` names a whole recording (one material folder); each sheet row is one micro-expression inside it, so a
clip is the window onset..offset of that folder. Clip ids are `<subject>/<recording>_<onset>` (spNO.1/b_175): the
same for every run and every sheet order. Two rows of one recording with the same onset but another apex or offset
get `_2`, `_3` in sheet order, reported as repaired; an identical row is excluded by the index as listed twice.
Known defects of the release, reported by clip id by the index: dropped frames inside a window (clip excluded, the
missing frame numbers named), rows over `LONG_SECONDS` (flagged: probably macro or mis-annotated), case of emotions.
"""

import re
from collections import Counter
from pathlib import Path

from mer_pipeline.config import DatasetParams
from mer_pipeline.datasets.base import Adapter, Candidate
from mer_pipeline.datasets.layout import (
    child_dir,
    locate_frames_root,
    locate_sheet,
    report_unlisted_under,
    subject_folders,
)
from mer_pipeline.datasets.sheets import frame_number, read_sheet
from mer_pipeline.problems import ProblemLog

FRAME_PATTERN = re.compile(r"^(\d+)\.(?:jpe?g|png|bmp)$", re.IGNORECASE)
SUBJECT_DIR = re.compile(r"^spNO\.?0*(\d+)$", re.IGNORECASE)
SHEETS = (
    "cas(me)3_part_a_me_label_jpgindex_v*.xls*",
    "cas(me)3_part_a*label*.xls*",
    "cas(me)3_part_a*.xls*",
    "cas(me)*3*.xls*",
)
FRAME_DIRS = ("part_A/data/part_A", "data/part_A", "part_A", ".")
EXPECTED = "part_A/data/part_A/spNO.1/b/color/175.jpg and cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
LONG_SECONDS = 2.0


def recording_folder(subject_folder: Path | None, name: str) -> Path | None:
    """The folder holding a recording's colour frames: <subject>/<name>/color/, or <subject>/<name>/ itself."""
    folder = child_dir(subject_folder, name) if subject_folder is not None else None
    if folder is None:
        return None
    return child_dir(folder, "color") or folder


def scan(root: Path, params: DatasetParams, log: ProblemLog) -> list[Candidate]:
    sheet = locate_sheet(root, params.sheet, SHEETS, EXPECTED)
    frames_root = locate_frames_root(root, params.frames_dir, FRAME_DIRS, SUBJECT_DIR, EXPECTED)
    subjects = subject_folders(frames_root, SUBJECT_DIR)
    candidates, clip_ids, used = [], {}, Counter()
    for row in read_sheet(sheet):
        where = f"{sheet.name} row {row['sheet_row']}"
        kind = str(row.get("expression_type") or "micro").strip().lower()
        if "macro" in kind:
            log.add(where, f"expression type {row['expression_type']!r}: not a micro-expression", "ignored")
            continue
        m = SUBJECT_DIR.match(str(row["subject"]).strip())
        name = str(row["filename"]).strip()
        onset, apex, offset = (frame_number(row[k]) for k in ("onset", "apex", "offset"))
        if m is None or not name or onset is None:
            log.add(where, f"bad Subject/Filename/Onset {row['subject']!r}/{name!r}/{row['onset']!r}", "excluded")
            continue
        subject = f"spNO.{int(m.group(1))}"
        base = f"{subject}/{name}_{onset}"
        window = (base, apex, offset)
        if window not in clip_ids:  # a new window; an identical row keeps its id and the index excludes it
            used[base] += 1
            clip_ids[window] = base if used[base] == 1 else f"{base}_{used[base]}"
            if used[base] > 1:
                log.add(
                    clip_ids[window],
                    f"recording {name} has several rows with onset {onset}: this one named {clip_ids[window]}",
                    "repaired",
                )
        clip_id = clip_ids[window]
        if offset is not None and (offset - onset + 1) / params.fps > LONG_SECONDS:
            log.add(
                clip_id,
                f"lasts {(offset - onset + 1) / params.fps:.1f} s, over {LONG_SECONDS:g} s: probably a "
                "macro-expression or an annotation error",
                "flagged",
            )
        folder = recording_folder(subjects.get(int(m.group(1))), name)
        candidates.append(
            Candidate(
                subject=subject,
                clip_id=clip_id,
                folder=folder or frames_root / subject / name / "color",
                emotion=row["emotion"],
                onset=onset,
                apex=apex,
                offset=offset,
                sheet_row=row["sheet_row"],
            )
        )
    recordings = {c.folder.parent if c.folder.name.lower() == "color" else c.folder for c in candidates}
    report_unlisted_under(
        list(subjects.values()), recordings, frames_root, log, "recording has no micro-expression row in the sheet"
    )
    return candidates


ADAPTER = Adapter("casme3", FRAME_PATTERN, scan)
