"""Optical flow onset -> apex and apex -> offset as (u, v, optical strain) images.

Strain (Liong et al.): sqrt(u_x^2 + v_y^2 + 0.5 (u_y + v_x)^2), with central differences. The solver is TV-L1:
our torch implementation (GPU-capable, batched over frame pairs) or OpenCV contrib's DualTVL1 as the reference.
"""

import numpy as np
import torch
import torch.nn.functional as F

from mer_pipeline.config import FlowParams
from mer_pipeline.modalities.base import KeyFrames, frame
from mer_pipeline.modalities.registry import Modality, register
from mer_pipeline.modalities.tvl1 import tvl1_flow

LUMA = (0.299, 0.587, 0.114)


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
        tau=params.tau,
        lambda_=params.lam,
        theta=params.theta,
        nscales=params.scales,
        warps=params.warps,
        scaleStep=params.zoom,
        innnerIterations=params.iterations,
        outerIterations=1,
        epsilon=0.0,
        medianFiltering=params.median,
    )
    out = []
    for a, b in zip(g0[:, 0].cpu().numpy(), g1[:, 0].cpu().numpy()):
        out.append(
            tv.calc(np.clip(a, 0, 255).round().astype(np.uint8), np.clip(b, 0, 255).round().astype(np.uint8), None)
        )
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).to(g0)  # (B, H, W, 2) -> (B, 2, H, W)


def flow_batched(clips: list[torch.Tensor], keys: list[KeyFrames], params: FlowParams) -> list[torch.Tensor]:
    """Every clip's onset->apex and apex->offset pair in one solver call (equal frame sizes within a store).

    Returns one (6, H, W) tensor per clip: (u, v, strain) onset -> apex, then (u, v, strain) apex -> offset.
    """
    first = torch.stack([frame(c, i) for c, k in zip(clips, keys) for i in (k.onset, k.apex)])  # (2N, C, H, W)
    second = torch.stack([frame(c, i) for c, k in zip(clips, keys) for i in (k.apex, k.offset)])
    out = flow_pairs(first, second, params)  # (2N, 3, H, W)
    return list(out.reshape(len(clips), 6, *out.shape[-2:]))  # pairs of one clip are adjacent


register(
    Modality(
        "optical_flow",
        flow_batched,
        images=(("image", slice(0, 3)), ("image_apex_offset", slice(3, 6))),
        raw_channels=6,
    )
)
