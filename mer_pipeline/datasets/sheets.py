"""Annotation sheets as distributed (xlsx, xls or csv), with free-text rows above the header tolerated."""

import re
from pathlib import Path

import pandas as pd

from mer_pipeline.errors import UserError

# Canonical column -> header spellings seen across releases (compared lower-case, without spaces or punctuation).
COLUMN_ALIASES = {
    "subject": ("subject", "sub", "subjects", "subid"),
    "filename": ("filename", "filenames", "file", "clip", "foldname"),
    "onset": ("onsetframe", "onset"),
    "apex": ("apexframe", "apex", "apexframe1"),
    "offset": ("offsetframe", "offset"),
    "action_units": ("actionunits", "au", "aus"),
    "emotion": ("estimatedemotion", "emotion", "estimatedemotions", "emotions"),
    "expression_type": ("expressiontype",),  # CAS(ME)^3's full label file: micro- and macro-expressions
}
REQUIRED = ("subject", "filename", "onset", "apex", "offset", "emotion")
HEADER_SEARCH_ROWS = 30


def _norm(cell: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(cell).lower()) if cell is not None and not pd.isna(cell) else ""


def read_sheet(path: Path) -> list[dict[str, object]]:
    """Rows of an annotation sheet as dicts keyed by canonical column names (subject, filename, onset, ...).

    The header row is the first of the top rows that names both Subject and Filename (SAMM v2 has 13 rows of
    free text above it). Blank header cells are ignored; fully blank rows and rows without a subject are dropped.
    """
    if not path.is_file():
        raise UserError(f"{path}: annotation sheet not found")
    try:
        if path.suffix.lower() == ".csv":
            raw = pd.read_csv(path, header=None, dtype=object)
        else:
            # named, not pandas' default: its xlrd engine (legacy .xls, CASME II's label sheet) is deprecated, and
            # its default for .xlsx is to change from openpyxl to calamine
            engine = "calamine" if path.suffix.lower() == ".xls" else "openpyxl"
            raw = pd.read_excel(path, header=None, dtype=object, engine=engine)
    except Exception as exc:  # openpyxl/calamine raise many types for a corrupt workbook
        raise UserError(f"{path}: cannot read annotation sheet ({exc.__class__.__name__}: {exc})") from None
    header_row, columns = _find_header(raw, path)
    rows = []
    for offset, (_, values) in enumerate(raw.iloc[header_row + 1 :].iterrows()):
        row = {name: values.iloc[col] for name, col in columns.items()}
        row = {k: (None if v is None or (not isinstance(v, str) and pd.isna(v)) else v) for k, v in row.items()}
        if row["subject"] is None or str(row["subject"]).strip() == "":
            continue
        row["sheet_row"] = header_row + offset + 2  # 1-based row number as a spreadsheet shows it
        rows.append(row)
    return rows


def _find_header(raw: pd.DataFrame, path: Path) -> tuple[int, dict[str, int]]:
    for r in range(min(HEADER_SEARCH_ROWS, len(raw))):
        cells = [_norm(c) for c in raw.iloc[r]]
        columns: dict[str, int] = {}
        for name, aliases in COLUMN_ALIASES.items():
            for col, cell in enumerate(cells):
                if cell in aliases and name not in columns:
                    columns[name] = col
        if "subject" in columns and "filename" in columns:
            missing = [c for c in REQUIRED if c not in columns]
            if missing:
                raise UserError(f"{path}: header row {r + 1} has no column for {', '.join(missing)}")
            return r, columns
    raise UserError(f"{path}: no header row with 'Subject' and 'Filename' in the first {HEADER_SEARCH_ROWS} rows")


def frame_number(value: object) -> int | None:
    """A frame number cell as int; None for '/', '-', blanks, text or negative values."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if float(value).is_integer() and value >= 0 else None
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.0+)?", text):
        return int(float(text))
    return None


def subject_number(value: object) -> int | None:
    """A subject cell (6, 6.0, '006', 'sub06') as int, or None."""
    m = re.fullmatch(r"(?:sub|s)?0*(\d+)(?:\.0+)?", str(value).strip().lower())
    return int(m.group(1)) if m else None
