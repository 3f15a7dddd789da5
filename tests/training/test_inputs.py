"""The links an experiment group's train stage depends on: exactly the stores its experiments read."""

import os

import pytest

from mer_pipeline.errors import UserError
from mer_pipeline.training.inputs import group_stores, inputs_stage


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


def test_links_are_relative_and_replaced_whole(repo_params, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for d in ("casme2", "samm", "smic-hs"):
        (tmp_path / repo_params.modalities.out / d / "mesti.zarr").mkdir(parents=True)
    stale = tmp_path / "inputs" / "table3_composite" / "casme3"
    stale.mkdir(parents=True)
    assert inputs_stage(repo_params, "table3_composite", tmp_path / "inputs")["stores"] == 3
    link = tmp_path / "inputs" / "table3_composite" / "samm" / "mesti.zarr"
    assert link.is_symlink() and not os.path.isabs(os.readlink(link))
    assert link.resolve() == (tmp_path / repo_params.modalities.out / "samm" / "mesti.zarr").resolve()
    assert not stale.exists()
    assert (tmp_path / repo_params.modalities.out / "samm" / "mesti.zarr").is_dir()  # links removed, stores kept


def test_a_missing_store_is_one_line(repo_params, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match=r"^experiment table4: modality stores .* do not exist"):
        inputs_stage(repo_params, "table4", tmp_path / "inputs")
