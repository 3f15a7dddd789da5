"""Config is data: one frozen dataclass per params.yaml section, built so that an unknown key fails loudly, and the
whole file as one typed tree (`Params.load`). Library functions take these objects; only entry points (CLI, stages)
read params.yaml."""

from mer_pipeline.config.base import build, check_choice, params_hash, read_yaml
from mer_pipeline.config.modalities import (
    APEX_CHOICES,
    APEX_VARIANT_STORES,
    DERIVED_INPUTS,
    MODALITY_PARAMS,
    FlowParams,
    MapParams,
    ModalitiesParams,
    TVL1Params,
    input_store,
    split_store_name,
)
from mer_pipeline.config.sections import (
    THREE_CLASS_NAMES,
    CacheParams,
    DatasetParams,
    FacesParams,
    IndexParams,
    LabelTable,
    PipelineParams,
    Scale,
    SpottingParams,
    SynthParams,
)
from mer_pipeline.config.training import MODEL_PARAMS, ExperimentParams, MEGANetParams, TrainParams, expand_experiments
from mer_pipeline.config.tree import Params, label_table

__all__ = [
    "APEX_CHOICES",
    "APEX_VARIANT_STORES",
    "DERIVED_INPUTS",
    "MODALITY_PARAMS",
    "THREE_CLASS_NAMES",
    "CacheParams",
    "DatasetParams",
    "ExperimentParams",
    "MEGANetParams",
    "MODEL_PARAMS",
    "FacesParams",
    "FlowParams",
    "IndexParams",
    "LabelTable",
    "MapParams",
    "ModalitiesParams",
    "Params",
    "PipelineParams",
    "Scale",
    "SpottingParams",
    "SynthParams",
    "TVL1Params",
    "TrainParams",
    "build",
    "check_choice",
    "expand_experiments",
    "input_store",
    "label_table",
    "params_hash",
    "read_yaml",
    "split_store_name",
]
