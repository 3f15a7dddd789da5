"""`mer-pipeline cache ...`: list, verify, push, pull and clean the shared cache."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from mer_pipeline.cli.common import JsonOpt, ParamsOpt, load, report
from mer_pipeline.cli.modalities import ModalityOpt

app = typer.Typer(
    help="Shared cache (params `cache.url` or MER_PIPELINE_CACHE) of faces entries, modality samples and "
    "fold jobs: ls, verify, push, pull, gc.",
    no_args_is_help=True,
)


def _cache(params: Path):
    from mer_pipeline.store.cache import Cache

    p = load(params).cache
    return Cache(p.url, p.storage_options)  # one-line error when none is configured


@app.command("ls")
def ls(params: ParamsOpt = Path("params.yaml"), as_json: JsonOpt = False) -> None:
    """Count and size the entries (--json lists them)."""
    cache = _cache(params)
    entries = cache.entries()
    result = {
        "url": cache.url,
        "entries": len(entries),
        "bytes": sum(e.size for e in entries),
        **{f"{k}_entries": sum(e.kind == k for e in entries) for k in sorted({e.kind for e in entries})},
        "partial": len(cache.partials()),
    }
    report(result, False, "cache")
    if as_json:
        report({**result, "list": [e.__dict__ for e in entries]}, True, "cache")


def entry_checks() -> dict:
    """What each kind's arrays must be, as the runs that read them check (whatever a run refuses, verify flags)."""
    from mer_pipeline.faces.task import entry_problem
    from mer_pipeline.modalities.task import sample_problem
    from mer_pipeline.spotting.stage import CURVE, curve_problem
    from mer_pipeline.training.folds import KIND as FOLD
    from mer_pipeline.training.folds import fold_problem

    return {"faces": entry_problem, "modality": sample_problem, CURVE: curve_problem, FOLD: fold_problem}


@app.command()
def verify(
    delete: Annotated[bool, typer.Option("--delete", help="Remove corrupt entries (they are recomputed).")] = False,
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Check every entry (zip CRCs, array checksums, key); exit 1 if any is corrupt."""
    cache = _cache(params)
    found = cache.verify(entry_checks())
    if delete:
        for bad in found["corrupt"]:
            cache.remove(bad["path"])
    report(
        {
            "url": cache.url,
            "checked": found["checked"],
            "corrupt_count": len(found["corrupt"]),
            "partial_count": len(found["partial"]),
            "deleted": len(found["corrupt"]) if delete else 0,
            "problems": [f"{b['path']}: {b['problem']}" for b in found["corrupt"]]
            + [f"{p}: unfinished write" for p in found["partial"]],
        },
        as_json,
        "verify",
    )
    if found["corrupt"] and not delete:
        sys.exit(1)


ExperimentsOpt = Annotated[
    list[str] | None, typer.Option("--experiment", "-e", help="Experiment group whose fold jobs to pull (repeatable).")
]
OptionalDatasetOpt = Annotated[
    str | None,
    typer.Option("--dataset", "-d", help="Dataset name from params.yaml `datasets` (its faces and modality stores)."),
]


@app.command()
def push(
    dataset: OptionalDatasetOpt = None,
    modality: ModalityOpt = None,
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Publish what the cache lacks: every finished fold job under train.folds and, with --dataset, that dataset's
    faces and modality stores' entries."""
    from mer_pipeline import paths
    from mer_pipeline.faces.task import push_faces
    from mer_pipeline.modalities.task import push_modality
    from mer_pipeline.training.folds import push_folds

    p, cache = load(params), _cache(params)
    folds = push_folds(Path(p.train.folds), cache)
    result = {"url": cache.url, "folds_pushed": folds["pushed"], "folds_present": folds["present"]}
    if dataset:
        faces = push_faces(paths.faces_store(p.faces, dataset), cache)
        stores = {n: paths.modality_store(p.modalities, dataset, n) for n in modality or p.modalities.names}
        result |= {
            "faces_pushed": faces["pushed"],
            "faces_present": faces["present"],
            "modalities": [push_modality(n, path, cache) for n, path in stores.items() if path.exists()],
        }
    report(result, as_json, "push")


@app.command()
def pull(
    dataset: OptionalDatasetOpt = None,
    modality: ModalityOpt = None,
    experiment: ExperimentsOpt = None,
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Fill the local stores from the cache without computing anything: with --dataset its faces and modality stores
    (needs the clip index), with --experiment the group's fold jobs (needs its modality stores). What the cache
    lacks is reported as missing."""
    from mer_pipeline.errors import UserError
    from mer_pipeline.faces.task import faces_stage
    from mer_pipeline.modalities.task import modalities_stage
    from mer_pipeline.training.stage import train_stage

    if not dataset and not experiment:
        raise UserError("cache pull: name a --dataset, an --experiment or both")
    p = load(params)
    _cache(params)  # fail early without a cache
    result = {}
    if dataset:
        faces = faces_stage(dataset, p.index, p.faces, p.cache, compute=False)
        mods = modalities_stage(dataset, p.faces, p.modalities, modality or [], p.cache, compute=False)
        result |= {
            "faces": {k: faces[k] for k in ("cached", "kept", "missing", "skipped")},
            "modalities": mods["modalities"],
        }
    folds = [train_stage(p, name, compute=False) for name in experiment or []]
    result |= {"fold_jobs": [{k: f[k] for k in ("group", "cached", "kept", "missing")} for f in folds]}
    report(result, as_json, "pull")


@app.command()
def gc(
    older_than: Annotated[float, typer.Option("--older-than", help="Hours an unfinished write must be old.")] = 1.0,
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Remove leftovers of writers that died (unfinished writes older than --older-than hours)."""
    cache = _cache(params)
    report({"url": cache.url, "removed": len(cache.gc(older_than * 3600))}, as_json, "gc")
