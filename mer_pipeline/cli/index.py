"""`mer-pipeline index`."""

from pathlib import Path
from typing import Annotated

import typer

from mer_pipeline.cli.common import DatasetOpt, JsonOpt, ParamsOpt, load, report


def index(
    dataset: DatasetOpt,
    root: Annotated[str | None, typer.Option("--root", help="Dataset folder; overrides params.yaml.")] = None,
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Index a dataset's clips (key frames, labels) and write the problems report."""
    from mer_pipeline.datasets.index import index_stage

    p = load(params)
    report(index_stage(dataset, p.dataset(dataset), p.labels_of(dataset), p.index, root), as_json, "index")
