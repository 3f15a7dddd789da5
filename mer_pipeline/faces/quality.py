"""The faces quality report: a CSV with one row per clip and a contact sheet, so a person can check a dataset's
alignment in a minute.

quality.csv, worst clip first (by the measured residual): clip_id, frames, reference_index, stabilise, faces_found,
motion_before_px (median / max over frames:
how far the head moved the face-hull points from the reference, px at the aligned size), residual_after_px (median
over the tracking checks of the rigid landmarks found on the stabilised frames against the reference's; blank when
no check found a face), registration score (min), checks, flags.
quality.png: onset / apex / offset aligned frames of up to `rows` clips, worst residual first, the reference eye
line drawn in green.
"""

import csv
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mer_pipeline.paths import QUALITY_SHEET, QUALITY_TABLE
from mer_pipeline.store import faces as faces_store
from mer_pipeline.store.records import FacesEntry

COLUMNS = (
    "clip_id",
    "frames",
    "reference_index",
    "stabilise",
    "faces_found",
    "motion_before_median_px",
    "motion_before_max_px",
    "residual_after_px",
    "score_min",
    "checks",
    "flags",
)
TILE, LABEL_W = 112, 190


def quality_row(entry: FacesEntry) -> dict:
    motion, check, scores = (entry.tracking_array(k) for k in ("motion", "check", "scores"))
    found = check[check >= 0]
    return {
        "clip_id": entry.clip_id,
        "frames": len(motion),
        "reference_index": entry.reference_index,
        "stabilise": entry.stabilise,
        "faces_found": entry.faces_found,
        "motion_before_median_px": f"{np.median(motion):.2f}",
        "motion_before_max_px": f"{motion.max():.2f}",
        "residual_after_px": f"{np.median(found):.2f}" if len(found) else "",
        "score_min": f"{scores.min():.3f}",
        "checks": int((~np.isnan(check)).sum()),
        "flags": "; ".join(entry.flags),
    }


def write_quality(store_path: Path, clip_ids: list[str], out_dir: Path, rows: int = 16) -> int:
    """Write quality.csv and quality.png for the complete entries among `clip_ids`. Returns the rows written."""
    root = faces_store.open_existing(store_path)
    entries = [e for c in clip_ids if (e := faces_store.entry(root, c)) is not None]
    table = [quality_row(e) for e in entries]  # worst first: by the measured residual, then flags, then id
    table.sort(key=lambda row: (-float(row["residual_after_px"] or "inf"), not row["flags"], row["clip_id"]))
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / QUALITY_TABLE, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(table)
    worst = sorted(
        zip(entries, table),
        key=lambda et: (-bool(et[0].flags), -float(et[1]["residual_after_px"] or 99), et[0].clip_id),
    )[:rows]
    _contact_sheet([e for e, _ in worst], root, out_dir / QUALITY_SHEET)
    return len(table)


def _contact_sheet(entries: list[FacesEntry], root, path: Path) -> None:
    sheet = Image.new("RGB", (LABEL_W + 3 * TILE, 18 + TILE * max(len(entries), 1)), "white")
    draw = ImageDraw.Draw(sheet)
    for c, name in enumerate(("onset", "apex", "offset")):
        draw.text((LABEL_W + c * TILE + 4, 3), name, fill="black")
    for r, entry in enumerate(entries):
        frames, _ = faces_store.read_entry(root, entry.clip_id)
        y = 18 + r * TILE
        row = quality_row(entry)
        text = (
            f"{entry.clip_id}\nlandmark check {row['residual_after_px'] or '-'} px\nhead moved "
            f"{row['motion_before_max_px']} px\n" + "\n".join(entry.flags)
        )
        draw.text((4, y + 4), text, fill="red" if entry.flags else "black")
        scale = TILE / frames.shape[1]
        eyes = np.asarray(entry.eye_centres_aligned) * scale
        for c, index in enumerate((entry.key_frames.onset, entry.key_frames.apex, entry.key_frames.offset)):
            tile = Image.fromarray(frames[index]).resize((TILE, TILE), Image.BILINEAR)
            ImageDraw.Draw(tile).line([tuple(eyes[0]), tuple(eyes[1])], fill=(0, 255, 0), width=1)
            sheet.paste(tile, (LABEL_W + c * TILE, y))
    sheet.save(path)
