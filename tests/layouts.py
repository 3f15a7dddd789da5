"""Tiny dataset trees in the real distributed layouts, with the real quirks, for adapter tests."""

from pathlib import Path

import cv2
import numpy as np
from openpyxl import Workbook

CASME2_HEADER = [
    "Subject",
    "Filename",
    None,
    "OnsetFrame",
    "ApexFrame",
    "OffsetFrame",
    None,
    "Action Units",
    "Estimated Emotion",
]
SAMM_HEADER = [
    "Subject",
    "Filename",
    "Inducement Code",
    "Onset Frame",
    "Apex Frame",
    "Offset Frame",
    "Duration",
    "Micro",
    "Action Units",
    "Estimated Emotion",
    "Objective Classes",
    "Notes",
]


def write_frame(path: Path, value: int = 128, size: int = 16, gray: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(value)
    img = rng.integers(0, 255, (size, size) if gray else (size, size, 3), dtype=np.uint8)
    cv2.imwrite(str(path), img)


def write_frames(folder: Path, names: list[str], gray: bool = False) -> None:
    for i, name in enumerate(names):
        write_frame(folder / name, i, gray=gray)


def write_xlsx(path: Path, rows: list[list]) -> None:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def casme2_tree(root: Path) -> dict[str, str]:
    """CASME2-RAW + coding sheet; returns clip_id -> what the index must do with it."""
    raw = root / "CASME2-RAW"
    rows = [CASME2_HEADER]
    expect = {}

    def clip(sub, name, onset, apex, offset, emotion, frames, outcome):
        rows.append([sub, name, None, onset, apex, offset, None, "12", emotion])
        if frames is not None:
            write_frames(raw / f"sub{sub:02d}" / name, [f"img{n}.jpg" for n in frames])
        expect[f"sub{sub:02d}/{name}"] = outcome

    clip(1, "EP02_01f", 8, 11, 14, "happiness", range(1, 20), "ok")  # img9 / img10: lexicographic order trap
    clip(1, "EP03_02", 3, "/", 7, "disgust", range(1, 10), "apex-middle")  # '/' apex
    clip(2, "EP09f", 95, 120, 105, "Surprise", range(90, 110), "apex-middle")  # apex outside, capitalised emotion
    clip(2, "EP06_02_01", 9, 8, 5, "repression", range(1, 12), "excluded")  # onset after offset
    clip(3, "EP01_01", 2, 3, 6, "others", None, "excluded")  # folder missing
    clip(3, "EP04_04", 2, 4, 8, "happiness", [1, 2, 3, 5, 6, 7, 8, 9], "excluded")  # frame 4 missing
    clip(4, "EP05_03f", 1, 2, 4, "fear", range(1, 6), "excluded")  # corrupt frame
    truncate(raw / "sub04" / "EP05_03f" / "img3.jpg")
    clip(4, "EP07_01", 1, 2, 4, "contempt", range(1, 6), "excluded")  # unknown emotion for CASME II
    clip(5, "EP08_01", 1, 2, 4, "sadness", range(1, 6), "ok")  # known emotion dropped by 3-class mapping
    write_frame(raw / "sub05" / "EP08_01" / "img003.jpg", 9)  # img3 twice: not strictly ascending
    expect["sub05/EP08_01"] = "excluded"
    clip(5, "EP10_02", 1.0, 3.0, 5.0, "surprise", range(1, 7), "ok")  # floats from Excel
    write_frames(raw / "sub05" / "EP99_99", ["img1.jpg", "img2.jpg"])  # folder without a sheet row
    (raw / "sub01" / "EP02_01f" / "Thumbs.db").write_bytes(b"junk")  # not a frame
    write_xlsx(root / "CASME2-coding-20140508.xlsx", rows)
    return expect


def samm_tree(root: Path) -> dict[str, str]:
    """SAMM/<3-digit subject>/<Filename>/<subject>_<5-digit frame>.jpg + v2 sheet with 13 free-text rows."""
    rows = [["SAMM Micro-Movement Database"], *[[f"free text line {i}"] for i in range(2, 14)], SAMM_HEADER]
    expect = {}

    def clip(sub, name, onset, apex, offset, emotion, frames, outcome):
        rows.append(
            [
                sub,
                name,
                name.split("_")[1],
                onset,
                apex,
                offset,
                offset - onset + 1,
                "Micro - 1/2",
                "4+7",
                emotion,
                "Other",
                None,
            ]
        )
        if frames is not None:
            write_frames(root / "SAMM" / f"{sub:03d}" / name, [f"{sub:03d}_{n:05d}.jpg" for n in frames], gray=True)
        expect[f"{sub:03d}/{name}"] = outcome

    clip(6, "006_1_2", 5562, 5566, 5570, "Anger", range(5560, 5573), "ok")
    clip(6, "006_1_3", 100, 130, 110, "Contempt", range(100, 111), "apex-middle")  # apex outside (errata)
    clip(7, "007_3_1", 10, 12, 15, "Other", range(10, 14), "excluded")  # offset beyond last frame
    clip(11, "011_2_1", 20, 22, 24, "Joy", range(20, 25), "excluded")  # unknown emotion
    write_xlsx(root / "SAMM_Micro_FACS_Codes_v2.xlsx", rows)
    return expect


def smic_tree(root: Path) -> dict[str, str]:
    """SMIC_all_raw/HS/s1/micro/<emotion>/<clip>/image<6 digits>.bmp; non_micro ignored."""
    hs = root / "SMIC_all_raw" / "HS"
    expect = {}

    def clip(sub, emotion, name, frames, outcome):
        write_frames(hs / f"s{sub}" / "micro" / emotion / name, [f"image{n:06d}.bmp" for n in frames])
        expect[f"s{sub:02d}/{name}"] = outcome

    clip(1, "negative", "s1_ne_01", range(46433, 46442), "middle")  # 9 frames: apex = onset + 4
    clip(1, "positive", "s1_po_02", range(99998, 100004), "middle")
    clip(3, "surprise", "s3_sur_01", [10, 11, 13, 14], "excluded")  # frame 12 missing
    clip(3, "angry", "s3_an_01", range(1, 5), "excluded")  # not an SMIC emotion folder
    write_frames(hs / "s1" / "non_micro" / "negative" / "s1_ne_nm", ["image000001.bmp"])
    return expect


CASME3_HEADER = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class", "emotion"]


def casme3_tree(root: Path) -> None:
    """CAS(ME)^3 part A: part_A/data/part_A/spNO.<n>/<letter>/color/<n>.jpg (depth/ beside color/), the sheet one
    folder down with the other capitalisation, sheet `label`. Recordings lack their first 7 frames; several
    micro-expressions share one recording; one recording has a dropped frame inside a window."""
    data = root / "part_A" / "data" / "part_A"
    write_frames(data / "spNO.1" / "b" / "color", [f"{n}.jpg" for n in range(8, 41)])
    write_frames(data / "spNO.1" / "b" / "depth", [f"{n}.png" for n in range(8, 12)])
    write_frames(data / "spNO.2" / "c" / "color", [f"{n}.jpg" for n in range(8, 30) if n != 10])
    write_frames(data / "spNO.2" / "d" / "color", [f"{n}.jpg" for n in range(8, 100)])
    write_frames(data / "spNO.2" / "e", [f"{n}.jpg" for n in range(1, 12)])  # no color/ level
    write_frames(data / "spNO.2" / "z" / "color", ["1.jpg"])  # a recording without a micro-expression row
    rows = [
        CASME3_HEADER,
        ["spNO.1", "b", 10, 14, 20, "AU12", 1, "happy"],
        ["spNO.1", "b", 25, 25, 30, "AU4", 7, "Others"],  # onset == apex; capitalised emotion
        ["spNO.1", "b", 10, 12, 22, "AU9", 3, "disgust"],  # same recording, same onset, another window
        ["spNO.1", "b", 10, 14, 20, "AU12", 1, "happy"],  # the first row again
        ["spNO.1", "b", 10, 12, 22, "AU9", 3, "disgust"],  # the second window again
        ["spNO.1", "b", 3, 5, 9, "AU1", 2, "surprise"],  # frames 3..7 were dropped by the release
        ["spNO.2", "c", 8, 11, 14, "AU4", 3, "anger"],  # frame 10 dropped inside the window
        ["spNO.2", "d", 9, 40, 95, "AU12", 1, "happy"],  # 2.9 s at 30 fps
        ["spNO.2", "e", 2, 5, 9, "AU1+AU2", 5, "surprise"],
        ["spNO.3", "a", 2, 5, 9, "AU1", 5, "surprise"],
    ]  # no such subject folder
    wb = Workbook()
    wb.active.title = "label"
    for row in rows:
        wb.active.append(row)
    (root / "part_A").mkdir(parents=True, exist_ok=True)
    wb.save(root / "part_A" / "CAS(ME)3_part_A_ME_label_JpgIndex_v2.xlsx")


MMEW_HEADER = [
    "Subject",
    "Filename",
    "OnsetFrame",
    "ApexFrame",
    "OffsetFrame",
    "Action Units",
    "Estimated Emotion",
    "remarks",
]


def mmew_tree(root: Path) -> None:
    """MMEW/Micro_Expression/<emotion>/<Filename>/<n>.jpg (unpadded) + MMEW_Micro_Exp.xlsx."""
    micro = root / "MMEW" / "Micro_Expression"
    write_frames(micro / "happiness" / "S01_001", [f"{n}.jpg" for n in range(1, 12)])
    write_frames(micro / "surprise" / "S01_002", [f"{n}.jpg" for n in range(1, 9)])
    write_frames(micro / "Disgust" / "S02_003", [f"{n}.jpg" for n in range(1, 9)])  # capitalised emotion folder
    write_frames(micro / "happiness" / "S02_004", [f"{n}.jpg" for n in range(1, 10)])  # sheet says surprise
    write_frames(micro / "happiness" / "S09_009", ["1.jpg"])  # no sheet row
    write_xlsx(
        root / "MMEW_Micro_Exp.xlsx",
        [
            MMEW_HEADER,
            [1, "S01_001", 3, 6, 10, "AU12", "happiness", None],  # numeric subject
            ["S01", "S01_002", 2, "/", 6, "AU1+2", "surprise", None],  # no apex
            ["S02", "S02_003", 2, 4, 7, "AU9", "disgust", None],
            ["S02", "S02_004", 2, 5, 8, "AU1+2", "surprise", None],
            ["S03", "S03_001", 1, 2, 3, "AU14", "Contempt", None],  # not an MMEW emotion
            ["S03", "S03_002", 1, 2, 3, "AU4", "anger", None],
        ],
    )  # folder missing


FOURDME_HEADER = ["sub_ID", "fold_name", "Emotion", "Onset", "Apex", "Offset", "AUs"]


def fourdme_tree(root: Path) -> None:
    """4DMicro/gray_micro/<sub_ID>/<fold_name>/ of grey frames + `4DME_Labelling_Micro_release v1.xlsx`."""
    grey = root / "4DMicro" / "gray_micro"
    write_frames(grey / "S01" / "S01_fold01", [f"img{n:04d}.jpg" for n in range(1, 11)], gray=True)
    write_frames(grey / "S01" / "S01_fold02", [f"img{n:04d}.jpg" for n in range(1, 11)], gray=True)
    write_frames(grey / "S02" / "S02_fold01", [f"img{n:04d}.jpg" for n in range(1, 11)], gray=True)
    write_frames(grey / "S02" / "S02_fold03", [f"{n:04d}.png" for n in range(0, 8)], gray=True)
    write_frames(grey / "S02" / "S02_fold09", ["img0001.jpg"], gray=True)  # no sheet row
    write_xlsx(
        root / "4DME_Labelling_Micro_release v1.xlsx",
        [
            FOURDME_HEADER,
            ["S01", "S01_fold01", "Positive", 2, 5, 9, "AU12(k)"],
            ["S01", "s01_fold02", "Surprise", 1, 4, 8, "AU1(k)+AU2(k)"],  # case differs from the folder
            ["S02", "S02_fold01", "Negative+Surprise", 2, 4, 6, "AU4"],  # several emotions
            ["S02", "S02_fold03", "Repression", 0, 3, 6, "AU14(k)"],  # frames from 0
            ["S03", "S03_fold01", "Others", 1, 2, 3, "AU7"],
        ],
    )  # no subject folder
