"""Per-clip problems collected during a run and written as a CSV report."""

import csv
from dataclasses import asdict, dataclass, fields
from pathlib import Path

ACTIONS = ("repaired", "excluded", "skipped", "ignored", "flagged")


def printable(text: str) -> str:
    """`text` with the bytes of a file name that is not UTF-8 (read as surrogates) written as \\xNN escapes, so a
    report and the console can always carry it."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that no file name's byte gave
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass(frozen=True)
class Problem:
    """One problem: where (clip id or file), what is wrong, and what the run did about it."""

    dataset: str
    where: str
    problem: str
    action: str

    def __post_init__(self):
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}, got {self.action!r}")

    def line(self) -> str:
        return f"{self.dataset} {self.where}: {self.problem} -> {self.action}"


HEADER = [f.name for f in fields(Problem)]


class ProblemLog:
    """Collects problems of one stage run; `write` saves them as CSV (header only when clean)."""

    def __init__(self, dataset: str):
        self.dataset = dataset
        self.items: list[Problem] = []

    def add(self, where: str, problem: str, action: str) -> None:
        self.items.append(Problem(self.dataset, printable(where), printable(problem), action))

    def __len__(self) -> int:
        return len(self.items)

    def count(self, action: str) -> int:
        return sum(p.action == action for p in self.items)

    def write(self, path: Path) -> None:
        """Written whole or not at all (a temporary file renamed over `path`)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=HEADER)
            writer.writeheader()
            for p in self.items:
                writer.writerow(asdict(p))
        tmp.replace(path)


def read_problems(path: Path) -> list[Problem]:
    with open(path, newline="") as f:
        return [Problem(**row) for row in csv.DictReader(f)]
