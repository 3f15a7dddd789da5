"""Training as fold jobs on the engine: a SIGKILLed run resumes with only the missing folds, two workers and a
colleague's shared cache give the serial run's bytes, and a damaged or foreign fold entry is a miss, never read."""

import json
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from conftest import REPO

from mer_pipeline.config import ModalitiesParams, Params, Scale
from mer_pipeline.modalities.task import run_modality
from mer_pipeline.store.cache import Cache, encode, read_entry
from mer_pipeline.training.stage import train_stage

OUTPUTS = ("predictions.csv", "train_loss.csv", "results.json", "checkpoint.pt")
CLI = [sys.executable, "-c", "import sys; from mer_pipeline.cli.app import app, main; main(app, sys.argv[1:])"]
JOBS = 2 * 2  # two seeds x two LOSO folds (two synthetic subjects)


@pytest.fixture(scope="module")
def base(tiny_faces, tmp_path_factory):
    """A mesti store of the tiny dataset and the params dict of a 2-seed LOSO experiment on it."""
    root = tmp_path_factory.mktemp("folds")
    stores = root / "modalities"
    run_modality(
        "mesti",
        tiny_faces,
        stores / "synthetic" / "mesti.zarr",
        ModalitiesParams(size=48, device="cpu", params={"mesti": {"scaling": "signed"}}),
    )
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["modalities"]["out"] = str(stores)
    params["train"].update(
        device="cpu", profiles={"cpu": {"epochs": 6, "input_size": 32, "seeds": [0, 1]}}, batch_size=4
    )
    params["experiments"] = {
        "tiny": {"model": "meganet", "modalities": ["mesti"], "datasets": ["synthetic"], "model_params": {"blocks": 2}}
    }
    params["pipeline"]["experiments"] = ["tiny"]
    params["cache"]["url"] = ""
    return root, params


def params_in(base, folder: Path, cache: str = "") -> Params:
    """The base params writing under `folder` (and its own params.yaml there, for the CLI)."""
    _, data = base
    data = json.loads(json.dumps(data))
    data["train"].update(out=str(folder / "experiments"), metrics=str(folder / "metrics"), folds=str(folder / "folds"))
    data["cache"]["url"] = cache
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "params.yaml").write_text(yaml.safe_dump(data))
    return Params.from_dict(data)


def outputs(folder: Path) -> dict[str, bytes]:
    return {name: (folder / "experiments" / "tiny" / name).read_bytes() for name in OUTPUTS}


def entries(folder: Path) -> list[Path]:
    return sorted((folder / "folds").rglob("fold*.npz"))


@pytest.fixture(scope="module")
def reference(base):
    """An uninterrupted serial run, and its rerun."""
    folder = base[0] / "reference"
    params = params_in(base, folder)
    first = train_stage(params, "tiny")
    files = outputs(folder)
    again = train_stage(params, "tiny")
    return folder, first, again, files


def test_a_run_computes_every_fold_job_and_a_rerun_keeps_them(reference):
    folder, first, again, files = reference
    assert (first["fold_jobs"], first["computed"], first["kept"]) == (JOBS, JOBS, 0)
    assert (again["computed"], again["kept"], again["cached"]) == (0, JOBS, 0)
    assert outputs(folder) == files  # assembled from the kept entries: the same bytes
    assert len(entries(folder)) == JOBS
    arrays, manifest = read_entry(entries(folder)[-1].read_bytes())
    assert manifest["kind"] == "fold" and arrays["probs"].shape == (4, 3) and arrays["loss"].shape == (6,)
    assert any(name.startswith("weights/") for name in arrays)  # the last seed's last fold: train.save_checkpoints
    assert not any(n.startswith("weights/") for n in read_entry(entries(folder)[0].read_bytes())[0])
    ckpt = torch.load(folder / "experiments" / "tiny" / "checkpoint.pt", weights_only=True)["state_dict"]
    assert set(ckpt) == {n[len("weights/") :] for n in arrays if n.startswith("weights/")}
    assert all(torch.equal(v, torch.from_numpy(arrays["weights/" + k])) for k, v in ckpt.items())


def test_sigkill_then_rerun_trains_only_the_missing_folds(base, reference, tmp_path):
    params_in(base, tmp_path)
    cmd = [*CLI, "train", "-e", "tiny", "--params", str(tmp_path / "params.yaml"), "--json"]
    run = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    deadline = time.monotonic() + 300
    while not entries(tmp_path) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    run.send_signal(signal.SIGKILL)
    run.wait()
    finished = len(entries(tmp_path))
    assert run.returncode == -signal.SIGKILL and 1 <= finished < JOBS  # killed after its first fold job
    assert not (tmp_path / "experiments" / "tiny" / "predictions.csv").exists()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, check=True)
    counts = json.loads(done.stdout)
    assert counts["kept"] == finished and counts["computed"] == JOBS - finished and counts["cached"] == 0
    assert outputs(tmp_path) == reference[3]  # byte for byte the uninterrupted run's files


def test_two_dask_workers_give_the_serial_bytes(base, reference, tmp_path):
    result = train_stage(params_in(base, tmp_path), "tiny", scale=Scale(workers=2))
    assert result["computed"] == JOBS
    assert outputs(tmp_path) == reference[3]


def test_a_colleague_sharing_the_cache_trains_no_fold(base, reference, tmp_path):
    cache = str(tmp_path / "shared")
    alice = train_stage(params_in(base, tmp_path / "alice", cache), "tiny")
    bob = train_stage(params_in(base, tmp_path / "bob", cache), "tiny")
    assert alice["computed"] == JOBS and (bob["computed"], bob["cached"]) == (0, JOBS)
    assert outputs(tmp_path / "alice") == outputs(tmp_path / "bob") == reference[3]
    assert [e.kind for e in Cache(cache).entries()] == ["fold"] * JOBS


def test_push_then_pull_gives_the_colleague_every_fold(base, reference, tmp_path):
    cache = str(tmp_path / "shared")
    shutil.copytree(reference[0] / "folds", tmp_path / "alice" / "folds")
    params_in(base, tmp_path / "alice", cache)
    params_in(base, tmp_path / "bob", cache)

    def cli(folder: Path, *args: str) -> dict:
        done = subprocess.run(
            [*CLI, "cache", *args, "--params", str(folder / "params.yaml"), "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(done.stdout)

    assert cli(tmp_path / "alice", "push")["folds_pushed"] == JOBS
    assert cli(tmp_path / "alice", "push")["folds_present"] == JOBS
    pulled = cli(tmp_path / "bob", "pull", "-e", "tiny")["fold_jobs"]
    assert pulled == [{"group": "tiny", "cached": JOBS, "kept": 0, "missing": 0}]
    assert len(entries(tmp_path / "bob")) == JOBS and not (tmp_path / "bob" / "experiments").exists()
    bob = train_stage(params_in(base, tmp_path / "bob", cache), "tiny")
    assert (bob["kept"], bob["computed"]) == (JOBS, 0) and outputs(tmp_path / "bob") == reference[3]


def test_damaged_or_foreign_fold_entries_are_misses(base, reference, tmp_path):
    shutil.copytree(reference[0] / "folds", tmp_path / "folds")
    first, second, third = entries(tmp_path)[:3]
    data = bytearray(first.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a flipped bit: checksums no longer match
    first.write_bytes(bytes(data))
    arrays, manifest = read_entry(second.read_bytes())  # intact, right key, wrong content: a probability too few
    second.write_bytes(encode("fold", manifest["key"], {**arrays, "probs": arrays["probs"][:-1]}, manifest["meta"]))
    third.write_bytes(b"\0" * 100)  # truncated
    result = train_stage(params_in(base, tmp_path), "tiny")
    assert (result["computed"], result["kept"]) == (3, JOBS - 3)
    assert outputs(tmp_path) == reference[3]


def test_a_hostile_cache_entry_is_computed_anew(base, reference, tmp_path):
    cache = Cache(str(tmp_path / "shared"))
    for path in entries(reference[0]):  # every key published, with NaN probabilities
        arrays, manifest = read_entry(path.read_bytes())
        cache.put("fold", manifest["key"], {**arrays, "probs": np.full_like(arrays["probs"], np.nan)}, {})
    result = train_stage(params_in(base, tmp_path, cache.url), "tiny")
    assert (result["computed"], result["cached"]) == (JOBS, 0)
    assert outputs(tmp_path) == reference[3]


def test_a_changed_recipe_or_input_retrains(base, reference, tmp_path):
    shutil.copytree(reference[0] / "folds", tmp_path / "folds")
    params = params_in(base, tmp_path)
    one_seed = replace(params, train=replace(params.train, seeds=(0,)))
    result = train_stage(one_seed, "tiny")  # seed 0's folds are the reference's, but now its last fold keeps weights
    assert result["fold_jobs"] == 2 and (result["computed"], result["kept"]) == (1, 1)
    more = replace(params, train=replace(params.train, lr=2e-3))
    assert train_stage(more, "tiny")["computed"] == JOBS  # every key holds the recipe
