"""The gate for text the model writes in docstrings and comments (lsp_server/prose.py)."""

import pytest

from lsp_server.prose import garbled, prose


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
     ("...", False), ("b", False), (")) *i", False)],
)
def test_prose_rejects_garbled_text_and_code(text, expected):
    assert prose(text) is expected
