"""Flow accuracy on the synthetic dataset's ground truth: our TV-L1 against OpenCV's DualTVL1."""

import cv2
import numpy as np
import torch

from mer_pipeline.config import FlowParams
from mer_pipeline.evaluation.flow_truth import aligned_ground_truth, mean_epe, onset_apex_pairs
from mer_pipeline.modalities.optical_flow import flow_pairs, to_gray255


def test_aligned_ground_truth_rotates_and_scales_vectors():
    flow = np.zeros((20, 20, 2), np.float32)
    flow[..., 0] = 1.0  # everything moves 1 px right
    m = np.array([[0.0, -2.0, 30.0], [2.0, 0.0, 0.0]])  # rotate 90 degrees, scale 2
    out = aligned_ground_truth(flow, m, 40)
    np.testing.assert_allclose(out[20, 20], [0.0, 2.0], atol=1e-6)


def test_torch_tvl1_epe_against_opencv(tiny_faces, tiny_synth):
    first, second, truths, masks, ids = onset_apex_pairs(tiny_faces, tiny_synth)
    assert len(ids) == 8
    ours = mean_epe(flow_pairs(first, second, FlowParams()), truths, masks)
    g0, g1 = to_gray255(first), to_gray255(second)
    defaults = cv2.optflow.DualTVL1OpticalFlow_create()  # OpenCV's own defaults
    ref_flows = torch.stack(
        [
            torch.from_numpy(defaults.calc(a[0].round().byte().numpy(), b[0].round().byte().numpy(), None)).permute(
                2, 0, 1
            )
            for a, b in zip(g0, g1)
        ]
    )
    ref_defaults = mean_epe(ref_flows, truths, masks)
    ref_matched = mean_epe(flow_pairs(first, second, FlowParams(method="opencv")), truths, masks)
    assert ours <= 1.10 * ref_matched, (ours, ref_matched)  # the same algorithm and settings as OpenCV's
    assert ours <= 1.35 * ref_defaults, (ours, ref_defaults)  # its defaults smooth more (median filter, 10 outer its)
    # Where the action units move the face (true flow over 0.5 px), the flow explains most of the motion; over the
    # whole face the EPE is TV-L1's noise floor on still skin, about the size of the expression's mean motion.
    moving = [m & (np.linalg.norm(t, axis=-1) > 0.5) for t, m in zip(truths, masks)]
    zero = mean_epe(torch.zeros(len(ids), 2, *first.shape[-2:]), truths, moving)
    assert mean_epe(flow_pairs(first, second, FlowParams()), truths, moving) < 0.6 * zero
