"""`mer-pipeline report`."""

from pathlib import Path
from typing import Annotated

import typer

from mer_pipeline.cli.common import JsonOpt, ParamsOpt, load, report


def report_(
    out: Annotated[Path, typer.Option("--out", help="Folder for report.md, report.html and figures.")] = Path(
        "reports/report"
    ),
    readme: Annotated[
        list[Path] | None,
        typer.Option(
            "--readme",
            help="Also write the results table (and the "
            "spotting table) between the <!-- results:begin/end --> "
            "(<!-- spotting:begin/end -->) marks of this page; "
            "repeatable.",
        ),
    ] = None,
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Write the Markdown and HTML report: paper-layout tables beside the paper's numbers, confusion matrices,
    gradient-attention maps."""
    from mer_pipeline.evaluation.report import report_stage

    report(report_stage(load(params), out, tuple(readme or ())), as_json, "report")
