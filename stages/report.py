"""DVC stage: the experiments report (Markdown, HTML, figures)."""

from mer_pipeline.cli import report
from mer_pipeline.cli.common import run_stage

if __name__ == "__main__":
    run_stage(report.report_)
