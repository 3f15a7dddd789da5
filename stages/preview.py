"""DVC stage: the modality preview PNG (paper Fig. 8 layout)."""

from mer_pipeline.cli import preview
from mer_pipeline.cli.common import run_stage

if __name__ == "__main__":
    run_stage(preview.preview)
