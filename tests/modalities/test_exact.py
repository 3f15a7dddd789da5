"""The weighted sums give the same bytes whatever the thread count, batching or device: exact sums."""

import numpy as np
import pytest
import torch

from mer_pipeline.config import MapParams
from mer_pipeline.modalities.active_image import active_image_coefficients
from mer_pipeline.modalities.base import KeyFrames, clip_from_frames
from mer_pipeline.modalities.compute import compute_samples
from mer_pipeline.modalities.dynamic_image import dynamic_image_coefficients
from mer_pipeline.modalities.mesti import mesti_coefficients
from mer_pipeline.modalities.registry import get

SUMS = ("mesti", "dynamic_image", "active_image", "affective_image", "apex_frame")
KEYS = KeyFrames(0, 5, 12)


def frames(seed: int, T: int = 13, h: int = 37, w: int = 41) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (T, h, w, 3), dtype=np.uint8)


def run(name: str, clip: torch.Tensor) -> torch.Tensor:
    return get(name).compute([clip], [KEYS], None)[0]


def numpy_reference(name: str, f: np.ndarray) -> np.ndarray:
    """The same sums in NumPy, each an exact integer sum divided once: MESTI, Active and Affective Image by 255;
    Dynamic Image, its weights rounded to multiples of 2**-24, by 255 * 2**24 (as integers: no float64 at all)."""
    n = f.transpose(0, 3, 1, 2).astype(np.int64)  # (T, 3, H, W)
    T = len(n)
    if name == "affective_image":
        return (np.abs(np.diff(n, axis=0)).sum(0) / 255.0).astype(np.float32)
    if name in ("mesti", "active_image"):
        alpha = (mesti_coefficients(T, KEYS.apex) if name == "mesti" else active_image_coefficients(T)).numpy()
        return ((alpha.astype(np.int64)[:, None, None, None] * n).sum(0) / 255.0).astype(np.float32)
    fixed = np.round(dynamic_image_coefficients(T).numpy() * 2**24).astype(np.int64)
    return ((fixed[:, None, None, None] * n).sum(0) / (255.0 * 2**24)).astype(np.float32)


@pytest.mark.parametrize("name", SUMS[:4])
def test_same_bytes_for_any_thread_count_and_as_numpy(name):
    clip = clip_from_frames(torch.from_numpy(frames(1)))
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = run(name, clip)
        torch.set_num_threads(2)
        two = run(name, clip)
    finally:
        torch.set_num_threads(threads)
    assert one.dtype == torch.float32
    assert one.numpy().tobytes() == two.numpy().tobytes()
    assert one.numpy().tobytes() == numpy_reference(name, frames(1)).tobytes()


@pytest.mark.parametrize("name", SUMS)
def test_same_bytes_alone_and_in_a_batch(name):
    params = MapParams(scaling="unit" if name == "apex_frame" else "signed")
    batch = [frames(s) for s in (1, 2, 3)]
    together = compute_samples(name, params, batch, [KEYS] * 3, 32, torch.device("cpu"))
    alone = compute_samples(name, params, batch[1:2], [KEYS], 32, torch.device("cpu"))[0]
    for key in ("image", "raw"):
        assert together[1][key].tobytes() == alone[key].tobytes(), key


@pytest.mark.gpu
@pytest.mark.parametrize("name", SUMS)
def test_cpu_and_gpu_give_the_same_bytes(name):
    params = MapParams(scaling="unit" if name == "apex_frame" else "signed")
    f = [frames(4, h=40, w=40)]  # faces at the image size, as in the default (no resizing)
    cpu = compute_samples(name, params, f, [KEYS], 40, torch.device("cpu"))[0]
    gpu = compute_samples(name, params, f, [KEYS], 40, torch.device("cuda"))[0]
    for key in ("image", "raw"):
        assert cpu[key].tobytes() == gpu[key].tobytes(), key


def test_stored_frames_and_float_frames_agree():
    """The pipeline passes the stored uint8 frames; a float clip of the same frames (float64 loop, unrounded
    weights) agrees with every sum within a float32 rounding."""
    f = torch.from_numpy(frames(5))
    stored, as_float = clip_from_frames(f), clip_from_frames(f).float() / 255
    assert stored.dtype == torch.uint8 and stored.data_ptr() == f.data_ptr()  # a view: no copy of the clip
    for name in SUMS:
        a, b = run(name, stored), run(name, as_float)
        assert a.dtype == torch.float32
        torch.testing.assert_close(a, b, rtol=2e-7, atol=2e-6)
