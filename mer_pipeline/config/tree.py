"""The whole params.yaml as one typed tree, loaded and validated once at the edge (CLI, stages).

Every section is built here, so an unknown key, a misspelt modality setting, a label mapping to an undeclared
class or an experiment with a bad protocol fails when params are loaded, with the key's path, in one line.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mer_pipeline.config.base import build, check_ranges, read_yaml
from mer_pipeline.config.modalities import ModalitiesParams
from mer_pipeline.config.sections import (
    THREE_CLASS_NAMES,
    CacheParams,
    DatasetParams,
    FacesParams,
    IndexParams,
    LabelTable,
    PipelineParams,
    SpottingParams,
    SynthParams,
)
from mer_pipeline.config.training import ExperimentParams, TrainParams, expand_experiments
from mer_pipeline.errors import UserError

SECTIONS = (
    "pipeline",
    "synth",
    "datasets",
    "labels",
    "index",
    "faces",
    "spotting",
    "cache",
    "modalities",
    "train",
    "experiments",
)


def label_table(data: dict[str, Any], name: str) -> LabelTable:
    """Build labels.<name> and check that it maps only listed emotions to declared classes."""
    labels = build(LabelTable, data, f"labels.{name}")
    bad = sorted(set(labels.three_class.values()) - set(THREE_CLASS_NAMES)) + sorted(
        set(labels.five_class.values()) - set(labels.five_class_names)
    )
    if bad:
        raise UserError(f"params labels.{name}: classes {bad} are not declared class names")
    unknown = sorted((set(labels.three_class) | set(labels.five_class)) - set(labels.emotions))
    if unknown:
        raise UserError(f"params labels.{name}: mapped emotions {unknown} are not in its emotions list")
    return labels


@dataclass(frozen=True)
class Params:
    """params.yaml, typed. `experiments` maps each group to its expanded experiments (name -> params)."""

    pipeline: PipelineParams = field(default_factory=PipelineParams)
    synth: SynthParams = field(default_factory=SynthParams)
    datasets: dict[str, DatasetParams] = field(default_factory=dict)
    labels: dict[str, LabelTable] = field(default_factory=dict)
    index: IndexParams = field(default_factory=IndexParams)
    faces: FacesParams = field(default_factory=FacesParams)
    spotting: SpottingParams = field(default_factory=SpottingParams)
    cache: CacheParams = field(default_factory=CacheParams)
    modalities: ModalitiesParams = field(default_factory=ModalitiesParams)
    train: TrainParams = field(default_factory=TrainParams)
    experiments: dict[str, dict[str, ExperimentParams]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Params":
        unknown = sorted(set(data) - set(SECTIONS))
        if unknown:
            raise UserError(f"params: unknown section(s) {', '.join(unknown)} (known: {', '.join(SECTIONS)})")
        labels = {n: label_table(v, n) for n, v in _mapping(data, "labels").items()}
        datasets = {n: build(DatasetParams, v, f"datasets.{n}") for n, v in _mapping(data, "datasets").items()}
        for name, d in datasets.items():
            check_ranges(f"datasets.{name}", d, {"fps": "(0, 10000]"})
            if d.labels not in labels:
                raise UserError(f"params datasets.{name}: no label table {d.labels!r} in labels")
        return cls(
            pipeline=build(PipelineParams, data.get("pipeline"), "pipeline"),
            synth=build(SynthParams, data.get("synth"), "synth"),
            datasets=datasets,
            labels=labels,
            index=build(IndexParams, data.get("index"), "index"),
            faces=build(FacesParams, data.get("faces"), "faces"),
            spotting=build(SpottingParams, data.get("spotting"), "spotting"),
            cache=build(CacheParams, data.get("cache"), "cache"),
            modalities=build(ModalitiesParams, data.get("modalities"), "modalities"),
            train=build(TrainParams, data.get("train"), "train"),
            experiments={g: expand_experiments({g: spec}) for g, spec in _mapping(data, "experiments").items()},
        )

    @classmethod
    def load(cls, path: str | Path = "params.yaml") -> "Params":
        return cls.from_dict(read_yaml(path))

    def dataset(self, name: str) -> DatasetParams:
        if name not in self.datasets:
            known = ", ".join(sorted(self.datasets)) or "none"
            raise UserError(f"unknown dataset {name!r} (params.yaml datasets: {known})")
        return self.datasets[name]

    def labels_of(self, dataset: str) -> LabelTable:
        return self.labels[self.dataset(dataset).labels]

    def experiments_named(self, name: str) -> tuple[str, dict[str, ExperimentParams]]:
        """(group, experiments) for a group name, or for one expanded experiment's full name."""
        if name in self.experiments:
            return name, self.experiments[name]
        for group, table in self.experiments.items():
            if name in table:
                return group, {name: table[name]}
        raise UserError(f"unknown experiment {name!r} (groups: {', '.join(sorted(self.experiments))})")


def _mapping(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise UserError(f"params {key}: expected a mapping, got {type(value).__name__}")
    return value
