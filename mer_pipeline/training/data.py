"""Training samples read from modality stores: one or several modalities stacked along channels, per dataset."""

from dataclasses import dataclass

import numpy as np
import torch

from mer_pipeline import paths
from mer_pipeline.config import ModalitiesParams, input_store
from mer_pipeline.errors import UserError
from mer_pipeline.modalities.keys import check_current
from mer_pipeline.store.modality import open_samples
from mer_pipeline.training.inference import scaled


@dataclass(frozen=True)
class Samples:
    """x: (N, 3 * len(modalities), S, S) float in [0, 1]; y: (N,) int64; per-sample ids, subjects, datasets;
    kinds: what each of the C channels holds (training/augment.py); keys: each sample's content keys in its stores
    (one per modality, joined), what a fold job's key is made of."""

    x: torch.Tensor
    y: torch.Tensor
    clip_ids: list[str]
    subjects: list[str]
    datasets: list[str]
    kinds: tuple[str, ...]
    keys: list[str]


def _current_samples(path, label: str, image: str):
    check_current(path)  # only samples written for this store's params and code (never a second run's)
    return open_samples(path, label, image)


def load_samples(
    stores: ModalitiesParams, datasets: list[str], modalities: list[str], label: str, input_size: int
) -> Samples:
    """Samples of `datasets` complete in every one of `modalities` and kept by the `label` mapping (label3/label5).
    A modality is a store's name (`mesti`, `mesti-spotted`), or a name of config DERIVED_INPUTS (the apex -> offset flow
    image of Table I).

    Subjects are prefixed with their dataset so a composite LOSO keeps subjects of different datasets apart.
    """
    xs, ys, ids, subjects, names, keys, kinds = [], [], [], [], [], [], None
    for dataset in datasets:
        parts = [
            _current_samples(paths.modality_store(stores, dataset, input_store(m)[0]), label, input_store(m)[1])
            for m in modalities
        ]
        first = parts[0]
        for m, part in zip(modalities[1:], parts[1:]):
            if part.clip_ids != first.clip_ids:
                raise UserError(
                    f"{paths.modality_store(stores, dataset, m)}: clips differ from {modalities[0]}.zarr; rebuild it"
                )
        found = tuple(k for p in parts for k in p.kinds)
        if kinds not in (None, found):
            raise UserError(
                f"{paths.modality_store(stores, dataset, modalities[0])}: its image channels hold "
                f"{found}, the other datasets' {kinds}; build every dataset's stores with the same params"
            )
        kinds = found
        keep = np.all([p.done for p in parts], axis=0) & (first.labels >= 0)
        image = np.concatenate([p.image[keep] for p in parts], axis=1)  # (n, 3 * M, S, S) uint8
        xs.append(torch.from_numpy(image))
        ys.append(torch.from_numpy(first.labels[keep].astype(np.int64)))
        ids += [c for c, k in zip(first.clip_ids, keep) if k]
        subjects += [f"{dataset}/{s}" for s, k in zip(first.subjects, keep) if k]
        names += [dataset] * int(keep.sum())
        keys += ["+".join(p.keys[i] for p in parts) for i in np.flatnonzero(keep)]
    if not ids:
        raise UserError(f"no labelled samples in {stores.out} for {datasets} x {modalities} ({label})")
    return Samples(scaled(torch.cat(xs), input_size), torch.cat(ys), ids, subjects, names, kinds, keys)
