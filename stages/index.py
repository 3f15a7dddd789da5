"""DVC stage: index one dataset (argument: dataset name from params `datasets`)."""

from mer_pipeline.cli import index
from mer_pipeline.cli.common import run_stage

if __name__ == "__main__":
    run_stage(index.index)
