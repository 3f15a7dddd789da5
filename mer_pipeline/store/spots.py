"""The apex table of a dataset (<spotting.out>/<dataset>/apexes.csv): one row per faces entry, written by the
spotting stage and read by the modalities stage for `apex: spotted`. Frame numbers are as in the dataset's files."""

import csv
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from mer_pipeline.errors import UserError


@dataclass(frozen=True)
class SpotRow:
    """index_apex: the clip index's apex (annotated, or the middle where the index repaired one; index_source says
    which). spotted_apex: what `apex: spotted` uses -- the motion peak, or the middle when the clip shows no motion
    above the noise floor or is too short (spotted_source). peak_frame: the curve's peak in any case; peak, floor:
    its value and the clip's noise floor (mean flow px); flags: the audit's findings, '; '-joined."""

    clip_id: str
    subject: str
    onset: int
    offset: int
    index_apex: int
    index_source: str
    spotted_apex: int
    spotted_source: str
    peak_frame: int
    region: str
    peak: float
    floor: float
    flags: str


def write_spots(path: Path, rows: list[SpotRow]) -> None:
    """Written to a temporary name and renamed: a reader never sees half a table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([f.name for f in fields(SpotRow)])
        writer.writerows(astuple(r) for r in rows)
    tmp.replace(path)


def read_spots(path: Path) -> dict[str, SpotRow]:
    """clip id -> row; a one-line error when the table is missing or not an apex table."""
    if not Path(path).is_file():
        raise UserError(f"{path}: no apex table (run `mer-pipeline spot` for this dataset)")
    types = {f.name: f.type for f in fields(SpotRow)}
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != list(types):
            raise UserError(f"{path}: not an apex table (columns {reader.fieldnames})")
        cast = {"int": int, "float": float, "str": str, int: int, float: float, str: str}
        return {row["clip_id"]: SpotRow(**{k: cast[types[k]](v) for k, v in row.items()}) for row in reader}
