"""Focal loss (Lin et al. 2017): FL = -alpha_y (1 - p_y)^gamma log p_y, averaged over the batch."""

import torch
import torch.nn.functional as F


def focal_loss(
    logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0, alpha: torch.Tensor | None = None
) -> torch.Tensor:
    """logits (B, K), target (B,) int64, alpha optional (K,) class weights -> scalar. gamma = 0 is cross-entropy."""
    log_p = F.log_softmax(logits, dim=1).gather(1, target[:, None])[:, 0]  # (B,) log p_y
    loss = -((1 - log_p.exp()) ** gamma) * log_p
    if alpha is not None:
        loss = loss * alpha.to(loss)[target]
    return loss.mean()
