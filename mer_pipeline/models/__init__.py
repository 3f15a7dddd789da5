"""Models registered by name; each takes (num_classes, in_chans, **params) and exposes forward_features /
forward_head (timm's surface)."""

from collections.abc import Callable

import torch.nn as nn

from mer_pipeline.config import MEGANetParams, build
from mer_pipeline.models.meganet import MEGANet
from mer_pipeline.models.micro_attention import MicroAttention
from mer_pipeline.models.torchvision_nets import VGG19, EfficientNetB0, ResNet50
from mer_pipeline.registry import Registry

MODELS: Registry[Callable[..., nn.Module]] = Registry("model")


@MODELS.register("meganet")
def _meganet(num_classes: int, in_chans: int = 3, **params) -> nn.Module:
    return MEGANet(num_classes, in_chans, build(MEGANetParams, params, "model_params"))


MODELS.register("micro_attention")(MicroAttention)
MODELS.register("vgg19")(VGG19)
MODELS.register("resnet50")(ResNet50)
MODELS.register("efficientnet_b0")(EfficientNetB0)


def create_model(name: str, num_classes: int, in_chans: int = 3, **params) -> nn.Module:
    """Build model `name`; unknown names and unknown params fail with the list of what is known."""
    try:
        return MODELS.get(name)(num_classes, in_chans, **params)
    except TypeError as exc:
        from mer_pipeline.errors import UserError

        raise UserError(f"model {name!r}: bad params {sorted(params)} ({exc})") from None


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
