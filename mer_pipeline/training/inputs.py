"""The modality stores an experiment group reads, as links under `data/inputs/<group>/`, for DVC.

DVC's templating cannot list a group's stores in dvc.yaml (they follow from params), so each group's train stage
depends on this folder instead: one relative link per store it reads, `<dataset>/<store>.zarr`. DVC hashes the
stores behind the links, so a group reruns exactly when one of its own stores changed. Training itself reads the
stores at their own paths.
"""

import os
import shutil
from pathlib import Path

from mer_pipeline import paths
from mer_pipeline.config import Params, input_store
from mer_pipeline.errors import UserError


def group_stores(params: Params, group: str) -> list[Path]:
    """Every modality store the experiments of `group` read, sorted."""
    _, todo = params.experiments_named(group)
    return sorted(
        {
            paths.modality_store(params.modalities, d, input_store(m)[0])
            for exp in todo.values()
            for d in exp.datasets
            for m in exp.modalities
        }
    )


def inputs_stage(params: Params, group: str, out: Path) -> dict:
    """Replace `<out>/<group>/` by links to the group's stores; a store that is missing stops with one line."""
    stores = group_stores(params, group)
    missing = [str(s) for s in stores if not s.is_dir()]
    if missing:
        raise UserError(
            f"experiment {group}: modality stores {missing} do not exist (run `dvc repro` or `mer-pipeline modalities`)"
        )
    folder = out / group
    if folder.is_symlink() or folder.is_file():
        raise UserError(f"{folder}: is not a folder the pipeline made; move it away")
    shutil.rmtree(folder, ignore_errors=True)  # links only: rmtree never follows them
    for store in stores:
        link = folder / store.parent.name / store.name
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(store.resolve(), link.parent.resolve()), link, target_is_directory=True)
    return {"group": group, "stores": len(stores), "out": str(folder)}
