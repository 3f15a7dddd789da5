"""Every output path of the pipeline, in one place: stages, CLI commands and tests ask here.

<index.out>/<dataset>/{clips.csv, index.json, problems.csv}
<faces.out>/<dataset>/{faces.zarr, problems.csv, quality.csv, quality.png}
<spotting.out>/<dataset>/{apexes.csv, curves.json, audit.csv, audit.png, problems.csv}
<spotting.metrics>/spotting_<dataset>.json
<spotting.curves>/<dataset>/<sha of clip id>.npz   each clip's motion curves (not a DVC output)
<modalities.out>/<dataset>/<modality>.zarr
<train.out>/<group>[/<experiment>]/{results.json, predictions.csv, train_loss.csv, checkpoint.pt}
<train.metrics>/<group>.json
<train.folds>/<group>/<experiment>/seed<seed>/fold<nnn>.npz   finished fold jobs (not a DVC output)
"""

from pathlib import Path

from mer_pipeline.config import FacesParams, IndexParams, ModalitiesParams, SpottingParams, TrainParams

INDEX_FILE = "clips.csv"
INDEX_META_FILE = "index.json"
PROBLEMS_FILE = "problems.csv"
FACES_STORE = "faces.zarr"
QUALITY_TABLE = "quality.csv"  # beside the faces store: one row per clip
QUALITY_SHEET = "quality.png"  # contact sheet, worst clips first
APEX_TABLE = "apexes.csv"


def index_dir(p: IndexParams, dataset: str) -> Path:
    return Path(p.out) / dataset


def faces_dir(p: FacesParams, dataset: str) -> Path:
    return Path(p.out) / dataset


def faces_store(p: FacesParams, dataset: str) -> Path:
    return faces_dir(p, dataset) / FACES_STORE


def spotting_dir(p: SpottingParams, dataset: str) -> Path:
    return Path(p.out) / dataset


def apex_table(p: SpottingParams, dataset: str) -> Path:
    return spotting_dir(p, dataset) / APEX_TABLE


def curves_dir(p: SpottingParams, dataset: str) -> Path:
    return Path(p.curves) / dataset


def spotting_metrics(p: SpottingParams, dataset: str) -> Path:
    return Path(p.metrics) / f"spotting_{dataset}.json"


def modalities_dir(p: ModalitiesParams, dataset: str) -> Path:
    return Path(p.out) / dataset


def modality_store(p: ModalitiesParams, dataset: str, name: str) -> Path:
    return modalities_dir(p, dataset) / f"{name}.zarr"


def experiments_dir(p: TrainParams, group: str) -> Path:
    return Path(p.out) / group


def metrics_file(p: TrainParams, group: str) -> Path:
    return Path(p.metrics) / f"{group}.json"


def folds_dir(p: TrainParams, group: str) -> Path:
    return Path(p.folds) / group
