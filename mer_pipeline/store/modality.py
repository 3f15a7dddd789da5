"""Modality stores: one Zarr v3 store per modality, samples along the first axis ("template first, then one region
per task"). Self-describing for xarray (`xr.open_zarr(path).sel(sample="sub01/EP02_01f")`): every array names its
dimensions, `sample` holds the clip ids and the per-clip facts are coordinates along it. Readable with plain zarr and
dask too (`da.from_zarr(path, component="image")`).

Layout of <dataset>/<modality>.zarr:
    attrs        kind="modality", modality, params, params_hash, package_version, faces_store, faces_sha256,
                 faces_params_hash, size, apex, images (names of the image arrays), image_kinds (what each image
                 channel holds), schema_version, coordinates (for xarray), ready (set once every array exists)
    sample       (N,) str: clip ids (subject/clip), the dimension coordinate
    subject dataset emotion   (N,) str, coordinates along `sample`
    label3 label5             (N,) int16 class indices (-1 = dropped by the mapping), coordinates along `sample`
    image        (N, 3, S, S) uint8, dims (sample, channel, y, x), one chunk (one file) per sample
    image_apex_offset         optical_flow only: the apex -> offset image, as `image`
    raw          (N, C', H, W) float32, dims (sample, raw_channel, raw_y, raw_x): the unscaled result at the faces'
                 size (flow in pixels), one chunk per sample
    key_frame    (3,) str: onset, apex, offset, the dimension coordinate of key_frames
    key_frames   (N, 3) int32: the frame numbers each sample used, one chunk per sample
    apex_source  (N,) str: where that apex came from (annotated, middle, spotted)
    faces_key    (N,) str: content key (sha256 hex) of the faces entry the sample was computed from
    content_key  (N,) str: the sample's own content key (faces key, modality, params, size, code identity)
    done         (N,) uint8, one chunk per sample: 1 once every array of that sample is written
A sample is present only when done == 1; it is current when its content key equals the key computed now. Metadata is
consolidated at the end of every run (xarray opens it in one read).
"""

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from mer_pipeline.errors import UserError
from mer_pipeline.store.opening import open_readonly, reuse_or_clear
from mer_pipeline.store.records import ModalitySample, SampleInfo

IMAGE_DIMS = ("sample", "channel", "y", "x")
RAW_DIMS = ("sample", "raw_channel", "raw_y", "raw_x")
KEY_FRAMES = ("onset", "apex", "offset")
COORDINATES = ("subject", "dataset", "emotion", "label3", "label5")  # per-sample facts, coordinates along `sample`
# 2: per-sample content keys; 3: image_kinds; 4: per-sample key_frames and apex_source; 5: self-describing for xarray
# (clip ids in `sample`, facts as coordinates, text as str arrays, raw's own dims)
SCHEMA_VERSION = 5


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
        return cls(
            _texts(root, "sample"),
            _texts(root, "subject"),
            _texts(root, "emotion"),
            tuple(a["images"]),
            tuple(a["image_kinds"]),
        )


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
    a = root.attrs
    return SampleFacts(
        a["modality"],
        dict(a["params"]),
        int(a["size"]),
        _texts(root, "sample"),
        _texts(root, "faces_key"),
        root["key_frames"][...],
        _texts(root, "content_key"),
        present(root),
    )


def _texts(root: zarr.Group, name: str) -> list[str]:
    return [str(v) for v in root[name][...]]


def open_modality_store(
    path: Path,
    provenance: dict[str, Any],
    clips: list[SampleInfo],
    images: tuple[str, ...],
    size: int,
    raw_shape: tuple[int, int, int],
) -> zarr.Group:
    """Open or create the store for exactly `clips`. A store from other params or another clip list is a stale
    derived cache and is rebuilt; a folder that is not a modality store is never touched."""
    ids = [c.clip_id for c in clips]

    def current(attrs: dict) -> bool:  # the clip list is read only from a store of this schema, params and finish
        return (
            attrs.get("params_hash") == provenance["params_hash"]
            and attrs.get("schema_version") == SCHEMA_VERSION
            and attrs.get("ready") is True
            and _texts(zarr.open_group(str(path), mode="r"), "sample") == ids
        )

    root = reuse_or_clear(path, "modality", current, SCHEMA_VERSION)
    if root is not None:
        root.attrs.update(provenance)
        return root
    n = len(clips)
    root = zarr.open_group(
        str(path),
        mode="w",
        attributes={
            "schema_version": SCHEMA_VERSION,
            **provenance,
            "images": list(images),
            "coordinates": " ".join(COORDINATES),
        },
    )
    _text_array(root, "sample", ids)
    for name in ("subject", "dataset", "emotion"):
        _text_array(root, name, [getattr(c, name) for c in clips])
    for name in ("label3", "label5"):
        root.create_array(name, data=np.array([getattr(c, name) for c in clips], np.int16), dimension_names=("sample",))
    for name in images:
        root.create_array(
            name, shape=(n, 3, size, size), dtype="uint8", chunks=(1, 3, size, size), dimension_names=IMAGE_DIMS
        )
    root.create_array("raw", shape=(n, *raw_shape), dtype="float32", chunks=(1, *raw_shape), dimension_names=RAW_DIMS)
    _text_array(root, "key_frame", list(KEY_FRAMES), "key_frame")
    root.create_array(
        "key_frames", shape=(n, 3), dtype="int32", chunks=(1, 3), fill_value=-1, dimension_names=("sample", "key_frame")
    )
    for name in ("apex_source", "faces_key", "content_key"):
        root.create_array(name, shape=(n,), dtype=str, chunks=(1,), dimension_names=("sample",))
    root.create_array("done", shape=(n,), dtype="uint8", chunks=(1,), fill_value=0, dimension_names=("sample",))
    root.attrs["ready"] = True  # last: a store whose writer died while laying it out is rebuilt, never reused
    return root


def _text_array(root: zarr.Group, name: str, values: list[str], dim: str = "sample") -> None:
    """A (len(values),) array of variable-length UTF-8 text, one chunk (the Zarr v3 string type xarray reads)."""
    root.create_array(name, shape=(len(values),), dtype=str, dimension_names=(dim,))[...] = np.array(values, object)


def consolidate(path: Path) -> None:
    """Gather every array's metadata into the store's zarr.json (xarray and dask open it in one read); done at the end
    of a run (array metadata never changes after creation; the library's own reads do not use it)."""
    with warnings.catch_warnings():  # zarr-python's note that other Zarr implementations may not read it
        warnings.filterwarnings("ignore", "Consolidated metadata is currently not part", UserWarning)
        zarr.consolidate_metadata(str(path))


def open_existing(path: Path) -> zarr.Group:
    """A modality store opened for reading; one-line error when it is missing."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: modality store not found (run `mer-pipeline modalities`)")
    return open_readonly(path, SCHEMA_VERSION)


def read_image(root: zarr.Group, i: int, name: str = "image") -> np.ndarray:
    """(3, S, S) uint8 image `name` of sample i."""
    return root[name][i]


def raw_shape(root: zarr.Group) -> tuple[int, ...]:
    """(C', H, W) of every sample's `raw` array in this store."""
    return tuple(root["raw"].shape[1:])


def sample_key(root: zarr.Group, i: int) -> str | None:
    """The content key sample i was written for, or None when it is not completely written."""
    return str(root["content_key"][i]) if root["done"][i] else None


def write_sample(root: zarr.Group, i: int, sample: ModalitySample, key: str, key_frames: tuple[int, int, int]) -> None:
    """Write sample i's arrays (each its own chunk) for content key `key` and the onset / apex / offset frame numbers
    it used, then mark it done. Safe alongside writers of other samples."""
    root["done"][i] = 0
    for name, image in sample.images.items():
        root[name][i] = image
    root["raw"][i] = sample.raw.astype(np.float32)
    root["faces_key"][i] = sample.source
    root["content_key"][i] = key
    root["key_frames"][i] = np.asarray(key_frames, np.int32)
    root["done"][i] = 1


def record_apexes(root: zarr.Group, key_frames: np.ndarray, sources: list[str]) -> None:
    """The onset / apex / offset frame numbers ((N, 3)) and apex sources of every sample, written once the samples
    are (a kept sample may have been computed for the same apex from another source)."""
    if not (np.array_equal(root["key_frames"][...], key_frames) and _texts(root, "apex_source") == list(sources)):
        root["key_frames"][...] = key_frames.astype(np.int32)
        root["apex_source"][...] = np.array(sources, dtype=str)


def read_sample(root: zarr.Group, i: int) -> ModalitySample:
    if not root["done"][i]:
        raise KeyError(f"sample {i} ({root['sample'][i]}) is not complete")
    return ModalitySample(
        {name: root[name][i] for name in root.attrs["images"]}, root["raw"][i], str(root["faces_key"][i])
    )


def present(root: zarr.Group) -> np.ndarray:
    """(N,) bool: samples whose arrays are all written."""
    return root["done"][...].astype(bool)


def provenance_of(path: Path) -> dict[str, Any]:
    """What identifies a modality store's content: its modality, params hash and the digest of its faces."""
    a = open_existing(path).attrs
    return {
        "store": str(path),
        "modality": a["modality"],
        "params_hash": a["params_hash"],
        "faces_sha256": a["faces_sha256"],
        "faces_params_hash": a.get("faces_params_hash"),
    }


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
    keys = [k if d else "" for k, d in zip(_texts(root, "content_key"), done)]
    return StoredSamples(root[image][...], root[label][...], done, index.clip_ids, index.subjects, index.kinds, keys)
