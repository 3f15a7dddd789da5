"""A lab member's run: faces, then MESTI and optical flow, of an indexed dataset into OUT, with a shared cache.

    python writer.py INDEX_DIR OUT CACHE_URL [WORKERS]

The fault-injection tests start it as a process and kill it at random points.
"""

import sys
from pathlib import Path

from mer_pipeline.config import CacheParams, FacesParams, ModalitiesParams, Scale
from mer_pipeline.datasets.index import read_index
from mer_pipeline.faces.task import run_faces
from mer_pipeline.modalities.task import run_modality
from mer_pipeline.problems import ProblemLog

FACES = FacesParams(size=96)
MODALITIES = ModalitiesParams(
    size=48,
    device="cpu",
    batch_clips=3,
    params={"mesti": {"scaling": "signed"}, "optical_flow": {"iterations": 10, "warps": 2, "scales": 2}},
)
NAMES = ("mesti", "optical_flow")


def write_all(index_dir: Path, out: Path, cache_url: str = "", workers: int = 0) -> dict:
    records, meta = read_index(index_dir)
    cache, scale = CacheParams(cache_url), Scale(workers)
    counts = {
        "faces": run_faces(
            records,
            Path(meta["root"]),
            out / "faces.zarr",
            FACES,
            meta,
            None,
            ProblemLog("synthetic"),
            cache=cache,
            scale=scale,
        )
    }
    for name in NAMES:
        counts[name] = run_modality(
            name, out / "faces.zarr", out / f"{name}.zarr", MODALITIES, cache=cache, scale=scale
        )
    return counts


if __name__ == "__main__":
    print("start", flush=True)
    write_all(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    print("done", flush=True)
