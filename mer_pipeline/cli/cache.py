"""`mer-pipeline cache`: the shared cache of faces and modality entries."""

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from mer_pipeline import cache_job
from mer_pipeline.cli.common import DatasetOpt, JsonOpt, ParamsOpt, report
from mer_pipeline.config import CacheParams, FacesParams, IndexParams, ModalitiesParams, load_params, section

app = typer.Typer(help="Shared cache (params `cache.url` or MER_PIPELINE_CACHE): ls, verify, push, pull, gc.",
                  no_args_is_help=True)
ModalityOpt = Annotated[Optional[list[str]], typer.Option("--modality", "-m", help="Only these (repeatable).")]


def _cache(params: Path) -> CacheParams:
    return section(load_params(params), "cache", CacheParams)


@app.command("ls")
def ls(params: ParamsOpt = Path("params.yaml"), as_json: JsonOpt = False) -> None:
    """Count and size the entries (--json lists them)."""
    result = cache_job.ls_job(_cache(params))
    listing = result.pop("list")
    report(result, False, "cache")
    if as_json:
        report({**result, "list": listing}, True, "cache")


@app.command()
def verify(
    delete: Annotated[bool, typer.Option("--delete", help="Remove corrupt entries (they are recomputed).")] = False,
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Check every entry (zip CRCs, array checksums, key); exit 1 if any is corrupt."""
    result = cache_job.verify_job(_cache(params), delete)
    report(result, as_json, "verify")
    if result["corrupt_count"] and not delete:
        sys.exit(1)


@app.command()
def push(dataset: DatasetOpt, modality: ModalityOpt = None, params: ParamsOpt = Path("params.yaml"),
         as_json: JsonOpt = False) -> None:
    """Publish the local faces and modality stores' entries that the cache lacks."""
    p = load_params(params)
    report(cache_job.push_job(section(p, "cache", CacheParams), dataset, section(p, "faces", FacesParams),
                              section(p, "modalities", ModalitiesParams), modality or []), as_json, "push")


@app.command()
def pull(dataset: DatasetOpt, modality: ModalityOpt = None, params: ParamsOpt = Path("params.yaml"),
         as_json: JsonOpt = False) -> None:
    """Fill the local stores from the cache without computing anything (needs the clip index)."""
    p = load_params(params)
    report(cache_job.pull_job(section(p, "cache", CacheParams), dataset, section(p, "index", IndexParams),
                              section(p, "faces", FacesParams), section(p, "modalities", ModalitiesParams),
                              modality or []), as_json, "pull")


@app.command()
def gc(
    older_than: Annotated[float, typer.Option("--older-than", help="Hours an unfinished write must be old.")] = 1.0,
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Remove leftovers of writers that died (unfinished writes older than --older-than hours)."""
    report(cache_job.gc_job(_cache(params), older_than), as_json, "gc")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="cache")
