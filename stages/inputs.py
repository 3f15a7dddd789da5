"""DVC stage: `mer-pipeline inputs` (see its --help)."""

from mer_pipeline.cli import inputs
from mer_pipeline.cli.common import run_stage

if __name__ == "__main__":
    run_stage(inputs.inputs)
