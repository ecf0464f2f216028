"""The gates for text the model writes in docstrings, comments and code (lsp_server/prose.py)."""

import pytest

from lsp_server.prose import garbled, prose, unreadable


@pytest.mark.parametrize(
    "text",
    ["Sum product product product.", "Returns maximum of of range.", "Return a pparenrenren",
     "escape-111111 set", "verify- are is not,,, and", "uncated integer number..",
     "ansst of ((st)))))) -> (", "a list of a list of a list", "Filter stringstring"],
)
def test_garbled_text_repeats_itself(text):
    assert garbled(text)


@pytest.mark.parametrize(
    "text",
    ["Return the sum of a list.", "Check if x is empty, or None...", "See f(g(x)) and [1, 2].",
     "the ratio of the two, and the sum of the two", "address 0.0.0.0 and 127.0.0.1",
     "TODO: handle the empty case"],
)
def test_ordinary_comments_are_not_garbled(text):
    assert not garbled(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Return the sum of a list.", True), ("Check if x is empty", True), ("same_chars", True),
     ("Sum product product product.", False), ("Returns maximum of of range.", False),
     ("result = []", False), ("return string.swapcase()", False), ("histogram(test)", False),
     ("Return f(x) for each x.", True), ("From 10 to 20", True), ("( b;", False),
     ("...", False), ("b", False), (")) *i", False),
     ("Return the sum of\ufffd a list.", False), ("Return the sum\x10 of a list.", False)],
)
def test_prose_rejects_garbled_text_and_code(text, expected):
    assert prose(text) is expected


@pytest.mark.parametrize(
    ("text", "around", "expected"),
    [("Return the sum.", "", False), ("a\tb\r\n", "", False),
     ("caf\u00e9 \u00fc \U0001f600", "", False),
     ("b\ufffdw", "", True), ("ret\x10def", "", True), ("\x00", "", True), ("x\x7f", "", True),
     ("'\ufffd'", "bad = '\ufffd'", False), ("\x0c", "page one\x0cpage two", False),
     ("\x0c\x10", "page\x0c", True)],
)
def test_unreadable_is_what_no_editor_should_insert(text, around, expected):
    """Half a character or a control character is unreadable unless the file holds it too."""
    assert unreadable(text, around) is expected
