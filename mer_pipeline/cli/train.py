"""`mer-pipeline train`."""

from pathlib import Path
from typing import Annotated

import typer

from mer_pipeline.cli.common import DeviceOpt, JsonOpt, ParamsOpt, load, report

ExperimentOpt = Annotated[str, typer.Option("--experiment", "-e", help="Experiment group (or one expanded experiment) from params.yaml `experiments`.")]


def train(experiment: ExperimentOpt, device: DeviceOpt = None, params: ParamsOpt = Path("params.yaml"),
          as_json: JsonOpt = False) -> None:
    """Train and evaluate an experiment (LOSO or 90/10, fixed epochs, no test-fold selection)."""
    from mer_pipeline.training.stage import train_stage

    result = train_stage(load(params), experiment, device)
    for r in result["experiments"]:
        report(r, False, "trained")
    if as_json:
        report(result, True, "train")
