"""The 3D face mesh of skimage's astronaut photograph, measured with the face landmarker: the geometry the synthetic
dataset's 3D head model (synth/mesh.py) turns and projects. Measured once and kept in the package as data
(mer_pipeline/synth/astronaut_mesh.csv), so the synth stage needs no mediapipe.

    python -m mer_pipeline.evaluation.astronaut_mesh   # re-measures and rewrites the file
"""

from pathlib import Path

import numpy as np
from skimage import data

from mer_pipeline.face_mesh import MESH_POINTS
from mer_pipeline.faces.landmarks import MediapipeLandmarker
from mer_pipeline.synth.mesh import MESH_FILE

HEADER = (
    "# mediapipe face mesh 0.10.14 (refine_landmarks, static image) on skimage.data.astronaut(): the 468 mesh\n"
    "# points, x y z in astronaut pixels (z: mediapipe's depth, same scale as x, negative towards the camera).\n"
    "# Written by `python -m mer_pipeline.evaluation.astronaut_mesh`; tests/synth/test_head3d.py re-measures it.\n"
    "x,y,z\n"
)


def measure() -> np.ndarray:
    """(468, 3) float64 mesh points (x, y, z) of the astronaut photograph, astronaut pixels."""
    landmarker = MediapipeLandmarker(max_faces=1)
    try:
        (face,) = landmarker.with_depth(data.astronaut())
    finally:
        landmarker.close()
    return face[:MESH_POINTS]


def write(points: np.ndarray, path: Path = MESH_FILE) -> None:
    """The mesh as text, rounded to 0.01 px (the same bytes on every machine)."""
    Path(path).write_text(HEADER + "".join(f"{x:.2f},{y:.2f},{z:.2f}\n" for x, y, z in points))


if __name__ == "__main__":
    write(measure())
    print(f"wrote {MESH_FILE}")
