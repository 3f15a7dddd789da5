"""Each adapter on a fixture tree in its dataset's distributed layout, with the known quirks."""

from dataclasses import replace

import pytest
from layouts import casme2_tree, samm_tree, smic_tree

from mer_pipeline.datasets import ADAPTERS
from mer_pipeline.datasets.index import build_index, index_meta, read_index, write_index
from mer_pipeline.errors import UserError
from mer_pipeline.problems import ProblemLog, read_problems


def run(repo_params, name, root):
    dparams = replace(repo_params.dataset(name), root=str(root))
    labels = repo_params.labels_of(name)
    log = ProblemLog(name)
    records = build_index(name, ADAPTERS.get(dparams.adapter), dparams, labels, log)
    return {r.clip_id: r for r in records}, log, dparams, labels


def check_outcomes(records, log, expect):
    problems = {}
    for p in log.items:
        problems.setdefault(p.where, []).append(p)
    for clip_id, outcome in expect.items():
        if outcome == "excluded":
            assert clip_id not in records, clip_id
            assert [p.action for p in problems[clip_id]] == ["excluded"], clip_id
        else:
            assert clip_id in records, (clip_id, problems.get(clip_id))
            repaired = [p.action for p in problems.get(clip_id, [])]
            assert repaired == (["repaired"] if outcome == "apex-middle" else []), clip_id
            rec = records[clip_id]
            assert rec.apex_source == ("annotated" if outcome == "ok" else "middle")  # "middle": SMIC by design
            assert rec.onset <= rec.apex <= rec.offset
    assert set(records) == {c for c, o in expect.items() if o != "excluded"}


def test_casme2(tmp_path, repo_params):
    expect = casme2_tree(tmp_path)
    records, log, dparams, labels = run(repo_params, "casme2", tmp_path)
    check_outcomes(records, log, expect)
    rec = records["sub01/EP02_01f"]
    assert rec.frame_numbers == tuple(range(1, 20))
    assert rec.frames[8:10] == ("CASME2-RAW/sub01/EP02_01f/img9.jpg", "CASME2-RAW/sub01/EP02_01f/img10.jpg")
    assert rec.key_frame_files() == tuple(f"CASME2-RAW/sub01/EP02_01f/img{n}.jpg" for n in range(8, 15))
    assert (rec.onset, rec.apex, rec.offset, rec.n_frames) == (8, 11, 14, 7)
    assert (rec.label3, rec.label3_name, rec.label5_name, rec.fps) == (1, "positive", "happiness", 200)
    assert records["sub01/EP03_02"].apex == 5  # '/' -> middle of 3..7
    assert records["sub02/EP09f"].apex == 100 and records["sub02/EP09f"].emotion == "surprise"
    assert (records["sub05/EP10_02"].onset, records["sub05/EP10_02"].apex) == (1, 3)
    reasons = {p.where: p.problem for p in log.items}
    assert "onset 9 after offset 5" in reasons["sub02/EP06_02_01"]
    assert "clip folder missing" in reasons["sub03/EP01_01"]
    assert "frames missing" in reasons["sub03/EP04_04"] and ": 4" in reasons["sub03/EP04_04"]
    assert "img3.jpg unreadable" in reasons["sub04/EP05_03f"]
    assert "unknown emotion 'contempt'" in reasons["sub04/EP07_01"]
    assert "not ascending" in reasons["sub05/EP08_01"]
    assert reasons["sub05/EP99_99"] == "clip folder has no row in the annotation sheet"
    # Round trip through the files the next stage reads.
    write_index(tmp_path / "out", list(records.values()), log, index_meta("casme2", dparams, labels))
    again, meta = read_index(tmp_path / "out")
    assert {r.clip_id: r for r in again} == records
    assert meta["clips"] == len(records) and len(read_problems(tmp_path / "out" / "problems.csv")) == len(log)


def test_casme2_nested_unzip_and_cropped_names(tmp_path, repo_params):
    from layouts import CASME2_HEADER, write_frames, write_xlsx

    write_frames(tmp_path / "Cropped" / "Cropped" / "sub01" / "EP02_01f", [f"reg_img{n}.jpg" for n in range(46, 52)])
    write_xlsx(
        tmp_path / "CASME2-coding-20190701.xlsx",
        [CASME2_HEADER, [1, "ep02_01F", None, 46, 48, 51, None, "12", "happiness"]],
    )
    records, log, *_ = run(repo_params, "casme2", tmp_path)
    assert list(records) == ["sub01/ep02_01F"]
    assert records["sub01/ep02_01F"].frames[0] == "Cropped/Cropped/sub01/EP02_01f/reg_img46.jpg"
    assert [p.action for p in log.items] == ["repaired"]  # matched ignoring case


def test_samm(tmp_path, repo_params):
    expect = samm_tree(tmp_path)
    records, log, *_ = run(repo_params, "samm", tmp_path)
    check_outcomes(records, log, expect)
    rec = records["006/006_1_2"]
    assert rec.subject == "006" and rec.frames[0] == "SAMM/006/006_1_2/006_05560.jpg"
    assert (rec.label3_name, rec.label5_name) == ("negative", "anger")
    assert records["006/006_1_3"].apex == 105
    reasons = {p.where: p.problem for p in log.items}
    assert "frames missing" in reasons["007/007_3_1"] and "14, 15" in reasons["007/007_3_1"]
    assert "unknown emotion 'Joy'" in reasons["011/011_2_1"]


def test_smic_hs(tmp_path, repo_params):
    expect = smic_tree(tmp_path)
    records, log, *_ = run(repo_params, "smic-hs", tmp_path)
    check_outcomes(records, log, expect)
    rec = records["s01/s1_ne_01"]
    assert (rec.onset, rec.apex, rec.offset, rec.apex_source) == (46433, 46437, 46441, "middle")
    assert (rec.subject, rec.label3, rec.fps, rec.label5) == ("s01", 0, 100, -1)
    assert records["s01/s1_po_02"].frame_numbers == tuple(range(99998, 100004))
    assert not any("non_micro" in r.frames[0] for r in records.values())


@pytest.mark.parametrize("name", ["casme2", "samm", "smic-hs"])
def test_missing_root_is_one_line_error(tmp_path, repo_params, name):
    with pytest.raises(UserError, match=f"{tmp_path / 'nope'}: dataset root not found"):
        run(repo_params, name, tmp_path / "nope")


@pytest.mark.parametrize("name,expected", [("casme2", "CASME2-coding"), ("samm", "SAMM_Micro_FACS_Codes_v2")])
def test_missing_sheet_names_what_was_expected(tmp_path, repo_params, name, expected):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=f"no annotation sheet found .*{expected}"):
        run(repo_params, name, tmp_path / "empty")


def test_casme2_legacy_xls_sheet(tmp_path, repo_params):
    """CASME2_label_Ver_2.xls (legacy BIFF) read through pandas + calamine, found by its distributed name, without
    a warning (pandas' xlrd engine warns that it is deprecated)."""
    import shutil
    import warnings

    from conftest import REPO
    from layouts import write_frames

    shutil.copy(REPO / "tests" / "fixtures" / "CASME2_label_Ver_2.xls", tmp_path)
    write_frames(tmp_path / "CASME2_RAW_selected" / "sub01" / "EP02_01f", [f"img{n}.jpg" for n in range(46, 87)])
    write_frames(tmp_path / "CASME2_RAW_selected" / "sub01" / "EP03_02", [f"img{n}.jpg" for n in range(3, 8)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        records, log, *_ = run(repo_params, "casme2", tmp_path)
    assert (records["sub01/EP02_01f"].onset, records["sub01/EP02_01f"].apex) == (46, 59)
    assert records["sub01/EP03_02"].apex == 5 and records["sub01/EP03_02"].apex_source == "middle"
    reasons = {p.where: p.problem for p in log.items}
    assert "clip folder missing" in reasons["sub02/EP09f"]


def problems_by_clip(log):
    found = {}
    for p in log.items:
        found.setdefault(p.where, []).append((p.action, p.problem))
    return found


def test_casme3_part_a(tmp_path, repo_params):
    from layouts import casme3_tree

    casme3_tree(tmp_path)
    records, log, *_ = run(repo_params, "casme3", tmp_path)
    problems = problems_by_clip(log)
    assert sorted(records) == ["spNO.1/b_10", "spNO.1/b_10_2", "spNO.1/b_25", "spNO.2/d_9", "spNO.2/e_2"]
    rec = records["spNO.1/b_10"]
    assert rec.frames[0] == "part_A/data/part_A/spNO.1/b/color/8.jpg" and rec.key_frame_files()[0].endswith("/10.jpg")
    assert (rec.subject, rec.onset, rec.apex, rec.offset, rec.fps) == ("spNO.1", 10, 14, 20, 30)
    assert (rec.label3_name, rec.label5_name) == ("positive", "happy")
    assert records["spNO.1/b_10_2"].offset == 22 and problems["spNO.1/b_10_2"][0][0] == "repaired"
    assert records["spNO.1/b_25"].apex == 25 and records["spNO.1/b_25"].emotion == "others"
    assert records["spNO.2/e_2"].frames[0] == "part_A/data/part_A/spNO.2/e/1.jpg"  # no color/ level
    assert problems["spNO.2/d_9"] == [
        ("flagged", "lasts 2.9 s, over 2 s: probably a macro-expression or an annotation error")
    ]
    assert problems["spNO.1/b_10"] == [("excluded", "listed twice in the sheet")]
    assert ("excluded", "listed twice in the sheet") in problems["spNO.1/b_10_2"]  # not a third id
    assert not any(where.startswith("spNO.1/b_10_3") for where in problems)
    assert problems["spNO.1/b_3"][0][0] == "excluded" and "3, 4, 5, 6, 7" in problems["spNO.1/b_3"][0][1]
    assert "between onset 8 and offset 14: 10" in problems["spNO.2/c_8"][0][1]
    assert "clip folder missing" in problems["spNO.3/a_2"][0][1]
    assert problems["spNO.2/z"] == [("ignored", "recording has no micro-expression row in the sheet")]


def test_casme3_full_label_file_keeps_micro_rows(tmp_path, repo_params):
    from layouts import write_frames, write_xlsx

    write_frames(tmp_path / "spNO.1" / "a" / "color", [f"{n}.jpg" for n in range(1, 12)])
    write_xlsx(
        tmp_path / "CAS(ME)3_part_A_v2.xlsx",
        [
            ["Subject", "Filename", "Onset", "Apex", "Offset", "Expression type", "emotion"],
            ["spNO.1", "a", 2, 4, 6, "Micro-expression", "happy"],
            ["spNO.1", "a", 3, 6, 9, "Macro-expression", "happy"],
        ],
    )
    records, log, *_ = run(repo_params, "casme3", tmp_path)
    assert list(records) == ["spNO.1/a_2"]
    assert [(p.action, "Macro" in p.problem) for p in log.items] == [("ignored", True)]


def test_mmew(tmp_path, repo_params):
    from layouts import mmew_tree

    mmew_tree(tmp_path)
    records, log, *_ = run(repo_params, "mmew", tmp_path)
    problems = problems_by_clip(log)
    assert sorted(records) == ["S01/S01_001", "S01/S01_002", "S02/S02_003", "S02/S02_004"]
    rec = records["S01/S01_001"]
    assert rec.frames[:2] == (
        "MMEW/Micro_Expression/happiness/S01_001/1.jpg",
        "MMEW/Micro_Expression/happiness/S01_001/2.jpg",
    )
    assert (rec.subject, rec.apex, rec.fps, rec.label3_name) == ("S01", 6, 90, "positive")
    assert records["S01/S01_002"].apex == 4 and problems["S01/S01_002"] == [("repaired", "apex not annotated")]
    assert records["S02/S02_003"].frames[0].startswith("MMEW/Micro_Expression/Disgust/")
    assert records["S02/S02_004"].emotion == "surprise" and problems["S02/S02_004"][0][0] == "repaired"
    assert "unknown emotion 'Contempt'" in problems["S03/S03_001"][0][1]
    assert "clip folder missing" in problems["S03/S03_002"][0][1]
    assert problems["happiness/S09_009"] == [("ignored", "clip folder has no row in the annotation sheet")]


def test_4dme(tmp_path, repo_params):
    from layouts import fourdme_tree

    fourdme_tree(tmp_path)
    records, log, *_ = run(repo_params, "4dme", tmp_path)
    problems = problems_by_clip(log)
    assert sorted(records) == ["S01/S01_fold01", "S01/s01_fold02", "S02/S02_fold03"]
    rec = records["S01/S01_fold01"]
    assert rec.frames[0] == "4DMicro/gray_micro/S01/S01_fold01/img0001.jpg"
    assert (rec.onset, rec.apex, rec.offset, rec.fps, rec.label3_name) == (2, 5, 9, 60, "positive")
    assert records["S02/S02_fold03"].frame_numbers == tuple(range(8))
    assert records["S02/S02_fold03"].label3_name == "negative"  # repression, as MEGC maps it
    assert problems["S01/s01_fold02"][0][0] == "repaired"  # matched ignoring case
    assert "unknown emotion 'Negative+Surprise'" in problems["S02/S02_fold01"][0][1]
    assert "clip folder missing" in problems["S03/S03_fold01"][0][1]
    assert problems["S02/S02_fold09"] == [("ignored", "clip folder has no row in the annotation sheet")]


@pytest.mark.parametrize(
    "name,expected", [("casme3", "JpgIndex"), ("mmew", "MMEW_Micro_Exp"), ("4dme", "4DME_Labelling")]
)
def test_new_datasets_name_the_missing_sheet(tmp_path, repo_params, name, expected):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=f"no annotation sheet found .*{expected}"):
        run(repo_params, name, tmp_path / "empty")
