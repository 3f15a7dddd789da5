"""DVC stage: generate the synthetic dataset from params `synth`."""

from mer_pipeline.cli import synth
from mer_pipeline.cli.common import run_stage

if __name__ == "__main__":
    run_stage(synth.synth)
