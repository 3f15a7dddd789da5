"""What an adapter yields (candidate clips) and the clip index record every later stage reads."""

import re
from dataclasses import dataclass
from pathlib import Path


def plain_name(text: str) -> bool:
    """Whether a name from a sheet is one plain file or folder name: no separator, not `.` or `..`, not empty."""
    return text not in ("", ".", "..") and not any(c in text for c in "/\\\0")


@dataclass(frozen=True)
class Candidate:
    """One clip as an adapter found it, before validation.

    Key frames are frame numbers as written in the file names; None means not annotated. With `bounds_from_frames`
    (SMIC-HS) onset/offset are the first/last frame of the folder and the apex the middle frame.
    """

    subject: str
    clip_id: str
    folder: Path
    emotion: str
    onset: int | None = None
    apex: int | None = None
    offset: int | None = None
    bounds_from_frames: bool = False
    sheet_row: int | None = None


@dataclass(frozen=True)
class Adapter:
    """A dataset layout: how to find its clips and how its frame files are named."""

    name: str
    frame_pattern: re.Pattern[str]
    scan: object  # Callable[[Path, DatasetParams, ProblemLog], list[Candidate]]


@dataclass(frozen=True)
class ClipRecord:
    """One row of the clip index. `frames` are paths relative to the dataset root, in temporal order, for the
    whole folder; onset/apex/offset are frame numbers; the clip proper is onset..offset."""

    dataset: str
    subject: str
    clip_id: str
    frames: tuple[str, ...]
    frame_numbers: tuple[int, ...]
    n_frames: int
    onset: int
    apex: int
    offset: int
    apex_source: str
    emotion: str
    label3: int
    label3_name: str
    label5: int
    label5_name: str
    fps: float

    def key_frame_files(self) -> tuple[str, ...]:
        """Frame files of onset..offset in temporal order."""
        return tuple(f for f, n in zip(self.frames, self.frame_numbers) if self.onset <= n <= self.offset)
