"""Running per-clip tasks in this process or on dask (local cluster or an existing scheduler).

Tasks receive paths, params and clip records, never frame arrays; each worker builds its own heavy resources
(mediapipe graph, CUDA context) on first use.
"""

from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from typing import Any

from mer_pipeline.config import Scale
from mer_pipeline.progress import tracked


@contextmanager
def dask_client(scale: Scale):
    """A distributed Client for `scale`: its existing scheduler, or a local cluster of `scale.workers` processes."""
    from distributed import Client, LocalCluster

    if scale.scheduler:
        with Client(scale.scheduler) as client:
            yield client
        return
    cluster = LocalCluster(n_workers=scale.workers, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, Client(cluster) as client:
        yield client


def run_tasks(fn: Callable, job: Any, items: Sequence, scale: Scale, progress=None) -> list:
    """fn(job, item) for every item, in order of items, on dask (scale names workers or a scheduler): one task per
    item. In-process runs do not come here (engine.run batches them itself)."""
    with dask_client(scale) as client:
        from distributed import as_completed

        futures = client.map(fn, [job] * len(items), list(items), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        results: list = [None] * len(items)
        with tracked(_Sized(as_completed(futures), len(futures)), progress) as done:
            for future in done:
                results[index[future.key]] = future.result()
        return results


class _Sized:
    """An iterator with a known length, so progress bars can show a total."""

    def __init__(self, it: Iterable, n: int):
        self.it, self.n = it, n

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        return iter(self.it)
