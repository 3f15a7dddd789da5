"""Modality stores: one Zarr v3 store per modality, samples along the first axis ("template first, then one region
per task"). Readable with plain zarr, dask (`da.from_zarr(path, component="image")`) or xarray (dimension names).

Layout of <dataset>/<modality>.zarr:
    attrs        kind="modality", modality, params, params_hash, package_version, faces_store, faces_sha256,
                 clip_ids (N), subjects (N), emotions (N), images (names of the image arrays), schema_version
    image        (N, 3, S, S) uint8, one chunk (one file) per sample, dims (sample, channel, y, x)
    image_apex_offset   optical_flow only: the apex -> offset image
    raw          (N, C', H, W) float32, the unscaled result (flow in pixels), one chunk per sample
    label3 label5 (N,) int16 (-1 = dropped by the mapping); key_frames (N, 3) int32 onset/apex/offset frame numbers
    source       (N, 64) uint8: content key (sha256 hex) of the faces entry the sample was computed from
    done         (N,) uint8, one chunk per sample: 1 once every array of that sample is written
A sample is present only when done == 1 and its source matches the current faces entry.
"""

from pathlib import Path
from typing import Any

import numpy as np
import zarr

from mer_pipeline.errors import UserError
from mer_pipeline.store.clips import SCHEMA_VERSION, reuse_or_clear

SAMPLE_DIMS = ("sample", "channel", "y", "x")


def open_modality_store(path: Path, provenance: dict[str, Any], clips: list[dict], images: tuple[str, ...],
                        size: int, raw_shape: tuple[int, int, int]) -> zarr.Group:
    """Open or create the store for exactly `clips` (dicts with clip_id, subject, emotion, label3, label5, onset, apex,
    offset). A store from other params or another clip list is a stale derived cache and is rebuilt; a folder
    that is not a modality store is never touched."""
    ids = [c["clip_id"] for c in clips]
    root = reuse_or_clear(path, "modality", lambda attrs: attrs.get("params_hash") == provenance["params_hash"]
                          and attrs.get("clip_ids") == ids)
    if root is not None:
        root.attrs.update(provenance)
        return root
    n = len(clips)
    root = zarr.open_group(str(path), mode="w", attributes={
        "schema_version": SCHEMA_VERSION, **provenance, "clip_ids": ids,
        "subjects": [c["subject"] for c in clips], "emotions": [c["emotion"] for c in clips],
        "images": list(images)})
    for name in images:
        root.create_array(name, shape=(n, 3, size, size), dtype="uint8", chunks=(1, 3, size, size),
                          dimension_names=SAMPLE_DIMS)
    root.create_array("raw", shape=(n, *raw_shape), dtype="float32", chunks=(1, *raw_shape),
                      dimension_names=SAMPLE_DIMS)
    root.create_array("label3", data=np.array([c["label3"] for c in clips], np.int16), dimension_names=("sample",))
    root.create_array("label5", data=np.array([c["label5"] for c in clips], np.int16), dimension_names=("sample",))
    root.create_array("key_frames", data=np.array([[c["onset"], c["apex"], c["offset"]] for c in clips], np.int32),
                      dimension_names=("sample", "key"))
    root.create_array("source", shape=(n, 64), dtype="uint8", chunks=(1, 64), dimension_names=("sample", "hex"))
    root.create_array("done", shape=(n,), dtype="uint8", chunks=(1,), fill_value=0, dimension_names=("sample",))
    return root


def open_writable(path: str | Path) -> zarr.Group:
    """An existing modality store opened for writing samples (per-clip tasks)."""
    return zarr.open_group(str(path), mode="r+")


def _hex(text: str) -> np.ndarray:
    return np.frombuffer(text.encode().ljust(64, b" ")[:64], np.uint8)


def source_of(root: zarr.Group, i: int) -> str:
    return bytes(root["source"][i]).decode().strip()


def is_current(root: zarr.Group, i: int, source_key: str) -> bool:
    return bool(root["done"][i]) and source_of(root, i) == source_key


def write_sample(root: zarr.Group, i: int, images: dict[str, np.ndarray], raw: np.ndarray, source_sha: str) -> None:
    """Write sample i's arrays (each its own chunk), then mark it done. Safe alongside writers of other samples."""
    root["done"][i] = 0
    for name, image in images.items():
        root[name][i] = image
    root["raw"][i] = raw.astype(np.float32)
    root["source"][i] = _hex(source_sha)
    root["done"][i] = 1


def read_sample(root: zarr.Group, i: int) -> dict[str, np.ndarray]:
    if not root["done"][i]:
        raise KeyError(f"sample {i} ({root.attrs['clip_ids'][i]}) is not complete")
    return {name: root[name][i] for name in (*root.attrs["images"], "raw")}


def present(root: zarr.Group) -> np.ndarray:
    """(N,) bool: samples whose arrays are all written."""
    return root["done"][...].astype(bool)


def open_samples(path: Path, label: str) -> dict[str, Any]:
    """Everything training needs from a modality store, in memory: images, labels, done mask, ids, subjects."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: modality store not found (run `mer-pipeline modalities`)")
    root = zarr.open_group(str(path), mode="r")
    if label not in ("label3", "label5"):
        raise ValueError(f"label must be label3 or label5, got {label!r}")
    return {"image": root["image"][...], "labels": root[label][...], "done": root["done"][...].astype(bool),
            "clip_ids": list(root.attrs["clip_ids"]), "subjects": list(root.attrs["subjects"])}
