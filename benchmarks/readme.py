"""Paste every benchmarks/results/<name>.md into the README between `<!-- bench:<name>:begin -->` and
`<!-- bench:<name>:end -->`, indented as its begin mark is, so the README's figures are the ones the benchmark
scripts wrote. A results file without marks in the README is listed, not pasted.

    python benchmarks/readme.py [--readme README.md] [--results benchmarks/results]
"""

import argparse
import re
from pathlib import Path


def paste(readme: str, name: str, text: str) -> str | None:
    """readme with `text` between the marks of `name`, or None where it has none."""
    mark = re.escape(name)
    found = re.search(rf"^([ \t]*)<!-- bench:{mark}:begin -->\n(.*?)^[ \t]*<!-- bench:{mark}:end -->", readme,
                      flags=re.S | re.M)
    if not found:
        return None
    indent = found.group(1)
    body = "\n".join(indent + line if line else "" for line in text.rstrip("\n").split("\n"))
    block = f"{indent}<!-- bench:{name}:begin -->\n{body}\n{indent}<!-- bench:{name}:end -->"
    return readme[: found.start()] + block + readme[found.end():]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readme", type=Path, default=Path("README.md"))
    ap.add_argument("--results", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    readme = args.readme.read_text()
    for md in sorted(args.results.glob("*.md")):
        pasted = paste(readme, md.stem, md.read_text())
        if pasted is None:
            print(f"{md}: no <!-- bench:{md.stem}:begin/end --> marks in {args.readme}; not pasted")
            continue
        readme = pasted
        print(f"{md} -> {args.readme}")
    args.readme.write_text(readme)


if __name__ == "__main__":
    main()
