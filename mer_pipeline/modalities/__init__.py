"""Input modalities, registered by name. Each is one file with one pure function clip (T, C, H, W) -> (C', H, W).

A registry entry says how to call the function with its params and how its result becomes image(s).
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch

from mer_pipeline.modalities.active_image import active_image
from mer_pipeline.modalities.affective_image import affective_image
from mer_pipeline.modalities.apex_frame import apex_frame
from mer_pipeline.modalities.base import KeyFrames
from mer_pipeline.modalities.dynamic_image import dynamic_image
from mer_pipeline.modalities.mesti import mesti
from mer_pipeline.modalities.optical_flow import FlowParams, flow_pairs
from mer_pipeline.errors import UserError
from mer_pipeline.modalities.mapping import SCALINGS
from mer_pipeline.registry import Registry


@dataclass(frozen=True)
class MapParams:
    """Params of a modality without solver settings: its image mapping (see mapping.py)."""

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
class Modality:
    """`compute(clips, keys, params) -> list of raw results (C', H, W)`, batched over clips; `images` names the
    3-channel images cut from the raw result, as (store array name, channel slice)."""

    name: str
    params_type: type
    compute: Callable[[list[torch.Tensor], list[KeyFrames], object], list[torch.Tensor]]
    images: tuple[tuple[str, slice], ...] = (("image", slice(0, 3)),)
    raw_channels: int = 3
    code: tuple[str, ...] = ()  # its own source files in this package (for cache keys)


def _per_clip(fn):
    def compute(clips, keys, params):
        return [fn(c, k) for c, k in zip(clips, keys)]

    return compute


def _flow_batched(clips, keys, params: FlowParams):
    """All clips' onset->apex and apex->offset pairs in one solver call (equal frame sizes within a store)."""
    first = torch.stack([c[i] for c, k in zip(clips, keys) for i in (k.onset, k.apex)])
    second = torch.stack([c[i] for c, k in zip(clips, keys) for i in (k.apex, k.offset)])
    out = flow_pairs(first, second, params)  # (2N, 3, H, W)
    return list(out.reshape(len(clips), 6, *out.shape[-2:]))


MODALITIES: Registry[Modality] = Registry("modality")
for _m in (
    Modality("apex_frame", MapParams, _per_clip(apex_frame), code=("apex_frame.py",)),
    Modality("mesti", MapParams, _per_clip(mesti), code=("mesti.py",)),
    Modality("dynamic_image", MapParams, _per_clip(dynamic_image), code=("dynamic_image.py",)),
    Modality("active_image", MapParams, _per_clip(active_image), code=("active_image.py",)),
    Modality("affective_image", MapParams, _per_clip(affective_image), code=("affective_image.py",)),
    Modality("optical_flow", FlowParams, _flow_batched,
             images=(("image", slice(0, 3)), ("image_apex_offset", slice(3, 6))), raw_channels=6,
             code=("optical_flow.py", "tvl1.py")),
):
    MODALITIES.register(_m.name)(_m)
