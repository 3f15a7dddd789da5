"""Training commands: train, evaluate, report."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from mer_pipeline.evaluation.job import report_job
from mer_pipeline.training.job import evaluate_job, train_job
from mer_pipeline.cli.common import JsonOpt, ParamsOpt, report
from mer_pipeline.config import load_params

ExperimentOpt = Annotated[str, typer.Option("--experiment", "-e", help="Experiment group (or one expanded experiment) from params.yaml `experiments`.")]


def train(
    experiment: ExperimentOpt,
    device: Annotated[Optional[str], typer.Option("--device", help="cpu, cuda or auto; overrides params.")] = None,
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Train and evaluate an experiment (LOSO or 90/10, fixed epochs, no test-fold selection)."""
    result = train_job(load_params(params), experiment, device)
    for r in result["experiments"]:
        report(r, False, "trained")
    if as_json:
        report(result, True, "train")


def evaluate(experiment: ExperimentOpt, params: ParamsOpt = Path("params.yaml"), as_json: JsonOpt = False) -> None:
    """Re-score an experiment's saved predictions: ACC, UF1, UAR pooled over folds, and per fold."""
    report(evaluate_job(load_params(params), experiment), as_json, "evaluate")


def report_(
    out: Annotated[Path, typer.Option("--out", help="Folder for report.md, report.html and figures.")] = Path("reports/report"),
    params: ParamsOpt = Path("params.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """Write the Markdown and HTML report: paper-layout tables beside the paper's numbers, confusion matrices,
    gradient-attention maps."""
    report(report_job(load_params(params), out), as_json, "report")


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(evaluate)
    app.command("report")(report_)
