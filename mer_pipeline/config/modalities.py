"""The `modalities` section: output, image size, device, batching, and each modality's own params, typed.

A modality's params are built when params.yaml is loaded, so a misspelt flow setting fails then, not when flow
runs. Modalities with solver settings name their params type in MODALITY_PARAMS; every other modality takes
MapParams (its image mapping only).
"""

from dataclasses import dataclass, field, fields

from mer_pipeline.config.base import build, check_choice, check_ranges
from mer_pipeline.errors import UserError

SCALINGS = ("unit", "signed", "positive", "flow")
# What each channel of a modality image holds, by its scaling (the augmentation treats each kind its own way).
CHANNEL_KINDS = {
    "unit": ("plain",) * 3,
    "signed": ("signed",) * 3,
    "positive": ("positive",) * 3,
    "flow": ("flow_u", "flow_v", "strain"),
}


@dataclass(frozen=True)
class MapParams:
    """Params of a modality without solver settings: its image mapping (see modalities/mapping.py)."""

    scaling: str
    percentile: float = 99.5

    def __post_init__(self):
        if self.scaling not in SCALINGS or self.scaling == "flow":
            raise UserError(f"scaling must be unit, signed or positive, got {self.scaling!r}")
        if not 50 <= self.percentile <= 100:
            raise UserError(f"percentile must be in [50, 100], got {self.percentile}")

    def mapping(self) -> dict:
        return {"scaling": self.scaling, "percentile": self.percentile}


@dataclass(frozen=True)
class TVL1Params:
    """tau: dual step; lam: data weight; theta: coupling; scales/zoom: pyramid; warps per scale; iterations per warp
    at the finest scale, coarse_iterations at the coarser ones (the torch solver; OpenCV's has one count); median:
    side of the median filter applied to the flow at each warp (1: none); compile: run the primal-dual iteration
    through torch.compile (the torch solver; floats differ from the eager ones in the last bits)."""

    tau: float = 0.25
    lam: float = 0.15
    theta: float = 0.3
    scales: int = 4
    zoom: float = 0.5
    warps: int = 5
    iterations: int = 30
    coarse_iterations: int = 10
    median: int = 5
    compile: bool = False


@dataclass(frozen=True)
class FlowParams(TVL1Params):
    """The TV-L1 settings plus the solver choice; the mapping to an image uses fixed scales so magnitudes compare
    across clips."""

    method: str = "torch"  # torch | opencv
    flow_max_px: float = 4.0  # |u|, |v| mapped to [0, 1] as 0.5 + 0.5 u / flow_max_px
    strain_max: float = 0.5  # strain mapped to [0, 1] as strain / strain_max

    def __post_init__(self):
        check_choice("flow method", self.method, ("torch", "opencv"))
        for name in ("scales", "warps", "iterations", "coarse_iterations"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise UserError(f"optical_flow.{name} must be an integer >= 1, got {getattr(self, name)!r}")
        # tau above 1/4 breaks the dual step's stability bound: the flow diverges to huge values
        check_ranges(
            "modalities.params.optical_flow",
            self,
            {
                "tau": "(0, 0.25]",
                "lam": "(0, 100]",
                "theta": "(0, 10]",
                "zoom": "(0, 1)",
                "scales": "[1, 10]",
                "warps": "[1, 50]",
                "iterations": "[1, 1000]",
                "coarse_iterations": "[1, 1000]",
                "median": "[1, 15]",
                "flow_max_px": "(0, 100]",
                "strain_max": "(0, 10]",
            },
        )
        if self.median < 1 or self.median % 2 == 0:
            raise UserError(f"optical_flow.median must be an odd number >= 1, got {self.median}")

    def mapping(self) -> dict:
        return {"scaling": "flow", "flow_max_px": self.flow_max_px, "strain_max": self.strain_max}

    def solver(self) -> TVL1Params:
        return TVL1Params(**{f.name: getattr(self, f.name) for f in fields(TVL1Params)})


MODALITY_PARAMS: dict[str, type] = {"optical_flow": FlowParams}
APEX_CHOICES = ("annotated", "middle", "spotted")  # annotated: the index's apex (the middle where it repaired one)


def split_store_name(name: str) -> tuple[str, str | None]:
    """A modality store's name -> (modality, apex choice or None for the dataset's): `mesti-spotted` is MESTI from the
    spotted apex, `mesti` MESTI from the apex `modalities.apex` gives the dataset."""
    base, _, apex = name.partition("-")
    if apex and apex not in APEX_CHOICES:
        raise UserError(f"modality store {name!r}: the part after '-' must be one of {', '.join(APEX_CHOICES)}")
    return base, apex or None


# The stores `dvc repro` builds for each dataset besides one per registered modality (dvc.yaml has a stage group
# for each): MESTI from the spotted and from the middle apex, for the apex experiments.
APEX_VARIANT_STORES = ("mesti-spotted", "mesti-middle")

# Training inputs that are a second image of a modality store: name -> (store, image array).
DERIVED_INPUTS = {"optical_flow_apex_offset": ("optical_flow", "image_apex_offset")}


def input_store(modality: str) -> tuple[str, str]:
    """(modality store name, image array) of a training input."""
    return DERIVED_INPUTS.get(modality, (modality, "image"))


@dataclass(frozen=True)
class ModalitiesParams:
    """Modality generation: output, image size, device, batching, and each modality's own params by name
    (plain mappings are built into MapParams / FlowParams here)."""

    out: str = "data/modalities"
    size: int = 224
    device: str = "auto"
    batch_clips: int = 8
    names: tuple[str, ...] = ()
    params: dict[str, MapParams | FlowParams] = field(default_factory=dict)
    apex: dict[str, str] = field(default_factory=dict)  # dataset -> apex choice; absent: annotated

    def __post_init__(self):
        for dataset, choice in self.apex.items():
            check_choice(f"modalities.apex.{dataset}", choice, APEX_CHOICES)
        check_choice("modalities.device", self.device.split(":")[0], ("auto", "cpu", "cuda"))
        check_ranges("modalities", self, {"size": "[16, 1024]", "batch_clips": "[1, 1024]"})
        typed = {name: self._typed(name, value) for name, value in self.params.items()}
        object.__setattr__(self, "params", typed)
        missing = [n for n in self.names if split_store_name(n)[0] not in typed]
        if missing:
            raise UserError(f"params modalities.params has no entry for {', '.join(map(repr, missing))}")

    @staticmethod
    def _typed(name: str, value):
        kind = MODALITY_PARAMS.get(name, MapParams)
        if isinstance(value, kind):
            return value
        try:
            return build(kind, value, f"modalities.params.{name}")
        except UserError as err:
            text = str(err)
            raise UserError(
                text if text.startswith("params ") else f"params modalities.params.{name}: {text}"
            ) from None

    def of(self, name: str) -> MapParams | FlowParams:
        """The params of modality `name` or of a store of it (`mesti-spotted`); one-line error when params.yaml has
        none."""
        name = split_store_name(name)[0]
        if name not in self.params:
            raise UserError(f"params modalities.params has no entry for {name!r}")
        return self.params[name]

    def apex_of(self, store: str, dataset: str) -> str:
        """The apex choice of a store of `dataset`: its name's suffix, else modalities.apex[dataset], else annotated."""
        return split_store_name(store)[1] or self.apex.get(dataset, "annotated")
