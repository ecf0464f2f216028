"""Minimal edits: trimming, UTF-16 ranges, versioned workspace edits."""

import pytest
from lsprotocol import types

from lsp_server.documents import DocumentStore
from lsp_server.edits import apply, replace_span, trim, workspace_edit


def make_doc(text: str, version: int = 3):
    return DocumentStore().open("file:///t.py", "python", version, text)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("abc", "abc", (3, 3, "")),
        ("foo(x)", "foo(y)", (4, 5, "y")),
        ("ab", "aXb", (1, 1, "X")),
        ("aXb", "ab", (1, 2, "")),
        ("aaa", "aaaa", (3, 3, "a")),  # head and tail never overlap
    ],
)
def test_trim_by_chars(old, new, expected):
    assert trim(old, new) == expected
    start, end, text = trim(old, new)
    assert old[:start] + text + old[end:] == new


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("a\nbXc\nd", "a\nbYc\nd", (2, 6, "bYc\n")),
        ("x\nfoo\ny", "x\nfoo\nbar\ny", (6, 6, "bar\n")),  # pure line insertion
        ("x\nbad\ny\n", "x\ny\n", (2, 6, "")),  # pure line deletion
    ],
)
def test_trim_by_lines_touches_changed_lines_only(old, new, expected):
    assert trim(old, new, by_lines=True) == expected
    start, end, text = expected
    assert old[:start] + text + old[end:] == new


def test_replace_span_ranges_are_utf16():
    doc = make_doc("s = '😀é' + x\n")
    start = doc.text.index("x")
    [edit] = replace_span(doc, start, start + 1, "y")
    assert start == 11  # Python chars; the emoji is two UTF-16 code units, é is one
    assert edit.range == types.Range(start=types.Position(line=0, character=12),
                                     end=types.Position(line=0, character=13))
    assert apply(doc, [edit]) == "s = '😀é' + y\n"


def test_replace_span_unchanged_is_empty():
    doc = make_doc("a = 1\n")
    assert replace_span(doc, 0, 5, "a = 1") == []


def test_replace_span_by_lines_leaves_other_lines_alone():
    text = "def f():\n    x = 1\n    y = oops\n    return x\n"
    doc = make_doc(text)
    new = text.replace("oops", "2")
    [edit] = replace_span(doc, 0, len(text), new, by_lines=True)
    assert edit.range.start == types.Position(line=2, character=0)
    assert edit.range.end == types.Position(line=3, character=0)
    assert edit.new_text == "    y = 2\n"
    assert apply(doc, [edit]) == new


def test_workspace_edit_is_versioned_or_plain():
    doc = make_doc("a\n", version=7)
    edits = replace_span(doc, 0, 1, "b")
    versioned = workspace_edit(doc, edits)
    [change] = versioned.document_changes
    assert change.text_document.version == 7
    assert change.text_document.uri == doc.uri
    plain = workspace_edit(doc, edits, document_changes=False)
    assert plain.changes == {doc.uri: edits}
    assert workspace_edit(doc, []) is None
