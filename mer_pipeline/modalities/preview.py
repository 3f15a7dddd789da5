"""A PNG grid for people to look at, like the paper's Fig. 8: one row per emotion (its first clip), one column per
modality image."""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mer_pipeline import paths
from mer_pipeline.config import ModalitiesParams
from mer_pipeline.errors import UserError
from mer_pipeline.modalities.keys import check_current
from mer_pipeline.store import modality as modality_store

LABEL_W, HEADER_H, TILE = 110, 22, 160


def write_preview(settings: ModalitiesParams, dataset: str, names: list[str], out: Path) -> int:
    """Read the dataset's store of each modality and write the grid to `out`. Returns the number of rows."""
    for name in names:
        check_current(paths.modality_store(settings, dataset, name))
    roots = {name: modality_store.open_existing(paths.modality_store(settings, dataset, name)) for name in names}
    index = modality_store.StoreIndex.of(roots[names[0]])
    emotions, clip_ids = index.emotions, index.clip_ids
    done = np.all([modality_store.present(r) for r in roots.values()], axis=0)
    rows = {}
    for i, (emotion, ok) in enumerate(zip(emotions, done)):
        if ok and emotion not in rows:
            rows[emotion] = i
    if not rows:
        raise UserError(
            f"{paths.modalities_dir(settings, dataset)}: no clip has every modality computed "
            "(run `mer-pipeline modalities`)"
        )
    grid = Image.new("RGB", (LABEL_W + TILE * len(names), HEADER_H + TILE * len(rows)), "white")
    draw = ImageDraw.Draw(grid)
    for c, name in enumerate(names):
        draw.text((LABEL_W + c * TILE + 4, 4), name, fill="black")
    for r, (emotion, i) in enumerate(sorted(rows.items())):
        y = HEADER_H + r * TILE
        draw.text((4, y + TILE // 2 - 12), f"{emotion}\n{clip_ids[i]}", fill="black")
        for c, name in enumerate(names):
            tile = modality_store.read_image(roots[name], i).transpose(1, 2, 0)  # (3, S, S) -> (S, S, 3)
            grid.paste(Image.fromarray(tile).resize((TILE, TILE), Image.BILINEAR), (LABEL_W + c * TILE, y))
    out.parent.mkdir(parents=True, exist_ok=True)
    grid.save(out)
    return len(rows)


def preview_stage(dataset: str, settings: ModalitiesParams, out: Path) -> dict:
    rows = write_preview(settings, dataset, list(settings.names), out)
    return {"dataset": dataset, "out": str(out), "rows": rows}
