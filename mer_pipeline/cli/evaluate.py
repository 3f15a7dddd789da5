"""`mer-pipeline evaluate`."""

from pathlib import Path

from mer_pipeline.cli.common import JsonOpt, ParamsOpt, load, report
from mer_pipeline.cli.train import ExperimentOpt


def evaluate(experiment: ExperimentOpt, params: ParamsOpt = Path("params.yaml"), as_json: JsonOpt = False) -> None:
    """Re-score an experiment's saved predictions: ACC, UF1, UAR pooled over folds, and per fold."""
    from mer_pipeline.evaluation.report import evaluate_stage

    report(evaluate_stage(load(params), experiment), as_json, "evaluate")
