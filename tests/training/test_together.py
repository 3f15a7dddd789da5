"""Folds trained together (train.folds_at_once): each job keeps its own optimizer, data order and augmentation, so a
job trains exactly as it would alone, dropout included (each job's state of the global generators is swapped in for
its turns)."""

import copy

import pytest
import torch
import torch.nn as nn

from mer_pipeline.models import create_model
from mer_pipeline.training.loop import Job, Recipe, train, train_together

CPU = torch.device("cpu")
KINDS = ("signed",) * 3
RECIPE = Recipe(3, 8, 3e-3, 1e-4, 2.0, True, (-10.0, 0.0, 10.0))


def data(n: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, 24, 24, generator=gen), torch.randint(0, 2, (n,), generator=gen)


def no_dropout_net(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)
    )


def same_weights(a: nn.Module, b: nn.Module) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_jobs_trained_together_train_as_they_would_alone():
    """Different sizes (24 and 17 samples: 3 and 2 steps an epoch), seeds and data; the turns must not mix them."""
    (x1, y1), (x2, y2) = data(24, 1), data(17, 2)
    m1, m2 = no_dropout_net(1), no_dropout_net(2)
    a1, a2 = copy.deepcopy(m1), copy.deepcopy(m2)
    losses = {1: [], 2: []}
    train_together(
        [
            Job(m1, x1, y1, 11, lambda e, loss: losses[1].append((e, loss))),
            Job(m2, x2, y2, 22, lambda e, loss: losses[2].append((e, loss))),
        ],
        KINDS,
        RECIPE,
        CPU,
    )
    alone = {1: [], 2: []}
    train(a1, x1, y1, KINDS, RECIPE, CPU, 11, on_epoch=lambda e, loss: alone[1].append((e, loss)))
    train(a2, x2, y2, KINDS, RECIPE, CPU, 22, on_epoch=lambda e, loss: alone[2].append((e, loss)))
    assert same_weights(m1, a1) and same_weights(m2, a2)
    assert losses == alone and [e for e, _ in losses[2]] == [0, 1, 2]
    assert not same_weights(m1, no_dropout_net(1))  # it did train


def test_a_group_with_dropout_trains_each_job_as_alone():
    """Each job draws dropout from its own state of the global generator, swapped in for its turns."""

    def nets():
        models = []
        for seed in (5, 6):
            torch.manual_seed(seed)
            models.append(create_model("meganet", 2, 3, blocks=2, dropout=0.3))
        return models

    together = nets()
    train_together([Job(m, *data(16, s), s) for m, s in zip(together, (5, 6))], KINDS, RECIPE, CPU)
    alone = nets()
    for m, s in zip(alone, (5, 6)):
        train(m, *data(16, s), KINDS, RECIPE, CPU, s)
    assert all(same_weights(a, b) for a, b in zip(together, alone))
    assert not same_weights(together[0], together[1])
    again = nets()
    train(again[0], *data(16, 5), KINDS, RECIPE, CPU, 5)
    torch.manual_seed(123)  # whatever the global generator held before, a job starts from its seed
    shifted = nets()[0]
    torch.rand(7)
    train(shifted, *data(16, 5), KINDS, RECIPE, CPU, 5)
    assert same_weights(again[0], shifted)


@pytest.mark.gpu
def test_jobs_on_their_own_cuda_streams_train_as_they_would_alone():
    cuda = torch.device("cuda")
    (x1, y1), (x2, y2) = data(24, 1), data(17, 2)
    m1, m2 = no_dropout_net(1), no_dropout_net(2)
    a1, a2 = copy.deepcopy(m1), copy.deepcopy(m2)
    train_together([Job(m1, x1, y1, 11), Job(m2, x2, y2, 22)], KINDS, RECIPE, cuda)
    train(a1, x1, y1, KINDS, RECIPE, cuda, 11)
    train(a2, x2, y2, KINDS, RECIPE, cuda, 22)
    for together, alone in ((m1, a1), (m2, a2)):
        for p, q in zip(together.state_dict().values(), alone.state_dict().values()):
            assert torch.allclose(p.float(), q.float(), atol=1e-5)
