"""Engine items stored as one file each on a local path, in the shared cache's entry format (store/cache.py): the
fold jobs of training and the motion curves of spotting.

A file is written to a hidden temporary name and renamed, so it is absent or whole; one that does not decode (a
flipped bit, a truncated write, another kind, a manifest that is not a table) reads as absent, so its item is
computed anew. Nothing is unpickled.
"""

from pathlib import Path

import numpy as np

from mer_pipeline.store.cache import encode, read_entry, write_atomic


def stored(path: Path, kind: str) -> tuple[dict[str, np.ndarray], dict] | None:
    """(arrays, manifest) of the intact entry of `kind` at `path`, or None."""
    try:
        arrays, manifest = read_entry(Path(path).read_bytes())
    except (OSError, ValueError):
        return None
    if manifest.get("kind") != kind or not isinstance(manifest.get("key"), str):
        return None
    return arrays, manifest


def write(path: Path, kind: str, key: str, arrays: dict[str, np.ndarray], meta: dict) -> None:
    write_atomic(path, encode(kind, key, arrays, meta))


def push(folder: Path, pattern: str, kind: str, cache) -> dict[str, int]:
    """Publish every intact entry of `kind` under `folder` (files matching `pattern`) that the cache lacks."""
    result = {"pushed": 0, "present": 0}
    for path in sorted(Path(folder).rglob(pattern)) if Path(folder).is_dir() else []:
        entry = stored(path, kind)
        if entry is None:
            continue
        arrays, manifest = entry
        if cache.has(kind, manifest["key"]):
            result["present"] += 1
            continue
        meta = manifest.get("meta")
        cache.put(kind, manifest["key"], arrays, meta if isinstance(meta, dict) else {})
        result["pushed"] += 1
    return result
