"""4DME as distributed (its grey micro-expression clips): 4DMicro/gray_micro/<sub_ID>/<fold_name>/<frames> and the
sheet `4DME_Labelling_Micro_release v1.xlsx` with columns sub_ID, fold_name, Emotion, Onset, Apex, Offset, AUs (AU
strings carry "(k)" markers; they are not read).

Variants accepted: the subject folders anywhere up to three folders below the root (found as the folder holding the
most of the sheet's sub_IDs, ignoring case), the sheet up to two folders down in either capitalisation, any frame
file name ending in its frame number (img001.jpg, 001.png, S01_..._0001.bmp). Folder names are matched to the sheet's
sub_ID and fold_name as written, else ignoring case (reported). Emotions are the sheet's words; a row with several
emotions ("Negative+Surprise") is not in the label table and is excluded as an unknown emotion, reported by clip id.
"""

import re
from pathlib import Path

from mer_pipeline.config import DatasetParams
from mer_pipeline.datasets.base import Adapter, Candidate
from mer_pipeline.datasets.layout import child_dir, clip_folder, find_parent_of, locate_sheet, report_unlisted_under
from mer_pipeline.datasets.sheets import frame_number, read_sheet
from mer_pipeline.errors import UserError
from mer_pipeline.problems import ProblemLog

FRAME_PATTERN = re.compile(r"^(?:.*\D)?(\d+)\.(?:jpe?g|png|bmp)$", re.IGNORECASE)
SHEETS = ("4dme_labelling_micro_release*.xls*", "4dme*micro*.xls*", "4dme*.xls*")
EXPECTED = "4DMicro/gray_micro/<sub_ID>/<fold_name>/ and 4DME_Labelling_Micro_release v1.xlsx"


def scan(root: Path, params: DatasetParams, log: ProblemLog) -> list[Candidate]:
    sheet = locate_sheet(root, params.sheet, SHEETS, EXPECTED)
    rows = read_sheet(sheet)
    subjects = {str(r["subject"]).strip() for r in rows}
    frames_root = root / params.frames_dir if params.frames_dir else find_parent_of(root, subjects)
    if frames_root is None or not frames_root.is_dir():
        raise UserError(f"{root}: no folder holding the sheet's subject folders found (expected {EXPECTED})")
    candidates = []
    for row in rows:
        subject, name = str(row["subject"]).strip(), str(row["filename"]).strip()
        if not name:
            log.add(f"{sheet.name} row {row['sheet_row']}", "no fold_name", "excluded")
            continue
        clip_id = f"{subject}/{name}"
        candidates.append(
            Candidate(
                subject=subject,
                clip_id=clip_id,
                folder=clip_folder(child_dir(frames_root, subject), name, log, clip_id),
                emotion=row["emotion"],
                onset=frame_number(row["onset"]),
                apex=frame_number(row["apex"]),
                offset=frame_number(row["offset"]),
                sheet_row=row["sheet_row"],
            )
        )
    subject_dirs = sorted(p for p in frames_root.iterdir() if p.is_dir())
    report_unlisted_under(subject_dirs, {c.folder for c in candidates}, frames_root, log)
    return candidates


ADAPTER = Adapter("4dme", FRAME_PATTERN, scan)
