"""The index stage: one dataset's clip index and problems report under `<index.out>/<dataset>/`."""

from dataclasses import replace
from pathlib import Path

from mer_pipeline.config import DatasetParams, IndexParams, LabelTable
from mer_pipeline.datasets import ADAPTERS
from mer_pipeline.datasets.index import build_index, index_meta, write_index
from mer_pipeline.problems import ProblemLog
from mer_pipeline.progress import bar


def index_job(dataset: str, dparams: DatasetParams, labels: LabelTable, iparams: IndexParams, root: str | None = None) -> dict:
    """Index `dataset` (root from params unless `root` is given) into `<index.out>/<dataset>/`."""
    if root:
        dparams = replace(dparams, root=root)
    log = ProblemLog(dataset)
    records = build_index(dataset, ADAPTERS.get(dparams.adapter), dparams, labels, log, iparams.verify_frames,
                          progress=bar(f"index {dataset}"))
    out = Path(iparams.out) / dataset
    write_index(out, records, log, index_meta(dataset, dparams, labels))
    return {"dataset": dataset, "out": str(out), "clips": len(records), "problems": [p.line() for p in log.items],
            "excluded": log.count("excluded"), "repaired": log.count("repaired")}
