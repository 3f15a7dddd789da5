"""CLI start-up: wall time of `mer-pipeline --help` and `mer-pipeline <cmd> --help` as whole processes, interleaved with
a bare `python -c pass` baseline (A B A B ...), median of several runs.

    python benchmarks/startup.py [--runs 7]      # prints a table; writes benchmarks/results/startup.{json,md}
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from publish import publish  # benchmarks/publish.py: the one output helper

COMMANDS = [[], ["faces"], ["modalities"], ["train"], ["report"]]


def wall(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    cli = [sys.executable, "-m", "mer_pipeline.cli.app"]
    rows = []
    for command in COMMANDS:
        base, ours = [], []
        for _ in range(args.runs):  # interleaved: the machine's noise hits both alike
            base.append(wall([sys.executable, "-c", "pass"]))
            ours.append(wall([*cli, *command, "--help"]))
        rows.append(
            {
                "command": " ".join(["mer-pipeline", *command, "--help"]),
                "median_s": statistics.median(ours),
                "python_s": statistics.median(base),
            }
        )
    lines = ["| command | median s | bare python s |", "|---|---|---|"]
    lines += [f"| `{r['command']}` | {r['median_s']:.2f} | {r['python_s']:.2f} |" for r in rows]
    publish(args.out, "startup", {"runs": args.runs, "rows": rows}, lines)


if __name__ == "__main__":
    main()
