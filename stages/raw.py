"""DVC stage: `mer-pipeline raw` (see its --help)."""

from mer_pipeline.cli import raw
from mer_pipeline.cli.common import run_stage

if __name__ == "__main__":
    run_stage(raw.raw)
