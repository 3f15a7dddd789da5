"""Stabilisation speed of this checkout against another commit's, on the same clips: a change's speed-up.

The clips of benchmarks/stabilisation.py's 3D set (head turning, yaw and pitch up to 8 degrees; or its 2D moving set,
`--kind moving`), `--subjects` pseudo-subjects, each aligned and stabilised with the params' method (align_clip, one
thread, no store) by this checkout's code and by `--baseline`'s (a git worktree), each in its own process, timed
inside it (decoded frames, mediapipe built, before the clock starts), interleaved A B A B ... `--runs` times; the
ratio is the median of the runs' ratios. Both load this checkout's params.yaml. Both outputs' transforms are
compared: a change meant to keep the results bit for bit says so.

    python benchmarks/registration_speed.py --baseline HEAD [--kind 3d] [--subjects 1] [--runs 5]
"""

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from publish import publish  # benchmarks/publish.py: the one output helper
from stabilisation import dataset  # benchmarks/stabilisation.py: the same sets

from mer_pipeline.config import Params

REPO = Path(__file__).resolve().parents[1]
# one timed run in a fresh process: the code on sys.path[0] (argv: code root, data root, params file, npz out)
RUN = """
import sys, time, numpy as np
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from mer_pipeline.config import Params
from mer_pipeline.datasets.index import read_index
from mer_pipeline.faces.clip import align_clip, decode_frames
from mer_pipeline.faces.landmarks import MediapipeLandmarker
from mer_pipeline.faces.task import read_frame_bytes
import mer_pipeline
assert Path(mer_pipeline.__file__).is_relative_to(Path(sys.argv[1]).resolve()), mer_pipeline.__file__
root, faces = Path(sys.argv[2]), Params.load(Path(sys.argv[3])).faces
records, _ = read_index(root / "index")
clips = []
for r in records:
    raw, _ = read_frame_bytes(root / "synthetic", r.key_frame_files(), r.clip_id)
    clips.append((r.clip_id, decode_frames(raw, root / "synthetic", r.key_frame_files(), r.clip_id)))
landmarker = MediapipeLandmarker(faces.min_detection_confidence, faces.max_faces)
start = time.perf_counter()
out = {c: align_clip(f, 0, landmarker, faces, c).matrices for c, f in clips}
print(time.perf_counter() - start, sum(len(f) for _, f in clips))
np.savez(sys.argv[4], **{c.replace("/", "_"): m for c, m in out.items()})
"""


def cpu() -> str:
    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.exists() else []
    model = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "")
    return model or platform.processor() or platform.machine()


def timed(code: Path, data: Path, params: Path, out: Path) -> tuple[float, int]:
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(code), str(data), str(params), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, frames = done.stdout.split()[-2:]
    return float(seconds), int(frames)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="HEAD", help="git commit to compare with (default HEAD)")
    ap.add_argument("--kind", choices=("3d", "moving"), default="3d")
    ap.add_argument("--subjects", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = ap.parse_args()
    params = Params.load(REPO / "params.yaml")
    params = replace(params, synth=replace(params.synth, subjects=args.subjects))
    baseline = subprocess.run(["git", "rev-parse", "--short", args.baseline], cwd=REPO, capture_output=True, text=True)
    commit = baseline.stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        dataset(params, tmp / "data", "2d" if args.kind == "moving" else "3d")
        subprocess.run(["git", "worktree", "add", "--detach", str(tmp / "base"), commit], cwd=REPO, check=True)
        try:
            seconds = {"this checkout": [], f"baseline {commit}": []}
            for _ in range(args.runs):
                for (name, code), out in zip(zip(seconds, (REPO, tmp / "base")), ("this.npz", "base.npz")):
                    s, frames = timed(code, tmp / "data", REPO / "params.yaml", tmp / out)
                    seconds[name].append(s)
            mine, theirs = np.load(tmp / "this.npz"), np.load(tmp / "base.npz")
            same = all(np.array_equal(mine[k], theirs[k]) for k in mine.files)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tmp / "base")], cwd=REPO, check=False)
            shutil.rmtree(tmp / "base", ignore_errors=True)
    ratio = statistics.median(b / a for a, b in zip(*seconds.values()))
    data = {
        "cpu": cpu(),
        "kind": args.kind,
        "method": params.faces.stabilise,
        "frames": frames,
        "seconds": seconds,
        "speedup": ratio,
        "same_transforms": same,
    }
    lines = [
        f"{args.kind} set, {frames} frames, stabilise {params.faces.stabilise}, {args.runs} interleaved runs; {cpu()}:",
        "",
        "| code | s (median) | ms per frame |",
        "|---|---|---|",
        *(
            f"| {k} | {statistics.median(v):.1f} | {1e3 * statistics.median(v) / frames:.0f} |"
            for k, v in seconds.items()
        ),
        "",
        f"This checkout is {ratio:.2f}x as fast (median of the runs' ratios); transforms "
        + ("identical bit for bit." if same else "differ."),
    ]
    publish(args.out, f"registration_speed_{args.kind}", data, lines)
    print(json.dumps({"speedup": ratio, "same": same}))


if __name__ == "__main__":
    main()
