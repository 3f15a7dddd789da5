"""One writer per store: a run holds a store while it writes it, so two runs (other params, other code) can never mix
their samples in one store.

The hold is an advisory lock (flock) on a small file beside the store, `.<store name>.lock`, which also names the
holder (host, pid, start). The kernel releases it when the holder's process ends in any way (SIGKILL included), so
a crashed run never leaves a store stuck; the file itself stays (DVC ignores it: .dvcignore). Workers of the
holder's dask cluster write samples under its hold. On a network filesystem the lock holds where the filesystem
supports flock (NFSv4, Lustre with flock, CephFS).
"""

import fcntl
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mer_pipeline.errors import UserError


def lock_path(store: Path) -> Path:
    return store.with_name(f".{store.name}.lock")


@contextmanager
def holding(store: Path) -> Iterator[None]:
    """Hold `store` for writing for the duration of the block; one line naming the holder when another run does."""
    store = Path(store)
    path = lock_path(store)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise UserError(f"{store}: cannot create its lock file {path.name} ({exc.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 300, 0).decode(errors="replace").strip() or "another process"
            raise UserError(
                f"{store}: being written by another run ({holder}); wait for it to finish, or write elsewhere"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(
            fd, f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode(), 0
        )
        yield
    finally:
        os.close(fd)  # releases the lock
