"""Options shared by the commands and the one way results are reported."""

import json
from pathlib import Path
from typing import Annotated

import typer

from mer_pipeline.progress import console

ParamsOpt = Annotated[Path, typer.Option("--params", help="params.yaml to read.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
DatasetOpt = Annotated[str, typer.Option("--dataset", "-d", help="Dataset name from params.yaml `datasets`.")]


def report(result: dict, as_json: bool, title: str) -> None:
    """Summary on stderr; with --json, the whole result on stdout."""
    problems = result.get("problems", [])
    summary = ", ".join(f"{k}={v}" for k, v in result.items() if k != "problems" and not isinstance(v, (list, dict)))
    console.print(f"[bold]{title}[/bold] {summary}", highlight=False)
    for line in problems[:20]:
        console.print(f"  [yellow]problem[/yellow] {line}", highlight=False, soft_wrap=True)
    if len(problems) > 20:
        console.print(f"  ... {len(problems) - 20} more problems in the problems.csv report")
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))


def run_stage(command) -> None:
    """Run one CLI command as a DVC stage script, with the CLI's one-line error handling."""
    import sys

    from mer_pipeline.cli import main

    app = typer.Typer(pretty_exceptions_enable=False)
    app.command()(command)
    main(app, sys.argv[1:])


WorkersOpt = Annotated[int, typer.Option("--workers", help="Run per-clip tasks on a local dask cluster of N processes.")]
SchedulerOpt = Annotated[str, typer.Option("--scheduler", help="Address of an existing dask scheduler (tcp://...).")]


def scale_of(workers: int, scheduler: str):
    from mer_pipeline.config import Scale
    from mer_pipeline.errors import UserError

    if workers < 0:
        raise UserError(f"--workers must be >= 0, got {workers}")
    return Scale(workers, scheduler)
