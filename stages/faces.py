"""DVC stage: aligned faces of one indexed dataset (argument: dataset name)."""

from mer_pipeline.cli import faces
from mer_pipeline.cli.common import run_stage

if __name__ == "__main__":
    run_stage(faces.faces)
