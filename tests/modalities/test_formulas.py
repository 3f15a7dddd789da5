"""Each formula against a direct loop over frames, on small hand-checkable clips."""

import pytest
import torch

from mer_pipeline.config import FlowParams
from mer_pipeline.modalities import registry
from mer_pipeline.modalities.active_image import active_image, active_image_coefficients
from mer_pipeline.modalities.affective_image import affective_image
from mer_pipeline.modalities.apex_frame import apex_frame
from mer_pipeline.modalities.base import KeyFrames
from mer_pipeline.modalities.dynamic_image import dynamic_image, dynamic_image_coefficients
from mer_pipeline.modalities.mesti import mesti, mesti_coefficients


def clip(T=5, C=3, H=4, W=3, seed=0):
    return torch.rand(T, C, H, W, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_mesti_paper_example_and_half_sums():
    assert mesti_coefficients(10, apex=3).tolist() == [-3, -1, 1, 3, 5, 3, 1, -1, -3, -5]  # a = 4 (1-based)
    for T in range(2, 12):
        for apex in range(T):
            a = mesti_coefficients(T, apex)
            assert a[: apex + 1].sum() == 0 and a[apex + 1 :].sum() == 0


def test_mesti_matches_loop():
    x = clip(T=4)
    keys = KeyFrames(0, 1, 3)  # a = 2: alpha = [2-2-1, 4-2-1, 4-6+3, 4-8+3] = [-1, 1, 1, -1]
    expected = -x[0] + x[1] + x[2] - x[3]
    torch.testing.assert_close(mesti(x, keys), expected)


def test_dynamic_image_three_frames_by_hand():
    # T = 3: H = [0, 1, 1.5, 11/6]; alpha_t = 2(4 - t) - 4 (H_3 - H_{t-1}) = [6 - 22/3, 4 - 10/3, 2 - 4/3]
    expected = torch.tensor([6 - 22 / 3, 4 - 10 / 3, 2 - 4 / 3], dtype=torch.float64)
    torch.testing.assert_close(dynamic_image_coefficients(3), expected)
    x = clip(T=3)
    torch.testing.assert_close(dynamic_image(x, KeyFrames(0, 1, 2)), sum(expected[t] * x[t] for t in range(3)))


def test_dynamic_image_coefficients_sum_to_zero_and_not_the_off_by_one_port():
    for T in range(2, 60):
        assert abs(float(dynamic_image_coefficients(T).sum())) < 1e-9
    static = torch.ones(8, 3, 2, 2, dtype=torch.float64) * 0.7
    assert dynamic_image(static, KeyFrames(0, 3, 7)).abs().max() < 1e-12  # no leak of the mean frame


def test_active_image_is_the_double_sum():
    x = clip(T=5)
    loop = sum(x[j] - x[k] for j in range(5) for k in range(j))
    torch.testing.assert_close(active_image(x, KeyFrames(0, 2, 4)), loop)
    assert active_image_coefficients(3).tolist() == [-2, 0, 2]


def test_affective_image_accumulates_absolute_change():
    x = clip(T=4)
    loop = sum((x[t] - x[t - 1]).abs() for t in range(1, 4))
    torch.testing.assert_close(affective_image(x, KeyFrames(0, 1, 3)), loop)
    assert affective_image(torch.ones(5, 3, 2, 2), KeyFrames(0, 2, 4)).abs().max() == 0


def test_apex_frame():
    x = clip(T=5)
    torch.testing.assert_close(apex_frame(x, KeyFrames(0, 3, 4)), x[3])


NAMES = registry.known()


def test_every_modality_file_registers_itself():
    assert NAMES == ["active_image", "affective_image", "apex_frame", "dynamic_image", "mesti", "optical_flow"]


@pytest.mark.parametrize("name", NAMES)
def test_every_modality_shape_dtype_and_finite(name):
    m = registry.get(name)
    x = clip(T=6, H=32, W=32).float()
    params = FlowParams(iterations=5, warps=2, scales=2) if name == "optical_flow" else None
    (out,) = m.compute([x], [KeyFrames(0, 2, 5)], params)
    assert out.shape == (m.raw_channels, 32, 32) and out.dtype == torch.float32 and torch.isfinite(out).all()


@pytest.mark.parametrize("fn", [mesti, dynamic_image, active_image, affective_image, apex_frame])
def test_bad_inputs_raise(fn):
    with pytest.raises(ValueError):
        fn(torch.zeros(3, 4, 4), KeyFrames(0, 1, 2))  # not (T, C, H, W)
    with pytest.raises(ValueError):
        fn(torch.zeros(3, 3, 4, 4), KeyFrames(0, 5, 2))  # apex outside the clip


@pytest.mark.gpu
@pytest.mark.parametrize("name", NAMES)
def test_cpu_and_cuda_agree(name):
    m = registry.get(name)
    x = clip(T=6, H=48, W=48).float()
    keys = [KeyFrames(0, 2, 5)]
    params = FlowParams(iterations=10, warps=2, scales=2) if name == "optical_flow" else None
    (cpu,) = m.compute([x], keys, params)
    (gpu,) = m.compute([x.cuda()], keys, params)
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-3, rtol=1e-3)
