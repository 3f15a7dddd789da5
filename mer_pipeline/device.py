"""Choosing the torch device: cpu, cuda[:i] or auto (cuda when present)."""

from mer_pipeline.errors import UserError


def resolve_device(name: str):
    """A torch.device for cpu, cuda[:i] or auto. Inside a dask worker, plain cuda/auto means the GPU of that
    worker's index, so `--workers N` on a machine with N GPUs runs one worker per GPU."""
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device {name!r} requested but no CUDA device is available")
    if name == "cuda" and torch.cuda.device_count() > 1:
        index = _dask_worker_index()
        if index is not None:
            return torch.device(f"cuda:{index % torch.cuda.device_count()}")
    return torch.device(name)


def _dask_worker_index() -> int | None:
    try:
        from distributed import get_worker

        name = get_worker().name
    except (ImportError, ValueError):
        return None
    return name if isinstance(name, int) else None
