"""TV-L1 speed and accuracy on the default synthetic dataset's aligned faces (onset -> apex pairs, ground truth).

1. Schedules: the same iterations at every scale, the stores' (fewer at the coarse scales) and the other ways to
   spend fewer iterations (`tvl1.Schedule`: a convergence test per warp, dual variables carried across scales;
   neither in the stores), and the iteration through torch.compile (params `compile`), each timed over all
   pairs in batches of `--batch` and interleaved with OpenCV's DualTVL1 at the same settings (one pair at a time, as
   it runs), median of `--runs`; EPE against the ground truth; and whether a pair's flow is the same alone as in its
   batch (the stores need it: a clip's entry must not depend on the clips computed with it).
2. Batch sizes 1..64: pairs/s of the stores' schedule on the device present, the sizes interleaved round-robin.

    python benchmarks/tvl1.py [--device cpu|cuda] [--runs 3] [--batch 8]
        # needs data/faces/synthetic (dvc repro); writes benchmarks/results/tvl1_<device>.{json,md}
"""

import argparse
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from publish import publish  # benchmarks/publish.py: the one output helper

from mer_pipeline import paths
from mer_pipeline.config import Params, TVL1Params
from mer_pipeline.evaluation.flow_truth import mean_epe, onset_apex_pairs
from mer_pipeline.modalities.optical_flow import flow_pairs, to_gray255
from mer_pipeline.modalities.tvl1 import Schedule, tvl1_flow

BATCHES = (1, 2, 4, 8, 16, 32, 64)


def schedules(solver: TVL1Params) -> dict[str, tuple[TVL1Params, Schedule]]:
    """name -> (solver settings, schedule): the stores', the same iterations at every scale (as OpenCV's), and the
    ways to spend fewer iterations."""
    full = replace(solver, coarse_iterations=solver.iterations)
    n = solver.iterations
    return {
        f"{n} iterations at every scale (OpenCV's schedule)": (full, Schedule()),
        f"coarse scales {solver.coarse_iterations} iterations (the stores')": (solver, Schedule()),
        "coarse scales 3 iterations": (replace(solver, coarse_iterations=3), Schedule()),
        f"{n} everywhere + convergence test, tol 0.01 (OpenCV's and IPOL's epsilon)": (full, Schedule(tol=0.01)),
        f"{n} everywhere + convergence test, tol 0.05": (full, Schedule(tol=0.05)),
        f"{n} everywhere + dual variables carried across scales": (full, Schedule(warm_dual=True)),
        f"coarse scales {solver.coarse_iterations} + dual variables carried": (solver, Schedule(warm_dual=True)),
        f"coarse scales {solver.coarse_iterations}, compiled (compile: true)": (
            replace(solver, compile=True),
            Schedule(),
        ),
    }


def solve(g0, g1, solver, schedule: Schedule, batch: int, device) -> tuple[torch.Tensor, float]:
    """Flow of every pair in batches; seconds (device synchronised)."""
    out = []
    start = time.perf_counter()
    for i in range(0, len(g0), batch):
        out.append(tvl1_flow(g0[i : i + batch].to(device), g1[i : i + batch].to(device), solver, schedule).cpu())
    return torch.cat(out), time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    device = torch.device(args.device)
    params = Params.load(args.params)
    flow = replace(params.modalities.of("optical_flow"), method="torch")
    solver = flow.solver()
    first, second, truths, masks, ids = onset_apex_pairs(paths.faces_store(params.faces, "synthetic"), params.synth.out)
    moving = [m & (np.linalg.norm(t, axis=-1) > 0.5) for t, m in zip(truths, masks)]
    g0, g1 = to_gray255(first), to_gray255(second)
    n, size = len(ids), g0.shape[-1]
    if device.type == "cuda":  # warm-up: CUDA context and kernels
        solve(g0[:2], g1[:2], solver, Schedule(), 2, device)

    rows = []
    for name, (settings, schedule) in schedules(solver).items():
        first_call = solve(g0[:1], g1[:1], settings, schedule, 1, device)[1]  # torch.compile builds here
        ours, cv = [], []
        for _ in range(args.runs):  # interleaved with OpenCV: noise hits both
            result, seconds = solve(g0, g1, settings, schedule, args.batch, device)
            ours.append(seconds)
            start = time.perf_counter()
            reference = flow_pairs(first, second, replace(flow, method="opencv"))[:, :2]
            cv.append(time.perf_counter() - start)
        alone, _ = solve(g0[:2], g1[:2], settings, schedule, 1, device)
        rows.append(
            {
                "schedule": name,
                "pairs_per_s": n / statistics.median(ours),
                "opencv_pairs_per_s": n / statistics.median(cv),
                "speedup": statistics.median(cv) / statistics.median(ours),
                "epe_face": mean_epe(result, truths, masks),
                "epe_moving": mean_epe(result, truths, moving),
                "same_alone": bool(torch.equal(alone, result[:2])),
                "first_call_s": first_call,
            }
        )
        print(rows[-1], flush=True)
    opencv_epe = {"face": mean_epe(reference, truths, masks), "moving": mean_epe(reference, truths, moving)}

    pool0, pool1 = torch.cat([g0] * (-(-max(BATCHES) // n))), torch.cat([g1] * (-(-max(BATCHES) // n)))
    times = {b: [] for b in BATCHES}
    for _ in range(args.runs):  # round-robin over the batch sizes
        for b in BATCHES:
            times[b].append(solve(pool0[:b], pool1[:b], solver, Schedule(), b, device)[1])
    sweep = [{"batch": b, "pairs_per_s": b / statistics.median(times[b])} for b in BATCHES]
    print(sweep, flush=True)

    env = {
        "device": str(device),
        "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None,
        "cpu_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "pairs": n,
        "size": size,
        "runs": args.runs,
        "batch": args.batch,
        "solver": {
            "scales": solver.scales,
            "warps": solver.warps,
            "iterations": solver.iterations,
            "coarse_iterations": solver.coarse_iterations,
            "median": solver.median,
        },
    }
    where = f"{env['gpu'] or 'cpu'} ({env['cpu_threads']} CPU threads)"
    lines = [
        f"{n} onset -> apex pairs of the synthetic default's aligned faces ({size} px); {solver.scales} scales x "
        f"{solver.warps} warps, {solver.iterations} iterations per warp at the finest scale, "
        f"{solver.median}x{solver.median} median; torch on {where}, batches of {args.batch}; OpenCV "
        f"DualTVL1 at the same settings ({solver.iterations} iterations at every scale), one pair at a time on "
        f"the CPU; median of {args.runs} interleaved runs. EPE px inside the face / where the true flow "
        f"exceeds 0.5 px; OpenCV's: "
        f"{opencv_epe['face']:.3f} / {opencv_epe['moving']:.3f}.",
        "",
        "| schedule | pairs/s | vs OpenCV | EPE face | EPE moving | same flow alone as in a batch |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['schedule']} | {r['pairs_per_s']:.2f} | {r['speedup']:.2f}x | {r['epe_face']:.3f} | "
        f"{r['epe_moving']:.3f} | {'yes' if r['same_alone'] else 'no'} |"
        for r in rows
    ]
    compiled = [r for r in rows if "compiled" in r["schedule"]]
    lines += ["", f"torch.compile's first call in a process (untimed above): {compiled[0]['first_call_s']:.1f} s."]
    lines += [
        "",
        f"The stores' schedule, pairs/s by batch size on {where}:",
        "",
        "| " + " | ".join(f"batch {s['batch']}" for s in sweep) + " |",
        "|---" * len(sweep) + "|",
        "| " + " | ".join(f"{s['pairs_per_s']:.2f}" for s in sweep) + " |",
    ]
    publish(
        args.out,
        f"tvl1_{device.type}",
        {"env": env, "schedules": rows, "opencv_epe": opencv_epe, "batches": sweep},
        lines,
    )


if __name__ == "__main__":
    main()
