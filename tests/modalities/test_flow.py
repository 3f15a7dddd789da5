"""TV-L1 in torch against ground truth and against OpenCV's DualTVL1."""

import shutil
from dataclasses import replace

import cv2
import numpy as np
import pytest
import torch

from mer_pipeline.config import FlowParams, TVL1Params
from mer_pipeline.errors import UserError
from mer_pipeline.modalities.optical_flow import flow_pairs, optical_strain
from mer_pipeline.modalities.tvl1 import Schedule, median_filter, tvl1_flow, warp


def textured(size=96, seed=0):
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.uniform(0, 255, (size, size)).astype(np.float32), (0, 0), 2.5)
    return (img - img.min()) / (img.max() - img.min()) * 255


def _shifted_pair():
    img = textured()
    moved = cv2.warpAffine(
        img,
        np.float32([[1, 0, 1.3], [0, 1, -0.6]]),
        img.shape[::-1],
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REFLECT,
    )
    return torch.from_numpy(img)[None, None], torch.from_numpy(moved)[None, None]


def test_recovers_a_subpixel_translation():
    flow = tvl1_flow(*_shifted_pair())
    inner = flow[0, :, 16:-16, 16:-16]
    assert abs(float(inner[0].mean()) - 1.3) < 0.05 and abs(float(inner[1].mean()) + 0.6) < 0.05


def test_batch_equals_one_by_one_bit_for_bit():
    """A clip's flow must not depend on the clips it is batched with (cache entries, dask runs)."""
    a = torch.from_numpy(np.stack([textured(seed=s) for s in range(3)]))[:, None]
    b = torch.roll(a, shifts=1, dims=-1)
    p = TVL1Params(scales=3, warps=2, iterations=10)
    batched = tvl1_flow(a, b, p)
    single = torch.cat([tvl1_flow(a[i : i + 1], b[i : i + 1], p) for i in range(3)])
    assert torch.equal(batched, single)


def test_the_default_schedule_recovers_a_large_motion():
    """Fewer iterations at the coarse scales (params: 10 of 30) still carry a 12 px shift of a 224 px face."""
    from skimage import data as skdata

    img = cv2.cvtColor(skdata.astronaut()[:224, 100:324], cv2.COLOR_RGB2GRAY).astype(np.float32)
    moved = cv2.warpAffine(
        img, np.float32([[1, 0, 12], [0, 1, -6]]), (224, 224), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
    )
    p = FlowParams()
    assert p.coarse_iterations < p.iterations
    flow = tvl1_flow(torch.from_numpy(img)[None, None], torch.from_numpy(moved)[None, None], p.solver())
    inner = flow[0, :, 32:-32, 32:-32]
    assert abs(float(inner[0].mean()) - 12) < 0.05 and abs(float(inner[1].mean()) + 6) < 0.05


def test_convergence_test_stops_a_warp_at_its_first_check():
    """A tolerance every update is below stops each warp after `check` iterations: the flow is then exactly that of
    the fixed schedule with `check` iterations; a tolerance of 0 never stops (the stores' schedule)."""
    a, b = _shifted_pair()
    p = TVL1Params(scales=2, warps=2, iterations=12, coarse_iterations=12)
    stopped = tvl1_flow(a, b, p, Schedule(tol=1e9, check=4))
    assert torch.equal(stopped, tvl1_flow(a, b, TVL1Params(scales=2, warps=2, iterations=4, coarse_iterations=4)))
    assert torch.equal(tvl1_flow(a, b, p, Schedule(tol=0.0, check=4)), tvl1_flow(a, b, p))


def test_coarse_iterations_change_only_the_coarse_scales():
    a, b = _shifted_pair()
    one_scale = TVL1Params(scales=1, warps=2, iterations=8, coarse_iterations=8)
    assert torch.equal(tvl1_flow(a, b, replace(one_scale, coarse_iterations=1)), tvl1_flow(a, b, one_scale))
    p = TVL1Params(scales=3, warps=2, iterations=8, coarse_iterations=8)
    fewer = tvl1_flow(a, b, replace(p, coarse_iterations=2))
    assert not torch.equal(fewer, tvl1_flow(a, b, p))
    # the finest scale's iterations refine what the coarse ones left: the translation is still recovered
    inner = fewer[0, :, 16:-16, 16:-16]
    assert abs(float(inner[0].mean()) - 1.3) < 0.05 and abs(float(inner[1].mean()) + 0.6) < 0.05


def test_warm_dual_starts_the_finer_scales_from_the_coarser_duals():
    a, b = _shifted_pair()
    one_scale = TVL1Params(scales=1, warps=2, iterations=8, coarse_iterations=8)
    assert torch.equal(tvl1_flow(a, b, one_scale, Schedule(warm_dual=True)), tvl1_flow(a, b, one_scale))
    p = TVL1Params(scales=3, warps=2, iterations=8, coarse_iterations=8)
    warm = tvl1_flow(a, b, p, Schedule(warm_dual=True))
    assert not torch.equal(warm, tvl1_flow(a, b, p))
    inner = warm[0, :, 16:-16, 16:-16]  # still a solution of the same problem
    assert abs(float(inner[0].mean()) - 1.3) < 0.05 and abs(float(inner[1].mean()) + 0.6) < 0.05


@pytest.mark.skipif(not (shutil.which("c++") or shutil.which("g++")), reason="torch.compile needs a C++ compiler")
def test_compiled_iteration_agrees_with_eager_and_ignores_batch_mates():
    a = torch.from_numpy(np.stack([textured(seed=s) for s in range(3)]))[:, None]
    b = torch.roll(a, shifts=1, dims=-1)
    p = TVL1Params(scales=2, warps=2, iterations=10, coarse_iterations=5)
    compiled = tvl1_flow(a, b, replace(p, compile=True))
    assert torch.allclose(compiled, tvl1_flow(a, b, p), atol=1e-3)
    single = torch.cat([tvl1_flow(a[i : i + 1], b[i : i + 1], replace(p, compile=True)) for i in range(3)])
    assert torch.equal(compiled, single)


def test_compile_failure_is_one_line(monkeypatch):
    """No compiler (or no Triton): the first call fails with one line naming the param, not inductor's trace."""
    from mer_pipeline.modalities import tvl1

    def broken(*args, **kwargs):
        raise RuntimeError("InductorError: CppCompileError: C++ compile error\n  (pages of compiler output)")

    monkeypatch.setattr(tvl1, "_compiled", {})
    monkeypatch.setattr(torch, "compile", lambda fn, **kw: broken)
    a, b = _shifted_pair()
    with pytest.raises(
        UserError,
        match=r"^optical_flow.compile: torch.compile failed on cpu \(InductorError: "
        r"CppCompileError: C\+\+ compile error\); set compile: false$",
    ):
        tvl1_flow(a, b, TVL1Params(scales=1, warps=1, iterations=2, compile=True))


@pytest.mark.gpu
def test_compiled_iteration_on_cuda_agrees_with_the_cpu():
    a = torch.from_numpy(np.stack([textured(seed=s) for s in range(2)]))[:, None]
    b = torch.roll(a, shifts=1, dims=-1)
    p = TVL1Params(scales=2, warps=2, iterations=10, coarse_iterations=5)
    on_gpu = tvl1_flow(a.cuda(), b.cuda(), replace(p, compile=True)).cpu()
    assert torch.allclose(on_gpu, tvl1_flow(a, b, p), atol=1e-3)


def test_warp_convention():
    img = torch.arange(16.0).reshape(1, 1, 4, 4)
    flow = torch.zeros(1, 2, 4, 4)
    flow[:, 0] = 1.0  # sample one pixel to the right
    assert warp(img, flow)[0, 0, 0, :3].tolist() == [1.0, 2.0, 3.0]


def test_strain_of_a_pure_shear_and_translation():
    ys, xs = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    shear = torch.stack([0.1 * ys, torch.zeros_like(xs)])[None]  # u = 0.1 y: u_y = 0.1 -> sqrt(0.5 * 0.01)
    assert torch.allclose(optical_strain(shear)[0, 0, 2:-2, 2:-2], torch.tensor(np.sqrt(0.005), dtype=torch.float32))
    assert optical_strain(torch.ones(1, 2, 8, 8)).abs().max() == 0  # translation has no strain


def test_opencv_method_is_selectable_and_close():
    img = textured()
    moved = cv2.warpAffine(
        img,
        np.float32([[1, 0, 0.8], [0, 1, 0.4]]),
        img.shape[::-1],
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REFLECT,
    )
    a = torch.from_numpy(img / 255)[None, None].float().expand(1, 3, -1, -1)
    b = torch.from_numpy(moved / 255)[None, None].float().expand(1, 3, -1, -1)
    ours = flow_pairs(a, b, FlowParams(method="torch"))
    ref = flow_pairs(a, b, FlowParams(method="opencv"))
    assert ours.shape == ref.shape == (1, 3, 96, 96)
    truth = torch.tensor([0.8, 0.4])
    for flow in (ours, ref):
        assert torch.allclose(flow[0, :2, 16:-16, 16:-16].mean((1, 2)), truth, atol=0.06)
    with pytest.raises(UserError, match="flow method must be one of torch, opencv"):
        FlowParams(method="farneback")


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"coarse_iterations": 0}, "coarse_iterations must be an integer >= 1"),
        ({"iterations": 0}, "iterations must be an integer >= 1"),
        ({"scales": 1.5}, "scales must be an integer >= 1"),
        ({"zoom": 1.0}, r"zoom must be in \(0, 1\)"),
    ],
)
def test_bad_solver_settings_fail_when_params_are_built(bad, message):
    with pytest.raises(UserError, match=message):
        FlowParams(**bad)


def test_median_filter_removes_an_outlier_and_is_the_same_on_either_path():
    """OpenCV's medianBlur (CPU, float32) and the sort of the neighbours (GPU path; float64 takes it here) select
    the same values, borders replicated."""
    u = torch.from_numpy(textured(40, seed=3))[None, None].repeat(2, 2, 1, 1)
    u[0, 1, 20, 20] = 1e4  # an isolated outlier
    fast = median_filter(u, 5)
    assert fast.shape == u.shape and float(fast[0, 1, 20, 20]) < 255
    assert torch.equal(fast.double(), median_filter(u.double(), 5))
    assert torch.equal(median_filter(u, 1), u)
    with pytest.raises(UserError, match="median"):
        FlowParams(median=4)
