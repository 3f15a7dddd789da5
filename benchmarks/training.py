"""Training throughput of a model on the device present, and the projected time of the paper's composite LOSO.

Trains `--model` (MEGANet by default) on random 3-channel inputs of the paper's size (224 px) with the paper
recipe's batch size, augmentation and loss (training/loop.py), one epoch at a time after a warm-up epoch, and reports
the median samples/s over `--runs` epochs. The projection: MEGC 2019 composite, 442 clips, one fold per subject (68),
each fold training on the other subjects' clips for 50 epochs, times the profile's seeds (5):
68 x 50 x (442 - 442 / 68) samples per seed.

    python benchmarks/training.py [--model meganet] [--size 224] [--samples 128] [--runs 3] [--device cpu|cuda]
                                  [--mixed-precision auto|on|off] [--channels-last auto|on|off] [--folds-at-once 2]

With `--folds-at-once K` (2 unless told; 1: not measured) it also times K folds trained together
(`train.folds_at_once`, training/loop.py `train_together`) against the same K one after another, interleaved,
median of `--runs`.

The speed settings default to params.yaml's (auto: on for CUDA only); the output file names them when they are on.
"""

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch
from publish import publish  # benchmarks/publish.py: the one output helper

from mer_pipeline.config import Params
from mer_pipeline.device import resolve_device
from mer_pipeline.models import create_model
from mer_pipeline.training.loop import Job, Recipe, train, train_together

COMPOSITE_CLIPS, COMPOSITE_FOLDS = 442, 68


def timed(fn, device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="meganet")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--samples", type=int, default=128)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--mixed-precision", choices=("auto", "on", "off"), default=None)
    ap.add_argument("--channels-last", choices=("auto", "on", "off"), default=None)
    ap.add_argument("--folds-at-once", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    params = Params.load("params.yaml")
    t, paper = params.train, params.train.profiles["paper"]
    device = resolve_device(args.device)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(args.samples, 3, args.size, args.size, generator=gen)
    y = torch.randint(0, 3, (args.samples,), generator=gen)
    recipe = Recipe(
        1,
        t.batch_size,
        t.lr,
        t.weight_decay,
        t.focal_gamma,
        t.hflip,
        tuple(t.rotations),
        args.mixed_precision or t.mixed_precision,
        args.channels_last or t.channels_last,
    )
    speed = recipe.speed(device)
    settings = [f"{speed.autocast}".replace("torch.", "") + " autocast"] if speed.autocast else []
    settings += ["channels_last"] if speed.layout == torch.channels_last else []
    model = create_model(args.model, num_classes=3)
    train(model, x, y, ("signed",) * 3, recipe, device, seed=0)  # warm-up: allocation, kernels
    seconds = [
        timed(lambda run=run: train(model, x, y, ("signed",) * 3, recipe, device, seed=run + 1), device)
        for run in range(args.runs)
    ]
    rate = args.samples / statistics.median(seconds)
    together = None
    if args.folds_at_once > 1:  # K folds in turns against the same K one after another, interleaved
        k, one, many = args.folds_at_once, [], []
        models = [create_model(args.model, num_classes=3) for _ in range(k)]
        for run in range(args.runs):
            one.append(
                timed(
                    lambda run=run: [train(m, x, y, ("signed",) * 3, recipe, device, seed=run) for m in models], device
                )
            )
            many.append(
                timed(
                    lambda run=run: train_together(
                        [Job(m, x, y, run) for m in models], ("signed",) * 3, recipe, device
                    ),
                    device,
                )
            )
        together = {
            "folds": k,
            "samples_per_s_one_by_one": round(k * args.samples / statistics.median(one), 2),
            "samples_per_s_together": round(k * args.samples / statistics.median(many), 2),
        }
    per_seed = COMPOSITE_FOLDS * paper["epochs"] * (COMPOSITE_CLIPS - COMPOSITE_CLIPS / COMPOSITE_FOLDS)
    seeds = len(paper["seeds"])
    result = {
        "model": args.model,
        "size": args.size,
        "batch_size": t.batch_size,
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "speed_settings": settings,
        "epoch_seconds": [round(s, 2) for s in seconds],
        "samples_per_s": round(rate, 2),
        "composite_loso_hours_per_seed": round(per_seed / rate / 3600, 1),
        "composite_loso_hours_all_seeds": round(seeds * per_seed / rate / 3600, 1),
        "seeds": seeds,
        "folds_at_once": together,
    }
    lines = [
        f"{args.model} at {args.size} px, batch {t.batch_size}, flips + rotations on the device, focal loss, Adam; "
        f"device {device} ({torch.get_num_threads()} threads), {', '.join(settings) or 'float32'}; median of "
        f"{args.runs} epochs of {args.samples} samples:",
        "",
        "| samples/s (training) | composite LOSO, one seed (68 folds x 50 epochs) | all the paper profile's seeds |",
        "|---|---|---|",
        f"| {rate:.1f} | {result['composite_loso_hours_per_seed']} h | {result['composite_loso_hours_all_seeds']} h "
        f"({seeds} seeds) |",
    ]
    if together:
        k = together["folds"]
        lines += [
            "",
            f"{k} folds trained together (`train.folds_at_once: {k}`) against the same {k} one after "
            f"another, interleaved, median of {args.runs}:",
            "",
            "| samples/s, one after another | samples/s, together | ratio |",
            "|---|---|---|",
            f"| {together['samples_per_s_one_by_one']:.1f} | {together['samples_per_s_together']:.1f} | "
            f"{together['samples_per_s_together'] / together['samples_per_s_one_by_one']:.2f}x |",
        ]
    name = "_".join([f"training_{device.type}", *(x.split()[0] for x in settings)])
    publish(args.out, name, result, lines)


if __name__ == "__main__":
    main()
