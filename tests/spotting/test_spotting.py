"""Apex spotting: the curve's peak, the audit's flags, the stage on the tiny synthetic faces scored against its
ground truth, and the modalities' apex choice."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import zarr

from mer_pipeline.config import CacheParams, ModalitiesParams, SpottingParams
from mer_pipeline.errors import UserError
from mer_pipeline.modalities.task import run_modality
from mer_pipeline.spotting.audit import flags_of
from mer_pipeline.spotting.curve import Peak, find_peak, region_masks, smooth
from mer_pipeline.spotting.stage import apex_rows, ground_truth_apexes, spot_store
from mer_pipeline.store import faces as faces_store
from mer_pipeline.store.cache import Cache, encode, read_entry
from mer_pipeline.store.spots import SpotRow, read_spots, write_spots


def bump(T, apex, height):
    t = np.arange(T, dtype=float)
    return height * np.exp(-0.5 * ((t - apex) / 2.0) ** 2)


def test_peak_is_the_highest_region_and_its_frame():
    curves = np.stack([bump(15, 4, 0.3), bump(15, 9, 0.8), bump(15, 2, 0.1)], 1) + 0.05
    peak = find_peak(curves, ("brows", "nose", "mouth"), sigma=0.8)
    assert (peak.index, peak.region) == (9, "nose")
    assert peak.floor == pytest.approx(curves[1:, 1].min(), abs=1e-4) and peak.peak > 0.7


def test_smoothing_keeps_a_constant_and_a_symmetric_peak():
    flat = np.full((9, 2), 0.5)
    np.testing.assert_allclose(smooth(flat, 1.5), flat)
    curve = bump(21, 10, 1.0)[:, None]
    assert np.argmax(smooth(curve, 2.0)[:, 0]) == 10
    np.testing.assert_array_equal(smooth(curve, 0.2), curve)  # under 0.3 frames: none


def test_region_masks_sit_where_the_face_parts_are(tiny_faces):
    from mer_pipeline.faces.align import transform_points

    _, entry = faces_store.read_entry(faces_store.open_existing(tiny_faces), "sub01/EP01_01f")
    landmarks = transform_points(entry.landmark_array, entry.matrix)
    masks = region_masks(landmarks, 128, ("brows", "eyes", "nose", "mouth"), 0.15)
    rows = {name: np.nonzero(m)[0].mean() for name, m in masks.items()}
    assert all(m.sum() > 20 for m in masks.values())
    assert rows["brows"] < rows["eyes"] < rows["nose"] < rows["mouth"]  # top to bottom


def row(**kw):
    base = dict(
        clip_id="s/c",
        subject="s",
        onset=10,
        offset=30,
        index_apex=20,
        index_source="annotated",
        spotted_apex=20,
        spotted_source="spotted",
        peak_frame=20,
        region="mouth",
        peak=1.0,
        floor=0.05,
        flags="",
    )
    return SpotRow(**{**base, **kw})


def test_audit_flags():
    assert flags_of(row(), 21, 0.05, 3.0, 2) == []
    far = flags_of(row(peak_frame=25), 21, 0.05, 3.0, 2)
    assert far == ["annotated apex 20 is 5 frames from the motion peak 25"]
    assert flags_of(row(peak_frame=22), 21, 0.05, 3.0, 2) == []  # within the tolerance
    assert flags_of(row(peak_frame=25, index_source="middle"), 21, 0.05, 3.0, 2) == []  # nothing annotated
    assert "no motion above the noise floor in 10..30" in flags_of(row(peak=0.1), 21, 0.05, 3.0, 2)[0]
    assert "peaks on the offset frame 30" in flags_of(row(peak_frame=30, index_apex=29), 21, 0.05, 3.0, 2)[0]
    assert flags_of(row(), 2, 0.05, 3.0, 2) == ["too short to spot (2 frames)"]


def test_no_motion_falls_back_to_the_middle(tiny_faces):
    root = faces_store.open_existing(tiny_faces)
    entries = [faces_store.entry(root, c) for c in list(faces_store.complete_entries(root))[:4]]
    peaks = [Peak(e.key_frames.offset - 1, "mouth", np.zeros(3), 1.0, 0.05) for e in entries]
    peaks[2] = replace(peaks[2], peak=0.06)  # barely above its floor: no motion
    rows, floor = apex_rows(entries, peaks, SpottingParams())
    assert floor == pytest.approx(0.05)
    moved = rows[0]
    assert (moved.spotted_source, moved.spotted_apex) == ("spotted", entries[0].offset - 1)
    still = rows[2]
    assert still.spotted_source == "middle" and still.peak_frame == entries[2].offset - 1
    assert still.spotted_apex == entries[2].onset + (entries[2].offset - entries[2].onset) // 2
    assert "no motion" in still.flags


def test_spotting_finds_the_true_apex_on_the_tiny_synthetic_data(tiny_faces, tiny_synth, tmp_path):
    truth = ground_truth_apexes(tiny_synth)
    result = spot_store(tiny_faces, tmp_path / "spot", tmp_path / "metrics.json", SpottingParams(), "synthetic", truth)
    assert result["vs_truth"]["clips"] == 8
    assert result["vs_truth"]["mae_frames"] <= 1.0 and result["vs_truth"]["within_2"] >= 0.9
    assert json.loads((tmp_path / "metrics.json").read_text())["vs_truth"] == result["vs_truth"]
    table = read_spots(tmp_path / "spot" / "apexes.csv")
    assert len(table) == 8 and all(r.onset <= r.spotted_apex <= r.offset for r in table.values())
    assert {p.name for p in (tmp_path / "spot").iterdir()} >= {
        "apexes.csv",
        "curves.json",
        "audit.csv",
        "audit.png",
        "problems.csv",
    }
    curves = json.loads((tmp_path / "spot" / "curves.json").read_text())
    assert all(len(curves[c]) == r.offset - r.onset + 1 for c, r in table.items())


def test_curves_are_engine_items_kept_shared_and_never_read_damaged(tiny_faces, tiny_synth, tmp_path):
    """Spotting goes through the engine: a rerun keeps every clip's curves, a colleague sharing the cache computes
    none, and a damaged or foreign curve entry (local or in the cache) is computed anew; the outputs never change."""
    truth = ground_truth_apexes(tiny_synth)
    cache = CacheParams(str(tmp_path / "shared"))

    def run(name: str, curves: str = "curves") -> tuple[dict, dict[str, bytes]]:
        result = spot_store(
            tiny_faces,
            tmp_path / name,
            tmp_path / f"{name}.json",
            SpottingParams(),
            "synthetic",
            truth,
            curves_dir=tmp_path / curves,
            cache=cache,
        )
        files = {f: (tmp_path / name / f).read_bytes() for f in ("apexes.csv", "curves.json", "audit.csv")}
        return result["curves"], files

    first, files = run("a")
    assert (first["computed"], first["kept"]) == (8, 0)
    again, again_files = run("b")
    assert (again["kept"], again["computed"]) == (8, 0) and again_files == files
    colleague, colleague_files = run("c", "colleague_curves")
    assert (colleague["cached"], colleague["computed"]) == (8, 0) and colleague_files == files
    one, two = sorted((tmp_path / "curves").glob("*.npz"))[:2]
    one.write_bytes(one.read_bytes()[:-40])  # truncated
    arrays, manifest = read_entry(two.read_bytes())  # intact but a frame short: refused
    two.write_bytes(encode("curve", manifest["key"], {**arrays, "curve": arrays["curve"][:-1]}, manifest["meta"]))
    for entry in Cache(cache.url).entries():  # the cache's copies turned to NaN: refused too
        arrays, manifest = read_entry(Path(entry.path).read_bytes())
        Cache(cache.url).put("curve", entry.key, {**arrays, "curve": arrays["curve"] * np.nan}, manifest["meta"])
    repaired, repaired_files = run("d")
    assert (repaired["computed"], repaired["kept"], repaired["cached"]) == (2, 6, 0) and repaired_files == files


def test_apex_choice_recomputes_only_moved_apexes_and_records_them(tiny_faces, tmp_path):
    s = ModalitiesParams(
        size=32, device="cpu", params={"mesti": {"scaling": "signed"}, "dynamic_image": {"scaling": "signed"}}
    )
    root = faces_store.open_existing(tiny_faces)
    entries = [faces_store.entry(root, c) for c in faces_store.complete_entries(root)]
    moved = sum(e.key_frames.apex != e.key_frames.offset // 2 for e in entries)
    assert 0 < moved < len(entries)
    out = tmp_path / "mesti.zarr"
    assert run_modality("mesti", tiny_faces, out, s)["computed"] == 8
    again = run_modality("mesti", tiny_faces, out, s, apex="middle")
    assert (again["computed"], again["kept"]) == (moved, 8 - moved)
    store = zarr.open_group(str(out), mode="r")
    assert [int(k[1]) for k in store["key_frames"][...]] == [e.onset + e.key_frames.offset // 2 for e in entries]
    assert set(store["apex_source"][...]) == {"middle"}
    di = tmp_path / "di.zarr"
    run_modality("dynamic_image", tiny_faces, di, s)
    assert run_modality("dynamic_image", tiny_faces, di, s, apex="middle")["computed"] == 0  # it has no apex


def test_spotted_store_reads_the_apex_table(tiny_faces, tmp_path):
    s = ModalitiesParams(size=32, device="cpu", params={"mesti": {"scaling": "signed"}})
    root = faces_store.open_existing(tiny_faces)
    entries = [faces_store.entry(root, c) for c in faces_store.complete_entries(root)]
    rows = [
        row(
            clip_id=e.clip_id,
            onset=e.onset,
            offset=e.offset,
            index_apex=e.apex,
            spotted_apex=e.onset + 1,
            peak_frame=e.onset + 1,
        )
        for e in entries
    ]
    write_spots(tmp_path / "apexes.csv", rows)
    out = tmp_path / "mesti-spotted.zarr"
    result = run_modality("mesti-spotted", tiny_faces, out, s, apex="spotted", apex_table=tmp_path / "apexes.csv")
    assert result["computed"] == 8 and result["apex"] == "spotted"
    store = zarr.open_group(str(out), mode="r")
    assert [int(k[1]) for k in store["key_frames"][...]] == [e.onset + 1 for e in entries]
    write_spots(tmp_path / "apexes.csv", rows[1:])
    with pytest.raises(UserError, match=f"no current row for clip {entries[0].clip_id}"):
        run_modality("mesti-spotted", tiny_faces, out, s, apex="spotted", apex_table=tmp_path / "apexes.csv")
    with pytest.raises(UserError, match="no apex table"):
        run_modality("mesti-spotted", tiny_faces, out, s, apex="spotted", apex_table=tmp_path / "none.csv")
    with pytest.raises(UserError, match="must be one of annotated, middle, spotted"):
        run_modality("mesti-best", tiny_faces, out, s)
