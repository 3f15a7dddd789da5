"""MESTI, paper Eq. 4 (arXiv 2509.00056): apex-centred temporal weighting of the frames.

With t = 1..T and apex index a (1-based): alpha_t = 2t - a - 1 for t <= a, alpha_t = T - 2t + a + 1 for t > a;
MESTI = sum_t alpha_t I_t. Each half's coefficients sum to zero, so a static clip gives exactly zero: the image
mapping (see mapping.py) decides how it is shown. Example T=10, a=4: [-3, -1, 1, 3, 5, 3, 1, -1, -3, -5].
"""

import torch

from mer_pipeline.modalities.base import KeyFrames, check_clip, weighted_sum
from mer_pipeline.modalities.registry import Modality, per_clip, register


def mesti_coefficients(T: int, apex: int, dtype=torch.float64) -> torch.Tensor:
    """alpha_t for t = 1..T; `apex` is the 0-based apex index (a = apex + 1). Returns (T,)."""
    t = torch.arange(1, T + 1, dtype=dtype)
    a = apex + 1
    return torch.where(t <= a, 2 * t - a - 1, T - 2 * t + a + 1)


def mesti(clip: torch.Tensor, keys: KeyFrames) -> torch.Tensor:
    """clip (T, C, H, W) float -> (C, H, W), same device and dtype."""
    check_clip(clip, keys)
    return weighted_sum(clip, mesti_coefficients(clip.shape[0], keys.apex))


register(Modality("mesti", per_clip(mesti)))
