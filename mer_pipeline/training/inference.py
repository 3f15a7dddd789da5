"""A trained model applied to stored images: the model of a checkpoint, and images turned into its input exactly as
training turns them (scale to [0, 1], resize to the profile's input size, normalise)."""

from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from mer_pipeline.models import create_model
from mer_pipeline.training.checkpoint import load_checkpoint
from mer_pipeline.training.loop import normalise


def scaled(images: torch.Tensor, input_size: int) -> torch.Tensor:
    """Stored images (N, C, S, S) uint8 -> (N, C, input_size, input_size) float32 in [0, 1] (bilinear, antialiased
    where it shrinks); what training reads from the modality stores."""
    assert images.ndim == 4 and images.dtype == torch.uint8, f"expected (N, C, S, S) uint8, got {images.shape}"
    x = images.float() / 255
    if x.shape[-1] != input_size:
        x = F.interpolate(x, size=(input_size, input_size), mode="bilinear", antialias=True, align_corners=False)
    return x


def model_input(images: torch.Tensor, input_size: int) -> torch.Tensor:
    """Stored images (N, C, S, S) uint8 -> the model's input (N, C, input_size, input_size) float32, normalised."""
    return normalise(scaled(images, input_size))


def load_trained(path: Path, model_name: str, num_classes: int) -> tuple[nn.Module, dict]:
    """The model a checkpoint holds, its weights loaded, in eval mode, and the checkpoint's metadata (class names,
    input size, modalities, held-out clips); one-line errors for a missing or foreign checkpoint."""
    state, meta = load_checkpoint(path, model_name, num_classes)
    model = create_model(model_name, meta["num_classes"], meta["in_chans"], **meta["model_params"])
    model.load_state_dict(state)
    return model.eval(), meta


@torch.no_grad()
def classify(model: nn.Module, images: torch.Tensor, input_size: int) -> torch.Tensor:
    """Class probabilities (N, K) float32 of stored images (N, C, S, S) uint8 under a trained model."""
    return torch.softmax(model.eval()(model_input(images, input_size)).float(), dim=1)
