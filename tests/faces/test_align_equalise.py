import cv2
import numpy as np
import pytest

from mer_pipeline.config import FacesParams
from mer_pipeline.faces.align import (
    BROWS,
    CHIN,
    apply_alignment,
    crop_similarity,
    eye_targets,
    similarity_from_eyes,
    transform_points,
)
from mer_pipeline.faces.equalise import equalise
from mer_pipeline.faces.landmarks import eye_centres, largest


def test_similarity_maps_eyes_exactly_and_is_a_similarity():
    src = np.array([[100.0, 120.0], [150.0, 110.0]])
    dst = np.array([[80.0, 85.0], [144.0, 85.0]])
    m = similarity_from_eyes(src, dst)
    np.testing.assert_allclose(transform_points(src, m), dst, atol=1e-9)
    lin = m[:, :2]
    np.testing.assert_allclose(lin @ lin.T, np.eye(2) * np.linalg.det(lin), atol=1e-9)  # rotation x uniform scale


def test_apply_alignment_matches_cv2_convention():
    frame = np.zeros((40, 40, 3), np.uint8)
    frame[10, 20] = 255  # a bright dot at (x=20, y=10)
    m = np.array([[1.0, 0.0, 5.0], [0.0, 1.0, 3.0]])
    out = apply_alignment(frame[None], m, 40)[0]
    assert tuple(np.argwhere(out[..., 0] == 255)[0]) == (13, 25)  # (row=y, col=x) after the shift


def test_eye_targets_follow_params():
    t = eye_targets(FacesParams(size=200, eye_distance=0.4, eye_y=0.3))
    np.testing.assert_allclose(t, [[60, 60], [140, 60]])


def test_alignment_on_synthetic_face_puts_eyes_within_one_pixel(tiny_synth, landmarker):
    params = FacesParams(equalise="none")
    for clip in ("sub01/EP01_01f", "sub02/EP03_01f"):
        folder = tiny_synth / "CASME2-RAW" / clip
        first = sorted(folder.iterdir(), key=lambda p: int(p.stem[3:]))[0]
        rgb = cv2.cvtColor(cv2.imread(str(first)), cv2.COLOR_BGR2RGB)
        m = similarity_from_eyes(eye_centres(largest(landmarker(rgb))), eye_targets(params))
        aligned = apply_alignment(rgb[None], m, params.size)[0]
        found = eye_centres(largest(landmarker(aligned)))
        assert np.abs(found - eye_targets(params)).max() < 1.0, (clip, found, eye_targets(params))


def test_landmark_crop_puts_brows_and_chin_at_the_margins_with_eyes_level(tiny_synth, landmarker):
    params = FacesParams(size=160, margin_top=0.1, margin_bottom=0.05)
    folder = tiny_synth / "CASME2-RAW" / "sub02" / "EP04_01f"
    rgb = cv2.cvtColor(cv2.imread(str(sorted(folder.iterdir())[0])), cv2.COLOR_BGR2RGB)
    lm = largest(landmarker(rgb))
    aligned = transform_points(lm, crop_similarity(lm, params))
    eyes = eye_centres(aligned)
    assert abs(eyes[0, 1] - eyes[1, 1]) < 1e-6 and eyes.mean(0)[0] == pytest.approx(80)  # level, centred
    assert aligned[list(BROWS), 1].min() == pytest.approx(16) and aligned[CHIN, 1] == pytest.approx(152)


def _low_contrast(seed=0):
    rng = np.random.default_rng(seed)
    gray = rng.integers(100, 140, (1, 64, 64), dtype=np.uint8)
    rgb = np.repeat(gray[..., None], 3, axis=-1)
    rgb[..., 0] = np.clip(rgb[..., 0].astype(int) + 20, 0, 255)  # a reddish tint
    return rgb


def test_global_equalisation_spreads_luminance_and_keeps_chroma():
    frames = _low_contrast()
    out = equalise(frames, "global")
    y_in = cv2.cvtColor(frames[0], cv2.COLOR_RGB2YCrCb)
    y_out = cv2.cvtColor(out[0], cv2.COLOR_RGB2YCrCb)
    assert y_in[..., 0].max() - y_in[..., 0].min() < 50
    assert y_out[..., 0].min() <= 5 and y_out[..., 0].max() >= 250
    hist = np.histogram(y_out[..., 0], bins=4, range=(0, 256))[0]
    assert hist.min() > 0.15 * hist.sum()  # roughly flat
    assert np.abs(y_out[..., 1:].astype(int) - y_in[..., 1:].astype(int)).mean() < 3  # chroma barely moves


def test_clahe_and_none():
    frames = _low_contrast()
    np.testing.assert_array_equal(equalise(frames, "none"), frames)
    clahe = equalise(frames, "clahe", clip_limit=2.0, tiles=4)
    glob = equalise(frames, "global")
    assert frames.std() < clahe.std() < glob.std() + 1  # CLAHE stretches contrast, limited
    with pytest.raises(ValueError):
        equalise(frames, "other")
