"""The engine's outcomes with writes off the critical path: computed items are written by one writer thread, in
order, a write may still exclude its item, and a failing write fails the run once every write has finished."""

import threading
from dataclasses import dataclass, field

import numpy as np
import pytest

from mer_pipeline import engine
from mer_pipeline.errors import ClipError


@dataclass
class ListTask:
    """A task over integers kept in a dict: items below 0 fail to compute, items in `refuse` are refused on write,
    item `crash` raises an ordinary error on write."""

    store: dict = field(default_factory=dict)
    refuse: tuple = ()
    crash: int | None = None
    writes: list = field(default_factory=list)
    kind: str = "test"

    def prepare(self, item):
        return f"key{item}", None

    def stored_key(self, item):
        return self.store.get(item, (None,))[0]

    def compute(self, pending):
        return [ClipError(str(p.item), "negative") if p.item < 0 else {"x": np.full(3, p.item)} for p in pending]

    def write(self, p, arrays):
        self.writes.append((p.item, threading.current_thread() is threading.main_thread()))
        if p.item in self.refuse:
            raise ClipError(str(p.item), "refused")
        if p.item == self.crash:
            raise OSError("disk full")
        self.store[p.item] = (p.key, arrays)

    def read(self, item):
        return self.store[item][1]

    def label(self, item):
        return str(item)


def test_computed_items_are_written_in_order_off_the_main_thread():
    task = ListTask(store={2: ("key2", {"x": np.full(3, 2)})}, refuse=(4,))
    outcomes = engine.run(task, [1, 2, 3, -1, 4, 5], batch_size=2)
    assert [o.status for o in outcomes] == ["computed", "kept", "computed", "skipped", "skipped", "computed"]
    assert outcomes[4].problem == "refused" and outcomes[3].problem == "negative"
    assert [item for item, _ in task.writes] == [1, 3, 4, 5]
    assert not any(on_main for _, on_main in task.writes)
    assert sorted(task.store) == [1, 2, 3, 5]


def test_a_failing_write_fails_the_run_after_the_other_writes():
    task = ListTask(crash=2)
    with pytest.raises(OSError, match="disk full"):
        engine.run(task, [1, 2, 3, 4])
    written = [item for item, _ in task.writes]
    assert written[:2] == [1, 2] and 2 not in task.store
    assert sorted(task.store) == sorted(set(written) - {2})  # every write handed over was finished


@dataclass
class SlowTask(ListTask):
    """Computes on whichever thread the engine gives it, the earlier items slower, and records the threads."""

    threads_seen: set = field(default_factory=set)

    def compute(self, pending):
        self.threads_seen.add(threading.current_thread().name)
        threading.Event().wait(0.02 * max(0, 6 - pending[0].item))  # later items finish first
        return super().compute(pending)


def test_threads_compute_batches_at_once_and_publish_them_in_order():
    task = SlowTask(store={2: ("key2", {"x": np.full(3, 2)})}, refuse=(4,))
    outcomes = engine.run(task, [1, 2, 3, -1, 4, 5], threads=3)
    assert [o.status for o in outcomes] == ["computed", "kept", "computed", "skipped", "skipped", "computed"]
    assert [item for item, _ in task.writes] == [1, 3, 4, 5]  # in order, although later items finished first
    assert len(task.threads_seen) > 1 and threading.main_thread().name not in task.threads_seen
    assert sorted(task.store) == [1, 2, 3, 5]


RAISING_RUN = """
import numpy as np
from mer_pipeline import engine
from mer_pipeline.progress import bar

class Raising:
    kind = "test"
    def prepare(self, item): return f"key{item}", None
    def stored_key(self, item): return None
    def compute(self, pending):
        if pending[0].item == 3:
            raise ValueError("broken task")
        return [{"x": np.zeros(2)} for _ in pending]
    def write(self, p, arrays): pass
    def read(self, item): return {}
    def label(self, item): return str(item)

engine.run(Raising(), list(range(8)), progress=bar("raising"), threads=THREADS)
"""


@pytest.mark.parametrize("threads", [1, 2])
def test_an_exception_inside_the_progress_loop_ends_the_process(threads):
    """A task raising inside the bar's loop: the process exits non-zero within seconds, every time (rich's refresh
    thread once left one of seven such runs waiting forever in Live.stop)."""
    import subprocess
    import sys

    for _ in range(4):
        run = subprocess.run(
            [sys.executable, "-c", RAISING_RUN.replace("THREADS", str(threads))],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 1 and "ValueError: broken task" in run.stderr
