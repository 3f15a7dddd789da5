"""The synth stage: the synthetic dataset from params `synth`."""

from pathlib import Path

from mer_pipeline.config import SynthParams
from mer_pipeline.progress import bar
from mer_pipeline.synth.generate import generate


def synth_job(params: SynthParams) -> dict:
    clips = generate(params, Path(params.out), progress=bar("synth clips"))
    return {"out": params.out, "clips": len(clips), "subjects": params.subjects}
