"""Shared-cache entries come from other people's machines: whatever is wrong with one, a run reads it as a miss
(computes the item anew and republishes it), `cache verify` flags it and `--delete` removes it; nothing crashes,
nothing outside the cache is written, no small entry inflates to gigabytes."""

import io
import json
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_same_faces, assert_same_modality, index_of
from typer.testing import CliRunner
from writer import NAMES, write_all

from mer_pipeline.cli.app import app
from mer_pipeline.cli.cache import entry_checks
from mer_pipeline.store.cache import Cache, encode

KEY = "ab" * 32
ARRAYS = {"frames": np.zeros((2, 8, 8, 3), np.uint8)}


def forge(members: dict[str, bytes], manifest, compress: bool = False) -> bytes:
    """An entry file built by hand: its members' bytes as given, the manifest as given."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        meta = io.BytesIO()
        np.save(meta, np.frombuffer(json.dumps(manifest).encode(), np.uint8))
        z.writestr("__meta__.npy", meta.getvalue())
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def manifest_of(arrays: dict[str, np.ndarray]) -> dict:
    return json.loads(bytes(np.load(io.BytesIO(encode("faces", KEY, arrays, {"clip_id": "c"})))["__meta__"]))


def place(cache: Cache, data: bytes, kind: str = "faces", key: str = KEY) -> Path:
    path = Path(cache.path(kind, key))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_hostile_entries_are_misses_that_verify_flags_and_delete_removes(tmp_path):
    cache = Cache(str(tmp_path / "c"))
    traversal = manifest_of({**ARRAYS, "../../TRAVERSAL": np.zeros(1)})
    cases = {
        "traversal member": forge(
            {"frames.npy": npy(ARRAYS["frames"]), "../../TRAVERSAL.npy": npy(np.zeros(1))}, traversal
        ),
        "manifest is a list": forge({"frames.npy": npy(ARRAYS["frames"])}, [1, 2]),
        "manifest without arrays": forge({"frames.npy": npy(ARRAYS["frames"])}, {"kind": "faces", "key": KEY}),
        "manifest lists another shape": forge(
            {"frames.npy": npy(ARRAYS["frames"])}, manifest_of({"frames": np.zeros((1, 2, 8, 8, 3), np.uint8)})
        ),
        "zip bomb": forge({"frames.npy": npy(np.zeros(200_000_000, np.uint8))}, manifest_of(ARRAYS), compress=True),
    }
    for name, data in cases.items():
        path = place(cache, data)
        tracemalloc.start()
        assert cache.get("faces", KEY) is None, name
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 20e6, (name, peak)  # the bomb's 200 MB member is never inflated
        found = cache.verify(entry_checks())
        assert [b["path"] for b in found["corrupt"]] == [str(path)], name
        assert not (tmp_path / "TRAVERSAL.npy").exists()
        path.unlink()
    folder = place(cache, b"").parent / f"{KEY}.npz"
    folder.unlink()
    (folder / "inner").mkdir(parents=True)
    assert cache.get("faces", KEY) is None
    found = cache.verify(entry_checks())
    assert [b["problem"] for b in found["corrupt"]] == ["a folder where an entry file should be"]
    cache.remove(found["corrupt"][0]["path"])
    assert not folder.exists()


def test_verify_applies_each_kinds_checks_and_the_cli_deletes(tmp_path, monkeypatch):
    """Entries intact by their checksums but wrong for their kind (what a run refuses) are flagged and deleted."""
    cache = Cache(str(tmp_path / "c"))
    good = {
        "frames": np.zeros((3, 16, 16, 3), np.uint8),
        "matrices": np.zeros((3, 2, 3)),
        "landmarks": np.zeros((478, 2)),
        "scores": np.ones(3, np.float32),
        "motion": np.zeros(3, np.float32),
        "check": np.full(3, np.nan, np.float32),
        "faces_found": np.array(1),
        "cameras": np.zeros((0, 3, 4)),
        "depth": np.zeros(0),
    }
    cache.put("faces", "a" * 64, good, {"clip_id": "s/a"})
    cache.put("faces", "b" * 64, {**good, "frames": good["frames"].astype(np.float64)}, {"clip_id": "s/b"})
    cache.put("faces", "c" * 64, {**good, "extra": np.zeros(1)}, {"clip_id": "s/c"})
    cache.put(
        "modality",
        "d" * 64,
        {"image": np.zeros((3, 8, 8), np.uint8), "raw": np.full((3, 16, 16), np.nan, np.float32)},
        {},
    )
    cache.put(
        "modality", "e" * 64, {"image": np.zeros((3, 8, 8), np.uint8), "raw": np.zeros((3, 16, 16), np.float32)}, {}
    )
    flagged = sorted(b["key"][0] for b in cache.verify(entry_checks())["corrupt"])
    assert flagged == ["b", "c", "d"]
    (tmp_path / "params.yaml").write_text((Path(__file__).parents[2] / "params.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MER_PIPELINE_CACHE", str(tmp_path / "c"))
    result = CliRunner().invoke(app, ["cache", "verify", "--delete", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["deleted"] == 3
    assert sorted(e.key[0] for e in cache.entries()) == ["a", "e"]


@pytest.fixture(scope="module")
def shared(tiny_synth, tmp_path_factory, repo_params):
    """The index of the tiny dataset, a run without cache, and a colleague's run that filled a cache."""
    root = tmp_path_factory.mktemp("hostile")
    index_of(tiny_synth, root / "index", repo_params)
    write_all(root / "index", root / "ref")
    write_all(root / "index", root / "alice", str(root / "cache"))
    return root


def retamper(cache: Cache, kind: str, index: int, change) -> None:
    """Replace the index-th entry of `kind` by one with intact checksums whose arrays (or meta) `change` alters."""
    entry = [e for e in cache.entries() if e.kind == kind][index]
    arrays, meta = cache.get(kind, entry.key)
    arrays, meta = change(dict(arrays), dict(meta))
    Path(entry.path).write_bytes(encode(kind, entry.key, arrays, meta))


def test_a_run_recomputes_entries_complete_but_wrong(shared, tmp_path):
    """Another clip's label, 2 frames, float64 frames, an extra array, NaN `raw`: each such entry is computed anew
    by the next run (bytes as without any cache) and republished, so verify finds the cache clean afterwards."""
    import shutil

    shutil.copytree(shared / "cache", tmp_path / "cache")
    cache = Cache(str(tmp_path / "cache"))
    retamper(cache, "faces", 0, lambda a, m: (a, {**m, "clip_id": "sub99/other"}))
    retamper(cache, "faces", 1, lambda a, m: ({**a, "frames": a["frames"][:2]}, m))
    retamper(cache, "faces", 2, lambda a, m: ({**a, "frames": a["frames"].astype(np.float64)}, m))
    retamper(cache, "faces", 3, lambda a, m: ({**a, "TRAVERSAL": np.zeros(1)}, m))
    retamper(cache, "modality", 0, lambda a, m: ({**a, "raw": np.full_like(a["raw"], np.nan)}, m))
    retamper(cache, "modality", 1, lambda a, m: ({n: v[:, :8] if n != "raw" else v for n, v in a.items()}, m))
    counts = write_all(shared / "index", tmp_path / "bob", str(tmp_path / "cache"))
    assert counts["faces"]["computed"] == 4 and counts["faces"]["cached"] == 4
    assert sum(counts[n]["computed"] for n in NAMES) == 2 and sum(counts[n]["cached"] for n in NAMES) == 14
    assert_same_faces(shared / "ref" / "faces.zarr", tmp_path / "bob" / "faces.zarr")
    for name in NAMES:
        assert_same_modality(shared / "ref" / f"{name}.zarr", tmp_path / "bob" / f"{name}.zarr")
    assert cache.verify(entry_checks())["corrupt"] == []
