"""Options shared by the commands, the one way results are reported, and the one-line error handling."""

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from mer_pipeline.errors import UserError
from mer_pipeline.progress import console

ParamsOpt = Annotated[Path, typer.Option("--params", help="params.yaml to read.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
DatasetOpt = Annotated[str, typer.Option("--dataset", "-d", help="Dataset name from params.yaml `datasets`.")]
WorkersOpt = Annotated[
    int, typer.Option("--workers", help="Run per-clip tasks on a local dask cluster of N processes.")
]
SchedulerOpt = Annotated[str, typer.Option("--scheduler", help="Address of an existing dask scheduler (tcp://...).")]
DeviceOpt = Annotated[str | None, typer.Option("--device", help="cpu, cuda or auto; overrides params.")]


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


def load(path: Path):
    """params.yaml as the typed tree, validated once (one-line error on any mistake), with the shared cache the
    environment names (MER_PIPELINE_CACHE, MER_PIPELINE_CACHE_OPTIONS) in place of params `cache`: the one place
    the environment is read."""
    from dataclasses import replace

    from mer_pipeline.config import Params

    params = Params.load(path)
    return replace(params, cache=cache_from_environment(params.cache, os.environ))


def cache_from_environment(cache, environ: Mapping[str, str]):
    """params `cache` (a CacheParams) with MER_PIPELINE_CACHE and MER_PIPELINE_CACHE_OPTIONS (JSON) of `environ`
    in place of its url and storage options, where they are set."""
    from mer_pipeline.config import CacheParams

    options = cache.storage_options
    if environ.get("MER_PIPELINE_CACHE_OPTIONS"):
        try:
            options = json.loads(environ["MER_PIPELINE_CACHE_OPTIONS"])
        except json.JSONDecodeError:
            raise UserError("MER_PIPELINE_CACHE_OPTIONS is not valid JSON") from None
        if not isinstance(options, dict):
            raise UserError("MER_PIPELINE_CACHE_OPTIONS must be a JSON object (storage options by name)")
    return CacheParams(environ.get("MER_PIPELINE_CACHE", cache.url), options)


def scale_of(workers: int, scheduler: str):
    from mer_pipeline.config import Scale

    if workers < 0:
        raise UserError(f"--workers must be >= 0, got {workers}")
    return Scale(workers, scheduler)


def main(application: typer.Typer, args: list[str] | None = None) -> None:
    """Run a typer application: expected problems print one line and exit 2, without a traceback."""
    try:
        application(args=args, standalone_mode=False)
    except UserError as err:
        console.print(f"[red]error:[/red] {err}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except OSError as exc:
        if exc.filename is None:  # not about a path the user gave: a bug or the system, shown in full
            raise
        # an output whose parent is a file, a folder without write permission, a full disk: one line naming the path
        console.print(f"[red]error:[/red] {exc.filename}: {exc.strerror or exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        console.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show(file=sys.stderr)
            sys.exit(exc.exit_code)
        raise


def run_stage(command) -> None:
    """Run one command as a DVC stage script (its arguments from sys.argv), with the one-line error handling."""
    app = typer.Typer(pretty_exceptions_enable=False)
    app.command()(command)
    main(app, sys.argv[1:])


OutOpt = Annotated[Path, typer.Option("--out", help="Folder to write.")]
