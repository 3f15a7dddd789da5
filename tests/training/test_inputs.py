"""The manifest an experiment group's train stage depends on: exactly the stores its experiments read, each with a
digest of its content."""

import json
import os
import shutil
from pathlib import Path

import pytest

from mer_pipeline.errors import UserError
from mer_pipeline.training.inputs import MANIFEST, group_stores, inputs_stage, store_digest


def test_a_group_reads_each_store_of_each_dataset_once(repo_params):
    stores = [p.as_posix() for p in group_stores(repo_params, "table1")]
    out = repo_params.modalities.out
    assert f"{out}/casme2/optical_flow.zarr" in stores and f"{out}/samm/apex_frame.zarr" in stores
    assert len(stores) == len(set(stores)) == 2 * 6  # the apex -> offset flow image is the flow store's
    assert [p.as_posix() for p in group_stores(repo_params, "table3_composite")] == [
        f"{out}/{d}/mesti.zarr" for d in ("casme2", "samm", "smic-hs")
    ]
    assert [p.name for p in group_stores(repo_params, "synthetic_apex")] == [
        "mesti-middle.zarr",
        "mesti-spotted.zarr",
        "mesti.zarr",
    ]


def stores_of(repo_params, root: Path, datasets=("casme2", "samm", "smic-hs")) -> dict[str, Path]:
    """Small stand-ins for the MESTI stores of `datasets` under `root`: two files each, one of them nested."""
    made = {}
    for d in datasets:
        store = root / repo_params.modalities.out / d / "mesti.zarr"
        (store / "image" / "c").mkdir(parents=True)
        (store / "zarr.json").write_text(f'{{"dataset": "{d}"}}')
        (store / "image" / "c" / "0").write_bytes(bytes(range(16)))
        made[d] = store
    return made


def manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text())


def test_the_manifest_names_each_store_with_its_content_and_replaces_the_folder(repo_params, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stores = stores_of(repo_params, tmp_path)
    stale = tmp_path / "inputs" / "table3_composite" / "casme3"
    stale.mkdir(parents=True)
    os.symlink(stores["samm"], tmp_path / "inputs" / "table3_composite" / "samm.zarr")  # a link from before
    assert inputs_stage(repo_params, "table3_composite", tmp_path / "inputs")["stores"] == 3
    folder = tmp_path / "inputs" / "table3_composite"
    assert [p.name for p in folder.iterdir()] == [MANIFEST] == ["stores.json"]  # the name docs/datasets.md gives
    listed = manifest(folder)
    assert listed["group"] == "table3_composite"
    assert [s["store"] for s in listed["stores"]] == [f"{repo_params.modalities.out}/{d}/mesti.zarr" for d in stores]
    assert all(s["files"] == 2 for s in listed["stores"])
    assert len({s["sha256"] for s in listed["stores"]}) == 3  # their zarr.json differ
    assert all(s.is_dir() for s in stores.values())  # the stores kept


def test_a_changed_byte_in_a_store_changes_its_digest_and_a_copy_does_not(repo_params, tmp_path):
    store = stores_of(repo_params, tmp_path, ("casme2",))["casme2"]
    digest, files = store_digest(store)
    assert files == 2 and store_digest(shutil.copytree(store, tmp_path / "elsewhere.zarr")) == (digest, 2)
    chunk = store / "image" / "c" / "0"
    chunk.write_bytes(b"\x01" + chunk.read_bytes()[1:])
    assert store_digest(store)[0] != digest
    chunk.write_bytes(bytes(range(16)))
    (store / "image" / "c" / "0").rename(store / "image" / "c" / "1")  # same bytes, another chunk
    assert store_digest(store)[0] != digest


def test_a_missing_store_is_one_line(repo_params, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match=r"^experiment table4: modality stores .* do not exist"):
        inputs_stage(repo_params, "table4", tmp_path / "inputs")
