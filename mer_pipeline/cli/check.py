"""`mer-pipeline check`: what params.yaml `pipeline` selects, checked before `dvc repro` computes anything."""

from pathlib import Path

from mer_pipeline.cli.common import JsonOpt, OutOpt, ParamsOpt, load, report


def check(
    out: OutOpt = Path("data/checked"), params: ParamsOpt = Path("params.yaml"), as_json: JsonOpt = False
) -> None:
    """Check what params.yaml `pipeline` selects (every dataset's root holds its layout, every experiment group
    exists and reads selected datasets) and write one file per selected dataset for its stages to depend on."""
    from mer_pipeline.datasets.selection import check_stage

    report(check_stage(load(params), out), as_json, "check")
