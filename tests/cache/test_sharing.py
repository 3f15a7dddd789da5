"""Sharing one cache: a second checkout computes nothing; killed writers never leave readable partial entries;
concurrent writers of the same entries both succeed; a 2-worker dask run writes the same bytes as the serial run."""

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_same_faces, assert_same_modality, index_of
from writer import NAMES, write_all

from mer_pipeline.store.cache import Cache

WRITER = str(Path(__file__).with_name("writer.py"))


@pytest.fixture(scope="module")
def reference(tiny_synth, tmp_path_factory, repo_params):
    """The index of the tiny dataset and an uninterrupted serial run without any cache."""
    root = tmp_path_factory.mktemp("sharing")
    index_of(tiny_synth, root / "index", repo_params)
    write_all(root / "index", root / "ref")
    return root


def assert_same_run(a: Path, b: Path) -> None:
    assert_same_faces(a / "faces.zarr", b / "faces.zarr")
    for name in NAMES:
        assert_same_modality(a / f"{name}.zarr", b / f"{name}.zarr")


def test_second_checkout_computes_nothing(reference, tmp_path):
    cache = str(tmp_path / "shared")
    first = write_all(reference / "index", tmp_path / "alice", cache)
    second = write_all(reference / "index", tmp_path / "bob", cache)
    assert first["faces"]["computed"] == 8 and all(first[n]["computed"] == 8 for n in NAMES)
    assert second["faces"] == {"computed": 0, "cached": 8, "kept": 0, "skipped": 0, "missing": 0, "flagged": 0}
    assert all(second[n]["computed"] == 0 and second[n]["cached"] == 8 for n in NAMES)
    assert_same_run(reference / "ref", tmp_path / "alice")
    assert_same_run(reference / "ref", tmp_path / "bob")
    assert len(Cache(cache).entries()) == 8 * (1 + len(NAMES))


def _spawn(reference: Path, out: Path, cache: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, WRITER, str(reference / "index"), str(out), cache],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_killed_writers_never_corrupt_and_reruns_complete(reference, tmp_path):
    start = time.monotonic()
    probe = _spawn(reference, tmp_path / "probe", str(tmp_path / "probe_cache"))
    assert probe.stdout.readline().strip() == "start"
    t0 = time.monotonic()
    assert probe.wait(timeout=300) == 0, probe.stderr.read()
    work = time.monotonic() - t0  # time from imports done to finished
    assert time.monotonic() - start < 300
    rng = np.random.default_rng(7)
    for trial in range(10):
        out, cache = tmp_path / f"t{trial}", str(tmp_path / f"cache{trial % 3}")  # caches shared across trials
        proc = _spawn(reference, out, cache)
        assert proc.stdout.readline().strip() == "start"
        time.sleep(rng.uniform(0, work))
        proc.kill()
        proc.wait()
        assert Cache(cache).verify()["corrupt"] == [], trial  # unfinished writes are invisible, never corrupt
        write_all(reference / "index", out, cache)  # the rerun completes the work
        assert_same_run(reference / "ref", out)


def test_concurrent_writers_of_the_same_entries(reference, tmp_path):
    cache = str(tmp_path / "shared")
    procs = [_spawn(reference, tmp_path / who, cache) for who in ("alice", "bob")]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    result = Cache(cache).verify()
    assert result["corrupt"] == [] and result["checked"] == 8 * (1 + len(NAMES))
    for who in ("alice", "bob"):
        assert_same_run(reference / "ref", tmp_path / who)


@pytest.mark.slow
def test_two_dask_workers_write_the_same_bytes_as_serial(reference, tmp_path):
    counts = write_all(reference / "index", tmp_path / "dask", "", workers=2)
    assert counts["faces"]["computed"] == 8 and all(counts[n]["computed"] == 8 for n in NAMES)
    assert_same_run(reference / "ref", tmp_path / "dask")


def test_cache_commands(reference, tmp_path, capsys):
    import json
    import shutil
    from dataclasses import asdict

    import yaml
    from conftest import REPO
    from writer import FACES, MODALITIES

    from mer_pipeline.cli.app import app, main

    shutil.copytree(reference / "index", tmp_path / "index" / "synthetic")
    shutil.copytree(reference / "ref", tmp_path / "mine" / "synthetic")  # stores computed before a cache existed
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["index"]["out"] = str(tmp_path / "index")
    params["faces"] = {**asdict(FACES), "out": str(tmp_path / "mine")}
    params["modalities"] = {**asdict(MODALITIES), "names": list(NAMES), "out": str(tmp_path / "mine")}
    params["cache"]["url"] = str(tmp_path / "shared")
    params["train"].update(folds=str(tmp_path / "folds"), out=str(tmp_path / "experiments"))  # not the checkout's
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))

    def cli(*args):
        with pytest.raises(SystemExit) as exc:
            main(app, [*args, "--params", str(path)])
            raise SystemExit(0)
        out, err = capsys.readouterr()
        return exc.value.code, out, err

    code, out, _ = cli("cache", "push", "-d", "synthetic", "--json")
    pushed = json.loads(out)
    assert code == 0 and pushed["faces_pushed"] == 8 and [m["pushed"] for m in pushed["modalities"]] == [8, 8]
    assert json.loads(cli("cache", "push", "-d", "synthetic", "--json")[1])["faces_present"] == 8
    code, out, _ = cli("cache", "ls", "--json")
    assert code == 0 and json.loads(out)["entries"] == 24 and len(json.loads(out)["list"]) == 24

    params["faces"]["out"] = params["modalities"]["out"] = str(tmp_path / "theirs")  # a colleague's checkout
    path.write_text(yaml.safe_dump(params))
    code, out, _ = cli("cache", "pull", "-d", "synthetic", "--json")
    pulled = json.loads(out)
    assert code == 0 and pulled["faces"]["cached"] == 8 and [m["cached"] for m in pulled["modalities"]] == [8, 8]
    assert_same_run(reference / "ref", tmp_path / "theirs" / "synthetic")  # a pushed entry equals a computed one

    victim = next((tmp_path / "shared").rglob("*.npz"))
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    code, out, err = cli("cache", "verify", "--json")
    assert code == 1 and json.loads(out)["corrupt_count"] == 1 and str(victim) in err
    code, out, _ = cli("cache", "verify", "--delete", "--json")
    assert code == 0 and json.loads(out)["deleted"] == 1 and not victim.exists()
    assert json.loads(cli("cache", "gc", "--json")[1])["removed"] == 0
