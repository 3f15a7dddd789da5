"""DVC stage: `mer-pipeline check` (see its --help)."""

from mer_pipeline.cli import check
from mer_pipeline.cli.common import run_stage

if __name__ == "__main__":
    run_stage(check.check)
