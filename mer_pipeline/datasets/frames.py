"""Frame files of one clip folder, in true temporal order (by the integer in the name, never lexicographic)."""

import io
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image


@dataclass(frozen=True)
class FrameListing:
    """Frame files of a folder sorted by frame number; `duplicates` holds numbers that occur twice."""

    names: tuple[str, ...]
    numbers: tuple[int, ...]
    duplicates: tuple[int, ...]


def list_frames(folder: Path, pattern: re.Pattern[str]) -> FrameListing:
    """List the files of `folder` whose name matches `pattern` (group 1 = frame number), sorted by that number.

    `img9.jpg` sorts before `img10.jpg`; other files (Thumbs.db, .DS_Store) are not frames and are left out.
    """
    found: list[tuple[int, str]] = []
    for path in folder.iterdir():
        m = pattern.match(path.name)
        if m and path.is_file():
            found.append((int(m.group(1)), path.name))
    found.sort()
    numbers = [n for n, _ in found]
    duplicates = sorted({n for i, n in enumerate(numbers) if i and numbers[i - 1] == n})
    return FrameListing(tuple(name for _, name in found), tuple(numbers), tuple(duplicates))


def missing_frames(numbers: tuple[int, ...], first: int, last: int) -> list[int]:
    """Frame numbers in first..last (inclusive) that have no file."""
    present = set(numbers)
    return [n for n in range(first, last + 1) if n not in present]


MAX_FRAME_PIXELS = 50_000_000  # 20x the largest frames of the datasets (SAMM 2040x1088): a bound, not a size


def oversized(width: int, height: int) -> str | None:
    """Why a frame of this size is refused before it is decoded (None: it is not)."""
    if width * height > MAX_FRAME_PIXELS:
        return f"image is {width}x{height}, over the {MAX_FRAME_PIXELS // 1_000_000}-megapixel bound for a frame"
    return None


def header_problem(source: Path | bytes) -> str | None:
    """Why a frame's header alone refuses it (over MAX_FRAME_PIXELS; a file or its bytes), read without decoding its
    pixels. None when the header is fine, or is not one PIL reads (the decoder then says what is wrong)."""
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as img:
            return oversized(img.width, img.height)
    except Image.DecompressionBombError as exc:
        return f"oversized ({exc})"
    except (OSError, SyntaxError, ValueError):
        return None


def unreadable(path: Path) -> str | None:
    """Decode an image fully (after its header says it is not oversized); return why it cannot be used, or None
    when it is fine."""
    try:
        if path.stat().st_size == 0:
            return "empty file"
        if why := header_problem(path):
            return why
        with Image.open(path) as img:
            img.load()
            if img.width < 8 or img.height < 8:
                return f"image is only {img.width}x{img.height}"
    except Image.DecompressionBombError as exc:
        return f"oversized ({exc})"
    except (OSError, SyntaxError, ValueError) as exc:
        return f"cannot decode ({exc})"
    return None
