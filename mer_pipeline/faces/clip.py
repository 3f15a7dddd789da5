"""One clip's aligned, equalised faces: decode the frames, mediapipe landmarks on the reference frame, one
similarity transform (eyes level at fixed positions) applied to every frame, luminance equalisation.

This module's import closure is the faces entries' code identity (see identity.py): whatever shapes the arrays of a
faces entry is imported from here.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from mer_pipeline.config import FacesParams
from mer_pipeline.errors import ClipError
from mer_pipeline.faces.align import apply_alignment, eye_targets, similarity_from_eyes
from mer_pipeline.faces.equalise import equalise
from mer_pipeline.faces.landmarks import eye_centres

Landmarker = Callable[[np.ndarray], np.ndarray | None]
LIBRARIES = ("mediapipe", "opencv-contrib-python")  # their versions are part of the code identity


@dataclass(frozen=True)
class AlignedClip:
    """frames: (T, size, size, 3) uint8 RGB; matrix: (2, 3) source -> aligned; landmarks: (N, 2) source (x, y)."""

    frames: np.ndarray
    matrix: np.ndarray
    landmarks: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        """As a shared-cache entry holds it."""
        return {"frames": self.frames, "matrix": self.matrix, "landmarks": self.landmarks}


def read_frame_bytes(root: Path, files: tuple[str, ...], clip_id: str) -> tuple[list[bytes], str]:
    """The frame files' bytes and the sha256 over them in order."""
    digest, raw = hashlib.sha256(), []
    for name in files:
        try:
            raw.append((root / name).read_bytes())
        except OSError as exc:
            raise ClipError(clip_id, f"frame {root / name} unreadable ({exc.strerror})") from None
        digest.update(raw[-1])
    return raw, digest.hexdigest()


def decode_frames(raw: list[bytes], root: Path, files: tuple[str, ...], clip_id: str) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB; grayscale frames (SAMM) are replicated to 3 channels."""
    frames = []
    for data, name in zip(raw, files):
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ClipError(clip_id, f"frame {root / name} cannot be decoded")
        if frames and bgr.shape != frames[0].shape:
            raise ClipError(clip_id, f"frame {root / name} is {bgr.shape[1]}x{bgr.shape[0]}, unlike the clip's first")
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return np.stack(frames)


def align_clip(frames: np.ndarray, reference: int, landmarker: Landmarker, params: FacesParams, clip_id: str) -> AlignedClip:
    """Align and equalise a clip with one transform computed on frame `reference` (index into frames)."""
    landmarks = landmarker(frames[reference])
    if landmarks is None:
        raise ClipError(clip_id, f"no face found on reference frame {reference}")
    matrix = similarity_from_eyes(eye_centres(landmarks), eye_targets(params))
    aligned = apply_alignment(frames, matrix, params.size)
    return AlignedClip(equalise(aligned, params.equalise, params.clahe_clip, params.clahe_tiles), matrix, landmarks)


@lru_cache(maxsize=2)
def process_landmarker(min_detection_confidence: float) -> Landmarker:
    """One mediapipe graph per process (graphs do not pickle; each dask worker builds its own)."""
    from mer_pipeline.faces.landmarks import MediapipeLandmarker

    return MediapipeLandmarker(min_detection_confidence)
