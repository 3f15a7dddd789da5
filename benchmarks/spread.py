"""What is not bit-identical, measured: the flow images of the default faces computed with 1 and with 2 torch CPU
threads (and on CUDA, where present), as the share of image values that differ and by how much.

    python benchmarks/spread.py     # needs data/faces/synthetic (dvc repro); writes benchmarks/results/spread.md
"""

import argparse
from pathlib import Path

import numpy as np
import torch
from publish import publish  # benchmarks/publish.py: the one output helper

from mer_pipeline import paths
from mer_pipeline.config import Params
from mer_pipeline.modalities.compute import compute_samples
from mer_pipeline.store import faces as faces_store


def flow_images(params: Params, frames, keys, device: str, threads: int) -> np.ndarray:
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        out = compute_samples(
            "optical_flow",
            params.modalities.of("optical_flow"),
            frames,
            keys,
            params.modalities.size,
            torch.device(device),
        )
    finally:
        torch.set_num_threads(before)
    return np.stack([np.concatenate([o["image"], o["image_apex_offset"]]) for o in out])  # (N, 6, S, S) uint8


def compare(a: np.ndarray, b: np.ndarray) -> dict:
    diff = np.abs(a.astype(int) - b.astype(int))
    return {
        "values": int(diff.size),
        "differ_share": float((diff > 0).mean()),
        "max_levels": int(diff.max()),
        "over_1_level_share": float((diff > 1).mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    params = Params.load(args.params)
    root = faces_store.open_existing(paths.faces_store(params.faces, "synthetic"))
    entries = [faces_store.read_entry(root, c) for c in faces_store.complete_entries(root)]
    frames, keys = [f for f, _ in entries], [e.key_frames for _, e in entries]
    one = flow_images(params, frames, keys, "cpu", 1)
    rows = {"CPU 1 thread vs 2 threads": compare(one, flow_images(params, frames, keys, "cpu", 2))}
    if torch.cuda.is_available():
        rows["CPU vs CUDA"] = compare(one, flow_images(params, frames, keys, "cuda", 1))
    lines = [
        f"Flow images (u, v, strain, both directions) of {len(frames)} clips, {params.modalities.size} px, uint8.",
        "",
        "| comparison | values differing | by more than 1 level | largest difference (levels) |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {n} | {r['differ_share']:.3%} | {r['over_1_level_share']:.3%} | {r['max_levels']} |"
        for n, r in rows.items()
    ]
    publish(args.out, "spread", rows, lines)


if __name__ == "__main__":
    main()
