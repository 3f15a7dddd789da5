"""`mer-pipeline modalities`."""

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from mer_pipeline.cli.common import (
    DatasetOpt,
    DeviceOpt,
    JsonOpt,
    ParamsOpt,
    SchedulerOpt,
    WorkersOpt,
    load,
    report,
    scale_of,
)

ModalityOpt = Annotated[
    list[str] | None,
    typer.Option("--modality", "-m", help="Only these (repeatable); default: params modalities.names."),
]


def modalities(
    dataset: DatasetOpt,
    modality: ModalityOpt = None,
    device: DeviceOpt = None,
    workers: WorkersOpt = 0,
    scheduler: SchedulerOpt = "",
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Compute modality stores from the faces store; only missing or stale samples are computed, and what the
    shared cache holds is taken from it."""
    from mer_pipeline.modalities.task import modalities_stage
    from mer_pipeline.progress import bar

    p = load(params)
    settings = replace(p.modalities, device=device) if device else p.modalities
    result = modalities_stage(
        dataset,
        p.faces,
        settings,
        modality or [],
        p.cache,
        scale_of(workers, scheduler),
        progress=bar,
        spotting=p.spotting,
    )
    for r in result["modalities"]:
        report(r, False, "modality")
    if as_json:
        report(result, True, "modalities")
