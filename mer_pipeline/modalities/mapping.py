"""From a modality's float result to a 3-channel uint8 image any CNN takes (documented, param-controlled).

Scalings:
- unit:     values already in [0, 1] (the apex frame) -> x.
- signed:   signed maps (MESTI, Dynamic and Active Image): 0.5 + 0.5 x / s, s = the `percentile` of |x| over the
            whole image; zero (a static clip) is mid-grey 128, the brightest/darkest tail is clipped.
- positive: non-negative maps (Affective Image): x / s, s = the `percentile` of x.
- flow:     (u, v, strain): 0.5 + 0.5 u / flow_max_px, same for v, strain / strain_max: fixed scales, so magnitudes
            compare across clips; the float flow is kept in the store's `raw` array.
Then bilinear (antialiased) resizing to size x size, rounding to uint8. One channel is replicated to three.
"""

import torch
import torch.nn.functional as F

from mer_pipeline.config.modalities import SCALINGS


def to_unit(
    x: torch.Tensor, scaling: str, percentile: float = 99.5, flow_max_px: float = 4.0, strain_max: float = 0.5
) -> torch.Tensor:
    """(C, H, W) float -> (C, H, W) in [0, 1] by `scaling`."""
    if scaling == "unit":
        y = x
    elif scaling == "signed":
        s = torch.quantile(x.abs().flatten().float(), percentile / 100).to(x.dtype)
        y = 0.5 + 0.5 * x / s if s > 0 else torch.full_like(x, 0.5)
    elif scaling == "positive":
        s = torch.quantile(x.flatten().float(), percentile / 100).to(x.dtype)
        y = x / s if s > 0 else torch.zeros_like(x)
    elif scaling == "flow":
        if x.shape[0] != 3:
            raise ValueError(f"flow scaling needs (u, v, strain), got {x.shape[0]} channels")
        y = torch.cat([0.5 + 0.5 * x[:2] / flow_max_px, x[2:] / strain_max])
    else:
        raise ValueError(f"unknown scaling {scaling!r} (one of {', '.join(SCALINGS)})")
    return y.clamp(0, 1)


def to_image(x: torch.Tensor, size: int, **scaling) -> torch.Tensor:
    """(C, H, W) float -> (3, size, size) uint8 on the same device. Keyword args as `to_unit`."""
    y = to_unit(x, **scaling)
    if y.shape[0] == 1:
        y = y.expand(3, -1, -1)
    if y.shape[0] != 3:
        raise ValueError(f"expected 1 or 3 channels, got {y.shape[0]}")
    if y.shape[-2:] != (size, size):
        y = F.interpolate(y[None], size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0]
    return (y * 255).round().clamp(0, 255).to(torch.uint8)
