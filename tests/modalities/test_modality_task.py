from pathlib import Path

import numpy as np
import pytest
import torch
import zarr

from mer_pipeline.config import ModalitiesParams, read_yaml
from mer_pipeline.errors import UserError
from mer_pipeline.modalities.base import clip_from_frames
from mer_pipeline.modalities.mesti import mesti
from mer_pipeline.modalities.registry import known
from mer_pipeline.modalities.task import run_modality
from mer_pipeline.store import faces as faces_store
from mer_pipeline.store import modality as modality_store

PARAMS = {
    "mesti": {"scaling": "signed"},
    "optical_flow": {"iterations": 5, "warps": 2, "scales": 2},
    "apex_frame": {"scaling": "unit"},
}


def settings(**kw):
    return ModalitiesParams(size=64, device="cpu", batch_clips=3, params=PARAMS, **kw)


def test_store_matches_the_formula_and_reruns_compute_nothing(tiny_faces, tmp_path):
    out = tmp_path / "mesti.zarr"
    result = run_modality("mesti", tiny_faces, out, settings())
    assert (result["computed"], result["kept"]) == (8, 0)
    root = zarr.open_group(str(out), mode="r")
    assert (
        modality_store.present(root).all()
        and root["image"].shape == (8, 3, 64, 64)
        and root["raw"].shape == (8, 3, 128, 128)
    )
    faces = faces_store.open_existing(tiny_faces)
    clip_id = str(root["sample"][2])
    frames, entry = faces_store.read_entry(faces, clip_id)
    expected = mesti(clip_from_frames(torch.from_numpy(frames)), entry.key_frames)
    np.testing.assert_allclose(root["raw"][2], expected.numpy(), rtol=1e-5, atol=1e-4)
    assert root["label3"][2] == entry.label3 and list(root["key_frames"][2]) == [entry.onset, entry.apex, entry.offset]
    assert root.attrs["params_hash"] and root.attrs["faces_sha256"] and root.attrs["modality"] == "mesti"
    assert run_modality("mesti", tiny_faces, out, settings())["computed"] == 0


@pytest.mark.parametrize("name", known())
def test_every_store_opens_in_xarray_as_a_dataset_of_clips(name, tiny_faces, tmp_path):
    """A lab member's view: `xr.open_zarr(store).sel(sample=clip_id)` gives that clip's arrays, its facts as
    coordinates, and dimensions that do not collide (raw at the faces' size beside images at the modality's)."""
    import warnings

    import xarray as xr

    out = tmp_path / f"{name}.zarr"
    every = read_yaml(Path(__file__).resolve().parents[2] / "params.yaml")["modalities"]["params"]
    run_modality(name, tiny_faces, out, ModalitiesParams(size=64, device="cpu", params={**every, **PARAMS}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to unconsolidated metadata, no unstable data types
        ds = xr.open_zarr(out)
    faces = faces_store.open_existing(tiny_faces)
    ids = list(faces_store.complete_entries(faces))
    assert list(ds["sample"].values) == ids and set(ds.coords) >= {
        "sample",
        "subject",
        "dataset",
        "emotion",
        "label3",
        "label5",
        "key_frame",
    }
    assert ds.sizes["y"] == 64 and ds.sizes["raw_y"] == 128 and "hex" not in ds.sizes
    clip = ids[3]
    one = ds.sel(sample=clip)
    entry = faces_store.entry(faces, clip)
    root = zarr.open_group(str(out), mode="r")
    for image in root.attrs["images"]:
        np.testing.assert_array_equal(one[image].values, root[image][3])
    assert (
        str(one["subject"].values),
        str(one["dataset"].values),
        str(one["emotion"].values),
        int(one["label3"].values),
    ) == (entry.subject, entry.dataset, entry.emotion, entry.label3)
    assert int(one["key_frames"].sel(key_frame="offset")) == entry.offset
    assert str(one["content_key"].values) == modality_store.sample_key(root, 3) and int(one["done"]) == 1


def test_half_written_sample_is_recomputed(tiny_faces, tmp_path):
    out = tmp_path / "apex.zarr"
    run_modality("apex_frame", tiny_faces, out, settings())
    root = zarr.open_group(str(out), mode="r+")
    root["done"][4] = 0  # as if the writer died between the arrays and the mark
    root["image"][4] = 0
    assert not modality_store.present(root)[4]
    with pytest.raises(KeyError):
        modality_store.read_sample(root, 4)
    assert run_modality("apex_frame", tiny_faces, out, settings())["computed"] == 1
    assert modality_store.read_sample(zarr.open_group(str(out), mode="r"), 4).images["image"].max() > 0


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
    assert modality_store.present(zarr.open_group(str(out), mode="r")).all()
