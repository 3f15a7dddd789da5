import numpy as np
import pytest

from mer_pipeline.errors import UserError
from mer_pipeline.store import faces as faces_store
from mer_pipeline.store.records import FacesEntry, KeyFrames


def entry(clip_id: str, apex: int = 1) -> FacesEntry:
    return FacesEntry(
        clip_id=clip_id,
        subject=clip_id.split("/")[0],
        dataset="d",
        emotion="happiness",
        label3=1,
        label5=1,
        onset=10,
        apex=10 + apex,
        offset=14,
        apex_source="annotated",
        key_frames=KeyFrames(0, apex, 4),
        reference_index=0,
        fps=200.0,
        frames=["a.jpg"],
        input_sha256="x",
        content_key="k",
        transform=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
        eye_centres_aligned=[[1.0, 2.0], [3.0, 2.0]],
        landmarks=[[0.5, 0.25]],
        transforms=[[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]] * 5,
        stabilise="registration",
        faces_found=1,
        face_rule="largest",
        tracking={"scores": [1.0] * 5, "motion": [0.0] * 5, "check": [0.0, None, None, None, 0.5]},
        flags=[],
        cameras=[],
        landmark_depth=[],
    )


def test_round_trip_and_one_file_per_array(tmp_path):
    root = faces_store.open_store(tmp_path / "s.zarr", {"params_hash": "abc", "kind": "faces"})
    frames = np.random.default_rng(0).integers(0, 255, (5, 8, 8, 3), dtype=np.uint8)
    faces_store.write_entry(root, entry("sub01/EP01", apex=3), frames)
    read, meta = faces_store.read_entry(faces_store.open_existing(tmp_path / "s.zarr"), "sub01/EP01")
    np.testing.assert_array_equal(read, frames)
    assert meta == entry("sub01/EP01", apex=3)  # every field round-trips through the attributes
    chunk_files = [
        p for p in (tmp_path / "s.zarr/clips/sub01/EP01/frames").rglob("*") if p.is_file() and p.name != "zarr.json"
    ]
    assert len(chunk_files) == 1  # one shard per clip keeps DVC hashing fast
    assert list(faces_store.complete_entries(root)) == ["sub01/EP01"]


def test_incomplete_entry_is_not_present(tmp_path, monkeypatch):
    root = faces_store.open_store(tmp_path / "s.zarr", {"params_hash": "abc", "kind": "faces"})
    good = np.zeros((2, 4, 4, 3), np.uint8)
    faces_store.write_entry(root, entry("sub01/A"), good)

    class Crash(Exception):
        pass

    def crash(*args, **kwargs):
        raise Crash

    group_cls = type(root)
    real = group_cls.create_array
    monkeypatch.setattr(group_cls, "create_array", crash)
    with pytest.raises(Crash):
        faces_store.write_entry(root, entry("sub01/B"), good)
    with pytest.raises(Crash):  # rewriting a complete entry first withdraws it
        faces_store.write_entry(root, entry("sub01/A"), good)
    monkeypatch.setattr(group_cls, "create_array", real)
    reopened = faces_store.open_existing(tmp_path / "s.zarr")
    assert faces_store.entry(reopened, "sub01/B") is None
    assert faces_store.entry(reopened, "sub01/A") is None
    assert list(faces_store.complete_entries(reopened)) == []
    with pytest.raises(KeyError):
        faces_store.read_entry(reopened, "sub01/B")


def test_stale_store_is_rebuilt_and_foreign_folders_refused(tmp_path):
    faces = {"params_hash": "abc", "kind": "faces"}
    root = faces_store.open_store(tmp_path / "s.zarr", faces)
    faces_store.write_entry(root, entry("sub01/A"), np.zeros((1, 4, 4, 3), np.uint8))
    assert list(faces_store.complete_entries(faces_store.open_store(tmp_path / "s.zarr", faces))) == [
        "sub01/A"
    ]  # reused
    rebuilt = faces_store.open_store(tmp_path / "s.zarr", {**faces, "params_hash": "def"})
    assert list(faces_store.complete_entries(rebuilt)) == [] and rebuilt.attrs["params_hash"] == "def"
    (tmp_path / "junk.zarr").mkdir()
    (tmp_path / "junk.zarr" / "zarr.json").write_text("{not json")
    with pytest.raises(UserError, match=r"junk.zarr: exists and is not a mer_pipeline faces store \(unreadable"):
        faces_store.open_store(tmp_path / "junk.zarr", faces)
    other = faces_store.open_store(tmp_path / "other.zarr", {"params_hash": "abc", "kind": "something"})
    with pytest.raises(UserError, match=r"other.zarr: exists and is not a mer_pipeline faces store \(something\)"):
        faces_store.open_store(tmp_path / "other.zarr", faces)
    assert other.attrs["kind"] == "something"
