"""Affective (motion) Image — a RECONSTRUCTION, not the authors' method.

AffectiveNet (Verma et al. 2021) describes the Affective Image as accumulating the rapid, short-lived variations of
a clip into one response, but publishes neither a formula nor code. We implement a documented stand-in: the
accumulated absolute frame-to-frame change, AffI = sum_{t=2..T} |I_t - I_{t-1}|, per channel. It is zero for a
static clip, grows with both the amplitude and the number of changes, and is registered under its own name so it
can be replaced when a reference implementation appears.
"""

import torch

from mer_pipeline.modalities.base import KeyFrames, accumulate, check_clip, frame
from mer_pipeline.modalities.registry import Modality, per_clip, register


def affective_image(clip: torch.Tensor, keys: KeyFrames) -> torch.Tensor:
    """clip (T, C, H, W) -> (C, H, W) float, non-negative. uint8 frames: an exact integer sum divided by 255 once;
    float frames: float64 in temporal order (base.weighted_sum)."""
    check_clip(clip, keys)
    if clip.dtype == torch.uint8:
        total = torch.zeros_like(clip[0], dtype=torch.int32)  # < 2^31 below 8 million frames; the frames' layout
        for t in range(1, clip.shape[0]):
            total += (clip[t].to(torch.int32) - clip[t - 1].to(torch.int32)).abs_()
        return (total.double() / 255).to(torch.float32).contiguous()
    return accumulate(clip[1:], lambda t: (frame(clip, t + 1).double() - frame(clip, t).double()).abs())


register(Modality("affective_image", per_clip(affective_image), uses_apex=False))
