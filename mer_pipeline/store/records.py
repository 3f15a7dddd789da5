"""The records stored between stages, defined once: a faces entry's metadata and a modality sample.

Readers outside `store/` use these fields, never attribute strings. Conventions: frame numbers (`onset`, `apex`,
`offset`) are as in the dataset's file names; `key_frames` are 0-based indices into the entry's frames; `transform`
is 2x3 source -> aligned, points (x, y) in pixels with origin top-left; `landmarks` are (N, 2) source pixels on the
reference frame.
"""

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np


@dataclass(frozen=True)
class KeyFrames:
    """0-based indices of onset, apex and offset inside a clip's frames (onset = 0, offset = T - 1)."""

    onset: int
    apex: int
    offset: int


@dataclass(frozen=True)
class FacesEntry:
    """Attributes of one faces-store entry (one clip, frames onset..offset)."""

    clip_id: str
    subject: str
    dataset: str
    emotion: str
    label3: int
    label5: int
    onset: int
    apex: int
    offset: int
    apex_source: str
    key_frames: KeyFrames
    reference_index: int
    fps: float
    frames: list[str]
    input_sha256: str
    content_key: str
    transform: list[list[float]]  # the reference frame's
    eye_centres_aligned: list[list[float]]
    landmarks: list[list[float]]  # full precision: JSON floats round-trip exactly (cache push)
    transforms: list[list[list[float]]]  # (T, 2, 3) per frame, after stabilisation
    stabilise: str  # none | landmarks | registration | registration_3d
    faces_found: int  # faces on the reference frame; the largest was taken
    face_rule: str
    tracking: dict[str, list]  # scores, motion, check per frame (faces/stabilise.py; check None = not checked)
    flags: list[str]  # tracking problems, each with its frame ("face lost from frame 12")
    cameras: list  # (T, 3, 4) aligned (x, y, z, 1) -> source per frame with registration_3d, else []
    landmark_depth: list[float]  # (N,) depth of the landmarks (source px) with registration_3d, else []

    def to_attrs(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> "FacesEntry":
        values = {f.name: attrs[f.name] for f in fields(cls)}
        values["key_frames"] = KeyFrames(**values["key_frames"])
        return cls(**values)

    @property
    def matrix(self) -> np.ndarray:
        """(2, 3) float64 transform, source -> aligned."""
        return np.asarray(self.transform, np.float64)

    @property
    def landmark_array(self) -> np.ndarray:
        return np.asarray(self.landmarks, np.float64)

    @property
    def matrices(self) -> np.ndarray:
        """(T, 2, 3) float64 per-frame transforms, source -> aligned."""
        return np.asarray(self.transforms, np.float64)

    @property
    def camera_array(self) -> np.ndarray:
        """(T, 3, 4) float64 per-frame cameras (faces/depth.py), (0, 3, 4) without."""
        return np.asarray(self.cameras, np.float64).reshape(-1, 3, 4)

    @property
    def depth_array(self) -> np.ndarray:
        """(N,) float64 landmark depths, (0,) without."""
        return np.asarray(self.landmark_depth, np.float64).reshape(-1)

    def tracking_array(self, name: str) -> np.ndarray:
        """(T,) float32 tracking numbers `scores`, `motion` or `check` (NaN where not checked)."""
        return np.array([np.nan if v is None else v for v in self.tracking[name]], np.float32)


@dataclass(frozen=True)
class SampleInfo:
    """What a modality store keeps of each clip beside its arrays."""

    clip_id: str
    subject: str
    dataset: str
    emotion: str
    label3: int
    label5: int
    onset: int
    apex: int
    offset: int

    @classmethod
    def of(cls, entry: FacesEntry) -> "SampleInfo":
        return cls(**{f.name: getattr(entry, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class ModalitySample:
    """One sample of a modality store: its images ((3, S, S) uint8 by array name), raw float result (C', H, W)
    and the content key of the faces entry it was computed from."""

    images: dict[str, np.ndarray]
    raw: np.ndarray
    source: str

    def arrays(self) -> dict[str, np.ndarray]:
        """As a shared-cache entry's arrays."""
        return {**self.images, "raw": self.raw}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], images: tuple[str, ...], source: str) -> "ModalitySample":
        return cls({n: arrays[n] for n in images}, arrays["raw"], source)
