"""Per-clip entries in a Zarr v3 store (the faces store); zarr is imported only in `store/`.

Layout (readable with plain zarr):
    <store>.zarr/zarr.json                      attributes: provenance (schema, kind, params + hash, version, inputs)
    <store>.zarr/clips/<subject>/<clip>/        one group per clip; attributes: its metadata + "complete": true
    <store>.zarr/clips/<subject>/<clip>/<name>  its arrays, each ONE shard (a single file) per clip

An entry is written as: delete what was there -> group with metadata but complete=false -> arrays -> complete=true.
A reader trusts only entries with complete=true, so a run killed mid-write leaves an entry that reads as absent.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from mer_pipeline.errors import UserError
from mer_pipeline.store.opening import open_readonly, reuse_or_clear
from mer_pipeline.store.records import FacesEntry

SCHEMA_VERSION = 3  # 2: per-frame cameras and landmark depth (registration_3d); 3: cameras on the parallax depth
CLIPS = "clips"


def open_store(path: Path, provenance: dict[str, Any], key: str = "params_hash") -> zarr.Group:
    """Open `path` for writing entries, creating it with `provenance` (which names its "kind") as attributes.

    A store of the same kind and provenance[key] is reused (its complete entries are kept); see `reuse_or_clear`.
    """
    root = reuse_or_clear(path, provenance["kind"], lambda attrs: attrs.get(key) == provenance.get(key), SCHEMA_VERSION)
    if root is not None:
        root.attrs.update(provenance)
        return root
    root = zarr.open_group(str(path), mode="w", attributes={"schema_version": SCHEMA_VERSION, **provenance})
    root.create_group(CLIPS)
    return root


def open_existing(path: Path) -> zarr.Group:
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: store not found")
    return open_readonly(path, SCHEMA_VERSION)


def write_entry(root: zarr.Group, entry: FacesEntry, frames: np.ndarray) -> None:
    """Write one clip's frames (one shard, chunked per frame) and metadata, completion last."""
    group = root.require_group(CLIPS).create_group(
        entry.clip_id, overwrite=True, attributes={**entry.to_attrs(), "complete": False}
    )
    chunks = (1, *frames.shape[1:]) if frames.ndim >= 3 else frames.shape
    arr = group.create_array(
        "frames", shape=frames.shape, dtype=frames.dtype, chunks=chunks, shards=frames.shape, compressors=None
    )
    arr[...] = frames
    group.attrs["complete"] = True


def entry(root: zarr.Group, clip_id: str) -> FacesEntry | None:
    """The metadata of a complete entry, or None if the entry is absent, partial or unreadable."""
    try:
        attrs = dict(root[f"{CLIPS}/{clip_id}"].attrs)
    except (KeyError, ValueError, OSError):
        return None
    if attrs.get("complete") is not True:
        return None
    try:
        return FacesEntry.from_attrs(attrs)
    except (KeyError, TypeError):  # written by another schema: read as absent, so it is rebuilt
        return None


def read_entry(root: zarr.Group, clip_id: str) -> tuple[np.ndarray, FacesEntry]:
    """Frames (T, S, S, 3) uint8 and metadata of a complete entry; KeyError if it is absent or incomplete."""
    meta = entry(root, clip_id)
    if meta is None:
        raise KeyError(f"{clip_id}: no complete entry")
    return root[f"{CLIPS}/{clip_id}/frames"][...], meta


def entry_side(root: zarr.Group, clip_id: str) -> int:
    """Side in pixels of an entry's frames (every entry of a faces store has the same)."""
    return root[f"{CLIPS}/{clip_id}/frames"].shape[-2]


def store_params_hash(root: zarr.Group) -> str | None:
    """The params hash a store was built with (its provenance)."""
    return root.attrs.get("params_hash")


def complete_entries(root: zarr.Group) -> Iterator[str]:
    """Clip ids (subject/clip) of all complete entries, sorted."""
    if CLIPS not in root:
        return iter(())
    found = []
    for subject_name, subject in root[CLIPS].groups():
        for clip_name, _ in subject.groups():
            clip_id = f"{subject_name}/{clip_name}"
            if entry(root, clip_id) is not None:
                found.append(clip_id)
    return iter(sorted(found))


def open_complete(path: Path) -> tuple[zarr.Group, list[str]]:
    """A faces store for reading and the ids of its complete entries; one-line errors when it is missing or empty."""
    if not Path(path).exists():
        raise UserError(f"{path}: faces store not found (run `mer-pipeline faces` first)")
    root = open_existing(path)
    ids = list(complete_entries(root))
    if not ids:
        raise UserError(f"{path}: no complete faces entries (run `mer-pipeline faces`)")
    return root, ids
