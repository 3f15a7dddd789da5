"""Faces store -> one modality store: only samples that are missing or stale are computed, in batches of clips,
on the chosen device. Frames travel as uint8 and become float [0, 1] on the device."""

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import torch

from mer_pipeline import __version__
from mer_pipeline.config import ModalitiesParams, build, params_hash
from mer_pipeline.errors import UserError
from mer_pipeline.modalities import MODALITIES, Modality
from mer_pipeline.modalities.base import KeyFrames, clip_from_frames
from mer_pipeline.modalities.mapping import to_image
from mer_pipeline.store import clips as faces_store
from mer_pipeline.store import modality as mstore


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device {name!r} requested but no CUDA device is available")
    return torch.device(name)


def modality_params(settings: ModalitiesParams, name: str):
    modality = MODALITIES.get(name)
    if name not in settings.params:
        raise UserError(f"params modalities.params has no entry for {name!r}")
    try:
        return modality, build(modality.params_type, settings.params[name], f"modalities.params.{name}")
    except ValueError as exc:
        raise UserError(f"params modalities.params.{name}: {exc}") from None


def faces_digest(entries: list[dict]) -> str:
    """Checksum of the faces a modality store is computed from: each entry's id, input hash and transform."""
    text = json.dumps([[e["clip_id"], e["input_sha256"], e["transform"], e["key_frames"]] for e in entries])
    return hashlib.sha256(text.encode()).hexdigest()


def load_clip(faces, clip_id: str, device: torch.device) -> torch.Tensor:
    arrays, _ = faces_store.read_entry(faces, clip_id)
    return clip_from_frames(torch.from_numpy(arrays["frames"]).to(device))  # (T, 3, H, W) in [0, 1]


def run_modality(name: str, faces_path: Path, out: Path, settings: ModalitiesParams, progress=None) -> dict:
    """Compute modality `name` for every complete faces entry into `out`. Returns counts."""
    modality, params = modality_params(settings, name)
    device = resolve_device(settings.device)
    faces = faces_store.open_existing(faces_path)
    ids = list(faces_store.complete_entries(faces))
    if not ids:
        raise UserError(f"{faces_path}: no complete faces entries (run `mer-pipeline faces`)")
    entries = [faces_store.entry_attrs(faces, cid) for cid in ids]
    size = faces[f"clips/{ids[0]}/frames"].shape[-2]  # every entry of a faces store has the same side
    provenance = {
        "kind": "modality", "modality": name, "params": asdict(params), "package_version": __version__,
        "params_hash": params_hash({"modality": name, "params": asdict(params), "size": settings.size}),
        "faces_store": str(faces_path), "faces_sha256": faces_digest(entries), "faces_params_hash":
        faces.attrs.get("params_hash"), "size": settings.size,
    }
    fields = ("clip_id", "subject", "emotion", "label3", "label5", "onset", "apex", "offset")
    clips = [{k: e[k] for k in fields} for e in entries]
    root = mstore.open_modality_store(out, provenance, clips, tuple(n for n, _ in modality.images), settings.size,
                                      (modality.raw_channels, size, size))
    todo = [i for i, e in enumerate(entries) if not mstore.is_current(root, i, e["input_sha256"])]
    batches = [todo[i : i + settings.batch_clips] for i in range(0, len(todo), settings.batch_clips)]
    for batch in progress(batches) if progress else batches:
        _compute_batch(modality, params, faces, root, [ids[i] for i in batch], [entries[i] for i in batch], batch,
                       settings.size, device)
    return {"modality": name, "out": str(out), "computed": len(todo), "kept": len(ids) - len(todo),
            "device": str(device)}


def _compute_batch(modality: Modality, params, faces, root, ids, entries, indices, size, device) -> None:
    clips = [load_clip(faces, cid, device) for cid in ids]
    keys = [KeyFrames(**e["key_frames"]) for e in entries]
    with torch.no_grad():
        raws = modality.compute(clips, keys, params)
    for i, entry, raw in zip(indices, entries, raws):
        images = {name: to_image(raw[sl], size, **params.mapping()).cpu().numpy() for name, sl in modality.images}
        mstore.write_sample(root, i, images, raw.float().cpu().numpy(), entry["input_sha256"])
