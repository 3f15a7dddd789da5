"""MEGANet (arXiv 2509.00056, section II-B): gradient attention -> stem -> Residual-Attention blocks -> GAP -> FC.

Choices the paper leaves open, made here and tested:
- Residual-Attention block widths (64, 128, 256, 512)[:blocks] with strides (1, 2, 2, 2)[:blocks]: at 224 px the
  blocks see 56, 28, 14 (and 7) px maps.
- Self-attention (SAGAN) on every block's output; Q and K project to C/8 channels (at least 1).
- Dropout p after each block (params `dropout`).
Ablations (paper Table V): `gradient_attention`, `residual`, `self_attention` switch those parts off;
`blocks` = 2, 3 or 4 (Table VI).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from mer_pipeline.config import MEGANetParams

WIDTHS = (64, 128, 256, 512)
STRIDES = (1, 2, 2, 2)


class GradientAttention(nn.Module):
    """G = |horizontal differences| + |vertical differences| (zero-padded to the input size), summed over the two
    directions; a 3x3 conv (C -> 1) and a sigmoid make the attention map A; output = x * A."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, 1, 3, padding=1)

    def attention_map(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, C, H, W) -> A (B, 1, H, W) in (0, 1)."""
        gx = F.pad((x[..., :, 1:] - x[..., :, :-1]).abs(), (0, 1, 0, 0))
        gy = F.pad((x[..., 1:, :] - x[..., :-1, :]).abs(), (0, 0, 0, 1))
        return torch.sigmoid(self.conv(gx + gy))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.attention_map(x)


class SelfAttention(nn.Module):
    """SAGAN self-attention: y = gamma * (V softmax(Q^T K)^T) + x, gamma learnable, starting at 0."""

    def __init__(self, channels: int):
        super().__init__()
        inner = max(channels // 8, 1)
        self.q = nn.Conv2d(channels, inner, 1)
        self.k = nn.Conv2d(channels, inner, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q = self.q(x).flatten(2)  # (B, C/8, N)
        k = self.k(x).flatten(2)  # (B, C/8, N)
        v = self.v(x).flatten(2)  # (B, C, N)
        attn = torch.softmax(q.transpose(1, 2) @ k, dim=-1)  # (B, N, N): row i attends over positions j
        out = (v @ attn.transpose(1, 2)).view(b, c, h, w)  # (B, C, N) -> (B, C, H, W)
        return self.gamma * out + x


class ResidualAttentionBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN (+ shortcut, 1x1 conv + BN on shape change) -> self-attention -> ReLU -> dropout."""

    def __init__(self, cin: int, cout: int, stride: int, residual: bool, self_attention: bool, dropout: float):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False),
            nn.BatchNorm2d(cout),
        )
        self.residual = residual
        needs_projection = stride != 1 or cin != cout
        self.shortcut = (
            nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            if residual and needs_projection
            else nn.Identity()
        )
        self.attention = SelfAttention(cout) if self_attention else nn.Identity()
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        if self.residual:
            y = y + self.shortcut(x)
        return self.dropout(F.relu(self.attention(y)))


class MEGANet(nn.Module):
    def __init__(self, num_classes: int, in_chans: int = 3, params: MEGANetParams = MEGANetParams()):
        super().__init__()
        self.params = params
        self.gradient_attention = GradientAttention(in_chans) if params.gradient_attention else None
        self.stem = nn.Sequential(
            nn.Conv2d(in_chans, 64, 7, 2, 3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        )
        widths = (64, *WIDTHS[: params.blocks])
        self.blocks = nn.Sequential(
            *[
                ResidualAttentionBlock(
                    widths[i], widths[i + 1], STRIDES[i], params.residual, params.self_attention, params.dropout
                )
                for i in range(params.blocks)
            ]
        )
        self.num_features = widths[-1]
        self.fc = nn.Linear(self.num_features, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, C, H, W) -> feature map (B, num_features, H/32 .. H/4, ...)."""
        if self.gradient_attention is not None:
            x = self.gradient_attention(x)
        return self.blocks(self.stem(x))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """(B, F, h, w) -> logits (B, num_classes); softmax is left to the loss / prediction."""
        return self.fc(features.mean((2, 3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
