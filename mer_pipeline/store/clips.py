"""The only module that imports zarr: per-clip entries in a Zarr v3 store.

Layout (readable with plain zarr):
    <store>.zarr/zarr.json                      attributes: provenance (schema, kind, params + hash, version, inputs)
    <store>.zarr/clips/<subject>/<clip>/        one group per clip; attributes: its metadata + "complete": true
    <store>.zarr/clips/<subject>/<clip>/<name>  its arrays, each ONE shard (a single file) per clip

An entry is written as: delete what was there -> group with metadata but complete=false -> arrays -> complete=true.
A reader trusts only entries with complete=true, so a run killed mid-write leaves an entry that reads as absent.
"""

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from mer_pipeline.errors import UserError

SCHEMA_VERSION = 1
CLIPS = "clips"


def reuse_or_clear(path: Path, kind: str, current: Callable[[dict], bool]) -> zarr.Group | None:
    """An existing store of `kind` whose attributes pass `current`, opened for writing. One of that kind that does not
    pass is a stale derived cache: it is removed and None returned (as for no store). Anything else at `path` is
    never touched: a one-line error."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        root = zarr.open_group(str(path), mode="r+")
        found = root.attrs.get("kind")
    except Exception as exc:
        found = f"unreadable, {exc.__class__.__name__}"
    if found != kind:
        raise UserError(f"{path}: exists and is not a mer_pipeline {kind} store ({found}); refusing to overwrite")
    if current(dict(root.attrs)):
        return root
    shutil.rmtree(path)
    return None


def open_store(path: Path, provenance: dict[str, Any], key: str = "params_hash") -> zarr.Group:
    """Open `path` for writing entries, creating it with `provenance` (which names its "kind") as attributes.

    A store of the same kind and provenance[key] is reused (its complete entries are kept); see `reuse_or_clear`.
    """
    root = reuse_or_clear(path, provenance["kind"], lambda attrs: attrs.get(key) == provenance.get(key))
    if root is not None:
        root.attrs.update(provenance)
        return root
    root = zarr.open_group(str(path), mode="w", attributes={"schema_version": SCHEMA_VERSION, **provenance})
    root.create_group(CLIPS)
    return root


def open_writable(path: str | Path) -> zarr.Group:
    """An existing store opened for writing entries (per-clip tasks, after `open_store` created it)."""
    return zarr.open_group(str(path), mode="r+")


def open_existing(path: Path) -> zarr.Group:
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: store not found")
    try:
        return zarr.open_group(str(path), mode="r")
    except Exception as exc:
        raise UserError(f"{path}: not a readable Zarr store ({exc.__class__.__name__})") from None


def write_entry(root: zarr.Group, clip_id: str, arrays: dict[str, np.ndarray], attrs: dict[str, Any]) -> None:
    """Write one clip's arrays (each a single shard, chunked per leading index) and attributes, completion last."""
    group = root.require_group(CLIPS).create_group(clip_id, overwrite=True, attributes={**attrs, "complete": False})
    for name, value in arrays.items():
        chunks = (1, *value.shape[1:]) if value.ndim >= 3 else value.shape
        arr = group.create_array(name, shape=value.shape, dtype=value.dtype, chunks=chunks, shards=value.shape)
        arr[...] = value
    group.attrs["complete"] = True


def entry_attrs(root: zarr.Group, clip_id: str) -> dict[str, Any] | None:
    """Attributes of a complete entry, or None if the entry is absent, partial or unreadable."""
    try:
        group = root[f"{CLIPS}/{clip_id}"]
        attrs = dict(group.attrs)
    except (KeyError, ValueError, OSError):
        return None
    return attrs if attrs.get("complete") is True else None


def read_entry(root: zarr.Group, clip_id: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Arrays and attributes of a complete entry; KeyError if it is absent or incomplete."""
    attrs = entry_attrs(root, clip_id)
    if attrs is None:
        raise KeyError(f"{clip_id}: no complete entry")
    group = root[f"{CLIPS}/{clip_id}"]
    return {name: arr[...] for name, arr in group.arrays()}, attrs


def complete_entries(root: zarr.Group) -> Iterator[str]:
    """Clip ids (subject/clip) of all complete entries, sorted."""
    if CLIPS not in root:
        return iter(())
    found = []
    for subject_name, subject in root[CLIPS].groups():
        for clip_name, _ in subject.groups():
            clip_id = f"{subject_name}/{clip_name}"
            if entry_attrs(root, clip_id) is not None:
                found.append(clip_id)
    return iter(sorted(found))
