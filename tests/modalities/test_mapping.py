import pytest
import torch

from mer_pipeline.modalities.mapping import to_image, to_unit


def test_signed_zero_is_mid_grey_and_symmetric():
    x = torch.zeros(3, 8, 8)
    assert to_image(x, 8, scaling="signed").unique().tolist() == [128]
    x[0, 0, 0], x[0, 0, 1] = 2.0, -2.0
    y = to_unit(x, "signed", percentile=100)
    assert y[0, 0, 0] == 1.0 and y[0, 0, 1] == 0.0 and y[1, 3, 3] == 0.5


def test_positive_and_flow_scalings():
    x = torch.linspace(0, 10, 3 * 4 * 4).reshape(3, 4, 4)
    assert to_unit(x, "positive", percentile=100).max() == 1.0
    flow = torch.stack([torch.full((4, 4), 2.0), torch.full((4, 4), -4.0), torch.full((4, 4), 0.25)])
    y = to_unit(flow, "flow", flow_max_px=4.0, strain_max=0.5)
    assert (y[0, 0, 0], y[1, 0, 0], y[2, 0, 0]) == (0.75, 0.0, 0.5)


def test_resize_gray_replication_and_errors():
    out = to_image(torch.rand(1, 50, 40), 32, scaling="unit")
    assert out.shape == (3, 32, 32) and out.dtype == torch.uint8 and torch.equal(out[0], out[2])
    with pytest.raises(ValueError):
        to_image(torch.rand(2, 8, 8), 8, scaling="unit")
    with pytest.raises(ValueError):
        to_unit(torch.rand(3, 8, 8), "log")
