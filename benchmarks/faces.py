"""Faces stage against decoding the same frames, and where the faces stage's time goes.

A synthetic dataset in CASME II's layout at CASME II's frame size (params `synth`, head motion on; 640 px frames,
65 per clip) is indexed once; then, interleaved (A B A B ...): decoding every onset..offset frame (read + cv2.imdecode,
one process), and the faces stage with the params' stabilisation in one process as the CLI runs it (one clip thread
per core, up to 4, each with its own mediapipe graph; `clip_threads`). The ratio is
per frame, so it holds at any clip count: CASME II's 255 clips are `--subjects 16 --clips-per-class 4` (about 10
minutes to generate on 2 cores); the default is an eighth of that. `--workers 0 2` also times the stage on a local
dask cluster of 2 worker processes (one per core; its start-up included). One extra in-process faces run under
cProfile, on one thread, gives the share of each kind of work (the writer thread's work shows as waiting).

    python benchmarks/faces.py [--subjects 4] [--clips-per-class 2] [--frames 65] [--size 640] [--runs 3]
                               [--workers 0 2]
"""

import argparse
import cProfile
import pstats
import shutil
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from publish import publish  # benchmarks/publish.py: the one output helper

from mer_pipeline.config import DatasetParams, Params, Scale
from mer_pipeline.datasets import ADAPTERS
from mer_pipeline.datasets.index import build_index, index_meta, read_index, write_index
from mer_pipeline.faces.landmarks import MediapipeLandmarker
from mer_pipeline.faces.task import clip_threads, run_faces
from mer_pipeline.problems import ProblemLog
from mer_pipeline.synth.generate import generate

# cProfile rows grouped into the kinds of work the issue names (substring of the function's description -> kind).
KINDS = {
    "calc' of 'cv2.DenseOpticalFlow": "registration: DIS flow",
    "estimateAffinePartial2D": "registration: RANSAC",
    "warpAffine": "warps (registration views + final bicubic)",
    "imdecode": "decode",
    "calculator_graph": "mediapipe landmarks",
    "acquire": "waiting for the Zarr writer thread",
    "CLAHE": "equalise",
    "zarr": "Zarr (main thread)",
    "read_bytes": "read + hash",
    "HASH": "read + hash",
}


def decode_only(records, root: Path) -> float:
    start = time.perf_counter()
    for rec in records:
        for name in rec.key_frame_files():
            cv2.imdecode(np.frombuffer((root / name).read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    return time.perf_counter() - start


def faces_once(records, meta, root: Path, store: Path, params, landmarker=None, workers: int = 0) -> float:
    """The stage's time; no `landmarker`: as the CLI runs it (each clip thread or worker builds its own graph)."""
    shutil.rmtree(store, ignore_errors=True)
    start = time.perf_counter()
    log = ProblemLog("bench")
    run_faces(records, root, store, params.faces, meta, landmarker, log, scale=Scale(workers=workers))
    if any(p.action == "skipped" for p in log.items):
        raise SystemExit(f"faces skipped clips: {[p.line() for p in log.items][:3]}")
    return time.perf_counter() - start


def profile_shares(records, meta, root: Path, store: Path, params, landmarker) -> dict[str, float]:
    prof = cProfile.Profile()
    prof.enable()
    faces_once(records, meta, root, store, params, landmarker)
    prof.disable()
    stats = pstats.Stats(prof).stats  # (file, line, name) -> (cc, nc, tottime, cumtime, callers)
    total = sum(v[2] for v in stats.values())
    shares: dict[str, float] = {}
    for (file, _, name), v in stats.items():
        kind = next((k for key, k in KINDS.items() if key in name or key in file), "other (Python, NumPy)")
        shares[kind] = shares.get(kind, 0.0) + v[2] / total
    return dict(sorted(shares.items(), key=lambda kv: -kv[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=4)
    ap.add_argument("--clips-per-class", type=int, default=2)
    ap.add_argument("--frames", type=int, default=65)
    ap.add_argument("--size", type=int, default=640)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, nargs="+", default=[0], help="0: in this process; N: N dask workers")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    params = Params.load("params.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "synthetic"
        synth = replace(
            params.synth,
            out=str(root),
            subjects=args.subjects,
            clips_per_class=args.clips_per_class,
            frames=args.frames,
            image_size=args.size,
        )
        start = time.perf_counter()
        generate(synth, root)
        generated = time.perf_counter() - start
        dp = DatasetParams(adapter="casme2", root=str(root), fps=200, labels="casme2")
        log = ProblemLog("bench")
        labels = params.labels["casme2"]
        write_index(
            Path(tmp) / "index",
            build_index("bench", ADAPTERS.get("casme2"), dp, labels, log),
            log,
            index_meta("bench", dp, labels),
        )
        records, meta = read_index(Path(tmp) / "index")
        frames = sum(r.n_frames for r in records)
        landmarker = MediapipeLandmarker(params.faces.min_detection_confidence, params.faces.max_faces)
        store = Path(tmp) / "faces.zarr"
        decode, faces = [], {w: [] for w in args.workers}
        for _ in range(args.runs):  # interleaved: the machine's noise hits all alike
            decode.append(decode_only(records, root))
            for w in args.workers:
                faces[w].append(faces_once(records, meta, root, store, params, workers=w))
        shares = profile_shares(records, meta, root, store, params, landmarker)
        landmarker.close()
    ratios = {w: [f / d for f, d in zip(faces[w], decode)] for w in args.workers}
    where = {
        w: f"one process, {clip_threads()} clip threads" if not w else f"{w} dask worker processes"
        for w in args.workers
    }
    result = {
        "clips": len(records),
        "frames": frames,
        "frame_px": args.size,
        "stabilise": params.faces.stabilise,
        "runs": args.runs,
        "generate_s": round(generated, 1),
        "decode_s": [round(v, 3) for v in decode],
        "faces_s": {where[w]: [round(v, 3) for v in faces[w]] for w in args.workers},
        "ratio_median": {where[w]: round(statistics.median(ratios[w]), 2) for w in args.workers},
        "decode_ms_per_frame": round(1000 * statistics.median(decode) / frames, 2),
        "faces_ms_per_frame": {where[w]: round(1000 * statistics.median(faces[w]) / frames, 2) for w in args.workers},
        "profile_shares": {k: round(v, 3) for k, v in shares.items()},
    }
    lines = [
        f"{len(records)} clips, {frames} onset..offset frames of {args.size} px, stabilise "
        f"{params.faces.stabilise}, {args.runs} interleaved runs; decode only in one process:",
        "",
        "| | ms per frame (median) | ratio to decode only (median of the runs) |",
        "|---|---|---|",
        f"| decode only | {result['decode_ms_per_frame']} | 1 |",
    ]
    lines += [
        f"| faces stage, {where[w]} | {result['faces_ms_per_frame'][where[w]]} | {result['ratio_median'][where[w]]}x |"
        for w in args.workers
    ]
    lines += ["", "| where the faces stage's time goes (cProfile, own time, one thread) | share |", "|---|---|"]
    lines += [f"| {k} | {100 * v:.0f} % |" for k, v in result["profile_shares"].items()]
    publish(args.out, "faces", result, lines)


if __name__ == "__main__":
    main()
