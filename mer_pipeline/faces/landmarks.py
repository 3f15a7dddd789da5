"""The only module that imports mediapipe: face-mesh landmarks on one RGB frame.

Convention: landmarks are (x, y) in pixels of the input frame, origin top-left (mediapipe's normalised
coordinates times width and height).
"""

import os
import warnings

import numpy as np

# Face-mesh indices of the eye corners; an eye centre is the mean of its two corners (stable under gaze shifts,
# unlike the iris). "first" is the eye on the image's left.
EYE_CORNERS = ((33, 133), (362, 263))


class MediapipeLandmarker:
    """Face mesh in static-image mode. Not picklable (mediapipe graphs are not): build one per worker."""

    def __init__(self, min_detection_confidence: float = 0.5):
        os.environ.setdefault("GLOG_minloglevel", "2")  # mediapipe's C++ logging: warnings and above only
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # protobuf deprecation noise from mediapipe's own import
            import mediapipe as mp

        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True,
            max_num_faces=1,
            refine_landmarks=True,
            min_detection_confidence=min_detection_confidence,
        )

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        """Landmarks of the most confident face.

        Args:
            rgb: (H, W, 3) uint8 RGB.

        Returns:
            (478, 2) float64 pixel (x, y), or None when no face is found.
        """
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected (H, W, 3) uint8 RGB, got {rgb.shape} {rgb.dtype}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # protobuf's GetPrototype deprecation, once per process
            result = self._mesh.process(np.ascontiguousarray(rgb))
        if not result.multi_face_landmarks:
            return None
        h, w = rgb.shape[:2]
        points = result.multi_face_landmarks[0].landmark
        return np.array([[p.x * w, p.y * h] for p in points], dtype=np.float64)

    def close(self) -> None:
        self._mesh.close()


def eye_centres(landmarks: np.ndarray) -> np.ndarray:
    """(2, 2) eye centres (x, y), image-left eye first, from (N >= 468, 2) face-mesh landmarks."""
    centres = np.array([landmarks[list(pair)].mean(axis=0) for pair in EYE_CORNERS])
    return centres[np.argsort(centres[:, 0])]
