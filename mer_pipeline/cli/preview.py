"""`mer-pipeline preview`."""

from pathlib import Path
from typing import Annotated

import typer

from mer_pipeline.cli.common import DatasetOpt, JsonOpt, ParamsOpt, load, report


def preview(
    dataset: DatasetOpt,
    out: Annotated[Path, typer.Option("--out", help="PNG to write.")] = Path("reports/preview.png"),
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Write a PNG grid (one row per emotion; apex, MESTI, Dynamic, Active, Affective, flow) like the paper's Fig. 8."""
    from mer_pipeline.modalities.preview import preview_stage

    report(preview_stage(dataset, load(params).modalities, out), as_json, "preview")
