"""The modalities and preview stages."""

from pathlib import Path

from mer_pipeline.config import CacheParams, FacesParams, ModalitiesParams, Scale
from mer_pipeline.faces.job import FACES_STORE
from mer_pipeline.progress import bar


def modalities_job(dataset: str, fparams: FacesParams, mparams: ModalitiesParams, names: list[str],
                   cache: CacheParams = CacheParams(), scale: Scale = Scale(), compute: bool = True) -> dict:
    """Modality stores `<modalities.out>/<dataset>/<name>.zarr` from the dataset's faces store."""
    from mer_pipeline.modalities.runner import run_modality

    faces = Path(fparams.out) / dataset / FACES_STORE
    out = Path(mparams.out) / dataset
    results = [run_modality(name, faces, out / f"{name}.zarr", mparams, progress=bar(name),
                            cache=cache.resolved(), scale=scale, compute=compute) for name in names or mparams.names]
    return {"dataset": dataset, "modalities": results}


def preview_job(dataset: str, mparams: ModalitiesParams, out: Path) -> dict:
    from mer_pipeline.modalities.preview import write_preview

    rows = write_preview(Path(mparams.out) / dataset, list(mparams.names), out)
    return {"dataset": dataset, "out": str(out), "rows": rows}
