"""Params of the train stage (`train`) and the experiment groups (`experiments`) of params.yaml."""

import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

from mer_pipeline.config.base import build, check_choice, check_ranges
from mer_pipeline.errors import UserError


@dataclass(frozen=True)
class Profile:
    """A training profile (params train.profiles.<name>): epochs, input side in px, and the training seeds."""

    epochs: int = 50
    input_size: int = 224
    seeds: tuple[int, ...] = (0,)


PROFILE_RANGES = {"epochs": "[1, 10000]", "input_size": "[32, 1024]", "seeds": "[0, inf)"}


@dataclass(frozen=True)
class TrainParams:
    """The training recipe (paper defaults).

    `profile` picks `profiles[profile]` (epochs, input_size, seeds): `cpu` for the synthetic default, `paper` for the
    paper's 50 epochs at 224 px on a GPU machine.
    """

    out: str = "reports/experiments"
    metrics: str = "reports/metrics"
    folds: str = "data/folds"  # finished fold jobs, kept across runs (resume); not a DVC output
    device: str = "auto"
    profile: str = "cpu"
    profiles: dict[str, Profile] = field(default_factory=dict)
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-4
    focal_gamma: float = 2.0
    hflip: bool = True
    rotations: tuple[float, ...] = (-10.0, -5.0, 0.0, 5.0, 10.0)
    test_fraction: float = 0.1
    split_seed: int = 0  # the 90/10 split; the same for every training seed
    seeds: tuple[int, ...] = ()  # training seeds; empty: the profile's
    save_checkpoints: str = "last"
    # auto (on CUDA) | on | off: autocast to bfloat16 (float16 + loss scaling on GPUs without it)
    mixed_precision: str = "auto"
    channels_last: str = "auto"  # auto (on CUDA) | on | off: NHWC activations
    folds_at_once: int = 1  # folds of a seed trained together, taking turns step by step (own CUDA stream each)
    # torch threads of a fold job on the CPU: float sums are split across threads, so results depend on the count;
    # fixed, a serial run, a dask worker and a colleague's machine write the same bytes (0: every core, not fixed)
    cpu_threads: int = 2

    def __post_init__(self):
        check_choice("train.profile", self.profile, tuple(self.profiles) or ("cpu",))
        check_choice("train.save_checkpoints", self.save_checkpoints, ("all", "last", "none"))
        check_choice("train.mixed_precision", self.mixed_precision, ("auto", "on", "off"))
        check_choice("train.channels_last", self.channels_last, ("auto", "on", "off"))
        if not isinstance(self.folds_at_once, int) or self.folds_at_once < 1:
            raise UserError(f"train.folds_at_once must be an integer >= 1, got {self.folds_at_once!r}")
        if not isinstance(self.cpu_threads, int) or self.cpu_threads < 0:
            raise UserError(f"train.cpu_threads must be an integer >= 0, got {self.cpu_threads!r}")
        check_ranges(
            "train",
            self,
            {
                "batch_size": "[1, 4096]",
                "lr": "(0, 10]",
                "weight_decay": "[0, 1]",
                "focal_gamma": "[0, 10]",
                "rotations": "[-180, 180]",
                "test_fraction": "(0, 1)",
                "split_seed": "[0, inf)",
                "seeds": "[0, inf)",
            },
        )
        for name, prof in self.profiles.items():  # built from params.yaml as Profile (config.base.build)
            check_ranges(f"train.profiles.{name}", prof, PROFILE_RANGES)
        if not self.run_seeds or len(set(self.run_seeds)) != len(self.run_seeds):
            raise UserError(f"train.seeds: need one or more distinct seeds, got {list(self.run_seeds)}")

    @property
    def chosen(self) -> Profile:
        """The profile `profile` names (a default Profile where none is defined)."""
        return self.profiles.get(self.profile, Profile())

    @property
    def epochs(self) -> int:
        return self.chosen.epochs

    @property
    def run_seeds(self) -> tuple[int, ...]:
        """The training seeds: train.seeds, or the profile's (3 for cpu, 5 for paper)."""
        return tuple(self.seeds) or self.chosen.seeds

    @property
    def input_size(self) -> int:
        return self.chosen.input_size


@dataclass(frozen=True)
class MEGANetParams:
    """MEGANet's switches (paper Tables V and VI): its first `blocks` Residual-Attention blocks, the parts that the
    ablations switch off, and the dropout after each block."""

    blocks: int = 3
    gradient_attention: bool = True
    residual: bool = True
    self_attention: bool = True
    dropout: float = 0.3

    def __post_init__(self):
        check_ranges("model_params", self, {"blocks": "[1, 4]", "dropout": "[0, 1)"})


@dataclass(frozen=True)
class BaselineParams:
    """A torchvision baseline's: a local state-dict file of pretrained weights (empty: trained from scratch)."""

    pretrained_path: str = ""


@dataclass(frozen=True)
class NoParams:
    """A model without params."""


# Each registered model's params (models/ registers the same names; a test keeps the two lists equal).
MODEL_PARAMS: dict[str, type] = {
    "meganet": MEGANetParams,
    "micro_attention": NoParams,
    "vgg19": BaselineParams,
    "resnet50": BaselineParams,
    "efficientnet_b0": BaselineParams,
}


ModelParams = MEGANetParams | BaselineParams | NoParams


@dataclass(frozen=True)
class ExperimentParams:
    """One experiment: a model, its input modalities (stacked along channels), the datasets (several = composite),
    the protocol (loso | holdout) and the class set (3 = MEGC 2019, 5 = the paper's 5-class tables)."""

    model: str
    modalities: tuple[str, ...]
    datasets: tuple[str, ...]
    protocol: str = "loso"
    classes: int = 3
    model_params: ModelParams | dict[str, Any] = field(default_factory=dict)  # typed at construction (below)

    def __post_init__(self):
        check_choice("experiment protocol", self.protocol, ("loso", "holdout"))
        if self.classes not in (3, 5):
            raise UserError(f"experiment classes must be 3 or 5, got {self.classes}")
        check_choice("experiment model", self.model, tuple(MODEL_PARAMS))
        if isinstance(self.model_params, dict):  # fails here, when params load, on an unknown or out-of-range key
            object.__setattr__(self, "model_params", build(MODEL_PARAMS[self.model], self.model_params, "model_params"))
        elif not isinstance(self.model_params, MODEL_PARAMS[self.model]):
            raise UserError(
                f"experiment model_params: {type(self.model_params).__name__} is not {self.model}'s "
                f"{MODEL_PARAMS[self.model].__name__}"
            )

    def model_kwargs(self) -> dict[str, Any]:
        """model_params as keyword arguments of models.create_model."""
        return asdict(self.model_params)


def expand_experiments(table: dict[str, Any]) -> dict[str, ExperimentParams]:
    """Experiment groups -> named experiments. In a group, `model`, `modalities`, `datasets` may hold lists of
    alternatives (modalities/datasets: a list of lists) and `variants` a name -> model_params table; each
    combination becomes `<group>-<model>-<modalities>-<datasets>-<variant>` (only the varying parts)."""
    out: dict[str, ExperimentParams] = {}
    for group, spec in (table or {}).items():
        spec = dict(spec)
        axes = {
            "model": spec.pop("model") if isinstance(spec.get("model"), list) else [spec.pop("model", None)],
            "modalities": _alternatives(spec.pop("modalities", None)),
            "datasets": _alternatives(spec.pop("datasets", None)),
            "variant": list((spec.pop("variants", None) or {"": {}}).items()),
        }
        base_params = spec.pop("model_params", {}) or {}
        for model, mods, sets, (variant, vparams) in itertools.product(*axes.values()):
            parts = [group]
            parts += [model] if len(axes["model"]) > 1 else []
            parts += ["+".join(mods)] if len(axes["modalities"]) > 1 else []
            parts += ["+".join(sets)] if len(axes["datasets"]) > 1 else []
            parts += [variant] if variant else []
            data = {
                **spec,
                "model": model,
                "modalities": mods,
                "datasets": sets,
                "model_params": {**base_params, **(vparams or {})},
            }
            try:
                out["-".join(parts)] = build(ExperimentParams, data, f"experiments.{group}")
            except UserError as err:  # name the group also where the experiment's own checks fail
                text = str(err).removeprefix("params ")
                raise UserError(
                    text if text.startswith("experiments.") else f"params experiments.{group}: {text}"
                ) from None
    return out


def _alternatives(value: Any) -> list[list[str]]:
    if not value:
        return [[]]
    return [list(v) for v in value] if isinstance(value[0], list) else [list(value)]
