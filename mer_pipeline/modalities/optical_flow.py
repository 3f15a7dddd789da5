"""Optical flow onset -> apex and apex -> offset as (u, v, optical strain) images.

Strain (Liong et al.): sqrt(u_x^2 + v_y^2 + 0.5 (u_y + v_x)^2), with central differences. The solver is TV-L1:
our torch implementation (GPU-capable, batched over frame pairs) or OpenCV contrib's DualTVL1 as the reference.
"""

from dataclasses import dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F

from mer_pipeline.modalities.base import KeyFrames, check_clip
from mer_pipeline.modalities.tvl1 import TVL1Params, tvl1_flow

LUMA = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class FlowParams(TVL1Params):
    """The TV-L1 settings plus the solver choice; the mapping to an image uses fixed scales so magnitudes compare
    across clips."""

    method: str = "torch"  # torch | opencv
    flow_max_px: float = 4.0  # |u|, |v| mapped to [0, 1] as 0.5 + 0.5 u / flow_max_px
    strain_max: float = 0.5  # strain mapped to [0, 1] as strain / strain_max

    def __post_init__(self):
        if self.method not in ("torch", "opencv"):
            raise ValueError(f"flow method must be torch or opencv, got {self.method!r}")

    def mapping(self) -> dict:
        return {"scaling": "flow", "flow_max_px": self.flow_max_px, "strain_max": self.strain_max}

    def solver(self) -> TVL1Params:
        return TVL1Params(**{f.name: getattr(self, f.name) for f in fields(TVL1Params)})


def to_gray255(frames: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) in [0, 1] -> (B, 1, H, W) luminance on a 0..255 scale."""
    if frames.shape[1] == 1:
        return frames * 255
    w = torch.tensor(LUMA, dtype=frames.dtype, device=frames.device).view(1, 3, 1, 1)
    return (frames * w).sum(1, keepdim=True) * 255


def optical_strain(flow: torch.Tensor) -> torch.Tensor:
    """(B, 2, H, W) flow -> (B, 1, H, W) strain magnitude."""
    p = F.pad(flow, (1, 1, 1, 1), mode="replicate")
    dx = (p[..., 1:-1, 2:] - p[..., 1:-1, :-2]) / 2  # (B, 2, H, W): u_x, v_x
    dy = (p[..., 2:, 1:-1] - p[..., :-2, 1:-1]) / 2  # u_y, v_y
    return torch.sqrt(dx[:, :1] ** 2 + dy[:, 1:] ** 2 + 0.5 * (dy[:, :1] + dx[:, 1:]) ** 2)


def flow_pairs(first: torch.Tensor, second: torch.Tensor, params: FlowParams) -> torch.Tensor:
    """Flow and strain for B frame pairs at once.

    Args:
        first, second: (B, C, H, W) frames in [0, 1].

    Returns:
        (B, 3, H, W): u, v (pixels, first -> second) and strain.
    """
    g0, g1 = to_gray255(first), to_gray255(second)
    if params.method == "torch":
        flow = tvl1_flow(g0, g1, params.solver())
    elif params.method == "opencv":
        flow = _opencv_flow(g0, g1, params)
    else:
        raise ValueError(f"unknown flow method {params.method!r} (torch or opencv)")
    return torch.cat([flow, optical_strain(flow)], 1)


def _opencv_flow(g0: torch.Tensor, g1: torch.Tensor, params: FlowParams) -> torch.Tensor:
    import cv2

    tv = cv2.optflow.DualTVL1OpticalFlow_create(
        tau=params.tau, lambda_=params.lam, theta=params.theta, nscales=params.scales, warps=params.warps,
        scaleStep=params.zoom, innnerIterations=params.iterations, outerIterations=1, epsilon=0.0,
    )
    out = []
    for a, b in zip(g0[:, 0].cpu().numpy(), g1[:, 0].cpu().numpy()):
        out.append(tv.calc(np.clip(a, 0, 255).round().astype(np.uint8), np.clip(b, 0, 255).round().astype(np.uint8), None))
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).to(g0)  # (B, H, W, 2) -> (B, 2, H, W)


def optical_flow(clip: torch.Tensor, keys: KeyFrames, params: FlowParams = FlowParams()) -> torch.Tensor:
    """clip (T, C, H, W) -> (6, H, W): (u, v, strain) onset -> apex, then (u, v, strain) apex -> offset."""
    check_clip(clip, keys)
    first = clip[[keys.onset, keys.apex]]
    second = clip[[keys.apex, keys.offset]]
    both = flow_pairs(first, second, params)  # (2, 3, H, W)
    return both.reshape(6, *clip.shape[-2:])
