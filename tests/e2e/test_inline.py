"""textDocument/inlineCompletion and the textDocument/completion fallback, end to end."""

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.session import inline_params, open_document

pytestmark = pytest.mark.asyncio(loop_scope="module")

# The tiny random model's sampled alternatives are bytes that decode to U+FFFD, never offered, so
# its explicit suggestions differ only by budget: an empty line's (48) against one line's (24).
# Decoding is pinned: by default an explicit request's greedy tries decode more carefully.
INIT_OPTIONS = {"blockTokens": 48, "threshold": 0.9, "stepsPerToken": 0.5}

TEXT = (
    "def greet(name):\n"
    "    s = '😀' + name\n"
    "    print(s)\n"
    "\n"
    "\n"
    "def area(w, h):\n"
    "    \n"
    "    return w * h\n"
)
LINES = TEXT.split("\n")


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def complete(client: LanguageClient, uri: str, line: int, character: int):
    """The one item of an automatic request (as typing asks), or None."""
    result = await client.text_document_inline_completion_async(
        inline_params(uri, line, character, automatic=True))
    if result is None:
        return None
    assert isinstance(result, types.InlineCompletionList)
    [item] = result.items
    return item


@pytest.fixture(scope="module")
def uri(client: LanguageClient):
    uri = "file:///e2e/inline.py"
    open_document(client, uri, TEXT)
    return uri


async def test_end_of_line_after_an_emoji_is_one_line_at_the_utf16_cursor(client, uri):
    column = utf16(LINES[1])  # 19 UTF-16 units, 18 Python characters
    assert column == len(LINES[1]) + 1
    item = await complete(client, uri, 1, column)
    assert item is not None, "the tiny model says something at the end of a line"
    cursor = types.Position(line=1, character=column)
    assert item.range == types.Range(start=cursor, end=cursor)
    assert "\n" not in item.insert_text
    assert item.insert_text.strip()


async def test_mid_line_never_repeats_the_rest_of_the_line(client, uri):
    head = "    s = '😀'"
    rest = LINES[1][len(head):]  # " + name"
    item = await complete(client, uri, 1, utf16(head))
    assert item is not None
    cursor = types.Position(line=1, character=utf16(head))
    assert item.range == types.Range(start=cursor, end=cursor)
    assert "\n" not in item.insert_text
    tail = rest.rstrip()
    assert not any(item.insert_text.endswith(tail[:k]) for k in range(1, len(tail) + 1))


async def test_empty_line_in_a_block_fills_a_block_at_the_cursor(client, uri):
    item = await complete(client, uri, 6, 4)
    assert item is not None
    cursor = types.Position(line=6, character=4)
    assert item.range == types.Range(start=cursor, end=cursor)
    assert item.insert_text == item.insert_text.rstrip()  # the next line is not pushed down
    assert not item.insert_text.endswith(LINES[7].strip())  # nor repeated


async def test_an_explicit_request_returns_different_suggestions_to_cycle_through(client, uri):
    automatic = await complete(client, uri, 6, 4)
    result = await client.text_document_inline_completion_async(inline_params(uri, 6, 4))
    texts = [item.insert_text for item in result.items]
    assert 1 < len(texts) <= 3 and len(set(texts)) == len(texts)  # explicitCandidates: 3
    assert texts[0] == automatic.insert_text  # the greedy one first, as typing showed it
    cursor = types.Position(line=6, character=4)
    assert all(item.range == types.Range(start=cursor, end=cursor) for item in result.items)


async def test_completion_fallback_edits_from_the_word_start_to_the_cursor(client, uri):
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri),
                               position=types.Position(line=2, character=9)))  # after "    print"
    assert result is not None
    [item] = result.items
    edit = item.text_edit
    assert edit.range == types.Range(start=types.Position(line=2, character=4),
                                     end=types.Position(line=2, character=9))
    assert edit.new_text.startswith("print")
    assert item.filter_text == edit.new_text


async def test_position_past_the_end_is_clamped(client, uri):
    item = await complete(client, uri, 999, 999)
    assert item is not None
    last = types.Position(line=len(LINES) - 1, character=0)
    assert item.range == types.Range(start=last, end=last)
