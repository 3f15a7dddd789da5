"""One clip's aligned, stabilised, equalised faces: decode the frames, mediapipe landmarks on the reference frame
(the largest face when there are several), its similarity transform (eyes level, face size from the landmarks), every
frame registered to it (faces/stabilise.py), each frame warped with its own transform, luminance equalisation.

This module's import closure is the faces entries' code identity (see identity.py): whatever shapes the arrays of a
faces entry is imported from here.
"""

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mer_pipeline.config import FacesParams
from mer_pipeline.datasets.frames import header_problem
from mer_pipeline.errors import ClipError
from mer_pipeline.faces.align import apply_alignment, crop_similarity
from mer_pipeline.faces.equalise import equalise
from mer_pipeline.faces.landmarks import closest, faces_of, largest
from mer_pipeline.faces.stabilise import Stabilised, stabilise

Landmarker = Callable[[np.ndarray], "list[np.ndarray] | np.ndarray | None"]  # RGB frame -> the faces found
LIBRARIES = ("mediapipe", "opencv-contrib-python")  # their versions are part of the code identity


@dataclass(frozen=True)
class AlignedClip:
    """frames: (T, size, size, 3) uint8 RGB; matrices: (T, 2, 3) source -> aligned per frame; landmarks: (N, 2)
    source (x, y) on the reference frame; scores, motion, check: (T,) float32 tracking numbers (stabilise.py);
    faces_found: () int, faces on the reference frame; cameras: (T, 3, 4) aligned (x, y, z, 1) -> source per frame
    and depth: (N,) the landmarks' depth (z, source px), with `registration_3d` (faces/depth.py), else (0, 3, 4) and
    (0,)."""

    frames: np.ndarray
    matrices: np.ndarray
    landmarks: np.ndarray
    scores: np.ndarray
    motion: np.ndarray
    check: np.ndarray
    faces_found: np.ndarray
    cameras: np.ndarray
    depth: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        """As a shared-cache entry holds it."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def stabilised(self) -> Stabilised:
        return Stabilised(self.matrices, self.scores, self.motion, self.check)


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


def decode_frames(raw: list[bytes], root: Path, files: tuple[str, ...], clip_id: str) -> list[np.ndarray]:
    """T (H, W, 3) uint8 RGB frames, decoded straight to RGB (kept as decoded: no copy into one array);
    grayscale frames (SAMM) are replicated to 3 channels."""
    frames = []
    for data, name in zip(raw, files):
        if why := header_problem(data):
            raise ClipError(clip_id, f"frame {root / name}: {why}")
        rgb = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR_RGB)
        if rgb is None:
            raise ClipError(clip_id, f"frame {root / name} cannot be decoded")
        if frames and rgb.shape != frames[0].shape:
            raise ClipError(clip_id, f"frame {root / name} is {rgb.shape[1]}x{rgb.shape[0]}, unlike the clip's first")
        frames.append(rgb)
    return frames


def align_clip(
    frames: Sequence[np.ndarray], reference: int, landmarker: Landmarker, params: FacesParams, clip_id: str
) -> AlignedClip:
    """Align, stabilise and equalise a clip; frame `reference` (index into frames) sets the alignment."""
    # registration_3d needs the face's depth, where the landmarker measures one (mediapipe does): in the same call
    with_depth = getattr(landmarker, "with_depth", None) if params.stabilise == "registration_3d" else None
    found_3d = with_depth(frames[reference]) if with_depth else []
    found = [f[:, :2] for f in found_3d] if with_depth else faces_of(landmarker(frames[reference]))
    landmarks = largest(found)
    if landmarks is None:
        raise ClipError(clip_id, f"no face found on reference frame {reference}")
    depth = None
    if params.stabilise == "registration_3d":  # flat (zeros) from a landmarker without depth
        depth = next((f[:, 2] for f, xy in zip(found_3d, found) if xy is landmarks), np.zeros(len(landmarks)))
    try:
        matrix = crop_similarity(landmarks, params)
    except ValueError as exc:
        raise ClipError(clip_id, f"reference frame {reference}: {exc}") from None

    def locate(rgb: np.ndarray, expected: np.ndarray) -> np.ndarray | None:
        return closest(faces_of(landmarker(rgb)), expected)

    stab = stabilise(frames, reference, matrix, landmarks, params, locate, depth)
    if stab.cameras is None:
        warped = apply_alignment(frames, stab.matrices, params.size)
        cameras, depth = np.zeros((0, 3, 4)), np.zeros(0)
    else:  # each frame through its camera, bicubic as apply_alignment
        warped = np.stack([stab.warp(f, t, cv2.INTER_CUBIC) for t, f in enumerate(frames)])
        cameras, depth = stab.cameras, stab.landmark_depth
    aligned = equalise(warped, params.equalise, params.clahe_clip, params.clahe_tiles)
    return AlignedClip(
        aligned, stab.matrices, landmarks, stab.scores, stab.motion, stab.check, np.array(len(found)), cameras, depth
    )


_local = threading.local()


def thread_landmarker(min_detection_confidence: float, max_faces: int) -> Landmarker:
    """One mediapipe graph per thread (graphs neither pickle nor take calls from two threads at once; each dask worker
    and each of a process's clip threads builds its own, once)."""
    from mer_pipeline.faces.landmarks import MediapipeLandmarker

    graphs = _local.__dict__.setdefault("graphs", {})
    key = (min_detection_confidence, max_faces)
    if key not in graphs:
        graphs[key] = MediapipeLandmarker(min_detection_confidence, max_faces)
    return graphs[key]
