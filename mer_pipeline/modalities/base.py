"""What every modality shares: the clip tensor convention and weighted temporal sums.

Convention: a clip is a float tensor (T, C, H, W) of frames onset..offset, values in [0, 1]; key frames are 0-based
indices into T (onset = 0, offset = T - 1). Modality functions are pure: no I/O, no device choice; device and dtype
follow the input.
"""

import torch

from mer_pipeline.store.records import KeyFrames

__all__ = ["KeyFrames", "accumulate", "check_clip", "clip_from_frames", "weighted_sum"]


def check_clip(clip: torch.Tensor, keys: KeyFrames | None = None) -> None:
    if clip.ndim != 4 or not clip.is_floating_point():
        raise ValueError(f"expected a float clip (T, C, H, W), got {tuple(clip.shape)} {clip.dtype}")
    if keys is not None and not 0 <= keys.onset <= keys.apex <= keys.offset < clip.shape[0]:
        raise ValueError(f"key frames {keys} do not fit a clip of {clip.shape[0]} frames")


def weighted_sum(clip: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """sum_t alpha_t * I_t. clip (T, C, H, W), alpha (T,) -> (C, H, W), in the clip's dtype.

    Accumulated in float64 one frame after another (t = 1..T), with elementwise operations only: every partial sum
    is rounded the same way on any CPU or GPU, so the result is the same bytes everywhere. (A BLAS tensordot picks its
    summation order by CPU; for 8-bit frames and integer weights, as MESTI and Active Image have, every partial
    sum here is exact.)
    """
    return accumulate(clip, lambda t: clip[t].double() * float(alpha[t]))


def accumulate(clip: torch.Tensor, term) -> torch.Tensor:
    """sum_t term(t) over t = 0..T-1 in float64, in temporal order (see weighted_sum), in the clip's dtype."""
    total = torch.zeros(clip.shape[1:], dtype=torch.float64, device=clip.device)
    for t in range(clip.shape[0]):
        total += term(t)
    return total.to(clip.dtype)


def clip_from_frames(frames: torch.Tensor) -> torch.Tensor:
    """Stored frames (T, H, W, C) uint8 -> clip (T, C, H, W) float32 in [0, 1] on the same device.

    The layout change happens on uint8 (4x less memory traffic) so the float clip is contiguous and the weighted
    sums are a single matrix-vector product.
    """
    if frames.dtype != torch.uint8 or frames.ndim != 4:
        raise ValueError(f"expected (T, H, W, C) uint8 frames, got {tuple(frames.shape)} {frames.dtype}")
    return frames.permute(0, 3, 1, 2).contiguous().float().div_(255)  # (T, H, W, C) -> (T, C, H, W)
