"""The `mer-pipeline` application: every command module's command, and the cache group."""

import typer

from mer_pipeline.cli import (
    cache,
    check,
    common,
    evaluate,
    faces,
    index,
    inputs,
    modalities,
    preview,
    raw,
    report,
    spot,
    synth,
    train,
)

app = typer.Typer(
    name="mer-pipeline",
    help="Reproducible micro-expression recognition: raw datasets -> clip index -> aligned faces -> modalities.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
for command in (
    check.check,
    raw.raw,
    synth.synth,
    index.index,
    faces.faces,
    spot.spot,
    modalities.modalities,
    preview.preview,
    inputs.inputs,
    train.train,
    evaluate.evaluate,
):
    app.command()(command)
app.command("report")(report.report_)
app.add_typer(cache.app, name="cache")


def main(application: typer.Typer = app, args: list[str] | None = None) -> None:
    """Console entry point."""
    common.main(application, args)


if __name__ == "__main__":
    main()
