"""DVC stage: index one dataset (argument: dataset name from params `datasets`)."""

from mer_pipeline.cli import data
from mer_pipeline.cli.common import run_stage

if __name__ == "__main__":
    run_stage(data.index)
