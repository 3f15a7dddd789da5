"""`mer-pipeline cache ...`: list, verify, push, pull and clean the shared cache."""

from pathlib import Path

from mer_pipeline.config import CacheParams, FacesParams, IndexParams, ModalitiesParams
from mer_pipeline.faces.job import FACES_STORE, faces_job
from mer_pipeline.faces.pipeline import push_faces
from mer_pipeline.modalities.job import modalities_job
from mer_pipeline.modalities.runner import push_modality
from mer_pipeline.store.cache import Cache


def open_cache(params: CacheParams) -> Cache:
    p = params.resolved()
    return Cache(p.url, p.storage_options)


def ls_job(params: CacheParams) -> dict:
    cache = open_cache(params)
    entries = cache.entries()
    kinds = sorted({e.kind for e in entries})
    return {"url": cache.url, "entries": len(entries), "bytes": sum(e.size for e in entries),
            **{f"{k}_entries": sum(e.kind == k for e in entries) for k in kinds},
            "partial": len(cache.partials()), "list": [e.__dict__ for e in entries]}


def verify_job(params: CacheParams, delete: bool) -> dict:
    cache = open_cache(params)
    result = cache.verify()
    if delete:
        for bad in result["corrupt"]:
            cache.remove(bad["path"])
    return {"url": cache.url, "checked": result["checked"], "corrupt_count": len(result["corrupt"]),
            "partial_count": len(result["partial"]), "deleted": len(result["corrupt"]) if delete else 0,
            "problems": [f"{b['path']}: {b['problem']}" for b in result["corrupt"]]
            + [f"{p}: unfinished write" for p in result["partial"]]}


def gc_job(params: CacheParams, older_than_hours: float) -> dict:
    cache = open_cache(params)
    removed = cache.gc(older_than_hours * 3600)
    return {"url": cache.url, "removed": len(removed)}


def push_job(params: CacheParams, dataset: str, fparams: FacesParams, mparams: ModalitiesParams,
             names: list[str]) -> dict:
    cache = open_cache(params)
    faces = push_faces(Path(fparams.out) / dataset / FACES_STORE, cache)
    mods = [push_modality(n, Path(mparams.out) / dataset / f"{n}.zarr", mparams, cache)
            for n in names or mparams.names if (Path(mparams.out) / dataset / f"{n}.zarr").exists()]
    return {"url": cache.url, "faces_pushed": faces["pushed"], "faces_present": faces["present"], "modalities": mods}


def pull_job(params: CacheParams, dataset: str, iparams: IndexParams, fparams: FacesParams,
             mparams: ModalitiesParams, names: list[str]) -> dict:
    """Fill the local faces and modality stores from the cache only; what it lacks is reported as missing."""
    params = params.resolved()
    open_cache(params)  # fail early on a bad URL
    faces = faces_job(dataset, iparams, fparams, params, compute=False)
    mods = modalities_job(dataset, fparams, mparams, names, params, compute=False)
    return {"faces": {k: faces[k] for k in ("cached", "kept", "missing", "skipped")},
            "modalities": mods["modalities"]}
