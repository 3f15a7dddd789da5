"""The faces stage: aligned faces of an indexed dataset into `<faces.out>/<dataset>/`."""

from pathlib import Path

from mer_pipeline.config import CacheParams, FacesParams, IndexParams, Scale
from mer_pipeline.datasets.index import PROBLEMS_FILE, read_index
from mer_pipeline.faces.pipeline import run_faces
from mer_pipeline.problems import ProblemLog
from mer_pipeline.progress import bar

FACES_STORE = "faces.zarr"


def faces_job(dataset: str, iparams: IndexParams, fparams: FacesParams, cache: CacheParams = CacheParams(),
              scale: Scale = Scale(), compute: bool = True) -> dict:
    """Align the faces of the indexed clips into `<faces.out>/<dataset>/faces.zarr` (+ problems.csv)."""
    records, meta = read_index(Path(iparams.out) / dataset)
    out = Path(fparams.out) / dataset
    out.mkdir(parents=True, exist_ok=True)
    log = ProblemLog(dataset)
    counts = run_faces(records, Path(meta["root"]), out / FACES_STORE, fparams, meta, None, log,
                       progress=bar(f"faces {dataset}"), cache=cache.resolved(), scale=scale, compute=compute)
    log.write(out / PROBLEMS_FILE)
    return {"dataset": dataset, "out": str(out / FACES_STORE), **counts, "problems": [p.line() for p in log.items]}
