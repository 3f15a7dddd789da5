"""Active Image (Verma et al. 2020, OrigiNet), in its stated double-sum form.

AI = sum_j sum_{k<j} (I_j - I_k) = sum_t (2t - T - 1) I_t, t = 1..T over the temporally sorted frames. The
authors' code skips k = j - 1 and reads frames in directory (unsorted) order; this implements the formula as
written in the paper, on frames in true temporal order.
"""

import torch

from mer_pipeline.modalities.base import KeyFrames, check_clip, weighted_sum
from mer_pipeline.modalities.registry import Modality, per_clip, register


def active_image_coefficients(T: int, dtype=torch.float64) -> torch.Tensor:
    t = torch.arange(1, T + 1, dtype=dtype)
    return 2 * t - T - 1


def active_image(clip: torch.Tensor, keys: KeyFrames) -> torch.Tensor:
    """clip (T, C, H, W) float -> (C, H, W)."""
    check_clip(clip, keys)
    return weighted_sum(clip, active_image_coefficients(clip.shape[0]))


register(Modality("active_image", per_clip(active_image), uses_apex=False))
