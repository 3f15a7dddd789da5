"""The modality registry. Each modality registers itself in its own file; `get(name)` imports
`mer_pipeline.modalities.<name>` on first use, so running one modality loads (and its cache key hashes) only its
own code."""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from mer_pipeline.errors import UserError
from mer_pipeline.modalities.base import KeyFrames
from mer_pipeline.registry import Registry


@dataclass(frozen=True)
class Modality:
    """`compute(clips, keys, params) -> list of raw results (C', H, W)`, batched over clips; `images` names the
    3-channel images cut from the raw result, as (store array name, channel slice); `uses_apex`: whether the result
    depends on the apex (then the apex choice, modalities.apex, is part of each sample's key)."""

    name: str
    compute: Callable[[list[torch.Tensor], list[KeyFrames], object], list[torch.Tensor]]
    images: tuple[tuple[str, slice], ...] = (("image", slice(0, 3)),)
    raw_channels: int = 3
    uses_apex: bool = True


MODALITIES: Registry[Modality] = Registry("modality")


def register(modality: Modality) -> Modality:
    return MODALITIES.register(modality.name)(modality)


def per_clip(fn: Callable[[torch.Tensor, KeyFrames], torch.Tensor]):
    """A batched compute from a one-clip function."""

    def compute(clips, keys, params):
        return [fn(c, k) for c, k in zip(clips, keys)]

    return compute


def module_of(name: str) -> str:
    return f"{__package__}.{name}"


def get(name: str) -> Modality:
    """The modality registered by `mer_pipeline/modalities/<name>.py`."""
    if name not in MODALITIES and name.isidentifier():
        try:
            importlib.import_module(module_of(name))
        except ModuleNotFoundError as exc:
            if exc.name != module_of(name):
                raise
    if name not in MODALITIES:
        raise UserError(f"unknown modality {name!r} (known: {', '.join(known())})")
    return MODALITIES.get(name)


def known() -> list[str]:
    """Every modality in the package (imports them all; for messages and listings only)."""
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        importlib.import_module(module_of(info.name))
    return MODALITIES.names()
