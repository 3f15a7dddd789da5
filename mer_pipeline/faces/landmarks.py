"""The only module that imports mediapipe: face-mesh landmarks on one RGB frame.

Convention: landmarks are (x, y) in pixels of the input frame, origin top-left (mediapipe's normalised
coordinates times width and height).
"""

import os
import warnings

import numpy as np

from mer_pipeline.face_mesh import EYE_CENTRE_CORNERS


class MediapipeLandmarker:
    """Face mesh in static-image mode. Not picklable (mediapipe graphs are not): build one per worker."""

    def __init__(self, min_detection_confidence: float = 0.5, max_faces: int = 4):
        os.environ.setdefault("GLOG_minloglevel", "2")  # mediapipe's C++ logging: warnings and above only
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # protobuf deprecation noise from mediapipe's own import
            import mediapipe as mp

        # protobuf's GetPrototype deprecation, raised from mediapipe's process(): a filter for the process, as
        # catch_warnings is not thread-safe (clip threads each call their own graph)
        warnings.filterwarnings("ignore", r"SymbolDatabase\.GetPrototype\(\) is deprecated", UserWarning)
        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True,
            max_num_faces=max_faces,
            refine_landmarks=True,
            min_detection_confidence=min_detection_confidence,
        )

    def __call__(self, rgb: np.ndarray) -> list[np.ndarray]:
        """Landmarks of every face found (up to max_faces).

        Args:
            rgb: (H, W, 3) uint8 RGB.

        Returns:
            a list of (478, 2) float64 pixel (x, y) arrays, empty when no face is found.
        """
        return [np.ascontiguousarray(face[:, :2]) for face in self.with_depth(rgb)]

    def with_depth(self, rgb: np.ndarray) -> list[np.ndarray]:
        """As calling it, with mediapipe's depth: (478, 3) float64 (x, y, z) per face, z in the scale of x (pixels),
        negative towards the camera."""
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected (H, W, 3) uint8 RGB, got {rgb.shape} {rgb.dtype}")
        result = self._mesh.process(np.ascontiguousarray(rgb))
        h, w = rgb.shape[:2]
        return [
            np.array([[p.x * w, p.y * h, p.z * w] for p in face.landmark], dtype=np.float64)
            for face in result.multi_face_landmarks or []
        ]

    def close(self) -> None:
        self._mesh.close()


def eye_centres(landmarks: np.ndarray) -> np.ndarray:
    """(2, 2) eye centres (x, y), image-left eye first, from (N >= 468, 2) face-mesh landmarks."""
    centres = np.array([landmarks[list(pair)].mean(axis=0) for pair in EYE_CENTRE_CORNERS])
    return centres[np.argsort(centres[:, 0])]


def faces_of(result) -> list[np.ndarray]:
    """A landmarker's answer as a list of faces: it may return a list, one (N, 2) array, or None."""
    if result is None:
        return []
    return [result] if isinstance(result, np.ndarray) else list(result)


def largest(faces: list[np.ndarray]) -> np.ndarray | None:
    """The face whose landmarks span the largest box (the documented rule for the reference frame)."""
    if not faces:
        return None
    return max(faces, key=lambda f: float(np.prod(f.max(0) - f.min(0))))


def closest(faces: list[np.ndarray], expected: np.ndarray) -> np.ndarray | None:
    """The face whose landmarks lie nearest to `expected` (the same face as before, on tracking checks)."""
    if not faces:
        return None
    return min(faces, key=lambda f: float(np.linalg.norm(f[: len(expected)] - expected, axis=1).mean()))
