"""Modality stores: one Zarr v3 store per modality, samples along the first axis ("template first, then one region
per task"). Readable with plain zarr, dask (`da.from_zarr(path, component="image")`) or xarray (dimension names).

Layout of <dataset>/<modality>.zarr:
    attrs        kind="modality", modality, params, params_hash, package_version, faces_store, faces_sha256,
                 clip_ids (N), subjects (N), emotions (N), images (names of the image arrays), schema_version,
                 image_kinds (what each image channel holds), ready (set once every array exists)
    image        (N, 3, S, S) uint8, one chunk (one file) per sample, dims (sample, channel, y, x)
    image_apex_offset   optical_flow only: the apex -> offset image
    raw          (N, C', H, W) float32, the unscaled result (flow in pixels), one chunk per sample
    label3 label5 (N,) int16 (-1 = dropped by the mapping)
    key_frames   (N, 3) int32 onset / apex / offset frame numbers the sample used, one chunk per sample
    apex_source  (N,) uint8: where that apex came from, an index into attrs apex_sources (annotated, middle, spotted)
    source       (N, 64) uint8: content key (sha256 hex) of the faces entry the sample was computed from
    key          (N, 64) uint8: the sample's own content key (faces key, modality, params, size, code identity)
    done         (N,) uint8, one chunk per sample: 1 once every array of that sample is written
A sample is present only when done == 1; it is current when its key equals the key computed now.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from mer_pipeline.config import APEX_CHOICES
from mer_pipeline.errors import UserError
from mer_pipeline.store.clips import open_readonly, reuse_or_clear
from mer_pipeline.store.records import ModalitySample, SampleInfo

SAMPLE_DIMS = ("sample", "channel", "y", "x")
SCHEMA_VERSION = 4  # 2: per-sample content keys (`key`); 3: image_kinds; 4: per-sample key_frames and apex_source


@dataclass(frozen=True)
class StoreIndex:
    """Per-sample facts of a modality store, in sample order, and the names of its image arrays."""

    clip_ids: list[str]
    subjects: list[str]
    emotions: list[str]
    images: tuple[str, ...]
    kinds: tuple[str, ...]  # what each of an image's 3 channels holds (config.modalities.CHANNEL_KINDS)

    @classmethod
    def of(cls, root: zarr.Group) -> "StoreIndex":
        a = root.attrs
        return cls(list(a["clip_ids"]), list(a["subjects"]), list(a["emotions"]), tuple(a["images"]),
                   tuple(a["image_kinds"]))


@dataclass(frozen=True)
class StoredSamples:
    """Everything training reads from one modality store: images (N, 3, S, S) uint8, labels (N,) of one mapping,
    done (N,) bool, ids and subjects, and the kinds of the image's channels."""

    image: np.ndarray
    labels: np.ndarray
    done: np.ndarray
    clip_ids: list[str]
    subjects: list[str]
    kinds: tuple[str, ...]
    keys: list[str]  # each sample's content key ("" where not done)


@dataclass(frozen=True)
class SampleFacts:
    """What decides whether a store's samples are its own: the store's modality, params and image size, and per
    sample its faces key, key frames (onset, apex, offset), the key it was written for and whether it is done."""

    modality: str
    params: dict[str, Any]
    size: int
    clip_ids: list[str]
    sources: list[str]
    key_frames: np.ndarray
    keys: list[str]
    done: np.ndarray


def sample_facts(root: zarr.Group) -> SampleFacts:
    a, done = root.attrs, present(root)
    text = [[bytes(r).decode().strip() for r in root[name][...]] for name in ("source", "key")]
    return SampleFacts(a["modality"], dict(a["params"]), int(a["size"]), list(a["clip_ids"]), text[0],
                       root["key_frames"][...], text[1], done)


def open_modality_store(path: Path, provenance: dict[str, Any], clips: list[SampleInfo], images: tuple[str, ...],
                        size: int, raw_shape: tuple[int, int, int]) -> zarr.Group:
    """Open or create the store for exactly `clips`. A store from other params or another clip list is a stale
    derived cache and is rebuilt; a folder that is not a modality store is never touched."""
    ids = [c.clip_id for c in clips]
    root = reuse_or_clear(path, "modality", lambda attrs: attrs.get("params_hash") == provenance["params_hash"]
                          and attrs.get("clip_ids") == ids and attrs.get("schema_version") == SCHEMA_VERSION
                          and attrs.get("ready") is True, SCHEMA_VERSION)
    if root is not None:
        root.attrs.update(provenance)
        return root
    n = len(clips)
    root = zarr.open_group(str(path), mode="w", attributes={
        "schema_version": SCHEMA_VERSION, **provenance, "clip_ids": ids,
        "subjects": [c.subject for c in clips], "emotions": [c.emotion for c in clips],
        "images": list(images), "apex_sources": list(APEX_CHOICES)})
    for name in images:
        root.create_array(name, shape=(n, 3, size, size), dtype="uint8", chunks=(1, 3, size, size),
                          dimension_names=SAMPLE_DIMS)
    root.create_array("raw", shape=(n, *raw_shape), dtype="float32", chunks=(1, *raw_shape),
                      dimension_names=SAMPLE_DIMS)
    root.create_array("label3", data=np.array([c.label3 for c in clips], np.int16), dimension_names=("sample",))
    root.create_array("label5", data=np.array([c.label5 for c in clips], np.int16), dimension_names=("sample",))
    root.create_array("key_frames", shape=(n, 3), dtype="int32", chunks=(1, 3), fill_value=-1,
                      dimension_names=("sample", "key"))
    root.create_array("apex_source", shape=(n,), dtype="uint8", chunks=(1,), fill_value=255,
                      dimension_names=("sample",))
    root.create_array("source", shape=(n, 64), dtype="uint8", chunks=(1, 64), dimension_names=("sample", "hex"))
    root.create_array("key", shape=(n, 64), dtype="uint8", chunks=(1, 64), dimension_names=("sample", "hex"))
    root.create_array("done", shape=(n,), dtype="uint8", chunks=(1,), fill_value=0, dimension_names=("sample",))
    root.attrs["ready"] = True  # last: a store whose writer died while laying it out is rebuilt, never reused
    return root


def open_existing(path: Path) -> zarr.Group:
    """A modality store opened for reading; one-line error when it is missing."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: modality store not found (run `mer-pipeline modalities`)")
    return open_readonly(path, SCHEMA_VERSION)


def read_image(root: zarr.Group, i: int, name: str = "image") -> np.ndarray:
    """(3, S, S) uint8 image `name` of sample i."""
    return root[name][i]


def open_writable(path: str | Path) -> zarr.Group:
    """An existing modality store opened for writing samples (per-clip tasks)."""
    return zarr.open_group(str(path), mode="r+")


def raw_shape(root: zarr.Group) -> tuple[int, ...]:
    """(C', H, W) of every sample's `raw` array in this store."""
    return tuple(root["raw"].shape[1:])


def _hex(text: str) -> np.ndarray:
    return np.frombuffer(text.encode().ljust(64, b" ")[:64], np.uint8)


def _text(root: zarr.Group, name: str, i: int) -> str:
    return bytes(root[name][i]).decode().strip()


def sample_key(root: zarr.Group, i: int) -> str | None:
    """The content key sample i was written for, or None when it is not completely written."""
    return _text(root, "key", i) if root["done"][i] else None


def write_sample(root: zarr.Group, i: int, sample: ModalitySample, key: str, key_frames: tuple[int, int, int]) -> None:
    """Write sample i's arrays (each its own chunk) for content key `key` and the onset / apex / offset frame numbers
    it used, then mark it done. Safe alongside writers of other samples."""
    root["done"][i] = 0
    for name, image in sample.images.items():
        root[name][i] = image
    root["raw"][i] = sample.raw.astype(np.float32)
    root["source"][i] = _hex(sample.source)
    root["key"][i] = _hex(key)
    root["key_frames"][i] = np.asarray(key_frames, np.int32)
    root["done"][i] = 1


def record_apexes(root: zarr.Group, key_frames: np.ndarray, sources: list[str]) -> None:
    """The onset / apex / offset frame numbers ((N, 3)) and apex sources of every sample, written once the samples
    are (a kept sample may have been computed for the same apex from another source)."""
    codes = np.array([APEX_CHOICES.index(s) for s in sources], np.uint8)
    if not (np.array_equal(root["key_frames"][...], key_frames) and np.array_equal(root["apex_source"][...], codes)):
        root["key_frames"][...] = key_frames.astype(np.int32)
        root["apex_source"][...] = codes


def read_sample(root: zarr.Group, i: int) -> ModalitySample:
    if not root["done"][i]:
        raise KeyError(f"sample {i} ({root.attrs['clip_ids'][i]}) is not complete")
    return ModalitySample({name: root[name][i] for name in root.attrs["images"]}, root["raw"][i],
                          _text(root, "source", i))


def present(root: zarr.Group) -> np.ndarray:
    """(N,) bool: samples whose arrays are all written."""
    return root["done"][...].astype(bool)


def provenance_of(path: Path) -> dict[str, Any]:
    """What identifies a modality store's content: its modality, params hash and the digest of its faces."""
    a = open_existing(path).attrs
    return {"store": str(path), "modality": a["modality"], "params_hash": a["params_hash"],
            "faces_sha256": a["faces_sha256"], "faces_params_hash": a.get("faces_params_hash")}


def open_samples(path: Path, label: str, image: str = "image") -> StoredSamples:
    """Everything training needs from a modality store, in memory; `image` names the image array (the flow store also
    holds `image_apex_offset`)."""
    root = open_existing(path)
    if label not in ("label3", "label5"):
        raise ValueError(f"label must be label3 or label5, got {label!r}")
    index = StoreIndex.of(root)
    if image not in index.images:
        raise UserError(f"{path}: no image array {image!r} (it holds {', '.join(index.images)})")
    done = present(root)
    keys = [bytes(k).decode().strip() if d else "" for k, d in zip(root["key"][...], done)]
    return StoredSamples(root[image][...], root[label][...], done, index.clip_ids, index.subjects, index.kinds, keys)
