"""SAMM as distributed: SAMM/006/006_1_2/006_05562.jpg and SAMM_Micro_FACS_Codes_v2.xlsx (13 rows of free text,
header on row 14; the 2018-12-15 re-release has a single header row). Subject is numeric in the sheet (6) while
the folder is 006. Frames are grayscale; readers replicate them to 3 channels."""

import re
from functools import partial

from mer_pipeline.datasets.base import Adapter
from mer_pipeline.datasets.layout import scan_sheet_layout

FRAME_PATTERN = re.compile(r"^\d+_(\d+)\.(?:jpe?g|png|bmp)$", re.IGNORECASE)
SUBJECT_DIR = re.compile(r"^0*(\d+)$")
SHEETS = ("SAMM_Micro_FACS_Codes_v*.xlsx", "SAMM_Micro_FACS_Codes*.xls*", "SAMM*.xlsx", "SAMM*.xls")
FRAME_DIRS = ("SAMM", "SAMM_CROP", "SAMM_cropped", ".")

scan = partial(
    scan_sheet_layout,
    sheets=SHEETS,
    frame_dirs=FRAME_DIRS,
    subject_dir=SUBJECT_DIR,
    subject_format="{:03d}",
    expected="SAMM/006/006_1_2/ and SAMM_Micro_FACS_Codes_v2.xlsx",
)
ADAPTER = Adapter("samm", FRAME_PATTERN, scan)
