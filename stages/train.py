"""DVC stage: train and evaluate one experiment group (argument: --experiment NAME)."""

from mer_pipeline.cli import train
from mer_pipeline.cli.common import run_stage

if __name__ == "__main__":
    run_stage(train.train)
