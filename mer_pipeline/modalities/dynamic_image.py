"""Dynamic Image by approximate rank pooling (Bilen et al., CVPR 2016).

alpha_t = 2(T - t + 1) - (T + 1)(H_T - H_{t-1}), H_0 = 0, H_k = sum_{i<=k} 1/i, t = 1..T. The coefficients sum to
zero. Popular ports shift the harmonic index by one, so their coefficients sum to T and leak the mean frame; this
does not.
"""

import torch

from mer_pipeline.modalities.base import KeyFrames, check_clip, weighted_sum
from mer_pipeline.modalities.registry import Modality, per_clip, register


def dynamic_image_coefficients(T: int, dtype=torch.float64) -> torch.Tensor:
    """alpha_t for t = 1..T. Returns (T,)."""
    t = torch.arange(1, T + 1, dtype=dtype)
    harmonic = torch.cat([torch.zeros(1, dtype=dtype), torch.cumsum(1.0 / t, 0)])  # H_0 .. H_T, (T + 1,)
    return 2 * (T - t + 1) - (T + 1) * (harmonic[T] - harmonic[:-1])


def dynamic_image(clip: torch.Tensor, keys: KeyFrames) -> torch.Tensor:
    """clip (T, C, H, W) float -> (C, H, W). Uses every frame; key frames are not needed."""
    check_clip(clip, keys)
    return weighted_sum(clip, dynamic_image_coefficients(clip.shape[0]))


register(Modality("dynamic_image", per_clip(dynamic_image), uses_apex=False))
