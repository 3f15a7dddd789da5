"""Micro-Attention network (Wang, Peng, Bi, Chen, "Micro-attention for micro-expression recognition",
Neurocomputing 2020), built from the paper's description (no code was released).

A small ResNet (ResNet-10: one basic block per stage, widths 64-128-256-512) with a micro-attention unit after
each of the first three stages. A unit keeps the trunk T and learns a soft mask M from a bottom-up / top-down
branch (max-pool -> basic block -> bilinear up-sampling -> 1x1 conv -> sigmoid), and outputs (1 + M) * T, so the
mask can emphasise the small facial regions a micro-expression moves without being able to erase the trunk.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = (
            nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            if stride != 1 or cin != cout
            else nn.Identity()
        )

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + self.shortcut(x))


class MicroAttentionUnit(nn.Module):
    """(1 + M(x)) * x with M from a down-up mask branch; M (B, C, H, W) in (0, 1)."""

    def __init__(self, channels: int):
        super().__init__()
        self.down = BasicBlock(channels, channels)
        self.mask = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(inplace=True), nn.Conv2d(channels, channels, 1))

    def mask_map(self, x: torch.Tensor) -> torch.Tensor:
        m = self.down(F.max_pool2d(x, 3, 2, 1))  # (B, C, H/2, W/2)
        m = F.interpolate(m, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return torch.sigmoid(self.mask(m))

    def forward(self, x):
        return (1 + self.mask_map(x)) * x


class MicroAttention(nn.Module):
    def __init__(self, num_classes: int, in_chans: int = 3):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_chans, 64, 7, 2, 3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        )
        widths, layers = (64, 64, 128, 256, 512), []
        for i in range(4):
            layers.append(BasicBlock(widths[i], widths[i + 1], 1 if i == 0 else 2))
            if i < 3:
                layers.append(MicroAttentionUnit(widths[i + 1]))
        self.body = nn.Sequential(*layers)
        self.num_features = widths[-1]
        self.fc = nn.Linear(self.num_features, num_classes)

    def forward_features(self, x):
        return self.body(self.stem(x))

    def forward_head(self, f):
        return self.fc(f.mean((2, 3)))

    def forward(self, x):
        return self.forward_head(self.forward_features(x))
