"""The augmentation keeps each modality what it is: flips negate horizontal flow, rotations turn flow vectors,
corners are filled with each channel's neutral value; batched, seeded."""

import pytest
import torch
from torchvision.transforms.v2 import functional as TF

from mer_pipeline.config.modalities import CHANNEL_KINDS
from mer_pipeline.training.augment import Augmentation, augment, flip_horizontal, rotate

FLOW = CHANNEL_KINDS["flow"]
S = 33


def flow_image(u: float, v: float, strain: float = 0.2, flow_max: float = 4.0) -> torch.Tensor:
    """(1, 3, S, S) a constant flow field encoded as the flow store encodes it."""
    x = torch.empty(1, 3, S, S)
    x[:, 0], x[:, 1], x[:, 2] = 0.5 + 0.5 * u / flow_max, 0.5 + 0.5 * v / flow_max, strain
    return x


def decode(x: torch.Tensor, flow_max: float = 4.0) -> tuple[float, float]:
    c = S // 2
    return float((x[0, 0, c, c] - 0.5) * 2 * flow_max), float((x[0, 1, c, c] - 0.5) * 2 * flow_max)


def test_flip_mirrors_flow_u_and_nothing_else():
    x = flow_image(2.0, 1.0)
    x[0, :, :, 0] = 0.9  # a marked left column
    out = flip_horizontal(x, FLOW, torch.tensor([True]))
    assert decode(out) == pytest.approx((-2.0, 1.0), abs=1e-5)
    assert out[0, 1, 0, -1] == pytest.approx(0.9) and out[0, 0, 0, -1] == pytest.approx(0.1)  # moved, u negated
    assert out[0, 2, 5, 5] == pytest.approx(0.2)  # strain is a scalar
    signed = torch.rand(1, 3, S, S)
    torch.testing.assert_close(
        flip_horizontal(signed, CHANNEL_KINDS["signed"], torch.tensor([True])), signed.flip(-1)
    )  # images and signed maps are only mirrored
    torch.testing.assert_close(flip_horizontal(x, FLOW, torch.tensor([False])), x)


def test_rotation_turns_flow_vectors_with_the_content():
    out = rotate(flow_image(2.0, 0.0), FLOW, torch.tensor([90.0]))
    assert decode(out) == pytest.approx((0.0, -2.0), abs=1e-4)  # rightward turned counter-clockwise: upward
    out = rotate(flow_image(0.0, 2.0), FLOW, torch.tensor([90.0]))
    assert decode(out) == pytest.approx((2.0, 0.0), abs=1e-4)  # downward -> rightward
    out = rotate(flow_image(3.0, 1.0), FLOW, torch.tensor([10.0]))
    u, v = decode(out)
    assert (u * u + v * v) ** 0.5 == pytest.approx(10**0.5, abs=1e-3)  # a rotation keeps the magnitude


def test_rotation_moves_content_like_torchvision_and_fills_neutral_corners():
    img = torch.zeros(1, 3, S, S)
    img[0, :, S // 2, S // 2 + 8] = 1.0  # a dot right of the centre
    out = rotate(img, CHANNEL_KINDS["unit"], torch.tensor([90.0]))
    ref = TF.rotate(img, 90.0, interpolation=TF.InterpolationMode.BILINEAR)
    assert out[0, 0].argmax() == ref[0, 0].argmax() == (S // 2 - 8) * S + S // 2  # above the centre
    for kinds, neutral in (
        (CHANNEL_KINDS["signed"], (0.5,) * 3),
        (FLOW, (0.5, 0.5, 0.0)),
        (CHANNEL_KINDS["positive"], (0.0,) * 3),
        (CHANNEL_KINDS["unit"], (0.0,) * 3),
    ):
        out = rotate(torch.rand(1, 3, S, S), kinds, torch.tensor([45.0]))
        assert out[0, :, 0, 0].tolist() == pytest.approx(list(neutral), abs=1e-6), kinds


def test_batched_draws_are_seeded_and_zero_angle_is_identity():
    x = torch.rand(6, 6, S, S)
    kinds = CHANNEL_KINDS["signed"] + FLOW
    aug = Augmentation(True, (-10.0, -5.0, 0.0, 5.0, 10.0))
    a = augment(x, kinds, aug, torch.Generator().manual_seed(3))
    b = augment(x, kinds, aug, torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, b)
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 1
    torch.testing.assert_close(augment(x, kinds, Augmentation(False, ()), torch.Generator()), x)
    with pytest.raises(ValueError, match="expected"):
        augment(x, kinds[:3], aug, torch.Generator())
