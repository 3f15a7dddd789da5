"""No-op `dvc status` / `dvc repro` on a CASME II-sized raw tree: what DVC pays, with nothing to rerun, to hash the
dataset behind `data/raw/<dataset>` (a link to the root) and the stages that depend on it.

A CASME II-layout tree of 255 clips x `--frames` full-size (640 x 480 JPEG) frames and its coding sheet is written
to a temporary folder; a copy of the repository selects it alone in params.yaml (`pipeline.datasets: [casme2]`, no
experiment), `dvc repro check raw@casme2 index@casme2` builds the stages that read the raw tree (frame decoding off),
then no-op `dvc status` (the whole pipeline) and no-op `dvc repro` of those stages are timed, interleaved, median of
`--runs`. The no-op `dvc status` of this checkout's own pipeline (the synthetic default, after `dvc repro`) is
timed beside them.

    python benchmarks/dvc_noop.py [--frames 140] [--runs 3]   # writes benchmarks/results/dvc_noop.{json,md}
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import yaml
from openpyxl import Workbook
from publish import publish  # benchmarks/publish.py: the one output helper
from skimage import data

from mer_pipeline.synth.generate import SHEET_HEADER

REPO = Path(__file__).resolve().parents[1]
SUBJECTS, CLIPS = 26, 255
EMOTIONS = ["happiness", "disgust", "repression", "surprise", "others"]


def casme2_tree(root: Path, frames: int) -> int:
    """255 clips over 26 subjects, `frames` numbered frames each; returns the number of files written."""
    jpeg = cv2.imencode(".jpg", cv2.resize(data.astronaut()[:, :, ::-1], (640, 480)), [cv2.IMWRITE_JPEG_QUALITY, 90])[1]
    wb = Workbook()
    wb.active.append(list(SHEET_HEADER))  # CASME II's coding-sheet columns, as the synthetic sheet has them
    for k in range(CLIPS):
        sub, name = k % SUBJECTS + 1, f"EP{k // SUBJECTS + 1:02d}_{k:03d}"
        folder = root / "CASME2-RAW" / f"sub{sub:02d}" / name
        folder.mkdir(parents=True)
        for n in range(1, frames + 1):
            (folder / f"img{n}.jpg").write_bytes(jpeg.tobytes())
        wb.active.append([sub, name, None, 2, frames // 2, frames - 1, None, "12", EMOTIONS[k % len(EMOTIONS)]])
    wb.save(root / "CASME2-coding-20140508.xlsx")
    return CLIPS * frames + 1


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").is_file() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def dvc(repo: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, check=True, capture_output=True)
    return time.perf_counter() - start


def lab_repo(dst: Path, root: Path) -> None:
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        (dst / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / f, dst / f)
    subprocess.run(["git", "init", "-q"], cwd=dst, check=True)
    params = yaml.safe_load((dst / "params.yaml").read_text())
    params["datasets"]["casme2"]["root"] = str(root)
    params["pipeline"] = {"datasets": ["casme2"], "experiments": []}
    params["index"]["verify_frames"] = False
    (dst / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=140)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root, repo = Path(tmp) / "CASME2", Path(tmp) / "repo"
        files = casme2_tree(root, args.frames)
        lab_repo(repo, root)
        first = dvc(repo, "repro", "check", "raw@casme2", "index@casme2")
        status, repro, own = [], [], []
        for _ in range(args.runs):  # interleaved
            status.append(dvc(repo, "status"))
            repro.append(dvc(repo, "repro", "check", "raw@casme2", "index@casme2"))
            own.append(dvc(REPO, "status"))
    result = {
        "cpu": cpu_name(),
        "clips": CLIPS,
        "files": files,
        "runs": args.runs,
        "first_repro_s": first,
        "status_s": statistics.median(status),
        "repro_s": statistics.median(repro),
        "own_status_s": statistics.median(own),
    }
    lines = [
        f"CASME II-sized tree: {CLIPS} clips, {files} files (640 x 480 JPEG), {result['cpu']} "
        f"({os.cpu_count()} cores), median of {args.runs} interleaved runs.",
        "",
        "| what | seconds |",
        "|---|---|",
        f"| first `dvc repro check raw@casme2 index@casme2` (hashes the tree) | {first:.1f} |",
        f"| no-op `dvc status`, whole pipeline, CASME II-sized tree selected | {result['status_s']:.1f} |",
        f"| no-op `dvc repro check raw@casme2 index@casme2` | {result['repro_s']:.1f} |",
        f"| no-op `dvc status` of the synthetic default (this checkout) | {result['own_status_s']:.1f} |",
    ]
    publish(args.out, "dvc_noop", result, lines)


if __name__ == "__main__":
    main()
