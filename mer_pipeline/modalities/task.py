"""The modalities stage: faces store -> one modality store, through the per-clip engine.

Per sample: kept if the store holds it for the same content key (faces entry, modality, params, image size, code
identity), else taken from the shared cache, else computed in batches of clips on the chosen device (on dask one
task per clip; a clip's result does not depend on its batch) and published.
"""

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mer_pipeline import __version__, engine, paths
from mer_pipeline.config import CacheParams, FacesParams, ModalitiesParams, Scale, params_hash
from mer_pipeline.config.modalities import CHANNEL_KINDS
from mer_pipeline.device import resolve_device
from mer_pipeline.errors import ClipError, UserError
from mer_pipeline.modalities.compute import compute_samples, modality_code_version
from mer_pipeline.modalities.registry import get
from mer_pipeline.store import clips as faces_store
from mer_pipeline.store import modality as mstore
from mer_pipeline.store.cache import content_key
from mer_pipeline.store.records import FacesEntry, ModalitySample, SampleInfo


def modality_key(name: str, faces_key: str, settings: ModalitiesParams) -> str:
    """Everything that determines a sample: faces content, modality, its params, image size, code."""
    return content_key("modality", {"name": name, "faces": faces_key, "params": asdict(settings.of(name)),
                                    "size": settings.size, "code": modality_code_version(name)})


@dataclass(frozen=True)
class ModalityTask:
    """The engine's task for one modality store: items are sample indices. Holds paths, names and params only."""

    name: str
    faces: str
    out: str
    settings: ModalitiesParams
    clip_ids: tuple[str, ...]
    kind: str = "modality"

    def prepare(self, i: int) -> tuple[str, FacesEntry]:
        entry = faces_store.entry(faces_store.open_existing(Path(self.faces)), self.clip_ids[i])
        if entry is None:
            raise ClipError(self.clip_ids[i], f"no complete entry in {self.faces}")
        return modality_key(self.name, entry.content_key, self.settings), entry

    def stored_key(self, i: int) -> str | None:
        return mstore.sample_key(mstore.open_writable(self.out), i)

    def compute(self, pending: list[engine.Pending]) -> list[dict[str, np.ndarray] | ClipError]:
        faces = faces_store.open_existing(Path(self.faces))
        frames = [faces_store.read_entry(faces, p.state.clip_id)[0] for p in pending]
        return compute_samples(self.name, self.settings.of(self.name), frames, [p.state.key_frames for p in pending],
                               self.settings.size, resolve_device(self.settings.device))

    def write(self, p: engine.Pending, arrays: dict[str, np.ndarray]) -> None:
        images = tuple(n for n, _ in get(self.name).images)
        sample = ModalitySample.from_arrays(arrays, images, p.state.content_key)
        mstore.write_sample(mstore.open_writable(self.out), p.item, sample, p.key)

    def read(self, i: int) -> dict[str, np.ndarray]:
        return mstore.read_sample(mstore.open_writable(self.out), i).arrays()

    def label(self, i: int) -> str:
        return self.clip_ids[i]


def faces_digest(entries: list[FacesEntry]) -> str:
    """Checksum of the faces a modality store is computed from: each entry's id and content key."""
    text = json.dumps([[e.clip_id, e.content_key] for e in entries])
    return hashlib.sha256(text.encode()).hexdigest()


def run_modality(name: str, faces_path: Path, out: Path, settings: ModalitiesParams, progress=None,
                 cache: CacheParams = CacheParams(), scale: Scale = Scale(), compute: bool = True) -> dict:
    """Compute modality `name` for every complete faces entry into `out`. Returns counts."""
    modality, params = get(name), settings.of(name)
    if not Path(faces_path).exists():
        raise UserError(f"{faces_path}: faces store not found (run `mer-pipeline faces` first)")
    faces = faces_store.open_existing(faces_path)
    ids = list(faces_store.complete_entries(faces))
    if not ids:
        raise UserError(f"{faces_path}: no complete faces entries (run `mer-pipeline faces`)")
    entries = [faces_store.entry(faces, cid) for cid in ids]
    side = faces_store.entry_side(faces, ids[0])
    provenance = {
        "kind": "modality", "modality": name, "params": asdict(params), "package_version": __version__,
        "params_hash": params_hash({"modality": name, "params": asdict(params), "size": settings.size}),
        "faces_store": str(faces_path), "faces_sha256": faces_digest(entries),
        "faces_params_hash": faces_store.store_params_hash(faces), "size": settings.size,
        "image_kinds": list(CHANNEL_KINDS[params.mapping()["scaling"]]),
    }
    mstore.open_modality_store(out, provenance, [SampleInfo.of(e) for e in entries],
                               tuple(n for n, _ in modality.images), settings.size, (modality.raw_channels, side, side))
    task = ModalityTask(name, str(faces_path), str(out), settings, tuple(ids))
    outcomes = engine.run(task, list(range(len(ids))), cache, scale, settings.batch_clips, compute, progress)
    return {"modality": name, "out": str(out), **engine.counts(outcomes), "device": settings.device}


def modalities_stage(dataset: str, faces: FacesParams, settings: ModalitiesParams, names: list[str],
                     cache: CacheParams = CacheParams(), scale: Scale = Scale(), compute: bool = True,
                     progress=None) -> dict:
    """Modality stores `<modalities.out>/<dataset>/<name>.zarr` from the dataset's faces store.
    `progress(name)` gives a progress wrapper for one modality."""
    results = [run_modality(name, paths.faces_store(faces, dataset), paths.modality_store(settings, dataset, name),
                            settings, progress(name) if progress else None, cache.resolved(), scale, compute)
               for name in names or settings.names]
    return {"dataset": dataset, "modalities": results}


def push_modality(name: str, out: Path, settings: ModalitiesParams, cache) -> dict:
    """Publish every complete sample of a modality store that the cache lacks (read as stored)."""
    root = mstore.open_writable(out)
    task = ModalityTask(name, "", str(out), settings, tuple(mstore.StoreIndex.of(root).clip_ids))
    return {"modality": name, **engine.push(task, range(len(task.clip_ids)), cache)}
