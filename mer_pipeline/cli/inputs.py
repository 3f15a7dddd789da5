"""`mer-pipeline inputs`: the manifest of the modality stores an experiment group reads."""

from pathlib import Path
from typing import Annotated

import typer

from mer_pipeline.cli.common import JsonOpt, OutOpt, ParamsOpt, load, report


def inputs(
    experiment: Annotated[str, typer.Option("--experiment", "-e", help="Experiment group.")],
    out: OutOpt = Path("data/inputs"),
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Write the manifest of the modality stores an experiment group reads, with a digest of each, to
    `<out>/<group>/stores.json` (what its train stage depends on)."""
    from mer_pipeline.training.inputs import inputs_stage

    report(inputs_stage(load(params), experiment, out), as_json, "inputs")
