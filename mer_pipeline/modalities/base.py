"""What every modality shares: the clip tensor convention and weighted temporal sums.

Convention: a clip is a tensor (T, C, H, W) of frames onset..offset, either uint8 as the faces store holds them
(intensity = value / 255; what the pipeline passes, a view of the stored frames) or float in [0, 1] (tests, hand
examples). Results are float: the clip's dtype, float32 for a uint8 clip. Key frames are 0-based indices into T
(onset = 0, offset = T - 1). Modality functions are pure: no I/O, no device choice; device follows the input.
"""

import torch

from mer_pipeline.store.records import KeyFrames

__all__ = ["KeyFrames", "accumulate", "check_clip", "clip_from_frames", "frame", "result_dtype", "weighted_sum"]


def check_clip(clip: torch.Tensor, keys: KeyFrames | None = None) -> None:
    if clip.ndim != 4 or not (clip.is_floating_point() or clip.dtype == torch.uint8):
        raise ValueError(f"expected a uint8 or float clip (T, C, H, W), got {tuple(clip.shape)} {clip.dtype}")
    if keys is not None and not 0 <= keys.onset <= keys.apex <= keys.offset < clip.shape[0]:
        raise ValueError(f"key frames {keys} do not fit a clip of {clip.shape[0]} frames")


def result_dtype(clip: torch.Tensor) -> torch.dtype:
    return torch.float32 if clip.dtype == torch.uint8 else clip.dtype


def frame(clip: torch.Tensor, t: int) -> torch.Tensor:
    """Frame t as float (C, H, W) in [0, 1]: a uint8 frame divided by 255 in float32 (the values a whole-clip
    conversion gives), a float frame as it is (a view)."""
    return clip[t].float().div_(255) if clip.dtype == torch.uint8 else clip[t]


FIXED_BITS = 24  # non-integer weights on uint8 frames are rounded to multiples of 2**-24 (module doc of weighted_sum)


def weighted_sum(clip: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """sum_t alpha_t * I_t. clip (T, C, H, W), alpha (T,) -> (C, H, W) float (result_dtype).

    The same bytes on any CPU or GPU, at any thread count, because every uint8 sum is exact:
    - integer weights (MESTI, Active Image): an integer sum, then one division by 255 (float64, then the result
      dtype). No float copy of the clip is made.
    - other weights (Dynamic Image): each weight rounded to a multiple of 2**-24 (far below a float32 result's
      precision), so every product of a weight and a frame value and every partial sum is a float64 number with an
      exact representation: the float64 sum (of integers, in units of 2**-24) is exact whatever the order, fused
      multiply-add or not. Then one division by 255 * 2**24.
    - float frames (tests, hand examples): accumulated in float64 one frame after another (t = 1..T), with
      elementwise operations only, so every partial sum is rounded the same way everywhere (a BLAS tensordot picks
      its summation order by CPU).
    """
    if clip.dtype != torch.uint8:
        return accumulate(clip, lambda t: frame(clip, t).double() * float(alpha[t]))
    integral = bool(torch.all(alpha == alpha.round()))
    scale = 1 if integral else 2**FIXED_BITS
    weights = [int(w) for w in torch.round(alpha.double() * scale)]
    bound = 255 * sum(abs(w) for w in weights)
    if bound >= 2**53:
        raise ValueError(f"weights too large for an exact sum: 255 x sum |alpha| = {bound / scale:.3g}")
    if integral:
        acc_type = torch.int32 if bound < 2**31 else torch.int64
        total = torch.zeros_like(clip[0], dtype=acc_type)  # the frames' memory layout: no strided traffic
        for t, w in enumerate(weights):
            total.add_(clip[t], alpha=w)  # uint8 frame times an integer into the integer sum: no temporaries
    else:
        total = torch.zeros_like(clip[0], dtype=torch.float64)  # integers below 2**53: float64 holds them exactly
        for t, w in enumerate(weights):
            total.add_(clip[t], alpha=w)
    return (total.double() / (255 * scale)).to(torch.float32).contiguous()


def accumulate(clip: torch.Tensor, term) -> torch.Tensor:
    """sum_t term(t) over t = 0..T-1 in float64, in temporal order (see weighted_sum), as result_dtype(clip)."""
    total = torch.zeros_like(clip[0], dtype=torch.float64)  # laid out as the frames are (a permuted view: HWC)
    for t in range(clip.shape[0]):
        total += term(t)
    return total.to(result_dtype(clip)).contiguous()


def clip_from_frames(frames: torch.Tensor) -> torch.Tensor:
    """Stored frames (T, H, W, C) uint8 -> clip (T, C, H, W) uint8 on the same device: a view, no copy (each
    modality converts only the frames it needs, `frame`)."""
    if frames.dtype != torch.uint8 or frames.ndim != 4:
        raise ValueError(f"expected (T, H, W, C) uint8 frames, got {tuple(frames.shape)} {frames.dtype}")
    return frames.permute(0, 3, 1, 2)  # (T, H, W, C) -> (T, C, H, W)
