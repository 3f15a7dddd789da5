"""The faces stage: aligned faces of an indexed dataset into `<faces.out>/<dataset>/`."""

from pathlib import Path

from mer_pipeline.config import FacesParams, IndexParams
from mer_pipeline.datasets.index import PROBLEMS_FILE, read_index
from mer_pipeline.faces.pipeline import run_faces
from mer_pipeline.problems import ProblemLog
from mer_pipeline.progress import bar

FACES_STORE = "faces.zarr"


def faces_job(dataset: str, iparams: IndexParams, fparams: FacesParams) -> dict:
    """Align the faces of the indexed clips into `<faces.out>/<dataset>/faces.zarr` (+ problems.csv)."""
    from mer_pipeline.faces.landmarks import MediapipeLandmarker

    records, meta = read_index(Path(iparams.out) / dataset)
    out = Path(fparams.out) / dataset
    out.mkdir(parents=True, exist_ok=True)
    log = ProblemLog(dataset)
    landmarker = MediapipeLandmarker(fparams.min_detection_confidence)
    try:
        counts = run_faces(records, Path(meta["root"]), out / FACES_STORE, fparams, meta, landmarker, log,
                           progress=bar(f"faces {dataset}"))
    finally:
        landmarker.close()
    log.write(out / PROBLEMS_FILE)
    return {"dataset": dataset, "out": str(out / FACES_STORE), **counts, "problems": [p.line() for p in log.items]}
