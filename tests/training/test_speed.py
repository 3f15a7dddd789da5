"""The GPU speed settings (mixed precision, channels_last): off on the CPU unless asked for, and when switched on
(here: bfloat16 autocast on the CPU, the path CUDA takes on GPUs with bfloat16) the model still learns."""

import pytest
import torch

from mer_pipeline.config import TrainParams
from mer_pipeline.errors import UserError
from mer_pipeline.models import create_model
from mer_pipeline.training.loop import Recipe, predict, train

CPU = torch.device("cpu")


def recipe(mixed_precision: str = "auto", channels_last: str = "auto", epochs: int = 8) -> Recipe:
    return Recipe(epochs, 8, 3e-3, 0.0, 2.0, False, (0.0,), mixed_precision, channels_last)


def separable(n: int = 48, size: int = 32):
    """Class 0: a bright left half, class 1: a bright right half (plus noise)."""
    gen = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 2
    x = 0.1 * torch.rand(n, 3, size, size, generator=gen)
    for i, label in enumerate(y):
        x[i, :, :, : size // 2] += 0.8 if label == 0 else 0.0
        x[i, :, :, size // 2 :] += 0.8 if label == 1 else 0.0
    return x, y


def fit(r: Recipe) -> torch.nn.Module:
    x, y = separable()
    torch.manual_seed(0)
    model = create_model("meganet", 2, 3, blocks=2)
    return train(model, x, y, ("signed",) * 3, r, CPU, seed=0)


def test_auto_is_off_on_the_cpu():
    assert recipe().speed(CPU).autocast is None and recipe().speed(CPU).layout == torch.preserve_format
    assert recipe("on", "on").speed(CPU).autocast == torch.bfloat16
    assert recipe("on", "on").speed(CPU).layout == torch.channels_last
    same = [fit(recipe(m, c, epochs=1)).state_dict() for m, c in (("auto", "auto"), ("off", "off"))]
    assert all(torch.equal(a, b) for a, b in zip(same[0].values(), same[1].values()))


def test_mixed_precision_and_channels_last_still_learn():
    x, y = separable()
    r = recipe("on", "on")
    model = fit(r)
    assert next(p for p in model.parameters() if p.ndim == 4).is_contiguous(memory_format=torch.channels_last)
    probs = predict(model, x, CPU, speed=r.speed(CPU))
    assert probs.dtype == torch.float32 and (probs.argmax(1) == y).float().mean() >= 0.9


def test_bad_speed_setting_is_one_line():
    with pytest.raises(UserError, match="mixed_precision"):
        TrainParams(mixed_precision="fast")
