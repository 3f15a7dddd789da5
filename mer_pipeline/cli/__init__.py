"""`mer-pipeline` console script: one thin command per stage; messages on stderr, `--json` results on stdout."""

import sys

import typer

from mer_pipeline.cli import cache, data, modalities, training
from mer_pipeline.errors import UserError
from mer_pipeline.progress import console

app = typer.Typer(
    name="mer-pipeline",
    help="Reproducible micro-expression recognition: raw datasets -> clip index -> aligned faces -> modalities.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
data.register(app)
modalities.register(app)
training.register(app)
cache.register(app)


def main(application: typer.Typer = app, args: list[str] | None = None) -> None:
    """Console entry point: expected problems print one line and exit 2, without a traceback."""
    try:
        application(args=args, standalone_mode=False)
    except UserError as err:
        console.print(f"[red]error:[/red] {err}", highlight=False, soft_wrap=True)
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
