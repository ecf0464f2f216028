"""The server latency benchmark: its edits keep the server's document in step, and it runs."""

from __future__ import annotations

from types import SimpleNamespace

from lsp_server import bench_latency
from lsp_server.bench_latency import Bench, source_file
from lsp_server.documents import DocumentStore
from lsp_server.features.text_sync import _range


async def test_typed_and_block_edits_leave_the_document_as_it_was():
    """Replayed into a DocumentStore as the server applies them: the cursor lines are what the
    benchmark means, and the text is restored after each request."""
    store, seen, kinds = DocumentStore(), [], []
    bench = Bench.__new__(Bench)  # no server: the client's notifications go to the store

    def did_open(params):
        doc = params.text_document
        store.open(doc.uri, doc.language_id, doc.version, doc.text)

    def did_change(params):
        changes = [(_range(c), c.text) for c in params.content_changes]
        store.change(params.text_document.uri, params.text_document.version, changes)

    async def inline(uri, position, automatic=False):  # a block suggestion "xy" on blank lines
        line = store.get(uri).line_text(position.line)
        seen.append(line[: position.character + 1])
        kinds.append(automatic)
        return [SimpleNamespace(new_text="xy")] if not line.strip() else []

    bench.client = SimpleNamespace(text_document_did_open=did_open,
                                   text_document_did_change=did_change)
    bench.inline = inline
    text = source_file(300)
    bench.open(text)
    rows = bench_latency.pick(text, r"^ {8}\S.*\S{8}", 3)
    openers = bench_latency.pick(text, r"^ {4}(def|for|if|with) .*:$", 3)
    for row in rows:
        await bench.inline_typing(row)
    for row in openers:
        await bench.inline_block(row)
    assert all(kinds)  # as typing asks: one suggestion each
    for row in openers:
        await bench.inline_block(row, explicit=True)
    assert not any(kinds[len(seen) - 3:]) and len(bench.typed_through) == 3  # as a key asks
    assert store.get(bench.uri).text == text == bench.text
    lines = text.split("\n")
    typed = [lines[r][: len(lines[r].rstrip()) * 2 // 3] for r in rows]
    assert seen[:3] == typed  # the line ends at the cursor: nothing after it
    blocks, typed_through = seen[3:9:2] + seen[9:], seen[4:9:2]
    assert len(blocks) == 6 and all(line.strip() == "" for line in blocks)  # fresh, indented
    assert [line.strip() for line in typed_through] == ["x"] * 3  # its first character typed
    assert len(bench.typed_through) == 3


async def test_the_benchmark_runs_a_real_session(tiny_checkpoint):
    result = await bench_latency.run(str(tiny_checkpoint), 300, 2, {"syntaxAttempts": 0})
    actions = result["actions"]
    assert set(actions) == {"inline_line", "inline_typing", "inline_block", "typed_through",
                            "inline_explicit", "docstring", "fix_function"}
    through = actions["typed_through"]  # only where a block suggestion came (below)
    assert all(row["n"] == 2 and row["p50_ms"] > 0
               for name, row in actions.items() if name != "typed_through")
    # unchecked, the tiny model answers, except where its bytes do not decode to a character
    # (the file is this repository's source, so which rows those are changes with it)
    edits = result["with_edit"]
    assert edits["inline_typing"] >= 1 and edits["inline_block"] >= 1
    # each block suggestion of two or more characters, its first typed: the rest, at once
    assert 1 <= through["n"] <= edits["inline_block"] and edits["typed_through"] == through["n"]
    assert set(result["with_edit"]) <= set(actions)  # counted under the actions' names
    assert result["server_rss_mb"] > 0 and result["settings"] == {"syntaxAttempts": 0}


async def test_a_versus_server_answers_the_same_requests_side_by_side(tiny_checkpoint):
    """Two servers, each request to both in turn; the second's settings and the p50 ratios."""
    result = await bench_latency.run(str(tiny_checkpoint), 300, 2, {"syntaxAttempts": 0},
                                     {"precision": "float32"})
    first, second = result["actions"], result["versus"]["actions"]
    assert result["settings"] == {"syntaxAttempts": 0}
    assert result["versus"]["settings"] == {"precision": "float32"}
    assert set(first) == set(second) == set(result["p50_ratio"])
    assert all(row["n"] == 2 for name, row in second.items() if name != "typed_through")
    assert second["typed_through"]["n"] == first["typed_through"]["n"] >= 1
    name = "inline_typing"
    assert result["p50_ratio"][name] == round(first[name]["p50_ms"] / second[name]["p50_ms"], 2)
    # its settings include the first's (unchecked): the same answers
    assert result["versus"]["with_edit"]["inline_typing"] == result["with_edit"]["inline_typing"]
    assert result["versus"]["server_rss_mb"] > 0
