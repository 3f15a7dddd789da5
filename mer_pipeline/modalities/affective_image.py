"""Affective (motion) Image — a RECONSTRUCTION, not the authors' method.

AffectiveNet (Verma et al. 2021) describes the Affective Image as accumulating the rapid, short-lived variations of
a clip into one response, but publishes neither a formula nor code. We implement a documented stand-in: the
accumulated absolute frame-to-frame change, AffI = sum_{t=2..T} |I_t - I_{t-1}|, per channel. It is zero for a
static clip, grows with both the amplitude and the number of changes, and is registered under its own name so it
can be replaced when a reference implementation appears.
"""

import torch

from mer_pipeline.modalities.base import KeyFrames, accumulate, check_clip
from mer_pipeline.modalities.registry import Modality, per_clip, register


def affective_image(clip: torch.Tensor, keys: KeyFrames) -> torch.Tensor:
    """clip (T, C, H, W) float -> (C, H, W), non-negative."""
    check_clip(clip, keys)
    return accumulate(clip[1:], lambda t: (clip[t + 1].double() - clip[t].double()).abs())  # over T-1 changes


register(Modality("affective_image", per_clip(affective_image), uses_apex=False))
