import re
import warnings

import pytest
from layouts import truncate, write_frame, write_frames, write_xlsx

from mer_pipeline.datasets.frames import list_frames, missing_frames, unreadable
from mer_pipeline.datasets.sheets import frame_number, read_sheet, subject_number
from mer_pipeline.errors import UserError

CASME = re.compile(r"^(?:reg_)?img(\d+)\.jpg$")


def test_frames_sorted_by_integer_not_lexicographically(tmp_path):
    write_frames(tmp_path, ["img10.jpg", "img9.jpg", "img100.jpg", "img11.jpg", "reg_img8.jpg"])
    (tmp_path / "Thumbs.db").write_bytes(b"x")
    listing = list_frames(tmp_path, CASME)
    assert listing.numbers == (8, 9, 10, 11, 100)
    assert listing.names == ("reg_img8.jpg", "img9.jpg", "img10.jpg", "img11.jpg", "img100.jpg")
    assert listing.duplicates == ()


def test_duplicate_frame_numbers_detected(tmp_path):
    write_frames(tmp_path, ["img3.jpg", "img003.jpg", "img4.jpg"])
    assert list_frames(tmp_path, CASME).duplicates == (3,)


def test_missing_frames():
    assert missing_frames((1, 2, 4, 7), 1, 7) == [3, 5, 6]
    assert missing_frames((5, 6), 4, 6) == [4]


def test_unreadable_frames(tmp_path):
    write_frame(tmp_path / "ok.jpg")
    write_frame(tmp_path / "cut.jpg")
    truncate(tmp_path / "cut.jpg")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("not an image")
    assert unreadable(tmp_path / "ok.jpg") is None
    assert "decode" in unreadable(tmp_path / "cut.jpg")
    assert unreadable(tmp_path / "empty.jpg") == "empty file"
    assert "decode" in unreadable(tmp_path / "text.jpg")


@pytest.mark.parametrize(
    "cell,expected",
    [
        (46, 46),
        (46.0, 46),
        ("46", 46),
        (" 46 ", 46),
        ("/", None),
        ("", None),
        (None, None),
        (-1, None),
        ("n/a", None),
        (4.5, None),
    ],
)
def test_frame_number_cells(cell, expected):
    assert frame_number(cell) == expected


@pytest.mark.parametrize("cell,expected", [(6, 6), (6.0, 6), ("006", 6), ("sub06", 6), ("s1", 1), ("x", None)])
def test_subject_cells(cell, expected):
    assert subject_number(cell) == expected


def test_header_found_below_free_text_and_aliases(tmp_path):
    """The header row is found below free text, through column aliases, and the sheet is read without a warning
    (pandas warns that its default .xlsx engine will change)."""
    rows = [
        ["Title"],
        ["notes"],
        ["Subject", "Filename", "Onset Frame", "Apex Frame", "Offset Frame", None, "Estimated Emotion"],
        [6, "006_1_2", 10, 12, 20, None, "Anger"],
        [None],
        ["", ""],
    ]
    write_xlsx(tmp_path / "s.xlsx", rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (row,) = read_sheet(tmp_path / "s.xlsx")
    assert (row["subject"], row["filename"], row["onset"], row["apex"], row["offset"], row["emotion"]) == (
        6,
        "006_1_2",
        10,
        12,
        20,
        "Anger",
    )
    assert row["sheet_row"] == 4


def test_sheet_errors_name_the_file(tmp_path):
    with pytest.raises(UserError, match="s.xlsx: annotation sheet not found"):
        read_sheet(tmp_path / "s.xlsx")
    write_xlsx(tmp_path / "bad.xlsx", [["Subject", "Filename", "Emotion"], [1, "EP01", "happiness"]])
    with pytest.raises(UserError, match="bad.xlsx: header row 1 has no column for onset, apex, offset"):
        read_sheet(tmp_path / "bad.xlsx")
    (tmp_path / "corrupt.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(UserError, match="corrupt.xlsx: cannot read annotation sheet"):
        read_sheet(tmp_path / "corrupt.xlsx")
