"""Data commands: synth, index, faces."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from mer_pipeline.synth.job import synth_job
from mer_pipeline.datasets.job import index_job
from mer_pipeline.faces.job import faces_job
from mer_pipeline.cli.common import DatasetOpt, JsonOpt, ParamsOpt, SchedulerOpt, WorkersOpt, report, scale_of
from mer_pipeline.config import (
    CacheParams,
    FacesParams,
    IndexParams,
    SynthParams,
    dataset_params,
    label_table,
    load_params,
    section,
)


def synth(params: ParamsOpt = Path("params.yaml"), as_json: JsonOpt = False) -> None:
    """Generate the synthetic dataset (CASME II layout, known ground truth) from params `synth`."""
    report(synth_job(section(load_params(params), "synth", SynthParams)), as_json, "synth")


def index(
    dataset: DatasetOpt,
    root: Annotated[Optional[str], typer.Option("--root", help="Dataset folder; overrides params.yaml.")] = None,
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Index a dataset's clips (key frames, labels) and write the problems report."""
    p = load_params(params)
    dparams = dataset_params(p, dataset)
    result = index_job(dataset, dparams, label_table(p, dparams.labels), section(p, "index", IndexParams), root)
    report(result, as_json, "index")


def faces(
    dataset: DatasetOpt,
    workers: WorkersOpt = 0,
    scheduler: SchedulerOpt = "",
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Align and equalise the faces of an indexed dataset into its Zarr store (shared cache first, if set)."""
    p = load_params(params)
    result = faces_job(dataset, section(p, "index", IndexParams), section(p, "faces", FacesParams),
                       section(p, "cache", CacheParams), scale_of(workers, scheduler))
    report(result, as_json, "faces")


def register(app: typer.Typer) -> None:
    for command in (synth, index, faces):
        app.command()(command)
