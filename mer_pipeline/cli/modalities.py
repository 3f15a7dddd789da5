"""Modality commands: modalities, preview."""

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Optional

import typer

from mer_pipeline.modalities.job import modalities_job, preview_job
from mer_pipeline.cli.common import DatasetOpt, JsonOpt, ParamsOpt, SchedulerOpt, WorkersOpt, report, scale_of
from mer_pipeline.config import CacheParams, FacesParams, ModalitiesParams, load_params, section


def modalities(
    dataset: DatasetOpt,
    modality: Annotated[Optional[list[str]], typer.Option("--modality", "-m", help="Only these (repeatable); default: params modalities.names.")] = None,
    device: Annotated[Optional[str], typer.Option("--device", help="cpu, cuda or auto; overrides params.")] = None,
    workers: WorkersOpt = 0,
    scheduler: SchedulerOpt = "",
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Compute modality stores from the faces store; only missing or stale samples are computed, and what the
    shared cache holds is taken from it."""
    p = load_params(params)
    mparams = section(p, "modalities", ModalitiesParams)
    if device:
        mparams = replace(mparams, device=device)
    result = modalities_job(dataset, section(p, "faces", FacesParams), mparams, modality or [],
                            section(p, "cache", CacheParams), scale_of(workers, scheduler))
    for r in result["modalities"]:
        report(r, False, "modality")
    if as_json:
        report(result, True, "modalities")


def preview(
    dataset: DatasetOpt,
    out: Annotated[Path, typer.Option("--out", help="PNG to write.")] = Path("reports/preview.png"),
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Write a PNG grid (one row per emotion; apex, MESTI, Dynamic, Active, Affective, flow) like the paper's Fig. 8."""
    p = load_params(params)
    report(preview_job(dataset, section(p, "modalities", ModalitiesParams), out), as_json, "preview")


def register(app: typer.Typer) -> None:
    for command in (modalities, preview):
        app.command()(command)
