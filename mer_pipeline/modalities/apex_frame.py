"""Apex frame: the frame of greatest expression intensity, as is."""

import torch

from mer_pipeline.modalities.base import KeyFrames, check_clip, frame
from mer_pipeline.modalities.registry import Modality, per_clip, register


def apex_frame(clip: torch.Tensor, keys: KeyFrames) -> torch.Tensor:
    """Frame a of the clip. clip (T, C, H, W) -> (C, H, W)."""
    check_clip(clip, keys)
    out = frame(clip, keys.apex)  # a new tensor for a uint8 clip, a view of a float one
    return out if clip.dtype == torch.uint8 else out.clone()


register(Modality("apex_frame", per_clip(apex_frame)))
