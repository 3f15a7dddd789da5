"""The one way a benchmark leaves its figures, and the one way they reach the docs.

`publish(out, stem, data, lines)` (called by every benchmark script) writes <out>/<stem>.json (the numbers) and
<out>/<stem>.md (the table) and prints the table. Run as a script, it pastes every benchmarks/results/<stem>.md into
the page of docs/ (or README.md) holding the marks `<!-- bench:<stem>:begin -->` ... `<!-- bench:<stem>:end -->`,
indented as the begin mark is (mer_pipeline.evaluation.views.replace_block, the report's syntax), so the figures
the docs show are the ones the scripts wrote. A results file whose marks no page holds is listed, not pasted.

    python benchmarks/publish.py [--pages README.md docs] [--results benchmarks/results]
"""

import argparse
import json
from pathlib import Path

from mer_pipeline.evaluation.views import replace_block

REPO = Path(__file__).resolve().parents[1]


def publish(out: Path, stem: str, data, lines: list[str]) -> None:
    """<out>/<stem>.json from `data`, <out>/<stem>.md from `lines`; the table printed."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(data, indent=2) + "\n")
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def pages(roots: list[Path]) -> list[Path]:
    """The Markdown files among `roots` (files, or folders searched recursively)."""
    return sorted(p for r in roots for p in ([r] if r.is_file() else r.rglob("*.md")))


def paste_all(results: Path, roots: list[Path]) -> dict[str, Path | None]:
    """Paste every results file into the page holding its marks; returns stem -> page (None: no page has them)."""
    found: dict[str, Path | None] = {}
    texts = {p: p.read_text() for p in pages(roots)}
    for md in sorted(results.glob("*.md")):
        found[md.stem] = None
        for page, text in texts.items():
            pasted = replace_block(text, f"bench:{md.stem}", md.read_text())
            if pasted is not None:
                texts[page], found[md.stem] = pasted, page
    for page, text in texts.items():
        if page.read_text() != text:
            page.write_text(text)
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=Path, nargs="+", default=[REPO / "README.md", REPO / "docs"])
    ap.add_argument("--results", type=Path, default=REPO / "benchmarks" / "results")
    args = ap.parse_args()
    for stem, page in paste_all(args.results, args.pages).items():
        print(f"{stem} -> {page}" if page else f"{stem}: no page holds <!-- bench:{stem}:begin/end -->; not pasted")


if __name__ == "__main__":
    main()
