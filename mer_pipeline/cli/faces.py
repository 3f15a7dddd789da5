"""`mer-pipeline faces`."""

from pathlib import Path

from mer_pipeline.cli.common import DatasetOpt, JsonOpt, ParamsOpt, SchedulerOpt, WorkersOpt, load, report, scale_of


def faces(
    dataset: DatasetOpt,
    workers: WorkersOpt = 0,
    scheduler: SchedulerOpt = "",
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Align and equalise the faces of an indexed dataset into its Zarr store (shared cache first, if set)."""
    from mer_pipeline.faces.task import faces_stage
    from mer_pipeline.progress import bar

    p = load(params)
    result = faces_stage(
        dataset, p.index, p.faces, p.cache, scale_of(workers, scheduler), progress=bar(f"faces {dataset}")
    )
    report(result, as_json, "faces")
