"""Training for a fixed number of epochs (paper recipe: Adam, focal loss, flips and small rotations) and prediction."""

import random
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from mer_pipeline.training.augment import Augmentation, augment
from mer_pipeline.training.loss import focal_loss


@dataclass(frozen=True)
class Recipe:
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    focal_gamma: float
    hflip: bool
    rotations: tuple[float, ...]


def seed_everything(seed: int) -> torch.Generator:
    """Seed every generator and ask torch for deterministic kernels (so reruns give the same predictions)."""
    torch.use_deterministic_algorithms(True, warn_only=True)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def normalise(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] images -> roughly zero-mean unit-range network input."""
    return (x - 0.5) / 0.25


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, kinds: tuple[str, ...], recipe: Recipe,
          device: torch.device, seed: int, on_epoch=None) -> nn.Module:
    """Train on (x (N, C, S, S) in [0, 1], y (N,)) for recipe.epochs epochs; `kinds` names each channel's meaning
    for the augmentation (training/augment.py); `on_epoch(epoch, mean_loss)`."""
    gen = seed_everything(seed)
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    aug = Augmentation(recipe.hflip, recipe.rotations)
    for epoch in range(recipe.epochs):
        order, total = torch.randperm(len(x), generator=gen), 0.0
        for start in range(0, len(x), recipe.batch_size):
            idx = order[start : start + recipe.batch_size]
            if len(idx) < 2:  # BatchNorm needs two samples
                continue
            xb = normalise(augment(x[idx].to(device), kinds, aug, gen))
            loss = focal_loss(model(xb), y[idx].to(device), recipe.focal_gamma)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        if on_epoch:
            on_epoch(epoch, total / len(x))
    return model


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, device: torch.device, batch_size: int = 64) -> torch.Tensor:
    """Class probabilities (N, K)."""
    model.to(device).eval()
    out = [torch.softmax(model(normalise(x[i : i + batch_size]).to(device)), 1).cpu()
           for i in range(0, len(x), batch_size)]
    return torch.cat(out)
