"""CASME II as distributed: CASME2-RAW/sub01/EP02_01f/img46.jpg (or CASME2_RAW_selected, or the cropped
release's reg_img46.jpg) and the coding sheet CASME2-coding-20140508.xlsx (later -20190701.xlsx,
CASME2_label_Ver_2.xls). The sheet's Subject is an int (1..26) while folders are sub01..sub26."""

import re
from functools import partial

from mer_pipeline.datasets.base import Adapter
from mer_pipeline.datasets.layout import scan_sheet_layout

FRAME_PATTERN = re.compile(r"^(?:reg_)?img(\d+)\.(?:jpe?g|png|bmp)$", re.IGNORECASE)
SUBJECT_DIR = re.compile(r"^sub0*(\d+)$", re.IGNORECASE)
SHEETS = ("CASME2-coding-*.xlsx", "CASME2-coding-*.xls", "CASME2_label_Ver_*.xls*", "CASME2*.xlsx", "CASME2*.xls")
FRAME_DIRS = ("CASME2-RAW", "CASME2_RAW_selected", "CASME2_RAW", "Cropped", "CASME2_Cropped", ".")

scan = partial(
    scan_sheet_layout,
    sheets=SHEETS,
    frame_dirs=FRAME_DIRS,
    subject_dir=SUBJECT_DIR,
    subject_format="sub{:02d}",
    expected="CASME2-RAW/sub01/EP02_01f/ and CASME2-coding-20140508.xlsx",
)
ADAPTER = Adapter("casme2", FRAME_PATTERN, scan)
