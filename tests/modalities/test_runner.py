import numpy as np
import pytest
import torch
import zarr

from mer_pipeline.config import ModalitiesParams
from mer_pipeline.errors import UserError
from mer_pipeline.modalities.mesti import mesti
from mer_pipeline.modalities.base import clip_from_frames
from mer_pipeline.modalities.task import run_modality
from mer_pipeline.store import clips as faces_store
from mer_pipeline.store import modality as mstore

PARAMS = {"mesti": {"scaling": "signed"}, "optical_flow": {"iterations": 5, "warps": 2, "scales": 2},
          "apex_frame": {"scaling": "unit"}}


def settings(**kw):
    return ModalitiesParams(size=64, device="cpu", batch_clips=3, params=PARAMS, **kw)


def test_store_matches_the_formula_and_reruns_compute_nothing(tiny_faces, tmp_path):
    out = tmp_path / "mesti.zarr"
    result = run_modality("mesti", tiny_faces, out, settings())
    assert (result["computed"], result["kept"]) == (8, 0)
    root = zarr.open_group(str(out), mode="r")
    assert mstore.present(root).all() and root["image"].shape == (8, 3, 64, 64) and root["raw"].shape == (8, 3, 128, 128)
    faces = faces_store.open_existing(tiny_faces)
    clip_id = root.attrs["clip_ids"][2]
    frames, entry = faces_store.read_entry(faces, clip_id)
    expected = mesti(clip_from_frames(torch.from_numpy(frames)), entry.key_frames)
    np.testing.assert_allclose(root["raw"][2], expected.numpy(), rtol=1e-5, atol=1e-4)
    assert root["label3"][2] == entry.label3 and list(root["key_frames"][2]) == [entry.onset, entry.apex, entry.offset]
    assert root.attrs["params_hash"] and root.attrs["faces_sha256"] and root.attrs["modality"] == "mesti"
    assert run_modality("mesti", tiny_faces, out, settings())["computed"] == 0


def test_half_written_sample_is_recomputed(tiny_faces, tmp_path):
    out = tmp_path / "apex.zarr"
    run_modality("apex_frame", tiny_faces, out, settings())
    root = zarr.open_group(str(out), mode="r+")
    root["done"][4] = 0  # as if the writer died between the arrays and the mark
    root["image"][4] = 0
    assert not mstore.present(root)[4]
    with pytest.raises(KeyError):
        mstore.read_sample(root, 4)
    assert run_modality("apex_frame", tiny_faces, out, settings())["computed"] == 1
    assert mstore.read_sample(zarr.open_group(str(out), mode="r"), 4).images["image"].max() > 0


def test_changed_params_rebuild_and_foreign_folders_are_refused(tiny_faces, tmp_path):
    out = tmp_path / "apex.zarr"
    run_modality("apex_frame", tiny_faces, out, settings())
    assert run_modality("apex_frame", tiny_faces, out, settings(out="x"))["computed"] == 0  # out is not content
    changed = ModalitiesParams(size=32, device="cpu", params=PARAMS)
    assert run_modality("apex_frame", tiny_faces, out, changed)["computed"] == 8
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(UserError, match="not a mer_pipeline modality store"):
        run_modality("apex_frame", tiny_faces, tmp_path / "mine", settings())
    assert (tmp_path / "mine" / "notes.txt").exists()
    with pytest.raises(UserError, match="unknown modality 'mesty'"):
        run_modality("mesty", tiny_faces, tmp_path / "m.zarr", settings())


def test_flow_store_keeps_both_directions_and_raw_pixels(tiny_faces, tmp_path):
    run_modality("optical_flow", tiny_faces, tmp_path / "flow.zarr", settings())
    root = zarr.open_group(str(tmp_path / "flow.zarr"), mode="r")
    assert root.attrs["images"] == ["image", "image_apex_offset"]
    assert root["image_apex_offset"].shape == (8, 3, 64, 64) and root["raw"].shape == (8, 6, 128, 128)
    assert np.abs(root["raw"][0, :2]).max() > 0.5  # flow in pixels, not rescaled


def test_device_resolution(monkeypatch):
    from mer_pipeline.device import resolve_device

    assert resolve_device("cpu").type == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto").type == "cpu"
    with pytest.raises(UserError, match="no CUDA device"):
        resolve_device("cuda")


def test_changed_code_recomputes_samples_of_an_existing_store(tiny_faces, tmp_path, monkeypatch):
    """Same params, same faces, other code identity: no sample is kept (the store's params hash alone would)."""
    from mer_pipeline.modalities import keys

    out = tmp_path / "mesti.zarr"
    assert run_modality("mesti", tiny_faces, out, settings())["computed"] == 8
    assert run_modality("mesti", tiny_faces, out, settings())["kept"] == 8
    monkeypatch.setattr(keys, "modality_code_version", lambda name: "edited")
    assert len(keys.stale_samples(out)) == 8  # readers refuse the old code's samples until the store is rebuilt
    again = run_modality("mesti", tiny_faces, out, settings())
    assert (again["computed"], again["kept"]) == (8, 0)
    assert keys.stale_samples(out) == []


def test_store_whose_writer_died_while_laying_it_out_is_rebuilt(tiny_faces, tmp_path):
    out = tmp_path / "mesti.zarr"
    run_modality("mesti", tiny_faces, out, settings())
    root = zarr.open_group(str(out), mode="r+")
    del root["done"]  # as if killed between the store's attributes and its last array
    root.attrs["ready"] = False
    assert run_modality("mesti", tiny_faces, out, settings())["computed"] == 8
    assert mstore.present(zarr.open_group(str(out), mode="r")).all()
