"""`mer-pipeline train`."""

from pathlib import Path
from typing import Annotated

import typer

from mer_pipeline.cli.common import DeviceOpt, JsonOpt, ParamsOpt, SchedulerOpt, WorkersOpt, load, report, scale_of

ExperimentOpt = Annotated[
    str,
    typer.Option(
        "--experiment", "-e", help="Experiment group (or one expanded experiment) from params.yaml `experiments`."
    ),
]


def train(
    experiment: ExperimentOpt,
    device: DeviceOpt = None,
    workers: WorkersOpt = 0,
    scheduler: SchedulerOpt = "",
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Train and evaluate an experiment (LOSO or 90/10, fixed epochs, no test-fold selection). Every (experiment,
    seed, fold) is a fold job: finished ones are kept (a killed run resumes) or taken from the shared cache; the
    rest train here or on dask workers (one GPU each)."""
    from mer_pipeline.training.stage import train_stage

    result = train_stage(load(params), experiment, device, scale_of(workers, scheduler))
    report({k: v for k, v in result.items() if k != "experiments"}, False, "fold jobs")
    for r in result["experiments"]:
        report(r, False, "trained")
    if as_json:
        report(result, True, "train")
