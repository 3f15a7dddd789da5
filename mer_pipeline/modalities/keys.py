"""A modality sample's content key, and the check readers make before using a store's samples.

A sample's key hashes everything that determines it: the faces entry it was computed from, the modality, its
params, the image size, the modality's code identity, and the apex index for a modality that uses one. A store
records, per sample, the faces key (`source`), the key frames and the key it was written for; its attributes hold
the params. A reader uses a sample only when its key is the one those imply: a sample written by a run with other
params (two runs on one store) or by other code is never read as the store's.
"""

from dataclasses import asdict
from pathlib import Path
from typing import Any

from mer_pipeline.config import ModalitiesParams, split_store_name
from mer_pipeline.errors import UserError
from mer_pipeline.modalities.compute import modality_code_version
from mer_pipeline.modalities.registry import get
from mer_pipeline.store import modality as modality_store
from mer_pipeline.store.cache import content_key


def sample_key(modality: str, faces_key: str, params: dict[str, Any], size: int, apex: int | None) -> str:
    """The content key of a sample of `modality` (a registered name) from its params as a plain mapping."""
    return content_key(
        "modality",
        {
            "name": modality,
            "faces": faces_key,
            "params": params,
            "size": size,
            "code": modality_code_version(modality),
            **({} if apex is None else {"apex": apex}),
        },
    )


def modality_key(name: str, faces_key: str, settings: ModalitiesParams, apex: int | None = None) -> str:
    """The key of a sample of store `name` (`mesti`, `mesti-spotted`: the same keys) for the params of `settings`,
    with the apex index (0-based) for a modality that uses it."""
    base = split_store_name(name)[0]
    return sample_key(base, faces_key, asdict(settings.of(base)), settings.size, apex)


def stale_samples(path: Path) -> list[str]:
    """Clip ids of the samples of a modality store marked complete whose key is not the one the store's params,
    their faces entry and their apex imply."""
    facts = modality_store.sample_facts(modality_store.open_existing(path))
    base = split_store_name(facts.modality)[0]
    uses_apex = get(base).uses_apex
    stale = []
    for i, clip_id in enumerate(facts.clip_ids):
        if not facts.done[i]:
            continue
        onset, apex, _ = facts.key_frames[i]
        want = sample_key(base, facts.sources[i], facts.params, facts.size, int(apex - onset) if uses_apex else None)
        if facts.keys[i] != want:
            stale.append(clip_id)
    return stale


def check_current(path: Path) -> None:
    """One line when a modality store holds complete samples that are not its own (see stale_samples)."""
    stale = stale_samples(path)
    if stale:
        shown = ", ".join(stale[:3]) + (" ..." if len(stale) > 3 else "")
        what = f"1 sample ({shown}) was" if len(stale) == 1 else f"{len(stale)} samples ({shown}) were"
        raise UserError(
            f"{path}: {what} written for other params or code than the store's; run `mer-pipeline "
            "modalities` for it again"
        )
