"""The paper's augmentation (horizontal flip, small rotations) done so that each modality stays what it is, batched:
one flip and one `affine_grid` / `grid_sample` call per batch.

Every input channel has a kind (store attribute `image_kinds`, from the modality's image mapping; see
config.modalities.CHANNEL_KINDS):
    plain     an image (the apex frame)                    neutral 0 (black corners, as an image rotation gives)
    signed    0.5 + 0.5 x / s (MESTI, Dynamic, Active)    neutral 0.5 (x = 0)
    positive  x / s (Affective Image)                      neutral 0
    flow_u    0.5 + 0.5 u / flow_max (horizontal flow)     neutral 0.5 (u = 0)
    flow_v    0.5 + 0.5 v / flow_max (vertical flow)       neutral 0.5
    strain    strain / strain_max                          neutral 0 (a scalar: unchanged by flips and rotations)
A horizontal flip mirrors the flow field: u -> -u. A rotation by theta (counter-clockwise on screen, y pointing down)
moves content and turns each flow vector with it: (u, v) -> (u cos + v sin, -u sin + v cos). Corners that the
rotation brings in from outside the image hold each channel's neutral value.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F

NEUTRAL = {"plain": 0.0, "signed": 0.5, "positive": 0.0, "flow_u": 0.5, "flow_v": 0.5, "strain": 0.0}


@dataclass(frozen=True)
class Augmentation:
    hflip: bool
    rotations: tuple[float, ...]  # degrees; one drawn per sample


def augment(x: torch.Tensor, kinds: tuple[str, ...], aug: Augmentation, gen: torch.Generator) -> torch.Tensor:
    """Flip each sample with probability 1/2 and rotate it by an angle drawn from `aug.rotations`.

    Args:
        x: (B, C, S, S) float in [0, 1]; kinds: C channel kinds (module doc).
        gen: the random generator (draws happen on the CPU, so a seed gives the same batch on any device).

    Returns:
        (B, C, S, S) on x's device.
    """
    if x.ndim != 4 or x.shape[1] != len(kinds):
        raise ValueError(f"expected (B, {len(kinds)}, S, S) for kinds {kinds}, got {tuple(x.shape)}")
    b = x.shape[0]
    flip = (torch.rand(b, generator=gen) < 0.5) if aug.hflip else torch.zeros(b, dtype=torch.bool)
    index = torch.randint(len(aug.rotations), (b,), generator=gen) if aug.rotations else torch.zeros(b, dtype=int)
    angles = torch.tensor([aug.rotations[i] for i in index] if aug.rotations else [0.0] * b, dtype=torch.float64)
    return rotate(flip_horizontal(x, kinds, flip.to(x.device)), kinds, angles)


def flip_horizontal(x: torch.Tensor, kinds: tuple[str, ...], which: torch.Tensor) -> torch.Tensor:
    """Mirror samples `which` ((B,) bool) left-right; their horizontal flow changes sign."""
    flipped = x.flip(-1)
    u = [i for i, k in enumerate(kinds) if k == "flow_u"]
    flipped[:, u] = 1 - flipped[:, u]  # 0.5 + 0.5 u / s -> 0.5 - 0.5 u / s
    return torch.where(which.view(-1, 1, 1, 1), flipped, x)


def rotate(x: torch.Tensor, kinds: tuple[str, ...], degrees: torch.Tensor) -> torch.Tensor:
    """Rotate each sample by its angle ((B,) degrees, counter-clockwise on screen) about the image centre."""
    if not bool((degrees != 0).any()):
        return x
    t = torch.deg2rad(degrees)
    cos, sin = torch.cos(t), torch.sin(t)
    zero = torch.zeros_like(t)
    # output (x, y) samples the input at R^-1 (x, y); normalised coordinates, y down
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)  # (B, 2, 3)
    grid = F.affine_grid(theta.to(x), list(x.shape), align_corners=False)
    neutral = torch.tensor([NEUTRAL[k] for k in kinds], dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    out = F.grid_sample(x - neutral, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + neutral
    u = [i for i, k in enumerate(kinds) if k == "flow_u"]
    v = [i for i, k in enumerate(kinds) if k == "flow_v"]
    if u:
        c, s = cos.to(x).view(-1, 1, 1, 1), sin.to(x).view(-1, 1, 1, 1)
        du, dv = out[:, u] - 0.5, out[:, v] - 0.5  # the scale s of 0.5 + 0.5 u / s cancels in a rotation
        out[:, u] = (0.5 + du * c + dv * s).clamp(0, 1)
        out[:, v] = (0.5 - du * s + dv * c).clamp(0, 1)
    return out
