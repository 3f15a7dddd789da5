import cv2
import numpy as np
import pytest

from mer_pipeline.config import SynthParams
from mer_pipeline.errors import UserError
from mer_pipeline.synth.generate import generate, read_ground_truth
from mer_pipeline.synth.render import intensity_profile

SMALL = {"subjects": 1, "clips_per_class": 1, "frames": 10, "image_size": 160}


def test_deterministic_from_seed(tmp_path):
    a = generate(SynthParams(**SMALL, seed=1), tmp_path / "a")
    b = generate(SynthParams(**SMALL, seed=1), tmp_path / "b")
    c = generate(SynthParams(**SMALL, seed=2), tmp_path / "c")
    assert a == b and a != c
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) > 40 and all(
        (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files
    )  # frames, sheet, ground truth: DVC hashes the whole folder


def test_coding_sheet_bytes_do_not_depend_on_the_clock(tmp_path):
    import time

    from mer_pipeline.synth.generate import _write_sheet

    clips = generate(SynthParams(**SMALL), tmp_path / "s")
    _write_sheet(tmp_path / "a.xlsx", clips)
    time.sleep(2.1)  # zip timestamps have a 2 s resolution
    _write_sheet(tmp_path / "b.xlsx", clips)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_profile_rises_to_apex_and_falls():
    p = intensity_profile(12, onset=2, apex=5, offset=9)
    assert p[2] == 0 and p[5] == 1 and p[9] == pytest.approx(0) and p[11] == 0
    assert np.all(np.diff(p[2:6]) > 0) and np.all(np.diff(p[5:10]) < 0)


def test_ground_truth_head_and_flow_explain_the_motion(tmp_path):
    """Sampling the apex frame where the true head motion and expression flow put each onset pixel reproduces the
    onset frame far better than not moving: x -> H_apex H_onset^-1 (x + flow(x))."""
    out = tmp_path / "s"
    generate(
        SynthParams(**SMALL, noise_sigma=0.0, flicker=0.0, jpeg_quality=100, amplitude_px=3.0, head_jerk_prob=1.0), out
    )
    truth = read_ground_truth(out)
    assert set(truth) == {"sub01/EP01_01f", "sub01/EP02_01f", "sub01/EP03_01f", "sub01/EP04_01f"}
    for clip_id, gt in truth.items():
        folder = out / "CASME2-RAW" / clip_id
        onset = cv2.imread(str(folder / f"img{gt['onset']}.jpg")).astype(np.float32)
        apex = cv2.imread(str(folder / f"img{gt['apex']}.jpg")).astype(np.float32)
        flow = np.load(gt["flow"])["flow"]
        heads = np.load(gt["head"])["transforms"]
        assert heads.shape == (SMALL["frames"], 2, 3) and gt["head_px"] > 1.0  # the head does move
        h_on, h_ap = (np.vstack([heads[gt[k] - gt["first"]], [0, 0, 1]]) for k in ("onset", "apex"))
        assert np.linalg.norm(flow, axis=-1).max() == pytest.approx(gt["amplitude_px"], abs=0.6)
        rel = (h_ap @ np.linalg.inv(h_on))[:2]

        truth_error = warp_error(onset, apex, flow, rel, 1.0)
        assert truth_error < 0.5 * float(np.abs(apex - onset)[20:-20, 20:-20].mean()), clip_id  # vs not moving
        # the expression flow explains what the head does not, and a 0.3 px error in it shows
        assert truth_error < 0.85 * warp_error(onset, apex, flow, rel, 0.0), clip_id
        shifted = [warp_error(onset, apex, flow, rel, 1.0, dx) for dx in (-0.3, 0.3)]
        assert truth_error < 0.8 * min(shifted), clip_id
        for x, y in gt["anchors"]:  # expression motion is where the action unit's anchors are (onset frame)
            ax, ay = h_on[:2] @ [x, y, 1]
            assert np.linalg.norm(flow[int(round(ay)), int(round(ax))]) > 0.4 * gt["amplitude_px"]


def warp_error(onset, apex, flow, rel, flow_weight: float, dx: float = 0.0) -> float:
    """Mean |apex warped back onto onset - onset| away from the borders, through the head's relative transform `rel`
    (2, 3) and `flow_weight` times the true expression flow shifted by dx px."""
    h, w = flow.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    px, py = xs + flow_weight * flow[..., 0] + dx, ys + flow_weight * flow[..., 1]
    back = cv2.remap(
        apex,
        (rel[0, 0] * px + rel[0, 1] * py + rel[0, 2]).astype(np.float32),
        (rel[1, 0] * px + rel[1, 1] * py + rel[1, 2]).astype(np.float32),
        cv2.INTER_CUBIC,
    )
    return float(np.abs(back - onset)[20:-20, 20:-20].mean())  # away from reflected borders


def test_no_head_motion_when_its_amplitudes_are_zero(tmp_path):
    still = {"head_translation_px": 0.0, "head_rotation_deg": 0.0, "head_scale": 0.0, "head_jerk_px": 0.0}
    generate(SynthParams(**SMALL, **still), tmp_path / "s")
    for gt in read_ground_truth(tmp_path / "s").values():
        head = np.load(gt["head"])
        np.testing.assert_allclose(head["transforms"], np.broadcast_to(np.eye(2, 3), (10, 2, 3)))
        np.testing.assert_allclose(head["points"], np.broadcast_to(head["points"][:1], head["points"].shape))
        assert gt["head_px"] == 0


def test_never_overwrites_a_folder_that_is_not_synthetic(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("precious")
    with pytest.raises(UserError, match="refusing to overwrite"):
        generate(SynthParams(**SMALL), tmp_path / "mine")
    assert (tmp_path / "mine" / "thesis.txt").read_text() == "precious"


def test_bad_params(tmp_path):
    with pytest.raises(UserError, match="no action pattern for \\['contempt'\\]"):
        generate(SynthParams(**{**SMALL, "subjects": 1}, classes=("contempt",)), tmp_path / "x")
