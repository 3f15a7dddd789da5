"""Training for a fixed number of epochs (paper recipe: Adam, focal loss, flips and small rotations) and prediction."""

import contextlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from mer_pipeline.training.augment import Augmentation, augment
from mer_pipeline.training.loss import focal_loss


@dataclass(frozen=True)
class Recipe:
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    focal_gamma: float
    hflip: bool
    rotations: tuple[float, ...]
    mixed_precision: str = "off"  # auto (on CUDA) | on | off
    channels_last: str = "off"  # auto (on CUDA) | on | off

    def speed(self, device: torch.device) -> "Speed":
        """The speed settings on `device` (auto: on for CUDA only, so CPU results never depend on them)."""
        on = {"on": True, "off": False, "auto": device.type == "cuda"}
        amp = on[self.mixed_precision]
        bf16 = device.type != "cuda" or torch.cuda.is_bf16_supported()
        return Speed(
            torch.bfloat16 if amp and bf16 else torch.float16 if amp else None,
            torch.channels_last if on[self.channels_last] else torch.preserve_format,
        )


@dataclass(frozen=True)
class Speed:
    """autocast: the autocast dtype (None: float32 throughout); layout: the memory format of inputs and weights."""

    autocast: torch.dtype | None
    layout: torch.memory_format

    def forward(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """model(x) under these settings; float32 logits."""
        x = x.contiguous(memory_format=self.layout)
        with torch.autocast(x.device.type, dtype=self.autocast or torch.float32, enabled=self.autocast is not None):
            return model(x).float()


def seed_everything(seed: int) -> torch.Generator:
    """Seed every generator and ask torch for deterministic kernels (so reruns give the same predictions)."""
    torch.use_deterministic_algorithms(True, warn_only=True)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def normalise(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] images -> roughly zero-mean unit-range network input."""
    return (x - 0.5) / 0.25


@dataclass
class Job:
    """One training of `train_together`: a model and its data; `on_epoch(epoch, mean_loss)`."""

    model: nn.Module
    x: torch.Tensor
    y: torch.Tensor
    seed: int
    on_epoch: Callable[[int, float], None] | None = None


def train(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    kinds: tuple[str, ...],
    recipe: Recipe,
    device: torch.device,
    seed: int,
    on_epoch=None,
) -> nn.Module:
    """Train on (x (N, C, S, S) in [0, 1], y (N,)) for recipe.epochs epochs; `kinds` names each channel's meaning
    for the augmentation (training/augment.py); `on_epoch(epoch, mean_loss)`."""
    train_together([Job(model, x, y, seed, on_epoch)], kinds, recipe, device)
    return model


def train_together(jobs: list[Job], kinds: tuple[str, ...], recipe: Recipe, device: torch.device) -> None:
    """Several trainings at once (folds of one seed): they take turns, one optimizer step each, from one thread, each
    on its own CUDA stream on a GPU, so one fold's kernels run while the next fold's are queued and small models fill
    the device. Each job has its own optimizer, loss scaler and data generator (seeded with its seed), and its own
    state of the global generators (dropout), swapped in for its turns: a job trains exactly as it would alone, so a
    fold's result does not depend on the folds it was grouped with. One job is exactly `train`."""
    cuda = device.type == "cuda"
    rng = []
    for job in jobs:
        seed_everything(job.seed)
        rng.append(_global_rng(device))
    gens = [torch.Generator().manual_seed(job.seed) for job in jobs]
    streams = [torch.cuda.Stream(device) for _ in jobs] if cuda and len(jobs) > 1 else [None] * len(jobs)
    for stream in streams:
        if stream is not None:  # the weights were put on the device on the default stream
            stream.wait_stream(torch.cuda.current_stream(device))
    running = [_steps(job, gen, kinds, recipe, device) for job, gen in zip(jobs, gens)]
    while running:
        for it, stream, state in list(zip(running, streams, rng)):
            _set_global_rng(state, device)
            with torch.cuda.stream(stream) if stream is not None else contextlib.nullcontext():
                more = next(it, None) is not None
            i = running.index(it)
            if more:
                rng[i] = _global_rng(device)
            else:
                del running[i], streams[i], rng[i]
    if cuda:
        torch.cuda.synchronize(device)


def _global_rng(device: torch.device) -> tuple:
    """The state of the global generators a model draws from (CPU, and the device's on CUDA)."""
    return torch.get_rng_state(), torch.cuda.get_rng_state(device) if device.type == "cuda" else None


def _set_global_rng(state: tuple, device: torch.device) -> None:
    torch.set_rng_state(state[0])
    if state[1] is not None:
        torch.cuda.set_rng_state(state[1], device)


def _steps(
    job: Job, gen: torch.Generator, kinds: tuple[str, ...], recipe: Recipe, device: torch.device
) -> Iterator[bool]:
    """One job's training, one optimizer step per `next` (yields True while it has more)."""
    speed = recipe.speed(device)
    model, x, y = job.model, job.x, job.y
    model.to(device, memory_format=speed.layout).train()
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    scaler = torch.amp.GradScaler(device.type, enabled=speed.autocast == torch.float16)  # float16 gradients underflow
    aug = Augmentation(recipe.hflip, recipe.rotations)
    for epoch in range(recipe.epochs):
        order, total = torch.randperm(len(x), generator=gen), torch.zeros((), dtype=torch.float64, device=device)
        for start in range(0, len(x), recipe.batch_size):
            idx = order[start : start + recipe.batch_size]
            if len(idx) < 2:  # BatchNorm needs two samples
                continue
            xb = normalise(augment(x[idx].to(device), kinds, aug, gen))
            loss = focal_loss(speed.forward(model, xb), y[idx].to(device), recipe.focal_gamma)
            opt.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            total += loss.detach().double() * len(idx)  # on the device: no synchronisation per step
            yield True
        if job.on_epoch:
            job.on_epoch(epoch, float(total) / len(x))


@torch.no_grad()
def predict(
    model: nn.Module,
    x: torch.Tensor,
    device: torch.device,
    batch_size: int = 64,
    speed: Speed = Speed(None, torch.preserve_format),
) -> torch.Tensor:
    """Class probabilities (N, K)."""
    model.to(device, memory_format=speed.layout).eval()
    out = [
        torch.softmax(speed.forward(model, normalise(x[i : i + batch_size]).to(device)), 1).cpu()
        for i in range(0, len(x), batch_size)
    ]
    return torch.cat(out)
