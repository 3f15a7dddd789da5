"""DVC stage: one modality store of one dataset (arguments: --dataset NAME --modality NAME)."""

from mer_pipeline.cli import modalities
from mer_pipeline.cli.common import run_stage

if __name__ == "__main__":
    run_stage(modalities.modalities)
