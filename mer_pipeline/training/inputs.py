"""The modality stores an experiment group reads, as a manifest `data/inputs/<group>/stores.json`, for DVC.

DVC's templating cannot list a group's stores in dvc.yaml (they follow from params), so each group's train stage
depends on this folder instead. It holds one file naming each store the group reads with a digest of its content
(every file's relative path and bytes), so a group reruns exactly when one of its own stores changed. Links to the
stores would not do: DVC hashes a folder without following the links inside it, so a folder of links hashes as
empty whatever the stores hold (how it was until this manifest). Training itself reads the stores at their own
paths.
"""

import hashlib
import json
import shutil
from pathlib import Path

from mer_pipeline import paths
from mer_pipeline.config import Params, input_store
from mer_pipeline.errors import UserError

MANIFEST = "stores.json"


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


def store_digest(store: Path) -> tuple[str, int]:
    """sha256 of every file under `store` (its path relative to the store, its size and its bytes, in sorted path
    order) and the number of files; the same content gives the same digest wherever the store lies."""
    h, files = hashlib.sha256(), sorted(p for p in store.rglob("*") if p.is_file())
    for path in files:
        data = path.read_bytes()
        h.update(f"{path.relative_to(store).as_posix()}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest(), len(files)


def inputs_stage(params: Params, group: str, out: Path) -> dict:
    """Replace `<out>/<group>/` by the manifest of the group's stores; a store that is missing stops with one line."""
    stores = group_stores(params, group)
    missing = [str(s) for s in stores if not s.is_dir()]
    if missing:
        raise UserError(
            f"experiment {group}: modality stores {missing} do not exist (run `dvc repro` or `mer-pipeline modalities`)"
        )
    folder = out / group
    if folder.is_symlink() or folder.is_file():
        raise UserError(f"{folder}: is not a folder the pipeline made; move it away")
    listed = []
    for store in stores:
        digest, files = store_digest(store)
        listed.append({"store": store.as_posix(), "files": files, "sha256": digest})
    shutil.rmtree(folder, ignore_errors=True)  # the last manifest, or links from before it: rmtree never follows them
    folder.mkdir(parents=True)
    (folder / MANIFEST).write_text(json.dumps({"group": group, "stores": listed}, indent=1) + "\n")
    return {"group": group, "stores": len(stores), "out": str(folder / MANIFEST)}
