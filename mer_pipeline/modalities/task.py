"""The modalities stage: faces store -> one modality store, through the per-clip engine.

Per sample: kept if the store holds it for the same content key (faces entry, modality, params, image size, code
identity, and the apex index for the modalities that use one), else taken from the shared cache, else computed in
batches of clips on the chosen device (on dask one task per clip; a clip's result does not depend on its batch) and
published.

The apex: `modalities.apex` per dataset, or the store name's suffix (`mesti-spotted`): annotated (the index's),
middle, or spotted (the spotting stage's apex table). Changing it recomputes only the samples whose apex moved, and
only in the modalities that use the apex.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np

from mer_pipeline import __version__, engine, paths
from mer_pipeline.config import (
    CacheParams,
    FacesParams,
    ModalitiesParams,
    Scale,
    SpottingParams,
    params_hash,
    split_store_name,
)
from mer_pipeline.config.modalities import CHANNEL_KINDS
from mer_pipeline.device import resolve_device
from mer_pipeline.errors import ClipError, UserError
from mer_pipeline.modalities.compute import compute_samples
from mer_pipeline.modalities.keys import modality_key, stale_samples
from mer_pipeline.modalities.registry import get
from mer_pipeline.store import faces as faces_store
from mer_pipeline.store import modality as modality_store
from mer_pipeline.store.lock import holding
from mer_pipeline.store.opening import open_writable
from mer_pipeline.store.records import FacesEntry, ModalitySample, SampleInfo
from mer_pipeline.store.spots import read_spots


def chosen_apexes(choice: str, entries: list[FacesEntry], table: Path | None) -> list[tuple[int, str]]:
    """Per entry, the apex (0-based index into its frames) and where it came from (annotated | middle | spotted).
    `annotated` is the index's apex, which is the middle where the index repaired a missing or bad one."""
    if choice == "annotated":
        return [(e.key_frames.apex, e.apex_source) for e in entries]
    if choice == "middle":
        return [(e.key_frames.offset // 2, "middle") for e in entries]
    spots = read_spots(table)
    out = []
    for e in entries:
        row = spots.get(e.clip_id)
        if row is None or (row.onset, row.offset) != (e.onset, e.offset):
            raise UserError(f"{table}: no current row for clip {e.clip_id} (run `mer-pipeline spot` again)")
        out.append((row.spotted_apex - e.onset, row.spotted_source))
    return out


def sample_problem(arrays: dict[str, np.ndarray]) -> str | None:
    """What is wrong with a modality cache entry's arrays, whatever its sample (None: nothing): `raw` (C', S, S)
    float32 and finite, and one or more (3, S, S) uint8 images."""
    raw = arrays.get("raw")
    if raw is None or raw.dtype != np.float32 or raw.ndim != 3 or not np.isfinite(raw).all():
        return "no finite float32 (C', H, W) `raw` array"
    shapes = {a.shape for n, a in arrays.items() if n != "raw"}
    if (
        len(shapes) != 1
        or any(a.dtype != np.uint8 for n, a in arrays.items() if n != "raw")
        or not (len(shape := shapes.pop()) == 3 and shape[0] == 3 and shape[1] == shape[2])
    ):
        return "images are not uint8 (3, S, S), all of one size"
    return None


@dataclass(frozen=True)
class ModalityTask:
    """The engine's task for one modality store: items are sample indices. Holds paths, names and params only."""

    name: str
    faces: str
    out: str
    settings: ModalitiesParams
    clip_ids: tuple[str, ...]
    apexes: tuple[tuple[int, str], ...] = ()  # per item: apex index and its source (chosen_apexes)
    kind: str = "modality"

    @property
    def modality(self) -> str:
        return split_store_name(self.name)[0]

    def prepare(self, i: int) -> tuple[str, FacesEntry]:
        entry = faces_store.entry(faces_store.open_existing(Path(self.faces)), self.clip_ids[i])
        if entry is None:
            raise ClipError(self.clip_ids[i], f"no complete entry in {self.faces}")
        apex = self.apexes[i][0] if get(self.modality).uses_apex else None
        return modality_key(self.name, entry.content_key, self.settings, apex), entry

    def stored_key(self, i: int) -> str | None:
        return modality_store.sample_key(open_writable(self.out), i)

    def accepts(self, p: engine.Pending, arrays: dict[str, np.ndarray]) -> bool:
        """A cache entry is a sample of this store: its image names, `raw` of the modality's channels, this size."""
        names = {n for n, _ in get(self.modality).images}
        return (
            sample_problem(arrays) is None
            and set(arrays) == names | {"raw"}
            and arrays["raw"].shape == modality_store.raw_shape(open_writable(self.out))
            and all(arrays[n].shape[-1] == self.settings.size for n in names)
        )

    def compute(self, pending: list[engine.Pending]) -> list[dict[str, np.ndarray] | ClipError]:
        faces = faces_store.open_existing(Path(self.faces))
        frames = [faces_store.read_entry(faces, p.state.clip_id)[0] for p in pending]
        keys = [replace(p.state.key_frames, apex=self.apexes[p.item][0]) for p in pending]
        return compute_samples(
            self.modality,
            self.settings.of(self.name),
            frames,
            keys,
            self.settings.size,
            resolve_device(self.settings.device),
        )

    def write(self, p: engine.Pending, arrays: dict[str, np.ndarray]) -> None:
        images = tuple(n for n, _ in get(self.modality).images)
        sample = ModalitySample.from_arrays(arrays, images, p.state.content_key)
        e = p.state
        modality_store.write_sample(
            open_writable(self.out), p.item, sample, p.key, (e.onset, e.onset + self.apexes[p.item][0], e.offset)
        )

    def label(self, i: int) -> str:
        return self.clip_ids[i]


def faces_digest(entries: list[FacesEntry]) -> str:
    """Checksum of the faces a modality store is computed from: each entry's id and content key."""
    text = json.dumps([[e.clip_id, e.content_key] for e in entries])
    return hashlib.sha256(text.encode()).hexdigest()


def run_modality(
    name: str,
    faces_path: Path,
    out: Path,
    settings: ModalitiesParams,
    progress=None,
    cache: CacheParams = CacheParams(),
    scale: Scale = Scale(),
    compute: bool = True,
    apex: str = "annotated",
    apex_table: Path | None = None,
) -> dict:
    """Compute the modality store `name` (`mesti`, `mesti-spotted`) for every complete faces entry into `out`, with
    the apex choice `apex` (`apex_table`: the spotting stage's table, for spotted). Returns counts."""
    with holding(out):
        return _run_modality(name, faces_path, out, settings, progress, cache, scale, compute, apex, apex_table)


def _run_modality(
    name: str,
    faces_path: Path,
    out: Path,
    settings: ModalitiesParams,
    progress,
    cache: CacheParams,
    scale: Scale,
    compute: bool,
    apex: str,
    apex_table: Path | None,
) -> dict:
    modality, params = get(split_store_name(name)[0]), settings.of(name)
    faces, ids = faces_store.open_complete(faces_path)
    entries = [faces_store.entry(faces, cid) for cid in ids]
    apex = apex if modality.uses_apex else "annotated"  # kept as the index has it, for the record only
    apexes = chosen_apexes(apex, entries, apex_table)
    side = faces_store.entry_side(faces, ids[0])
    provenance = {
        "kind": "modality",
        "modality": name,
        "params": asdict(params),
        "package_version": __version__,
        "params_hash": params_hash({"modality": name, "params": asdict(params), "size": settings.size}),
        "faces_store": str(faces_path),
        "faces_sha256": faces_digest(entries),
        "faces_params_hash": faces_store.store_params_hash(faces),
        "size": settings.size,
        "image_kinds": list(CHANNEL_KINDS[params.mapping()["scaling"]]),
        "apex": apex if modality.uses_apex else "not used",
    }
    modality_store.open_modality_store(
        out,
        provenance,
        [SampleInfo.of(e) for e in entries],
        tuple(n for n, _ in modality.images),
        settings.size,
        (modality.raw_channels, side, side),
    )
    task = ModalityTask(name, str(faces_path), str(out), settings, tuple(ids), tuple(apexes))
    outcomes = engine.run(task, list(range(len(ids))), cache, scale, settings.batch_clips, compute, progress)
    modality_store.record_apexes(
        open_writable(out),
        np.array([[e.onset, e.onset + a, e.offset] for e, (a, _) in zip(entries, apexes)]),
        [s for _, s in apexes],
    )
    modality_store.consolidate(out)
    return {
        "modality": name,
        "out": str(out),
        **engine.counts(outcomes),
        "device": settings.device,
        "apex": provenance["apex"],
    }


def modalities_stage(
    dataset: str,
    faces: FacesParams,
    settings: ModalitiesParams,
    names: list[str],
    cache: CacheParams = CacheParams(),
    scale: Scale = Scale(),
    compute: bool = True,
    progress=None,
    spotting: SpottingParams = SpottingParams(),
) -> dict:
    """Modality stores `<modalities.out>/<dataset>/<name>.zarr` from the dataset's faces store (and, for a spotted
    apex, its apex table under spotting.out). `progress(name)` gives a progress wrapper for one modality."""
    results = [
        run_modality(
            name,
            paths.faces_store(faces, dataset),
            paths.modality_store(settings, dataset, name),
            settings,
            progress(name) if progress else None,
            cache,
            scale,
            compute,
            settings.apex_of(name, dataset),
            paths.apex_table(spotting, dataset),
        )
        for name in names or settings.names
    ]
    return {"dataset": dataset, "modalities": results}


def push_modality(name: str, out: Path, cache) -> dict:
    """Publish every complete sample of a modality store that the cache lacks (read as stored); samples written for
    other params or code (a second run's) are never published under this store's keys."""
    root = open_writable(out)
    stale = set(stale_samples(out))
    stored = [
        engine.Stored(key, cid, partial(_sample_arrays, root, i))
        for i, cid in enumerate(modality_store.StoreIndex.of(root).clip_ids)
        if cid not in stale and (key := modality_store.sample_key(root, i)) is not None
    ]
    return {"modality": name, **engine.push(ModalityTask.kind, stored, cache), "stale": len(stale)}


def _sample_arrays(root, i: int) -> dict[str, np.ndarray]:
    return modality_store.read_sample(root, i).arrays()
