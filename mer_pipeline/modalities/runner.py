"""Faces store -> one modality store. Per clip: kept if the store holds it for the same faces content, else taken
from the shared cache, else computed (misses in batches of clips on the chosen device; on dask one task per clip;
a clip's result does not depend on its batch) and published to the cache."""

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import torch

from mer_pipeline import __version__
from mer_pipeline.config import CacheParams, ModalitiesParams, Scale, build, params_hash
from mer_pipeline.errors import UserError
from mer_pipeline.modalities import MODALITIES
from mer_pipeline.modalities.base import KeyFrames, clip_from_frames
from mer_pipeline.modalities.mapping import to_image
from mer_pipeline.scale import run_tasks
from mer_pipeline.store import clips as faces_store
from mer_pipeline.store import modality as mstore
from mer_pipeline.store.cache import Cache, code_version, content_key

SHARED_CODE = ("base.py", "mapping.py", "runner.py")


def resolve_device(name: str) -> torch.device:
    """cpu, cuda[:i] or auto. Inside a dask worker, plain cuda/auto means the GPU of that worker's index, so
    `--workers N` on a machine with N GPUs runs one worker per GPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device {name!r} requested but no CUDA device is available")
    if name == "cuda" and torch.cuda.device_count() > 1:
        index = _dask_worker_index()
        if index is not None:
            return torch.device(f"cuda:{index % torch.cuda.device_count()}")
    return torch.device(name)


def _dask_worker_index() -> int | None:
    try:
        from distributed import get_worker

        name = get_worker().name
    except (ImportError, ValueError):
        return None
    return name if isinstance(name, int) else None


def modality_params(settings: ModalitiesParams, name: str):
    modality = MODALITIES.get(name)
    if name not in settings.params:
        raise UserError(f"params modalities.params has no entry for {name!r}")
    try:
        return modality, build(modality.params_type, settings.params[name], f"modalities.params.{name}")
    except ValueError as exc:
        raise UserError(f"params modalities.params.{name}: {exc}") from None


def faces_digest(entries: list[dict]) -> str:
    """Checksum of the faces a modality store is computed from: each entry's id and content key."""
    text = json.dumps([[e["clip_id"], e["content_key"]] for e in entries])
    return hashlib.sha256(text.encode()).hexdigest()


def load_clip(faces, clip_id: str, device: torch.device) -> torch.Tensor:
    arrays, _ = faces_store.read_entry(faces, clip_id)
    return clip_from_frames(torch.from_numpy(arrays["frames"]).to(device))  # (T, 3, H, W) in [0, 1]


@dataclass(frozen=True)
class ModalityJob:
    """What a task needs (paths, names and params only, so it travels to dask workers)."""

    name: str
    faces: str
    out: str
    settings: ModalitiesParams
    cache: CacheParams = field(default_factory=CacheParams)
    compute: bool = True

    def key(self, faces_key: str) -> str:
        """Everything that determines a sample: faces content, modality, its params, image size, code."""
        _, params = modality_params(self.settings, self.name)
        return content_key("modality", {"name": self.name, "faces": faces_key, "params": asdict(params),
                                        "size": self.settings.size, "code": modality_code_version(self.name)})


@lru_cache(maxsize=None)
def modality_code_version(name: str) -> str:
    here = Path(__file__).parent
    files = (*MODALITIES.get(name).code, *SHARED_CODE)
    return code_version(*(here / f for f in files), extra=f"torch {torch.__version__}")


def process_clips(job: ModalityJob, indices: list[int]) -> list[str]:
    """Samples `indices` of the store: "kept" | "cached" | "computed" | "missing" each."""
    modality, params = modality_params(job.settings, job.name)
    faces = faces_store.open_existing(Path(job.faces))
    root = mstore.open_writable(job.out)
    ids = root.attrs["clip_ids"]
    cache = Cache(job.cache.url, job.cache.storage_options) if job.cache.url else None
    status, todo = {}, []
    for i in indices:
        attrs = faces_store.entry_attrs(faces, ids[i])
        if mstore.is_current(root, i, attrs["content_key"]):
            status[i] = "kept"
            continue
        key = job.key(attrs["content_key"])
        if cache and (hit := cache.get("modality", key)):
            arrays, _ = hit
            mstore.write_sample(root, i, {n: arrays[n] for n, _ in modality.images}, arrays["raw"], attrs["content_key"])
            status[i] = "cached"
        elif not job.compute:
            status[i] = "missing"
        else:
            todo.append((i, attrs, key))
    if todo:
        device = resolve_device(job.settings.device)
        clips = [load_clip(faces, ids[i], device) for i, _, _ in todo]
        with torch.no_grad():
            raws = modality.compute(clips, [KeyFrames(**a["key_frames"]) for _, a, _ in todo], params)
        for (i, attrs, key), raw in zip(todo, raws):
            images = {n: to_image(raw[sl], job.settings.size, **params.mapping()).cpu().numpy()
                      for n, sl in modality.images}
            raw_np = raw.float().cpu().numpy()
            if cache:
                cache.put("modality", key, {**images, "raw": raw_np}, {"clip_id": ids[i], "modality": job.name})
            mstore.write_sample(root, i, images, raw_np, attrs["content_key"])
            status[i] = "computed"
    return [status[i] for i in indices]


def run_modality(name: str, faces_path: Path, out: Path, settings: ModalitiesParams, progress=None,
                 cache: CacheParams = CacheParams(), scale: Scale = Scale(), compute: bool = True) -> dict:
    """Compute modality `name` for every complete faces entry into `out`. Returns counts."""
    modality, params = modality_params(settings, name)
    if not Path(faces_path).exists():
        raise UserError(f"{faces_path}: faces store not found (run `mer-pipeline faces` first)")
    faces = faces_store.open_existing(faces_path)
    ids = list(faces_store.complete_entries(faces))
    if not ids:
        raise UserError(f"{faces_path}: no complete faces entries (run `mer-pipeline faces`)")
    entries = [faces_store.entry_attrs(faces, cid) for cid in ids]
    size = faces[f"clips/{ids[0]}/frames"].shape[-2]  # every entry of a faces store has the same side
    provenance = {
        "kind": "modality", "modality": name, "params": asdict(params), "package_version": __version__,
        "params_hash": params_hash({"modality": name, "params": asdict(params), "size": settings.size}),
        "faces_store": str(faces_path), "faces_sha256": faces_digest(entries), "faces_params_hash":
        faces.attrs.get("params_hash"), "size": settings.size,
    }
    fields = ("clip_id", "subject", "emotion", "label3", "label5", "onset", "apex", "offset")
    clips = [{k: e[k] for k in fields} for e in entries]
    mstore.open_modality_store(out, provenance, clips, tuple(n for n, _ in modality.images), settings.size,
                               (modality.raw_channels, size, size))
    job = ModalityJob(name, str(faces_path), str(out), settings, cache, compute)
    n = len(ids)
    if scale.workers or scale.scheduler:
        results = [s for r in run_tasks(process_clips, job, [[i] for i in range(n)], scale, progress) for s in r]
    else:
        batches = [list(range(i, min(i + settings.batch_clips, n))) for i in range(0, n, settings.batch_clips)]
        results = [s for b in (progress(batches) if progress else batches) for s in process_clips(job, b)]
    counts = {s: results.count(s) for s in ("computed", "cached", "kept", "missing")}
    return {"modality": name, "out": str(out), **counts, "device": settings.device}


def push_modality(name: str, out: Path, settings: ModalitiesParams, cache: Cache) -> dict:
    """Publish every complete sample of a modality store that the cache lacks."""
    modality, _ = modality_params(settings, name)
    root = mstore.open_writable(out)
    job = ModalityJob(name, "", str(out), settings)
    counts = {"pushed": 0, "present": 0}
    for i, done in enumerate(mstore.present(root)):
        if not done:
            continue
        key = job.key(mstore.source_of(root, i))
        if cache.has("modality", key):
            counts["present"] += 1
            continue
        sample = mstore.read_sample(root, i)
        cache.put("modality", key, sample, {"clip_id": root.attrs["clip_ids"][i], "modality": name})
        counts["pushed"] += 1
    return {"modality": name, **counts}
