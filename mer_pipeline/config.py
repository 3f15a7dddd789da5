"""Config is data: one frozen dataclass per params.yaml section, built so that an unknown key fails loudly.

Library functions take these objects; only entry points (CLI, stages) read params.yaml.
"""

import dataclasses
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from mer_pipeline.errors import UserError

C = TypeVar("C")


@dataclass(frozen=True)
class SynthParams:
    """The embedded synthetic dataset (CASME II layout) generated from skimage's astronaut photograph."""

    out: str = "data/synthetic"
    seed: int = 0
    subjects: int = 4
    clips_per_class: int = 2
    classes: tuple[str, ...] = ("happiness", "surprise", "disgust", "repression")
    frames: int = 24
    image_size: int = 320
    amplitude_px: float = 3.0
    noise_sigma: float = 2.0
    drift_px: float = 0.4
    flicker: float = 0.02
    jpeg_quality: int = 95


@dataclass(frozen=True)
class DatasetParams:
    """Where one dataset lives and which adapter and label table read it.

    `frames_dir` and `sheet` are relative to `root`; left empty, the adapter finds them by their distributed names.
    """

    adapter: str
    root: str
    fps: float
    labels: str
    frames_dir: str = ""
    sheet: str = ""


@dataclass(frozen=True)
class LabelTable:
    """Emotion -> class mappings of one dataset (emotions are lower-cased before lookup)."""

    emotions: tuple[str, ...]
    three_class: dict[str, str]
    five_class: dict[str, str] = field(default_factory=dict)
    five_class_names: tuple[str, ...] = ()


THREE_CLASS_NAMES = ("negative", "positive", "surprise")


@dataclass(frozen=True)
class IndexParams:
    out: str = "data/index"
    verify_frames: bool = True


@dataclass(frozen=True)
class FacesParams:
    """Face alignment and equalisation; eye positions are fractions of the output size."""

    out: str = "data/faces"
    reference: str = "onset"
    size: int = 224
    eye_distance: float = 0.38
    eye_y: float = 0.38
    equalise: str = "clahe"
    clahe_clip: float = 2.0
    clahe_tiles: int = 8
    min_detection_confidence: float = 0.5

    def __post_init__(self):
        check_choice("faces.reference", self.reference, ("onset", "apex"))
        check_choice("faces.equalise", self.equalise, ("none", "global", "clahe"))
        if self.size < 32:
            raise UserError(f"faces.size must be at least 32, got {self.size}")
        if not 0.1 <= self.eye_distance <= 0.8 or not 0.1 <= self.eye_y <= 0.7:
            raise UserError("faces.eye_distance must be in [0.1, 0.8] and faces.eye_y in [0.1, 0.7]")


@dataclass(frozen=True)
class ModalitiesParams:
    """Modality generation: output, image size, device, batching, and each modality's own params by name."""

    out: str = "data/modalities"
    size: int = 224
    device: str = "auto"
    batch_clips: int = 8
    names: tuple[str, ...] = ()
    params: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self):
        check_choice("modalities.device", self.device.split(":")[0], ("auto", "cpu", "cuda"))
        if self.size < 16 or self.batch_clips < 1:
            raise UserError("modalities.size must be >= 16 and modalities.batch_clips >= 1")


@dataclass(frozen=True)
class CacheParams:
    """The shared cache: a local path, a network-filesystem path or an fsspec URL; empty = no shared cache.
    The environment variables MER_PIPELINE_CACHE (url) and MER_PIPELINE_CACHE_OPTIONS (JSON) override them."""

    url: str = ""
    storage_options: dict[str, Any] = field(default_factory=dict)

    def resolved(self) -> "CacheParams":
        import os

        url = os.environ.get("MER_PIPELINE_CACHE", self.url)
        options = self.storage_options
        if os.environ.get("MER_PIPELINE_CACHE_OPTIONS"):
            try:
                options = json.loads(os.environ["MER_PIPELINE_CACHE_OPTIONS"])
            except json.JSONDecodeError:
                raise UserError("MER_PIPELINE_CACHE_OPTIONS is not valid JSON") from None
        return CacheParams(url, options)


@dataclass(frozen=True)
class Scale:
    """Where per-clip tasks run: in this process (default), a local dask cluster of `workers` processes, or an
    existing dask scheduler at `scheduler`."""

    workers: int = 0
    scheduler: str = ""


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UserError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: params file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of sections at top level")
    return data


def build(cls: type[C], data: Any, where: str) -> C:
    """Build dataclass `cls` from a mapping, failing on unknown or missing keys and on wrong types."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError(f"params {where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise UserError(f"params {where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(names))})")
    kwargs = {k: _coerce(hints[k], v, f"{where}.{k}") for k, v in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise UserError(f"params {where}: {exc}") from None


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise UserError(f"params {where}: expected a list, got {value!r}")
        return tuple(value)
    if origin is dict:
        if not isinstance(value, dict):
            raise UserError(f"params {where}: expected a mapping, got {value!r}")
        return {str(k): v for k, v in value.items()}
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and not isinstance(value, hint):
        raise UserError(f"params {where}: expected {hint.__name__}, got {value!r}")
    if hint is int and isinstance(value, bool):
        raise UserError(f"params {where}: expected int, got {value!r}")
    return value


def section(params: dict[str, Any], name: str, cls: type[C]) -> C:
    return build(cls, params.get(name), name)


def dataset_params(params: dict[str, Any], name: str) -> DatasetParams:
    table = params.get("datasets") or {}
    if name not in table:
        raise UserError(f"unknown dataset {name!r} (params.yaml datasets: {', '.join(sorted(table)) or 'none'})")
    return build(DatasetParams, table[name], f"datasets.{name}")


def label_table(params: dict[str, Any], name: str) -> LabelTable:
    table = params.get("labels") or {}
    if name not in table:
        raise UserError(f"no label table {name!r} in params.yaml labels")
    labels = build(LabelTable, table[name], f"labels.{name}")
    bad3 = sorted(set(labels.three_class.values()) - set(THREE_CLASS_NAMES))
    bad5 = sorted(set(labels.five_class.values()) - set(labels.five_class_names))
    unknown = sorted(set(labels.three_class) | set(labels.five_class) - set(labels.emotions))
    unknown = [e for e in unknown if e not in labels.emotions]
    if bad3 or bad5 or unknown:
        raise UserError(
            f"params labels.{name}: classes {bad3 + bad5} are not declared class names"
            if bad3 or bad5
            else f"params labels.{name}: mapped emotions {unknown} are not in its emotions list"
        )
    return labels


def params_hash(obj: Any) -> str:
    """A stable short hash of a params object (dataclass or plain data)."""
    if dataclasses.is_dataclass(obj):
        obj = dataclasses.asdict(obj)
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
