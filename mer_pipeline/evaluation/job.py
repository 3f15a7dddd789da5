"""The report stage."""

from pathlib import Path

from mer_pipeline.config import ModalitiesParams


def report_job(params: dict, out: Path) -> dict:
    from mer_pipeline.config import section
    from mer_pipeline.training.params import TrainParams
    from mer_pipeline.evaluation.report import write_report

    t = section(params, "train", TrainParams)
    return write_report(Path(t.out), out, Path(section(params, "modalities", ModalitiesParams).out))
