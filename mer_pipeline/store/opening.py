"""Opening a store, for every kind (faces, modality): create or reuse, read-only, writable, and the refusals
every kind shares (not a store of that kind, a newer schema) as one-line errors."""

import shutil
from collections.abc import Callable
from pathlib import Path

import zarr

from mer_pipeline.errors import UserError


def refuse_newer(path: Path, attrs: dict, schema: int) -> None:
    """One line when a store was written by a newer release (its schema_version above `schema`, the one this
    release writes): never read as ours, never removed as stale."""
    found = attrs.get("schema_version")
    if isinstance(found, int) and found > schema:
        raise UserError(
            f"{path}: written by a newer release of mer_pipeline (store schema {found!r}, this release "
            f"reads up to {schema}); upgrade, or write elsewhere"
        )


def reuse_or_clear(path: Path, kind: str, current: Callable[[dict], bool], schema: int) -> zarr.Group | None:
    """An existing store of `kind` whose attributes pass `current`, opened for writing. One of that kind that does not
    pass is a stale derived cache: it is removed and None returned (as for no store). Anything else at `path`, or a
    store of a newer schema than `schema`, is never touched: a one-line error."""
    path = Path(path)
    if not path.exists():
        return None
    if not path.is_dir():
        raise UserError(f"{path}: is a file, not a mer_pipeline {kind} store; refusing to overwrite")
    try:
        root = zarr.open_group(str(path), mode="r+")
        found = root.attrs.get("kind")
    except Exception as exc:
        found = f"unreadable, {exc.__class__.__name__}"
    if found != kind:
        raise UserError(f"{path}: exists and is not a mer_pipeline {kind} store ({found}); refusing to overwrite")
    refuse_newer(path, dict(root.attrs), schema)
    if current(dict(root.attrs)):
        return root
    shutil.rmtree(path)
    return None


def open_writable(path: str | Path) -> zarr.Group:
    """An existing store opened for writing its entries or samples (per-clip tasks, after it was created)."""
    return zarr.open_group(str(path), mode="r+")


def open_readonly(path: Path, schema: int) -> zarr.Group:
    """An existing store opened for reading; one line when it is not a readable store or is of a schema newer than
    `schema`."""
    try:
        root = zarr.open_group(str(path), mode="r")
    except Exception as exc:
        raise UserError(f"{path}: not a readable Zarr store ({exc.__class__.__name__})") from None
    refuse_newer(path, dict(root.attrs), schema)
    return root
