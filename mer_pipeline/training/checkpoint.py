"""Checkpoints hold weights and plain metadata only, and are read with weights-only loading (no pickle code runs)."""

from pathlib import Path

import torch
import torch.nn as nn

from mer_pipeline.errors import UserError

META_KEYS = (
    "model",
    "num_classes",
    "in_chans",
    "model_params",
    "class_names",
    "modalities",
    "input_size",
    "package_version",
    "fold",
)


def save_checkpoint(path: Path, model: nn.Module, meta: dict) -> None:
    missing = [k for k in META_KEYS if k not in meta]
    if missing:
        raise ValueError(f"checkpoint metadata lacks {missing}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"state_dict": model.state_dict(), "meta": meta}, tmp)
    tmp.replace(path)


def load_checkpoint(path: Path, model_name: str, num_classes: int) -> tuple[dict, dict]:
    """(state_dict, meta) of a checkpoint made for `model_name` with `num_classes` classes; else a clear error."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: checkpoint not found")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise UserError(f"{path}: not a weights-only checkpoint ({exc.__class__.__name__})") from None
    meta = data.get("meta", {}) if isinstance(data, dict) else {}
    if meta.get("model") != model_name or meta.get("num_classes") != num_classes:
        raise UserError(
            f"{path}: checkpoint is for model {meta.get('model')!r} with {meta.get('num_classes')} classes,"
            f" expected {model_name!r} with {num_classes}"
        )
    return data["state_dict"], meta
