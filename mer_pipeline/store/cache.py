"""The shared cache: content-addressed entries on a local path, a network filesystem or an fsspec URL (s3://, ...).

An entry is ONE object, `<url>/v1/<kind>/<key[:2]>/<key>.npz`: an uncompressed-zip of plain arrays plus a
`__meta__` member holding JSON (key parts, each array's sha256, shape and dtype). Nothing is unpickled
(np.load(allow_pickle=False)) or executed. Keys hash everything that determines the content (clip identity, input
checksum, params, code version), so a stale or foreign entry can never be read by mistake.

Publication is atomic: on a local or network path the object is written to a hidden temporary name in the same
folder and renamed (os.replace); on object stores a single PUT (or a multipart upload) becomes visible only once
complete. A writer killed at any moment therefore leaves no readable partial entry; two writers of the same entry
both succeed and the last rename/PUT wins with identical content; writers of different entries share nothing.
"""

import hashlib
import io
import json
import os
import re
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import fsspec
import numpy as np

from mer_pipeline import __version__
from mer_pipeline.errors import UserError

LAYOUT = "v1"
TMP_PREFIX = ".tmp-"


def content_key(kind: str, parts: dict[str, Any]) -> str:
    """sha256 over the canonical JSON of everything that determines an entry's content."""
    text = json.dumps({"kind": kind, "layout": LAYOUT, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


@dataclass(frozen=True)
class EntryInfo:
    kind: str
    key: str
    path: str
    size: int
    mtime: float


class Cache:
    """A content-addressed entry cache on any fsspec filesystem."""

    def __init__(self, url: str, storage_options: dict | None = None):
        if not url:
            raise UserError("no shared cache configured (params cache.url or MER_PIPELINE_CACHE)")
        self.url = url.rstrip("/")
        try:
            self.fs, self.root = fsspec.core.url_to_fs(self.url, **(storage_options or {}))
        except (ImportError, ValueError) as exc:
            raise UserError(f"{url}: cannot open shared cache ({exc})") from None
        self.local = "file" in (self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,))

    def path(self, kind: str, key: str) -> str:
        return f"{self.root}/{LAYOUT}/{kind}/{key[:2]}/{key}.npz"

    def get(self, kind: str, key: str) -> tuple[dict[str, np.ndarray], dict] | None:
        """Arrays and metadata of an intact entry; None when absent, not intact or not readable at all (a folder
        where the file should be, a permission error, ...): the entry is then recomputed and published anew."""
        try:
            return decode(self.fs.cat_file(self.path(kind, key)), key)
        except Exception:  # an entry comes from another machine: whatever is wrong with it, it is a miss
            return None

    def has(self, kind: str, key: str) -> bool:
        """Whether an entry is published (without reading it; `verify` checks integrity)."""
        return self.fs.exists(self.path(kind, key))

    def put(self, kind: str, key: str, arrays: dict[str, np.ndarray], meta: dict) -> None:
        """Publish an entry atomically."""
        data = encode(kind, key, arrays, meta)
        path = self.path(kind, key)
        if self.local:
            write_atomic(path, data)
        else:
            self.fs.pipe_file(path, data)

    def entries(self) -> list[EntryInfo]:
        """Every published entry (temporary files of unfinished writes are not entries)."""
        base = f"{self.root}/{LAYOUT}"
        if not self.fs.exists(base):
            return []
        out = []
        for path, info in self.fs.find(base, detail=True).items():
            name = path.rsplit("/", 1)[-1]
            if name.startswith(TMP_PREFIX) or not name.endswith(".npz") or ".npz/" in path[len(base) :]:
                continue
            kind = path[len(base) + 1 :].split("/", 1)[0]
            out.append(EntryInfo(kind, name[:-4], path, int(info.get("size") or 0), _mtime(info)))
        return sorted(out, key=lambda e: (e.kind, e.key))

    def partials(self) -> list[str]:
        base = f"{self.root}/{LAYOUT}"
        if not self.fs.exists(base):
            return []
        return sorted(p for p in self.fs.find(base) if p.rsplit("/", 1)[-1].startswith(TMP_PREFIX))

    def verify(self, checks: dict[str, Callable[[dict[str, np.ndarray]], str | None]] | None = None) -> dict[str, list]:
        """Check every entry as a run reads it: the decoder (zip members, sizes, manifest, array hashes, key) and,
        for kinds in `checks`, what that kind's arrays must be (names, dtypes, shapes, finite values; the check
        returns the problem or None). Lists entries a run would refuse, and unfinished writes."""
        bad, entries = [], self.entries()
        for e in entries:
            try:
                arrays, _ = decode(self.fs.cat_file(e.path), e.key)
                problem = (checks or {}).get(e.kind, lambda a: None)(arrays)
            except Exception as exc:
                problem = str(exc) if isinstance(exc, ValueError) else f"unreadable ({exc.__class__.__name__}: {exc})"
            if problem:
                bad.append({"kind": e.kind, "key": e.key, "path": e.path, "problem": problem})
        for path in self._folders():
            bad.append({"kind": "", "key": "", "path": path, "problem": "a folder where an entry file should be"})
        return {"checked": len(entries), "corrupt": bad, "partial": self.partials()}

    def _folders(self) -> list[str]:
        """Folders named like entries (a run reads them as misses; verify flags them, --delete removes them)."""
        base = f"{self.root}/{LAYOUT}"
        if not self.fs.exists(base):
            return []
        found = self.fs.find(base, withdirs=True, detail=True)
        return sorted(p for p, info in found.items() if info.get("type") == "directory" and p.endswith(".npz"))

    def remove(self, path: str) -> None:
        if self.fs.isdir(path):
            self.fs.rm(path, recursive=True)
        else:
            self.fs.rm_file(path)

    def gc(self, older_than_s: float) -> list[str]:
        """Remove unfinished writes older than `older_than_s` (a live writer's file is younger)."""
        now, removed = time.time(), []
        for path in self.partials():
            if now - _mtime(self.fs.info(path)) >= older_than_s:
                self.fs.rm_file(path)
                removed.append(path)
        return removed


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write a file on a local or network path so that it is either absent or complete: a hidden temporary name in
    the same folder, flushed to disk, then renamed."""
    folder = os.path.dirname(os.fspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f"{TMP_PREFIX}{os.path.basename(os.fspath(path))}-{uuid.uuid4().hex}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _mtime(info: dict) -> float:
    for k in ("mtime", "LastModified", "last_modified", "created"):
        v = info.get(k)
        if v is not None:
            return v.timestamp() if hasattr(v, "timestamp") else float(v)
    return 0.0


def encode(kind: str, key: str, arrays: dict[str, np.ndarray], meta: dict) -> bytes:
    manifest = {
        "kind": kind,
        "key": key,
        "package_version": __version__,
        "meta": meta,
        "arrays": {n: {"sha256": _sha(a), "shape": list(a.shape), "dtype": str(a.dtype)} for n, a in arrays.items()},
    }
    buf = io.BytesIO()
    np.savez(buf, __meta__=np.frombuffer(json.dumps(manifest).encode(), np.uint8), **arrays)
    return buf.getvalue()


def decode(data: bytes, key: str) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays and meta of an entry's bytes; ValueError naming what is wrong when it is not intact."""
    arrays, manifest = read_entry(data)
    if manifest.get("key") != key:
        raise ValueError(f"entry holds key {manifest.get('key')}, not {key}")
    return arrays, manifest["meta"]


MEMBER = re.compile(r"^[A-Za-z0-9_./-]+\.npy$")  # array names; `/` only between parts (fold weights/<param>)


def _members(data: bytes) -> None:
    """Refuse, before reading any member, a zip whose members are not plain stored `.npy` files of sane names or
    that declares more bytes than it holds (a compressed member could inflate a small entry to gigabytes)."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ValueError(f"unreadable entry ({exc.__class__.__name__}: {exc})") from None
    for info in infos:
        if not MEMBER.match(info.filename) or any(part in ("", ".", "..") for part in info.filename.split("/")):
            raise ValueError(f"entry member {info.filename!r} is not an array of this cache")
        if info.compress_type != zipfile.ZIP_STORED or info.file_size != info.compress_size:
            raise ValueError(f"entry member {info.filename!r} is compressed (entries are stored plain)")
    if sum(i.file_size for i in infos) > len(data):
        raise ValueError("entry declares more bytes than it holds")


def read_entry(data: bytes) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays and manifest of an intact entry, whatever its key; ValueError naming what is wrong otherwise.

    Intact: plain stored members (checked before any is read), a manifest that is a table with `kind`, `meta` and
    an `arrays` table listing exactly the members, each array numeric or boolean (never objects) and matching its
    checksum, shape and dtype."""
    _members(data)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            manifest = json.loads(bytes(z["__meta__"]).decode())
            arrays = {n: z[n] for n in z.files if n != "__meta__"}
    except Exception as exc:  # zip CRC errors, truncation, bad JSON, pickled members
        raise ValueError(f"unreadable entry ({exc.__class__.__name__}: {exc})") from None
    if (
        not isinstance(manifest, dict)
        or not isinstance(manifest.get("arrays"), dict)
        or not isinstance(manifest.get("meta"), dict)
        or not isinstance(manifest.get("kind"), str)
    ):
        raise ValueError("entry manifest is not a table with `kind`, `meta` and an `arrays` table")
    if set(manifest["arrays"]) != set(arrays):
        raise ValueError(f"entry members {sorted(arrays)} are not the arrays its manifest lists")
    for name, spec in manifest["arrays"].items():
        a = arrays[name]
        if a.dtype.kind not in "biuf":
            raise ValueError(f"array {name!r} holds {a.dtype}, not numbers")
        if (
            not isinstance(spec, dict)
            or _sha(a) != spec.get("sha256")
            or spec.get("shape") != list(a.shape)
            or spec.get("dtype") != str(a.dtype)
        ):
            raise ValueError(f"array {name!r} does not match its checksum, shape or dtype")
    return arrays, manifest
