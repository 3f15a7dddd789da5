"""DVC stage: apex spotting and the annotation audit of one dataset (argument: dataset name)."""

from mer_pipeline.cli import spot
from mer_pipeline.cli.common import run_stage

if __name__ == "__main__":
    run_stage(spot.spot)
