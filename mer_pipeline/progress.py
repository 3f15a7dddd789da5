"""Rich progress bars and messages, always on stderr (stdout is kept for machine-readable output).

A bar redraws on each item, from the loop's own thread: no refresh thread is started, so nothing can wait on one
when a loop ends in an exception (rich's auto-refresh thread could leave `Live.stop` waiting forever when the bar's
generator was closed by the garbage collector on another thread).
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import Progress

T = TypeVar("T")
console = Console(stderr=True)


def bar(description: str) -> Callable[[Sequence[T]], Iterable[T]]:
    """A function that wraps a sequence in a progress bar labelled `description`."""

    def wrap(items: Sequence[T]) -> Iterator[T]:
        with Progress(*Progress.get_default_columns(), console=console, transient=False, auto_refresh=False) as p:
            task = p.add_task(description, total=len(items))
            p.refresh()
            for item in items:
                yield item
                p.advance(task)
                p.refresh()

    return wrap


@contextmanager
def tracked(items: Sequence[T], progress: Callable[[Sequence[T]], Iterable[T]] | None) -> Iterator[Iterable[T]]:
    """`items` wrapped in `progress` (None: as they are), the bar closed when the block ends, exception or not (on
    this thread, before the exception travels on)."""
    wrapped = progress(items) if progress else items
    try:
        yield wrapped
    finally:
        close = getattr(wrapped, "close", None)
        if close:
            close()
