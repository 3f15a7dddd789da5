"""Modality throughput on a CASME II-sized workload (default 255 clips x 60 frames of 224 px aligned faces).

Compares, in clips/s: our torch modalities (batched, on --device) against a straightforward per-frame NumPy
implementation of the same formulas and OpenCV's DualTVL1 for flow (same solver settings), interleaved (torch,
baseline, torch, baseline, ...) `--runs` times per modality (`--flow-runs` for optical flow, about 4 minutes a run on
2 cores), median of the runs. Writes JSON and a Markdown table.

    python benchmarks/modalities.py [--clips 255] [--frames 60] [--size 224] [--device cpu|cuda] [--runs 5]
                                    [--flow-runs 1] [--out DIR]
"""

import argparse
import platform
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from publish import publish  # benchmarks/publish.py: the one output helper
from skimage import data as skdata

from mer_pipeline.config import FlowParams
from mer_pipeline.modalities import registry
from mer_pipeline.modalities.active_image import active_image_coefficients
from mer_pipeline.modalities.base import KeyFrames, clip_from_frames
from mer_pipeline.modalities.dynamic_image import dynamic_image_coefficients
from mer_pipeline.modalities.mesti import mesti_coefficients


def workload(n_clips: int, frames: int, size: int, seed: int = 0):
    """Yield (clip uint8 (T, size, size, 3), KeyFrames): the astronaut's face with sub-pixel jitter per frame."""
    face = cv2.resize(skdata.astronaut()[25:225, 125:325], (size, size), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(seed)
    for _ in range(n_clips):
        shifts = rng.normal(0, 0.5, (frames, 2))
        clip = np.stack(
            [
                cv2.warpAffine(face, np.float32([[1, 0, dx], [0, 1, dy]]), (size, size), borderMode=cv2.BORDER_REFLECT)
                for dx, dy in shifts
            ]
        )
        yield clip, KeyFrames(0, int(rng.integers(frames // 4, 3 * frames // 4)), frames - 1)


def numpy_weighted(clip: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    acc = np.zeros(clip.shape[1:], np.float32)
    for t in range(clip.shape[0]):  # per frame, as a straightforward port would
        acc += np.float32(alpha[t]) * (clip[t].astype(np.float32) / 255)
    return acc


def numpy_baselines(flow: FlowParams):
    tv = cv2.optflow.DualTVL1OpticalFlow_create(
        tau=flow.tau,
        lambda_=flow.lam,
        theta=flow.theta,
        nscales=flow.scales,
        warps=flow.warps,
        scaleStep=flow.zoom,
        innnerIterations=flow.iterations,
        outerIterations=1,
        epsilon=0.0,
    )

    def affective(clip, k):
        acc = np.zeros(clip.shape[1:], np.float32)
        for t in range(1, clip.shape[0]):
            acc += np.abs(clip[t].astype(np.float32) - clip[t - 1].astype(np.float32)) / 255
        return acc

    def flows(clip, k):
        gray = [cv2.cvtColor(clip[i], cv2.COLOR_RGB2GRAY) for i in (k.onset, k.apex, k.offset)]
        return [tv.calc(gray[0], gray[1], None), tv.calc(gray[1], gray[2], None)]

    return {
        "apex_frame": lambda c, k: c[k.apex].astype(np.float32) / 255,
        "mesti": lambda c, k: numpy_weighted(c, mesti_coefficients(len(c), k.apex).numpy()),
        "dynamic_image": lambda c, k: numpy_weighted(c, dynamic_image_coefficients(len(c)).numpy()),
        "active_image": lambda c, k: numpy_weighted(c, active_image_coefficients(len(c)).numpy()),
        "affective_image": affective,
        "optical_flow": flows,
    }


def time_torch(name, clips, device, batch, flow_params):
    m = registry.get(name)
    params = flow_params if name == "optical_flow" else None
    start = time.perf_counter()
    for i in range(0, len(clips), batch):
        chunk = clips[i : i + batch]
        tensors = [clip_from_frames(torch.from_numpy(c).to(device)) for c, _ in chunk]
        with torch.no_grad():
            out = m.compute(tensors, [k for _, k in chunk], params)
        [o.cpu() for o in out]
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=255)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--flow-runs", type=int, default=1)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    device = torch.device(args.device)
    flow = FlowParams()
    clips = list(workload(args.clips, args.frames, args.size))
    if device.type == "cuda":  # warm-up: CUDA context and kernels
        time_torch("optical_flow", clips[:2], device, args.batch, flow)
    rows, baselines = [], numpy_baselines(flow)
    for name in registry.known():
        torch_s, base_s = [], []
        for _ in range(args.flow_runs if name == "optical_flow" else args.runs):  # interleaved: noise hits both
            torch_s.append(time_torch(name, clips, device, args.batch, flow))
            start = time.perf_counter()
            for c, k in clips:
                baselines[name](c, k)
            base_s.append(time.perf_counter() - start)
        t_torch, t_base = statistics.median(torch_s), statistics.median(base_s)
        rows.append(
            {
                "modality": name,
                "torch_s": t_torch,
                "baseline_s": t_base,
                "torch_clips_per_s": len(clips) / t_torch,
                "baseline_clips_per_s": len(clips) / t_base,
            }
        )
        print(
            f"{name:16s} torch {len(clips) / t_torch:8.1f} clips/s   baseline {len(clips) / t_base:8.1f} clips/s",
            flush=True,
        )
    total_t, total_b = sum(r["torch_s"] for r in rows), sum(r["baseline_s"] for r in rows)
    rows.append(
        {
            "modality": "all six",
            "torch_s": total_t,
            "baseline_s": total_b,
            "torch_clips_per_s": len(clips) / total_t,
            "baseline_clips_per_s": len(clips) / total_b,
        }
    )
    env = {
        "device": str(device),
        "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None,
        "cpu_threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "torch": torch.__version__,
        "clips": args.clips,
        "frames": args.frames,
        "size": args.size,
        "batch": args.batch,
        "runs": args.runs,
        "flow_runs": args.flow_runs,
        "flow": {"iterations": flow.iterations, "warps": flow.warps, "scales": flow.scales},
    }
    lines = [
        f"Workload: {args.clips} clips x {args.frames} frames, {args.size} px; device {env['gpu'] or 'cpu'} "
        f"({env['cpu_threads']} CPU threads); baseline = per-frame NumPy / OpenCV DualTVL1 on CPU; median of "
        f"{args.runs} interleaved runs ({args.flow_runs} for optical flow).",
        "",
        "| modality | torch clips/s | baseline clips/s | speed-up |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['modality']} | {r['torch_clips_per_s']:.1f} | {r['baseline_clips_per_s']:.1f} | "
        f"{r['baseline_s'] / r['torch_s']:.1f}x |"
        for r in rows
    ]
    publish(args.out, f"modalities_{device.type}", {"env": env, "rows": rows}, lines)


if __name__ == "__main__":
    main()
