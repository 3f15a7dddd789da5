"""Rich progress bars and messages, always on stderr (stdout is kept for machine-readable output)."""

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from rich.console import Console
from rich.progress import track

T = TypeVar("T")
console = Console(stderr=True)


def bar(description: str) -> Callable[[Sequence[T]], Iterable[T]]:
    """A function that wraps a sequence in a progress bar labelled `description`."""

    def wrap(items: Sequence[T]) -> Iterable[T]:
        return track(items, description=description, console=console, transient=False, total=len(items))

    return wrap
