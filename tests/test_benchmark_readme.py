"""The README's benchmark figures are the files the benchmark scripts wrote (benchmarks/readme.py pastes them)."""

import importlib.util

from conftest import REPO

spec = importlib.util.spec_from_file_location("bench_readme", REPO / "benchmarks" / "readme.py")
bench_readme = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_readme)


def test_paste_replaces_only_its_block_and_keeps_the_indent():
    readme = ("intro\n<!-- bench:a:begin -->\nold\n<!-- bench:a:end -->\n- item\n  <!-- bench:b:begin -->\n  old b\n"
              "  <!-- bench:b:end -->\ntail\n")
    out = bench_readme.paste(readme, "b", "| x |\n\n| y |\n")
    assert out == ("intro\n<!-- bench:a:begin -->\nold\n<!-- bench:a:end -->\n- item\n  <!-- bench:b:begin -->\n"
                   "  | x |\n\n  | y |\n  <!-- bench:b:end -->\ntail\n")
    assert bench_readme.paste(out, "b", "| x |\n\n| y |\n") == out
    assert bench_readme.paste(readme, "c", "text") is None


def test_every_benchmark_result_stands_in_the_readme_as_written():
    readme = (REPO / "README.md").read_text()
    results = sorted((REPO / "benchmarks" / "results").glob("*.md"))
    assert results
    for md in results:
        assert bench_readme.paste(readme, md.stem, md.read_text()) == readme, f"README's {md.stem} block is stale"
