"""`mer-pipeline synth`."""

from pathlib import Path

from mer_pipeline.cli.common import JsonOpt, ParamsOpt, load, report


def synth(params: ParamsOpt = Path("params.yaml"), as_json: JsonOpt = False) -> None:
    """Generate the synthetic dataset (CASME II layout, known ground truth) from params `synth`."""
    from mer_pipeline.synth.generate import synth_stage

    report(synth_stage(load(params).synth), as_json, "synth")
