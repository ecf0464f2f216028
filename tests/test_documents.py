"""DocumentStore: UTF-16 positions, CRLF, incremental reparse equal to a fresh parse, skips."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from lsp_server import documents, regions
from lsp_server.documents import DocumentStore

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = {
    "python": "python/sample.py",
    "javascript": "javascript/sample.js",
    "typescript": "typescript/sample.ts",
    "go": "go/sample.go",
    "rust": "rust/sample.rs",
}


def opened(text: str, language_id: str = "python", store: DocumentStore | None = None):
    store = store or DocumentStore()
    return store, store.open("file:///w/doc", language_id, 1, text)


def dump(tree) -> list[tuple]:
    """Every node with its type, bytes and points: a stricter comparison than the s-expression."""
    out, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        out.append((node.type, node.start_byte, node.end_byte, node.start_point, node.end_point))
        stack.extend(node.children)
    return out


def same_as_fresh(doc) -> bool:
    fresh = regions.parse(doc.language, doc.source)
    return str(doc.tree.root_node) == str(fresh.root_node) and dump(doc.tree) == dump(fresh)


def test_utf16_positions_with_emoji():
    _, doc = opened("a😀b = 1\nx = 'é😀'\n")
    assert doc.offset_at(0, 3) == 2  # the emoji is two UTF-16 units, one char
    assert doc.offset_at(0, 2) == 1  # inside the surrogate pair: start of the emoji
    assert doc.position_at(2) == (0, 3)
    assert doc.byte_at(2) == 5 and doc.char_at_byte(5) == 2
    assert doc.char_at_byte(3) == 1  # inside the emoji's bytes: its start
    assert doc.offset_at(1, 8) == 15 and doc.offset_at(1, 7) == 14
    assert doc.position_at(len(doc.text)) == (2, 0)
    assert doc.byte_at(len(doc.text)) == len(doc.source)


def test_crlf_lines_and_clamping():
    _, doc = opened("one\r\ntwo\r\n\r\nend")
    assert [doc.line_text(i) for i in range(5)] == ["one", "two", "", "end", ""]
    assert doc.offset_at(1, 0) == 5
    assert doc.offset_at(0, 99) == 3  # clamped before the line break
    assert doc.offset_at(99, 0) == len(doc.text)
    assert doc.offset_at(-1, 4) == 0
    assert doc.offset_at(1, -3) == 5
    assert doc.position_at(10) == (2, 0) and doc.position_at(10**6) == (3, 3)
    assert doc.line_text(-1) == ""


def test_open_detects_language_and_close_forgets():
    store = DocumentStore()
    doc = store.open("file:///w/main.rs", "plaintext", 3, "fn main() {}\n")
    assert (doc.language, doc.version, doc.skipped_reason) == ("rust", 3, None)
    assert str(doc.tree.root_node).startswith("(source_file (function_item")
    assert store.get("file:///w/main.rs") is doc
    store.close("file:///w/main.rs")
    assert store.get("file:///w/main.rs") is None
    assert store.change("file:///w/main.rs", 4, [(None, "")]) is None
    notes = store.open("file:///w/notes.txt", "plaintext", 1, "hello\n")
    assert notes.language is None and notes.tree is None


@pytest.mark.parametrize("lang", SAMPLES)
def test_incremental_changes_match_a_fresh_parse(lang, monkeypatch):
    text = (FIXTURES / SAMPLES[lang]).read_text()
    store, doc = opened(text, lang)
    old_nodes = dump(doc.tree)
    reused = []
    real_parse = documents.parse
    monkeypatch.setattr(documents, "parse", lambda *a: reused.append(a[2]) or real_parse(*a))

    row = text[: text.index("return total")].count("\n")
    changes = [
        (((row, 0), (row, 0)), "  // 😀 note\n" if lang != "python" else "    # 😀 note\n"),
        (((0, 0), (0, 3)), ""),
        (((row + 1, 2), (row + 2, 4)), "broken ( 😀"),
    ]
    new = store.change(doc.uri, 2, changes)

    assert new.version == 2 and store.get(doc.uri) is new
    assert len(reused) == 1 and reused[0] is not None  # the edited old tree, not from scratch
    last = reused[0].root_node.children[-1]  # after every change: shifted by tree.edit alone
    row = new.text[: new.text.index("undocumented")].count("\n")
    assert last.start_point == (row, 0) and last.start_byte == new.byte_at(new.offset_at(row, 0))
    assert same_as_fresh(new)
    assert new.text.count("😀") == 2 and "broken ( 😀" in new.text
    assert dump(doc.tree) == old_nodes  # the previous version is left untouched


def test_edits_on_crlf_text_and_full_replacement():
    store, doc = opened("def f():\r\n    return 1\r\n")
    doc = store.change(doc.uri, 2, [(((1, 11), (1, 12)), "[1, 😀]")])
    assert doc.text == "def f():\r\n    return [1, 😀]\r\n"
    assert same_as_fresh(doc)
    doc = store.change(doc.uri, 3, [(((1, 15), (1, 17)), "2")])  # the emoji is 2 UTF-16 units
    assert doc.line_text(1) == "    return [1, 2]"
    doc = store.change(doc.uri, 4, [(None, "x = (\n"), (((0, 4), (0, 5)), "[]")])
    assert doc.text == "x = []\n" and not doc.tree.root_node.has_error


def test_binary_and_huge_documents_are_kept_but_not_parsed():
    store = DocumentStore(max_bytes=64)
    _, binary = opened("x = 1\x00\n", store=store)
    assert binary.tree is None and "binary" in binary.skipped_reason
    assert binary.text == "x = 1\x00\n"
    big = store.open("file:///w/big.py", "python", 1, "x = 1\n" * 20)
    assert big.tree is None and "too large" in big.skipped_reason
    small = store.change(big.uri, 2, [(((1, 0), (20, 0)), "")])
    assert small.text == "x = 1\n" and small.skipped_reason is None
    assert same_as_fresh(small)


def test_preview_is_the_edited_document_parsed_and_leaves_the_store_alone():
    store, doc = opened("import os\nos.pa\n")
    preview = store.preview(doc, ((1, 3), (1, 5)), "path(")
    assert (preview.text, preview.version, preview.uri) == ("import os\nos.path(\n", 1, doc.uri)
    fresh = regions.parse("python", preview.source)
    assert dump(preview.tree) == dump(fresh)
    assert store.get(doc.uri) is doc and dump(doc.tree) == dump(regions.parse("python", doc.source))


def utf16_splice(text: str, rng, new_text: str) -> str:
    """What an editor's buffer holds after an LSP edit, worked out in UTF-16 code units: lines
    end at \\n, \\r\\n or \\r; a character past the line's end is its end; a position inside a
    surrogate pair is the pair's start."""
    units = text.encode("utf-16-le", "surrogatepass")
    unit = [units[i : i + 2] for i in range(0, len(units), 2)]
    starts, ends, i = [0], [], 0
    while i < len(unit):
        if unit[i] in ("\r".encode("utf-16-le"), "\n".encode("utf-16-le")):
            ends.append(i)
            i += 2 if unit[i : i + 2] == ["\r".encode("utf-16-le"), "\n".encode("utf-16-le")] else 1
            starts.append(i)
        else:
            i += 1
    ends.append(len(unit))

    def index(line: int, character: int) -> int:
        if line >= len(starts):
            return len(unit)
        at = starts[line] + min(character, ends[line] - starts[line])
        low_surrogate = at < len(unit) and 0xDC00 <= int.from_bytes(unit[at], "little") <= 0xDFFF
        return at - 1 if low_surrogate and at > starts[line] else at

    start = index(*rng[0])
    end = max(index(*rng[1]), start)
    new = units[: 2 * start] + new_text.encode("utf-16-le", "surrogatepass") + units[2 * end :]
    return new.decode("utf-16-le", "surrogatepass")


@pytest.mark.parametrize("lang", ["python", "javascript"])
@pytest.mark.parametrize("seed", range(4))
def test_random_edits_keep_the_text_an_editor_has_and_a_fresh_tree(lang, seed):
    """Random incremental edits (CRLF, lone CR, emoji, accents, ranges past line ends): the text
    is the editor's, and the incrementally reparsed tree is the one a fresh parse gives."""
    rng = random.Random(seed)
    pieces = ["x", " = ", "(", ")", "\n", "\r\n", "\r", "    ", "😀", "é", "if a:\n", "'", "#",
              "return 1", "{", "}", ";", "def f():\n    pass\n", "function g() {}\n", ""]
    text = (FIXTURES / SAMPLES[lang]).read_text()
    store, doc = opened(text, lang)
    for version in range(2, 62):
        changes = []
        for _ in range(rng.randint(1, 3)):
            lines = max(1, text.count("\n") + 1)
            a = (rng.randrange(lines + 1), rng.randrange(0, 40))
            b = (a[0] + rng.choice([0, 0, 1, 2]), rng.randrange(0, 40))
            new_text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 3)))
            changes.append(((a, b), new_text))
            text = utf16_splice(text, (a, b), new_text)
        doc = store.change(doc.uri, version, changes)
        assert doc.text == text, (version, changes)
        assert same_as_fresh(doc), (version, changes)
