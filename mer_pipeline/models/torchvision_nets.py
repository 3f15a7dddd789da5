"""Baselines from torchvision (paper Table I): VGG19, ResNet50, EfficientNet-B0, with a common
forward_features / forward_head surface.

No weights are downloaded: `pretrained_path` optionally names a local state-dict file (torchvision's own
checkpoint format), loaded with weights-only loading; the classifier is replaced for `num_classes`.
"""

from pathlib import Path

import torch
import torch.nn as nn
import torchvision

from mer_pipeline.errors import UserError


def _load_pretrained(net: nn.Module, path: str) -> None:
    if not path:
        return
    if not Path(path).is_file():
        raise UserError(f"{path}: pretrained weights file not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickled objects (refused: never unpickled), a file torch cannot read
        raise UserError(
            f"{path}: not a plain state-dict file of weights ({exc.__class__.__name__}); only tensors are "
            "loaded, never pickled objects"
        ) from None
    if not isinstance(state, dict):
        raise UserError(f"{path}: holds a {type(state).__name__}, not a state dict of weights")
    missing, unexpected = net.load_state_dict(state, strict=False)
    if unexpected or len(missing) > 4:
        raise UserError(
            f"{path}: does not fit {net.__class__.__name__} (missing {len(missing)}, unexpected {len(unexpected)} keys)"
        )


def _first_conv(conv: nn.Conv2d, in_chans: int) -> nn.Conv2d:
    """The same conv taking `in_chans` channels (weights averaged over RGB and repeated, so pretraining carries)."""
    if in_chans == conv.in_channels:
        return conv
    new = nn.Conv2d(
        in_chans, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=conv.bias is not None
    )
    with torch.no_grad():
        new.weight.copy_(conv.weight.mean(1, keepdim=True).expand(-1, in_chans, -1, -1) * 3 / in_chans)
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
    return new


class VGG19(nn.Module):
    def __init__(self, num_classes: int, in_chans: int = 3, pretrained_path: str = ""):
        super().__init__()
        net = torchvision.models.vgg19(weights=None)
        _load_pretrained(net, pretrained_path)
        net.features[0] = _first_conv(net.features[0], in_chans)
        self.features, self.pool = net.features, net.avgpool
        self.classifier = net.classifier
        self.classifier[-1] = nn.Linear(self.classifier[-1].in_features, num_classes)

    def forward_features(self, x):
        return self.features(x)

    def forward_head(self, f):
        return self.classifier(torch.flatten(self.pool(f), 1))

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


class ResNet50(nn.Module):
    def __init__(self, num_classes: int, in_chans: int = 3, pretrained_path: str = ""):
        super().__init__()
        net = torchvision.models.resnet50(weights=None)
        _load_pretrained(net, pretrained_path)
        net.conv1 = _first_conv(net.conv1, in_chans)
        self.body = nn.Sequential(
            net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3, net.layer4
        )
        self.fc = nn.Linear(net.fc.in_features, num_classes)

    def forward_features(self, x):
        return self.body(x)

    def forward_head(self, f):
        return self.fc(f.mean((2, 3)))

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


class EfficientNetB0(nn.Module):
    def __init__(self, num_classes: int, in_chans: int = 3, pretrained_path: str = ""):
        super().__init__()
        net = torchvision.models.efficientnet_b0(weights=None)
        _load_pretrained(net, pretrained_path)
        net.features[0][0] = _first_conv(net.features[0][0], in_chans)
        self.features = net.features
        self.dropout = net.classifier[0]
        self.fc = nn.Linear(net.classifier[1].in_features, num_classes)

    def forward_features(self, x):
        return self.features(x)

    def forward_head(self, f):
        return self.fc(self.dropout(f.mean((2, 3))))

    def forward(self, x):
        return self.forward_head(self.forward_features(x))
