"""Flow accuracy on the default synthetic dataset's ground truth: mean endpoint error inside the face of zero flow,
our torch TV-L1, and OpenCV's DualTVL1 (its defaults, and our settings), on the aligned faces of `dvc repro`.

    python benchmarks/flow_truth.py  # needs data/faces/synthetic (dvc repro); writes benchmarks/results/flow_truth.md
"""

import argparse
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch
from publish import publish  # benchmarks/publish.py: the one output helper

from mer_pipeline import paths
from mer_pipeline.config import Params
from mer_pipeline.evaluation.flow_truth import mean_epe, onset_apex_pairs
from mer_pipeline.modalities.optical_flow import flow_pairs, to_gray255


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    params = Params.load(args.params)
    flow = params.modalities.of("optical_flow")
    first, second, truths, masks, ids = onset_apex_pairs(paths.faces_store(params.faces, "synthetic"), params.synth.out)
    moving = [m & (np.linalg.norm(t, axis=-1) > 0.5) for t, m in zip(truths, masks)]
    g0, g1 = to_gray255(first), to_gray255(second)
    defaults = cv2.optflow.DualTVL1OpticalFlow_create()
    flows = {
        "zero flow": torch.zeros(len(ids), 2, *first.shape[-2:]),
        "torch TV-L1 (params)": flow_pairs(first, second, flow),
        "OpenCV DualTVL1, its defaults": torch.stack(
            [
                torch.from_numpy(defaults.calc(a[0].round().byte().numpy(), b[0].round().byte().numpy(), None)).permute(
                    2, 0, 1
                )
                for a, b in zip(g0, g1)
            ]
        ),
        "OpenCV DualTVL1, our settings": flow_pairs(first, second, replace(flow, method="opencv")),
    }
    rows = {
        name: {"face": mean_epe(f, truths, masks), "moving": mean_epe(f, truths, moving)} for name, f in flows.items()
    }
    lines = [
        f"{len(ids)} clips, aligned faces {first.shape[-1]} px; EPE px inside the face, and where the true flow "
        "exceeds 0.5 px (the action units).",
        "",
        "| method | EPE, face | EPE, moving regions |",
        "|---|---|---|",
    ]
    lines += [f"| {n} | {r['face']:.3f} | {r['moving']:.3f} |" for n, r in rows.items()]
    publish(args.out, "flow_truth", rows, lines)


if __name__ == "__main__":
    main()
