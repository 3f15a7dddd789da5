"""One job per stage (synth, index, faces): output paths, problem reports and progress around one library call.

The CLI and the DVC stage scripts both call these, so `mer-pipeline faces` and `dvc repro` do the same thing.
"""

from dataclasses import replace
from pathlib import Path

from mer_pipeline.config import DatasetParams, FacesParams, IndexParams, LabelTable, ModalitiesParams, SynthParams
from mer_pipeline.datasets import ADAPTERS
from mer_pipeline.datasets.index import PROBLEMS_FILE, build_index, index_meta, read_index, write_index
from mer_pipeline.faces.pipeline import run_faces
from mer_pipeline.problems import ProblemLog
from mer_pipeline.progress import bar
from mer_pipeline.synth.generate import generate

FACES_STORE = "faces.zarr"


def synth_job(params: SynthParams) -> dict:
    clips = generate(params, Path(params.out), progress=bar("synth clips"))
    return {"out": params.out, "clips": len(clips), "subjects": params.subjects}


def index_job(dataset: str, dparams: DatasetParams, labels: LabelTable, iparams: IndexParams, root: str | None = None) -> dict:
    """Index `dataset` (root from params unless `root` is given) into `<index.out>/<dataset>/`."""
    if root:
        dparams = replace(dparams, root=root)
    log = ProblemLog(dataset)
    records = build_index(dataset, ADAPTERS.get(dparams.adapter), dparams, labels, log, iparams.verify_frames,
                          progress=bar(f"index {dataset}"))
    out = Path(iparams.out) / dataset
    write_index(out, records, log, index_meta(dataset, dparams, labels))
    return {"dataset": dataset, "out": str(out), "clips": len(records), "problems": [p.line() for p in log.items],
            "excluded": log.count("excluded"), "repaired": log.count("repaired")}


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


def modalities_job(dataset: str, fparams: FacesParams, mparams: ModalitiesParams, names: list[str]) -> dict:
    """Modality stores `<modalities.out>/<dataset>/<name>.zarr` from the dataset's faces store."""
    from mer_pipeline.modalities.runner import run_modality

    faces = Path(fparams.out) / dataset / FACES_STORE
    out = Path(mparams.out) / dataset
    results = [run_modality(name, faces, out / f"{name}.zarr", mparams, progress=bar(f"{name} (batches)"))
               for name in names or mparams.names]
    return {"dataset": dataset, "modalities": results}


def preview_job(dataset: str, mparams: ModalitiesParams, out: Path) -> dict:
    from mer_pipeline.modalities.preview import write_preview

    rows = write_preview(Path(mparams.out) / dataset, list(mparams.names), out)
    return {"dataset": dataset, "out": str(out), "rows": rows}
