"""Fold jobs per hour: the train stage run serially against the same run on a local dask cluster, and the paper
profile's composite LOSO wall time projected for 1, 4 and 8 workers (one GPU each).

Runs `mer-pipeline train` in this process on the synthetic default's stores (run `dvc repro` first) for one
experiment (synthetic_meganet unless told), with `--epochs` and `--seeds` in place of the profile's, into a fresh
fold store each time and without a shared cache, so every fold job trains. Serial (A) and `--workers N` (B) runs are
interleaved A B A B ..., `--runs` of each; the figure is the median wall time of each (the dask runs include starting
their cluster) and the ratio of fold jobs per hour. Both run with the same train.cpu_threads (`--cpu-threads`, 1
unless told: N workers then use N cores; more threads than cores stalls OpenMP) and write the same bytes.

The projection: the paper profile's composite LOSO is 68 folds x 5 seeds = 340 fold jobs, each 50 epochs over
442 - 442/68 clips; one fold job's time comes from benchmarks/results/training_<device>.json (benchmarks/training.py,
the measured training samples/s at 224 px on that device), and N workers share the jobs: ceil(340 / N) jobs each.

    python benchmarks/fold_jobs.py [--experiment synthetic_meganet] [--epochs 30] [--seeds 0 1] [--workers 2]
                                   [--runs 3] [--device cpu|cuda] [--cpu-threads 1]
"""

import argparse
import json
import math
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
from publish import publish  # benchmarks/publish.py: the one output helper

from mer_pipeline.config import CacheParams, Params, Scale
from mer_pipeline.training.stage import train_stage

COMPOSITE_CLIPS, COMPOSITE_FOLDS, PAPER_SEEDS, PAPER_EPOCHS = 442, 68, 5, 50


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def timed_run(params: Params, experiment: str, scale: Scale, folder: Path) -> tuple[float, dict, bytes]:
    shutil.rmtree(folder, ignore_errors=True)
    t = replace(
        params.train, out=str(folder / "experiments"), metrics=str(folder / "metrics"), folds=str(folder / "folds")
    )
    start = time.perf_counter()
    result = train_stage(replace(params, train=t, cache=CacheParams()), experiment, scale=scale)
    seconds = time.perf_counter() - start
    predictions = next((folder / "experiments").rglob("predictions.csv")).read_bytes()
    return seconds, result, predictions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiment", default="synthetic_meganet")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--cpu-threads", type=int, default=1, help="train.cpu_threads for both (1: N workers use N cores)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    params = Params.load("params.yaml")
    t = params.train
    profiles = {**t.profiles, t.profile: {**t.profiles.get(t.profile, {}), "epochs": args.epochs}}
    t = replace(t, profiles=profiles, seeds=tuple(args.seeds), device=args.device, cpu_threads=args.cpu_threads)
    params = replace(params, train=t)
    serial, workers, jobs = [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            a, result, reference = timed_run(params, args.experiment, Scale(), Path(tmp) / "a")
            b, dask_result, predictions = timed_run(
                params, args.experiment, Scale(workers=args.workers), Path(tmp) / "b"
            )
            if predictions != reference:
                sys.exit("the dask run's predictions.csv differs from the serial run's")
            jobs = result["computed"]
            serial.append(a)
            workers.append(b)
            print(f"run {run + 1}: serial {a:.1f} s, {args.workers} workers {b:.1f} s ({jobs} fold jobs)", flush=True)
    a, b = statistics.median(serial), statistics.median(workers)
    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    rate_file = args.out / f"training_{device}.json"
    projection = None
    if rate_file.exists():
        rate = json.loads(rate_file.read_text())["samples_per_s"]
        fold_h = PAPER_EPOCHS * (COMPOSITE_CLIPS - COMPOSITE_CLIPS / COMPOSITE_FOLDS) / rate / 3600
        total = COMPOSITE_FOLDS * PAPER_SEEDS
        projection = {
            "samples_per_s": rate,
            "fold_job_hours": round(fold_h, 2),
            "fold_jobs": total,
            "hours": {str(n): round(math.ceil(total / n) * fold_h, 1) for n in (1, 4, 8)},
        }
    result = {
        "cpu": cpu_name(),
        "cores": torch.get_num_threads(),
        "device": device,
        "cpu_threads_per_fold_job": t.cpu_threads,
        "experiment": args.experiment,
        "epochs": args.epochs,
        "seeds": args.seeds,
        "fold_jobs": jobs,
        "runs": args.runs,
        "serial_s": [round(s, 1) for s in serial],
        "workers": args.workers,
        "workers_s": [round(s, 1) for s in workers],
        "serial_jobs_per_h": round(jobs / a * 3600),
        "workers_jobs_per_h": round(jobs / b * 3600),
        "ratio": round(a / b, 2),
        "paper_composite_loso": projection,
    }
    lines = [
        f"Fold jobs of `{args.experiment}` ({jobs} jobs: {len(args.seeds)} seeds x folds, {args.epochs} epochs at "
        f"the {t.profile} profile's input size), device {device}, {cpu_name()}, {t.cpu_threads} torch threads a "
        f"fold job; median of {args.runs} interleaved runs each (`python benchmarks/fold_jobs.py`):",
        "",
        f"| serial | `--workers {args.workers}` (cluster start included) | ratio |",
        "|---|---|---|",
        f"| {result['serial_jobs_per_h']} fold jobs/h ({a:.1f} s) | {result['workers_jobs_per_h']} fold jobs/h "
        f"({b:.1f} s) | {result['ratio']:.2f}x |",
    ]
    if projection:
        where = "GPUs" if device == "cuda" else f"workers like this {device.upper()}"
        lines += [
            "",
            f"Paper profile, composite LOSO ({projection['fold_jobs']} fold jobs of 50 epochs at 224 px), "
            f"from {projection['samples_per_s']} samples/s measured on {device} by benchmarks/training.py "
            f"({projection['fold_job_hours']} h a fold job), jobs shared by N {where}:",
            "",
            "| N = 1 | N = 4 | N = 8 |",
            "|---|---|---|",
            "| " + " | ".join(f"{projection['hours'][n]} h" for n in ("1", "4", "8")) + " |",
        ]
    publish(args.out, f"fold_jobs_{device}", result, lines)


if __name__ == "__main__":
    main()
