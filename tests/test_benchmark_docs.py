"""The docs' benchmark figures are the files the benchmark scripts wrote (benchmarks/publish.py pastes them), and
generated blocks have one syntax (evaluation/views.replace_block)."""

import importlib.util
import sys

from conftest import REPO

from mer_pipeline.evaluation.views import replace_block

sys.path.insert(0, str(REPO / "benchmarks"))
spec = importlib.util.spec_from_file_location("bench_publish", REPO / "benchmarks" / "publish.py")
bench_publish = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_publish)


def test_a_block_is_replaced_alone_and_keeps_its_indent():
    text = (
        "intro\n<!-- bench:a:begin -->\nold\n<!-- bench:a:end -->\n- item\n  <!-- bench:b:begin -->\n  old b\n"
        "  <!-- bench:b:end -->\ntail\n"
    )
    out = replace_block(text, "bench:b", "| x |\n\n| y |\n")
    assert out == (
        "intro\n<!-- bench:a:begin -->\nold\n<!-- bench:a:end -->\n- item\n  <!-- bench:b:begin -->\n"
        "  | x |\n\n  | y |\n  <!-- bench:b:end -->\ntail\n"
    )
    assert replace_block(out, "bench:b", "| x |\n\n| y |\n") == out
    assert replace_block(text, "bench:c", "text") is None
    assert replace_block(text, "bench:a.", "text") is None  # names are matched literally


def test_publish_writes_json_and_table_and_pastes_into_the_page_holding_the_marks(tmp_path, capsys):
    results, docs = tmp_path / "results", tmp_path / "docs"
    bench_publish.publish(results, "speed", {"x": 1.5}, ["| a |", "|---|", "| 1.5 |"])
    assert (results / "speed.json").read_text() == '{\n  "x": 1.5\n}\n' and "| 1.5 |" in capsys.readouterr().out
    docs.mkdir()
    (docs / "page.md").write_text("# Page\n<!-- bench:speed:begin -->\n<!-- bench:speed:end -->\n")
    (docs / "other.md").write_text("# Other\n")
    bench_publish.publish(results, "orphan", {}, ["| b |"])
    found = bench_publish.paste_all(results, [docs])
    assert found == {"orphan": None, "speed": docs / "page.md"}
    assert (
        docs / "page.md"
    ).read_text() == "# Page\n<!-- bench:speed:begin -->\n| a |\n|---|\n| 1.5 |\n<!-- bench:speed:end -->\n"
    assert (docs / "other.md").read_text() == "# Other\n"


def test_every_benchmark_result_stands_in_the_docs_as_written():
    pages = {p: p.read_text() for p in bench_publish.pages([REPO / "README.md", REPO / "docs"])}
    results = sorted((REPO / "benchmarks" / "results").glob("*.md"))
    assert results
    for md in results:
        holding = [p for p, text in pages.items() if replace_block(text, f"bench:{md.stem}", "") is not None]
        assert len(holding) == 1, f"bench:{md.stem} marks in {holding or 'no page'}"
        text = pages[holding[0]]
        assert replace_block(text, f"bench:{md.stem}", md.read_text()) == text, f"{holding[0]}: {md.stem} is stale"
