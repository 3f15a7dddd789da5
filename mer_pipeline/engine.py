"""The one engine for per-clip artifacts (faces entries, modality samples, spotting curves).

A stage describes its work as a Task: a content key per item, a batched compute, and how an item is written to and
read from its local store. `run` then treats every item the same way:

    kept      the local store already holds the item for this key
    cached    the shared cache held the key: written locally from there
    computed  computed (in batches), published to the shared cache, written locally
    missing   not computed because the run was told not to (`cache pull`)
    skipped   a per-clip problem (ClipError): reported, the run goes on

and `push` publishes every item a local store holds (as `Stored`: key, clip id, a reader) that the cache lacks.
Keys hash everything that determines the content (inputs, params, computed code identity), so an item is never kept
or taken for stale content.

In one process, computed items are published and written by one writer thread while the next batch computes
(compression and I/O off the critical path); writes stay one at a time, in order, each completion mark last. With
`threads`, several batches are prepared and computed at once on a thread pool (a stage whose compute releases
Python's lock, as OpenCV and mediapipe do) and published in order.
"""

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from mer_pipeline.config import CacheParams, Scale
from mer_pipeline.errors import ClipError
from mer_pipeline.progress import console, tracked
from mer_pipeline.scale import run_tasks

STATUSES = ("computed", "cached", "kept", "missing", "skipped")
Item = TypeVar("Item")  # what a task's items are: a clip record, a sample index, a fold job
State = TypeVar("State")  # what a task's `prepare` reads for an item and hands on to `compute` and `write`
Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class Pending(Generic[Item, State]):
    """An item to compute: its content key and what `prepare` read for it (handed to `compute` and `write`)."""

    item: Item
    key: str
    state: State


class Task(Protocol[Item, State]):
    """What a per-clip stage tells the engine. Tasks hold paths and params only, so they travel to dask workers."""

    kind: str  # the shared cache's namespace for these entries

    def prepare(self, item: Item) -> tuple[str, State]:
        """(content key, state) of an item; raises ClipError for a per-clip problem."""

    def stored_key(self, item: Item) -> str | None:
        """The key the local store holds this item for (None when absent or incomplete)."""

    def compute(self, pending: list[Pending[Item, State]]) -> list[Arrays | ClipError]:
        """The arrays of each pending item, in order (a ClipError in place of one that fails)."""

    def write(self, p: Pending[Item, State], arrays: Arrays) -> None:
        """Write an item to the local store (completion mark last); ClipError to exclude it."""

    def label(self, item: Item) -> str:
        """The clip id, for the cache entry's metadata and for problems."""

    # optional: accepts(p: Pending, arrays) -> bool, whether a shared-cache entry's arrays are what this item needs
    # (names, shapes, dtypes); an entry it refuses is computed anew, as a miss.


@dataclass(frozen=True)
class Outcome:
    status: str
    problem: str = ""


@dataclass(frozen=True)
class Batch:
    """A batch between its compute and its publishing: outcomes settled so far (kept, cached, skipped, missing) by
    position in the batch, and the items computed with their arrays (a ClipError for one that failed)."""

    size: int
    cache: Any  # store.cache.Cache, or None without a shared cache
    outcomes: dict[int, Outcome | Future]
    todo: list[tuple[int, Pending]]
    computed: list[Arrays | ClipError]


@dataclass(frozen=True)
class Stored:
    """An item a local store holds complete, for `push`: its content key, its clip id and how to read its arrays."""

    key: str
    clip_id: str
    read: Callable[[], Arrays]


def open_cache(params: CacheParams):
    """The shared cache of `params` (already resolved against the environment), or None when none is set."""
    from mer_pipeline.store.cache import Cache

    return Cache(params.url, params.storage_options) if params.url else None


def run_batch(
    task: Task, items: Sequence, cache_params: CacheParams, compute: bool = True, writer: "Writer | None" = None
) -> list[Outcome | Future]:
    """Keep, take from the cache or compute every item of one batch; outcomes in the order of `items` (with a
    `writer`, a computed item's outcome is the future of its write)."""
    return _publish_batch(task, _compute_batch(task, items, cache_params, compute), writer)


def _compute_batch(task: Task, items: Sequence, cache_params: CacheParams, compute: bool) -> Batch:
    """Everything of a batch but publishing its computed items: kept and skipped outcomes, cache hits written locally
    (on the calling thread), and the arrays of the items left to compute."""
    cache = open_cache(cache_params)
    outcomes: dict[int, Outcome | Future] = {}
    todo: list[tuple[int, Pending]] = []
    for i, item in enumerate(items):
        try:
            key, state = task.prepare(item)
        except ClipError as err:
            outcomes[i] = Outcome("skipped", err.reason)
            continue
        if task.stored_key(item) == key:
            outcomes[i] = Outcome("kept")
        elif cache and (hit := cache.get(task.kind, key)) and _accepts(task, Pending(item, key, state), *hit):
            outcomes[i] = _write(task, Pending(item, key, state), hit[0], "cached")
        elif not compute:
            outcomes[i] = Outcome("missing")
        else:
            todo.append((i, Pending(item, key, state)))
    computed = task.compute([p for _, p in todo]) if todo else []
    return Batch(len(items), cache, outcomes, todo, computed)


def _accepts(task: Task, p: Pending, arrays: Arrays, meta: dict) -> bool:
    """Whether a shared-cache entry is this item's: published for the same clip, and its arrays what the task needs
    (any exception while checking: not accepted, so the item is computed anew)."""
    if meta.get("clip_id") != task.label(p.item):
        return False
    check = getattr(task, "accepts", None)
    try:
        return check is None or bool(check(p, arrays))
    except Exception:
        return False


def _publish_batch(task: Task, batch: Batch, writer: "Writer | None") -> list[Outcome | Future]:
    outcomes = dict(batch.outcomes)
    for (i, p), arrays in zip(batch.todo, batch.computed):
        if isinstance(arrays, ClipError):
            outcomes[i] = Outcome("skipped", arrays.reason)
        elif writer:
            outcomes[i] = writer.submit(_publish, task, batch.cache, p, arrays)
        else:
            outcomes[i] = _publish(task, batch.cache, p, arrays)
    return [outcomes[i] for i in range(batch.size)]


class Writer:
    """One thread that publishes and writes computed items in the order given, at most `depth` behind."""

    def __init__(self, depth: int = 2):
        self.pool, self.queue, self.depth = ThreadPoolExecutor(max_workers=1), deque(), depth

    def submit(self, fn: Callable, *args) -> Future:
        while len(self.queue) >= self.depth:  # bounded: finished arrays do not pile up in memory
            self.queue.popleft().result()
        self.queue.append(self.pool.submit(fn, *args))
        return self.queue[-1]

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, *exc) -> None:
        self.pool.shutdown(wait=True)  # every submitted write finishes, even when the run fails


def _publish(task: Task, cache, p: Pending, arrays: Arrays) -> Outcome:
    if cache:
        try:
            cache.put(task.kind, p.key, arrays, {"clip_id": task.label(p.item)})
        except OSError as exc:  # the cache saves work; one it cannot take (full, read-only, a folder in the way) does
            console.print(f"shared cache: {task.label(p.item)} not published ({exc.__class__.__name__}: {exc})")
    return _write(task, p, arrays, "computed")


def _write(task: Task, p: Pending, arrays: Arrays, status: str) -> Outcome:
    """Write an item; a task may refuse one (ClipError: excluded by its content, e.g. a face lost mid-clip)."""
    try:
        task.write(p, arrays)
    except ClipError as err:
        return Outcome("skipped", err.reason)
    return Outcome(status)


def _run_group(args: tuple, group: list) -> list[Outcome]:
    task, cache_params, compute = args
    return run_batch(task, group, cache_params, compute)


def run(
    task: Task,
    items: Sequence,
    cache: CacheParams = CacheParams(),
    scale: Scale = Scale(),
    batch_size: int = 1,
    compute: bool = True,
    progress: Callable | None = None,
    threads: int = 1,
    per_task: int = 1,
) -> list[Outcome]:
    """Every item through `run_batch`: in batches of `batch_size` in this process, or on dask one task per
    `per_task` items (a batch computed together on one worker).

    In this process, `threads` > 1 prepares and computes that many batches at once on a pool of threads (the task's
    prepare and compute must then be thread-safe); each finished batch is published in order, as it completes.
    """
    if scale.workers or scale.scheduler:
        groups = [list(items[i : i + per_task]) for i in range(0, len(items), per_task)]
        results = run_tasks(_run_group, (task, cache, compute), groups, scale, progress)
        return [o for r in results for o in r]
    batches = [items[i : i + batch_size] for i in range(0, len(items), batch_size)]
    with tracked(batches, progress) as batches, Writer() as writer:
        if threads <= 1:
            outcomes = [o for b in batches for o in run_batch(task, b, cache, compute, writer)]
        else:
            outcomes = []
            with ThreadPoolExecutor(threads, thread_name_prefix=f"{task.kind}-compute") as pool:
                running: deque[Future] = deque()
                for b in batches:  # one batch more than threads in flight: a thread never waits for the publisher
                    running.append(pool.submit(_compute_batch, task, b, cache, compute))
                    if len(running) > threads:
                        outcomes += _publish_batch(task, running.popleft().result(), writer)
                for done in running:
                    outcomes += _publish_batch(task, done.result(), writer)
    return [o.result() if isinstance(o, Future) else o for o in outcomes]


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    return {s: sum(o.status == s for o in outcomes) for s in STATUSES}


def push(kind: str, stored: Iterable[Stored], cache) -> dict[str, int]:
    """Publish every item of `kind` a local store holds complete (`stored`) that the cache lacks."""
    result = {"pushed": 0, "present": 0}
    for item in stored:
        if cache.has(kind, item.key):
            result["present"] += 1
            continue
        cache.put(kind, item.key, item.read(), {"clip_id": item.clip_id})
        result["pushed"] += 1
    return result
