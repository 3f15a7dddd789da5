"""A batch of clips -> modality samples: frames to the clip tensor, the modality's compute, the image mapping.

This module's import closure plus the modality's own file is a modality sample's code identity (identity.py).
"""

from functools import cache

import numpy as np
import torch

from mer_pipeline.config import FlowParams, MapParams
from mer_pipeline.identity import code_version
from mer_pipeline.modalities.base import KeyFrames, clip_from_frames
from mer_pipeline.modalities.mapping import to_image
from mer_pipeline.modalities.registry import get, module_of

LIBRARIES = ("torch",)


@cache
def modality_code_version(name: str) -> str:
    get(name)  # fails for an unknown name before any hashing
    return code_version(__name__, module_of(name), libraries=LIBRARIES)


def compute_samples(
    name: str,
    params: MapParams | FlowParams,
    frames: list[np.ndarray],
    keys: list[KeyFrames],
    size: int,
    device: torch.device,
) -> list[dict[str, np.ndarray]]:
    """Samples of modality `name` for a batch of clips.

    Args:
        frames: per clip (T, H, W, 3) uint8 aligned faces (every clip of a batch the same H, W).
        keys: per clip, key frames as indices into its frames.
        size: side of the stored images.

    Returns:
        Per clip, the arrays of a sample: each image (3, size, size) uint8 by name, and "raw" (C', H, W) float32.
    """
    modality = get(name)
    clips = [clip_from_frames(torch.from_numpy(f).to(device)) for f in frames]  # (T, 3, H, W) uint8 views
    with torch.no_grad():
        raws = modality.compute(clips, keys, params)
    out = []
    for raw in raws:
        images = {n: to_image(raw[sl], size, **params.mapping()).cpu().numpy() for n, sl in modality.images}
        out.append({**images, "raw": raw.float().cpu().numpy()})
    return out
