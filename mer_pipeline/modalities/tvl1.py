"""TV-L1 optical flow in torch (Zach, Pock, Bischof 2007; the IPOL formulation of Sanchez, Meinhardt-Llopis,
Facciolo 2013), batched over B image pairs so that it runs on the GPU.

Coarse-to-fine on a Gaussian pyramid; at each scale `warps` linearisations of the data term around the current
flow, each followed by a `median` x `median` median filter of the flow (as OpenCV's DualTVL1 does: it removes the
isolated outliers the L1 data term leaves) and `iterations` steps of the primal-dual scheme (thresholding step,
then the dual update of the TV term). Iteration counts are fixed (no early stop) so a whole batch advances in
lockstep, and a pair's flow depends neither on its batch mates nor on a float crossing a threshold. The coarse scales
run `coarse_iterations` per warp (fewer: benchmarks/tvl1.py measured the same or better EPE in less time).
`Schedule` holds two more ways to spend fewer iterations that the benchmark measures and the stores do not use (a
convergence test per warp, dual variables carried across scales).

Convention: flow (B, 2, H, W) holds (u, v) = (dx, dy) in pixels such that I1(x + u) ~ I0(x), origin top-left.
Images are intensities on a 0..255 scale (as OpenCV's DualTVL1 sees 8-bit frames), so `lam` means the same.
"""

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from mer_pipeline.config import TVL1Params
from mer_pipeline.errors import UserError


@dataclass(frozen=True)
class Schedule:
    """tol: stop a warp's iterations once every pair of the batch moved its flow by a mean squared update below
    tol**2 in one iteration (IPOL's stopping rule), tested every `check` iterations; 0: never. A pair's flow then
    depends on its batch mates, and on a float crossing a threshold.
    warm_dual: each scale starts its dual variables from the coarser scale's, upsampled, instead of from zero (the
    flow itself is always carried over). The defaults are what the stores use."""

    tol: float = 0.0
    warm_dual: bool = False
    check: int = 5


def _gaussian_blur(img: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur as explicit weighted sums of shifted copies, not conv2d: conv2d picks its kernel by
    batch size, and a clip's flow must not depend on which clips it was batched with."""
    radius = max(1, int(math.ceil(3 * sigma)))
    taps = [math.exp(-(i * i) / (2 * sigma**2)) for i in range(-radius, radius + 1)]
    taps = [t / sum(taps) for t in taps]
    h, w = img.shape[-2:]
    padded = F.pad(img, (radius, radius, 0, 0), mode="replicate")
    out = sum(t * padded[..., :, i : i + w] for i, t in enumerate(taps))
    padded = F.pad(out, (0, 0, radius, radius), mode="replicate")
    return sum(t * padded[..., i : i + h, :] for i, t in enumerate(taps))


def _centred_gradient(img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    p = F.pad(img, (1, 1, 1, 1), mode="replicate")
    return (p[..., 1:-1, 2:] - p[..., 1:-1, :-2]) / 2, (p[..., 2:, 1:-1] - p[..., :-2, 1:-1]) / 2


def _forward_gradient(u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward differences, zero on the last column / row."""
    ux = F.pad(u[..., :, 1:] - u[..., :, :-1], (0, 1, 0, 0))
    uy = F.pad(u[..., 1:, :] - u[..., :-1, :], (0, 0, 0, 1))
    return ux, uy


def _divergence(px: torch.Tensor, py: torch.Tensor) -> torch.Tensor:
    """Negative adjoint of `_forward_gradient` (backward differences, p = 0 outside)."""
    return (px - F.pad(px, (1, 0, 0, 0))[..., :, :-1]) + (py - F.pad(py, (0, 0, 1, 0))[..., :-1, :])


def warp(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample img (B, C, H, W) at x + flow(x), bicubic as OpenCV's DualTVL1, border values outside. flow (B, 2, H,
    W)."""
    b, _, h, w = img.shape
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=img.dtype, device=img.device),
        torch.arange(w, dtype=img.dtype, device=img.device),
        indexing="ij",
    )
    gx = 2 * (xs + flow[:, 0]) / max(w - 1, 1) - 1  # (B, H, W), normalised for align_corners=True
    gy = 2 * (ys + flow[:, 1]) / max(h - 1, 1) - 1
    return F.grid_sample(img, torch.stack([gx, gy], -1), mode="bicubic", padding_mode="border", align_corners=True)


def median_filter(u: torch.Tensor, k: int) -> torch.Tensor:
    """k x k median of each (H, W) plane of u (B, C, H, W), border replicated. A selection, not arithmetic: the
    same values on any device (OpenCV's medianBlur on the CPU, a sort of the k*k neighbours on a GPU)."""
    if k <= 1:
        return u
    if u.device.type == "cpu" and k in (3, 5) and u.dtype == torch.float32:
        import cv2

        planes = u.reshape(-1, *u.shape[-2:]).numpy()
        return torch.from_numpy(np.stack([cv2.medianBlur(x, k) for x in planes])).reshape(u.shape)
    r = k // 2
    patches = F.pad(u, (r, r, r, r), mode="replicate").unfold(2, k, 1).unfold(3, k, 1)  # (B, C, H, W, k, k)
    return patches.reshape(*u.shape, k * k).median(-1).values


def _iteration(u1, u2, p11, p12, p21, p22, rho_c, gx, gy, grad2, safe, lt: float, theta: float, step: float):
    """One primal-dual iteration: the thresholding step of the data term, then the dual update of the TV term."""
    rho = rho_c + gx * u1 + gy * u2
    scale = torch.where(
        rho < -lt * grad2,
        lt,
        torch.where(rho > lt * grad2, -lt, torch.where(safe, -rho / grad2.clamp_min(1e-10), torch.zeros_like(rho))),
    )
    v1, v2 = u1 + scale * gx, u2 + scale * gy
    u1 = v1 + theta * _divergence(p11, p12)
    u2 = v2 + theta * _divergence(p21, p22)
    u1x, u1y = _forward_gradient(u1)
    u2x, u2y = _forward_gradient(u2)
    n1 = 1 + step * torch.sqrt(u1x * u1x + u1y * u1y)
    n2 = 1 + step * torch.sqrt(u2x * u2x + u2y * u2y)
    return u1, u2, (p11 + step * u1x) / n1, (p12 + step * u1y) / n1, (p21 + step * u2x) / n2, (p22 + step * u2y) / n2


_compiled: dict[str, object] = {}


def _compiled_iteration(device: torch.device):
    """`_iteration` through torch.compile (inductor: one fused C++ loop on the CPU, Triton kernels on CUDA), built
    once per process and device type for every shape (dynamic shapes) and checked on its first call there, so a
    machine without a compiler (or without Triton for CUDA) fails with one line."""
    if device.type not in _compiled:
        compiled = torch.compile(_iteration, dynamic=True)
        try:
            probe = [torch.zeros(1, 1, 8, 8, device=device) for _ in range(10)]
            compiled(*probe, probe[0] > 0, 0.1, 0.3, 0.5)
        except Exception as exc:  # inductor's errors span many types (no compiler, no Triton, ...)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(
                f"optical_flow.compile: torch.compile failed on {device.type} ({first}); set compile: false"
            ) from None
        _compiled[device.type] = compiled
    return _compiled[device.type]


def _tvl1_scale(
    i0, i1, flow, p: TVL1Params, iterations: int, dual: torch.Tensor | None = None, tol: float = 0.0, check: int = 5
) -> tuple[torch.Tensor, torch.Tensor]:
    """Refine `flow` (B, 2, H, W) at one scale, `iterations` per warp (fewer where `tol` > 0 stops a warp early).
    dual: (B, 4, H, W) dual variables to start from (None: zero). Returns the flow and the dual variables."""
    u1, u2 = flow[:, :1].clone(), flow[:, 1:].clone()
    if dual is None:
        p11, p12, p21, p22 = (torch.zeros_like(u1) for _ in range(4))
    else:
        p11, p12, p21, p22 = (d.clone() for d in dual.split(1, 1))
    i1x, i1y = _centred_gradient(i1)
    stack = torch.cat([i1, i1x, i1y], 1)  # (B, 3, H, W): warp image and gradients together
    lt, step = p.lam * p.theta, p.tau / p.theta
    iterate = _compiled_iteration(i0.device) if p.compile else _iteration
    for _ in range(p.warps):
        w = warp(stack, torch.cat([u1, u2], 1))
        i1w, gx, gy = w[:, :1], w[:, 1:2], w[:, 2:]
        grad2 = gx * gx + gy * gy
        safe = grad2 > 1e-10
        rho_c = i1w - gx * u1 - gy * u2 - i0
        u1, u2 = median_filter(u1, p.median), median_filter(u2, p.median)
        for n in range(iterations):
            testing = tol > 0 and (n + 1) % check == 0
            if testing:
                before1, before2 = u1, u2
            u1, u2, p11, p12, p21, p22 = iterate(
                u1, u2, p11, p12, p21, p22, rho_c, gx, gy, grad2, safe, lt, p.theta, step
            )
            if testing and bool(((u1 - before1) ** 2 + (u2 - before2) ** 2).mean((1, 2, 3)).max() < tol * tol):
                break
    return torch.cat([u1, u2], 1), torch.cat([p11, p12, p21, p22], 1)


def tvl1_flow(
    i0: torch.Tensor, i1: torch.Tensor, params: TVL1Params = TVL1Params(), schedule: Schedule = Schedule()
) -> torch.Tensor:
    """TV-L1 flow from i0 to i1.

    Args:
        i0, i1: (B, 1, H, W) float intensities on a 0..255 scale, same device.
        params: solver settings.
        schedule: early stop and dual warm start (the default: neither).

    Returns:
        (B, 2, H, W) flow (u, v) in pixels with i1(x + flow) ~ i0(x).
    """
    if i0.shape != i1.shape or i0.ndim != 4 or i0.shape[1] != 1:
        raise ValueError(f"expected two (B, 1, H, W) images, got {tuple(i0.shape)} and {tuple(i1.shape)}")
    sigma = 0.6 * math.sqrt(1 / params.zoom**2 - 1)
    pyramid = [(i0, i1)]
    for _ in range(params.scales - 1):
        a, b = pyramid[-1]
        h, w = round(a.shape[-2] * params.zoom), round(a.shape[-1] * params.zoom)
        if min(h, w) < 16:
            break
        pyramid.append(
            tuple(
                F.interpolate(_gaussian_blur(x, sigma), size=(h, w), mode="bilinear", align_corners=True)
                for x in (a, b)
            )
        )
    flow = torch.zeros((i0.shape[0], 2, *pyramid[-1][0].shape[-2:]), dtype=i0.dtype, device=i0.device)
    dual = None
    for level, (a, b) in enumerate(reversed(pyramid)):
        if level:
            h, w = a.shape[-2:]
            sy, sx = h / flow.shape[-2], w / flow.shape[-1]
            flow = F.interpolate(flow, size=(h, w), mode="bilinear", align_corners=True)
            flow = flow * torch.tensor([sx, sy], dtype=flow.dtype, device=flow.device).view(1, 2, 1, 1)
            if schedule.warm_dual:  # a convex combination of duals: still inside the unit ball
                dual = F.interpolate(dual, size=(h, w), mode="bilinear", align_corners=True)
        finest = level == len(pyramid) - 1
        iterations = params.iterations if finest else params.coarse_iterations
        flow, last = _tvl1_scale(
            a, b, flow, params, iterations, dual if schedule.warm_dual else None, schedule.tol, schedule.check
        )
        dual = last
    return flow
