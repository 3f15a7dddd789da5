import numpy as np
import pytest

from mer_pipeline.config import DatasetParams, FacesParams
from mer_pipeline.datasets import ADAPTERS
from mer_pipeline.datasets.index import build_index, index_meta, read_index, write_index
from mer_pipeline.faces.task import run_faces
from mer_pipeline.problems import ProblemLog
from mer_pipeline.store import faces as faces_store
from mer_pipeline.store.records import KeyFrames


def _index(tiny_synth, tmp_path, repo_params):
    dparams = DatasetParams(adapter="casme2", root=str(tiny_synth), fps=200, labels="casme2")
    labels = repo_params.labels["casme2"]
    log = ProblemLog("synthetic")
    records = build_index("synthetic", ADAPTERS.get("casme2"), dparams, labels, log)
    write_index(tmp_path / "index", records, log, index_meta("synthetic", dparams, labels))
    return read_index(tmp_path / "index")


def test_no_face_is_reported_and_skipped(tiny_synth, tmp_path, repo_params):
    records, meta = _index(tiny_synth, tmp_path, repo_params)
    calls = []

    def no_face(rgb):
        calls.append(rgb.shape)
        return None

    log = ProblemLog("synthetic")
    counts = run_faces(records, tiny_synth, tmp_path / "f.zarr", FacesParams(size=64), meta, no_face, log)
    assert counts == {"computed": 0, "cached": 0, "kept": 0, "skipped": len(records), "missing": 0, "flagged": 0}
    assert all(p.action == "skipped" and "no face found" in p.problem for p in log.items)
    assert list(faces_store.complete_entries(faces_store.open_existing(tmp_path / "f.zarr"))) == []


def test_faces_store_entries_and_rerun_keeps_them(tiny_synth, tmp_path, repo_params, landmarker):
    records, meta = _index(tiny_synth, tmp_path, repo_params)
    params = FacesParams(size=96)
    log = ProblemLog("synthetic")
    counts = run_faces(records, tiny_synth, tmp_path / "f.zarr", params, meta, landmarker, log)
    assert counts["computed"] == len(records) == 8 and len(log) == 0
    root = faces_store.open_existing(tmp_path / "f.zarr")
    frames, entry = faces_store.read_entry(root, records[0].clip_id)
    rec = records[0]
    assert frames.shape == (rec.n_frames, 96, 96, 3) and frames.dtype == np.uint8
    assert entry.key_frames == KeyFrames(0, rec.apex - rec.onset, rec.offset - rec.onset)
    assert entry.label3 == rec.label3 and len(entry.landmarks) == 478
    eyes = np.asarray(entry.eye_centres_aligned)
    assert abs(eyes[0, 1] - eyes[1, 1]) < 1e-6 and eyes[:, 0].mean() == pytest.approx(48)  # level and centred
    assert entry.matrices.shape == (rec.n_frames, 2, 3) and entry.stabilise == params.stabilise
    np.testing.assert_allclose(entry.matrices[entry.reference_index], entry.matrix)
    assert entry.faces_found == 1 and entry.flags == []
    assert root.attrs["params_hash"] and root.attrs["index_sha256"] == meta["index_sha256"]
    again = run_faces(records, tiny_synth, tmp_path / "f.zarr", params, meta, landmarker, ProblemLog("s"))
    assert again == {"computed": 0, "cached": 0, "kept": len(records), "skipped": 0, "missing": 0, "flagged": 0}


def test_corrupt_frame_skips_only_that_clip(tiny_synth, tmp_path, repo_params, landmarker):
    import shutil

    copy = tmp_path / "synthetic"
    shutil.copytree(tiny_synth, copy)
    records, meta = _index(copy, tmp_path, repo_params)
    victim = records[1]
    (copy / victim.key_frame_files()[2]).write_bytes(b"garbage")
    log = ProblemLog("synthetic")
    counts = run_faces(records, copy, tmp_path / "f.zarr", FacesParams(size=64), meta, landmarker, log)
    assert counts["skipped"] == 1 and counts["computed"] == len(records) - 1
    (problem,) = log.items
    assert problem.where == victim.clip_id and "cannot be decoded" in problem.problem


def test_clip_threads_write_what_one_thread_writes(tiny_synth, tmp_path, repo_params, landmarker):
    """Clips computed on two threads, each with its own mediapipe graph, give the bytes of the one-thread run, in
    order, a corrupt clip reported in its place."""
    import shutil

    from mer_pipeline import engine
    from mer_pipeline.faces.task import FacesTask, faces_provenance

    copy = tmp_path / "synthetic"
    shutil.copytree(tiny_synth, copy)
    records, meta = _index(copy, tmp_path, repo_params)
    (copy / records[2].key_frame_files()[1]).write_bytes(b"garbage")
    params = FacesParams(size=64)
    run_faces(records, copy, tmp_path / "one.zarr", params, meta, landmarker, ProblemLog("s"))
    faces_store.open_store(tmp_path / "two.zarr", faces_provenance(params, meta))
    task = FacesTask(str(tmp_path / "two.zarr"), str(copy), params, cv_threads=1)
    outcomes = engine.run(task, records, threads=2)
    assert [o.status for o in outcomes] == ["computed"] * 2 + ["skipped"] + ["computed"] * (len(records) - 3)
    assert "cannot be decoded" in outcomes[2].problem
    one, two = faces_store.open_existing(tmp_path / "one.zarr"), faces_store.open_existing(tmp_path / "two.zarr")
    for rec in records[:2] + records[3:]:
        (f1, e1), (f2, e2) = faces_store.read_entry(one, rec.clip_id), faces_store.read_entry(two, rec.clip_id)
        np.testing.assert_array_equal(f1, f2)
        assert e1 == e2


def test_clip_threads_one_per_core_up_to_four_also_without_affinity(monkeypatch):
    import os

    from mer_pipeline.faces.task import MAX_THREADS, clip_threads

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(3)), raising=False)
    assert clip_threads() == 3
    monkeypatch.delattr(os, "sched_getaffinity")  # macOS has none: the CPU count
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert clip_threads() == MAX_THREADS == 4
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert clip_threads() == 1
