"""Hostile dataset trees and outputs, as a lab meets them: each ends in one line (exit 2) or a problem row, the rest of
the run goes on, and nothing outside the dataset is read or any user file overwritten."""

import json
import os
import struct
import zlib

import pytest
import yaml
import zarr
from layouts import casme2_tree, write_frames
from openpyxl import load_workbook
from test_cli import _params, run_cli

from mer_pipeline.datasets.index import read_index, write_index
from mer_pipeline.errors import ClipError, UserError
from mer_pipeline.faces.clip import decode_frames
from mer_pipeline.problems import ProblemLog, read_problems
from mer_pipeline.store import faces as faces_store
from mer_pipeline.store import modality as modality_store


def add_rows(root, rows):
    sheet = root / "CASME2-coding-20140508.xlsx"
    wb = load_workbook(sheet)
    for row in rows:
        wb.active.append(row)
    wb.save(sheet)


def index(capsys, tmp_path, root, **overrides):
    code, out, err = run_cli(
        capsys,
        "index",
        "--dataset",
        "casme2",
        "--root",
        str(root),
        "--params",
        str(_params(tmp_path, **overrides)),
        "--json",
    )
    return code, (json.loads(out) if code == 0 else out), err


def problems_of(tmp_path):
    return {p.where: p for p in read_problems(tmp_path / "index" / "casme2" / "problems.csv")}


def png_header_only(path, width, height):
    """A PNG whose header declares width x height, with no pixel data: what a decoder must refuse before decoding."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def test_sheet_names_that_reach_outside_the_dataset_are_excluded_and_never_read(tmp_path, capsys):
    root = tmp_path / "casme"
    casme2_tree(root)
    outside = tmp_path / "outside" / "EP01_01f"
    write_frames(outside, [f"img{n}.jpg" for n in range(1, 6)])  # what a traversal would index
    add_rows(
        root,
        [
            [1, "../../../outside/EP01_01f", None, 1, 2, 4, None, "12", "happiness"],
            [1, str(outside), None, 1, 2, 4, None, "12", "happiness"],
            [1, "..", None, 1, 2, 4, None, "12", "happiness"],
            [1, "EP02\\01", None, 1, 2, 4, None, "12", "happiness"],
        ],
    )
    code, result, _ = index(capsys, tmp_path, root)
    assert code == 0
    records, _ = read_index(tmp_path / "index" / "casme2")
    assert not any("outside" in f or ".." in f for r in records for f in (r.clip_id, *r.frames))
    problems = problems_of(tmp_path)
    for name in ("../../../outside/EP01_01f", str(outside), "..", "EP02\\01"):
        p = problems[f"sub01/{name}"]
        assert p.action == "excluded" and "not a plain folder name" in p.problem
    assert not any(p.action == "repaired" and "outside" in p.where for p in problems.values())


def test_names_that_are_not_utf8_are_reported_escaped_and_the_index_is_written(tmp_path, capsys):
    root = tmp_path / "casme"
    expect = casme2_tree(root)
    write_frames(tmp_path / "clip", ["img1.jpg", "img2.jpg"])  # (OpenCV cannot write to such a path: moved there)
    os.rename(tmp_path / "clip", os.fsencode(root / "CASME2-RAW" / "sub01") + b"/EP\xff\xfe_01")
    code, result, _ = index(capsys, tmp_path, root)
    assert code == 0 and result["clips"] == sum(o != "excluded" for o in expect.values())
    problems = problems_of(tmp_path)
    assert problems["sub01/EP\\xff\\xfe_01"].action == "ignored"  # the bytes escaped, in the report and console
    assert (tmp_path / "index" / "casme2" / "index.json").is_file()


def test_oversized_and_too_short_clips_are_excluded_with_a_problem_row(tmp_path, capsys):
    root = tmp_path / "casme"
    casme2_tree(root)
    raw = root / "CASME2-RAW" / "sub01"
    write_frames(raw / "EP20_01", [f"img{n}.jpg" for n in range(1, 6)])
    png_header_only(raw / "EP20_01" / "img3.jpg", 10000, 8000)  # 80 megapixels, declared
    write_frames(raw / "EP22_01", [f"img{n}.jpg" for n in range(1, 6)])
    png_header_only(raw / "EP22_01" / "img2.jpg", 20000, 10000)  # 200: past PIL's own decompression-bomb bound
    write_frames(raw / "EP21_01", [f"img{n}.jpg" for n in range(1, 6)])
    add_rows(
        root,
        [
            [1, "EP20_01", None, 1, 2, 5, None, "12", "happiness"],
            [1, "EP22_01", None, 1, 2, 5, None, "12", "happiness"],
            [1, "EP21_01", None, 3, 3, 3, None, "12", "happiness"],
        ],
    )
    assert index(capsys, tmp_path, root)[0] == 0
    problems = problems_of(tmp_path)
    assert problems["sub01/EP20_01"].action == problems["sub01/EP22_01"].action == "excluded"
    assert "img3.jpg unreadable: image is 10000x8000, over the 50-megapixel bound" in problems["sub01/EP20_01"].problem
    assert "img2.jpg unreadable: oversized (Image size (200000000 pixels)" in problems["sub01/EP22_01"].problem
    assert problems["sub01/EP21_01"].problem == "1 frame from onset 3 to offset 3, fewer than index.min_frames 3"
    for clip, name, why in (
        ("EP20_01", "img3.jpg", "over the 50-megapixel bound"),
        ("EP22_01", "img2.jpg", "oversized"),
    ):
        data = (raw / clip / name).read_bytes()  # as faces reads them from an index made without verify_frames
        with pytest.raises(ClipError, match=f"{name}: .*{why}"):
            decode_frames([data], raw / clip, (name,), f"sub01/{clip}")


def test_the_index_is_written_all_or_nothing_and_read_only_whole(tmp_path, capsys, monkeypatch):
    root = tmp_path / "casme"
    casme2_tree(root)
    assert index(capsys, tmp_path, root)[0] == 0
    out = tmp_path / "index" / "casme2"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    records, meta = read_index(out)

    def full_disk(self, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(ProblemLog, "write", full_disk)
    with pytest.raises(OSError):
        write_index(out, records[:2], ProblemLog("casme2"), meta)
    assert {p.name: p.read_bytes() for p in out.iterdir() if not p.name.endswith(".tmp")} == before
    assert len(read_index(out)[0]) == len(records)
    (out / "clips.csv").write_text((out / "clips.csv").read_text().replace("happiness", "fear"))
    with pytest.raises(UserError, match="clips.csv: does not match its index.json"):
        read_index(out)


def test_an_index_folder_holding_the_users_files_is_refused_untouched(tmp_path, capsys):
    root = tmp_path / "casme"
    casme2_tree(root)
    mine = tmp_path / "index" / "casme2" / "clips.csv"
    mine.parent.mkdir(parents=True)
    mine.write_text("clip,my notes\nEP02_01f,blink at 12\n")
    code, out, err = index(capsys, tmp_path, root)
    assert (
        code == 2
        and err.strip()
        == f"error: {mine}: not written by mer_pipeline; refusing to write the clip index "
        f"into {mine.parent} (set index.out to a folder of its own)"
    )
    assert mine.read_text() == "clip,my notes\nEP02_01f,blink at 12\n" and sorted(mine.parent.iterdir()) == [mine]


def test_an_output_whose_parent_is_a_file_is_one_line(tmp_path, capsys):
    root = tmp_path / "casme"
    casme2_tree(root)
    (tmp_path / "afile").write_text("mine")
    code, _, err = index(capsys, tmp_path, root, index={"out": str(tmp_path / "afile")})
    assert (
        code == 2
        and err.strip() == f"error: {tmp_path / 'afile'}: is a file, not a folder for the clip index (set index.out)"
    )
    assert (tmp_path / "afile").read_text() == "mine"
    params = yaml.safe_load(_params(tmp_path).read_text())
    params["pipeline"]["experiments"] = []
    (tmp_path / "none.yaml").write_text(yaml.safe_dump(params))
    code, _, err = run_cli(
        capsys, "report", "--out", str(tmp_path / "afile" / "report"), "--params", str(tmp_path / "none.yaml")
    )
    assert code == 2 and err.strip() == f"error: {tmp_path / 'afile' / 'report'}: Not a directory"


def test_a_store_from_a_newer_release_is_refused_not_read_or_removed(tmp_path):
    faces = tmp_path / "faces.zarr"
    faces_store.open_store(faces, {"kind": "faces", "params_hash": "a"})
    zarr.open_group(str(faces), mode="r+").attrs["schema_version"] = 99
    for attempt in (
        lambda: faces_store.open_store(faces, {"kind": "faces", "params_hash": "b"}),
        lambda: faces_store.open_existing(faces),
    ):
        with pytest.raises(
            UserError, match=r"faces.zarr: written by a newer release of mer_pipeline \(store schema 99"
        ):
            attempt()
    assert zarr.open_group(str(faces), mode="r").attrs["params_hash"] == "a"  # still there, as it was
    modality = tmp_path / "mesti.zarr"
    zarr.open_group(str(modality), mode="w", attributes={"kind": "modality", "schema_version": 99})
    with pytest.raises(UserError, match="mesti.zarr: written by a newer release"):
        modality_store.open_existing(modality)
