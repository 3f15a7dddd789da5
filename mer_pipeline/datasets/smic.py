"""SMIC-HS as distributed: SMIC_all_raw/HS/s1/micro/{negative,positive,surprise}/s1_ne_01/image046433.bmp
(cropped release: reg_image046433.bmp). No sheet: the emotion is the folder, onset/offset are the first/last frame
and the apex the middle frame. Subject folders are unpadded (s1); the index writes s01 as MEGC does. The
non_micro/ branch is not micro-expressions and is ignored."""

import re
from pathlib import Path

from mer_pipeline.config import DatasetParams
from mer_pipeline.datasets.base import Adapter, Candidate
from mer_pipeline.datasets.layout import locate_frames_root, subject_folders
from mer_pipeline.problems import ProblemLog

FRAME_PATTERN = re.compile(r"^(?:reg_)?image(\d+)\.(?:bmp|jpe?g|png)$", re.IGNORECASE)
SUBJECT_DIR = re.compile(r"^s0*(\d+)$", re.IGNORECASE)
HS_DIRS = ("SMIC_all_raw/HS", "SMIC_all_cropped/HS", "HS", ".")


def scan(root: Path, params: DatasetParams, log: ProblemLog) -> list[Candidate]:
    hs = locate_frames_root(root, params.frames_dir, HS_DIRS, SUBJECT_DIR, "SMIC_all_raw/HS/s1/micro/")
    candidates = []
    for number, folder in subject_folders(hs, SUBJECT_DIR).items():
        micro = folder / "micro"
        if not micro.is_dir():
            log.add(str(folder.relative_to(hs)), "subject folder has no micro/ folder", "ignored")
            continue
        subject = f"s{number:02d}"
        for emotion_dir in sorted(p for p in micro.iterdir() if p.is_dir()):
            for clip in sorted(p for p in emotion_dir.iterdir() if p.is_dir()):
                candidates.append(
                    Candidate(subject, f"{subject}/{clip.name}", clip, emotion_dir.name, bounds_from_frames=True)
                )
    return candidates


ADAPTER = Adapter("smic-hs", FRAME_PATTERN, scan)
