"""Typing the start of the ghost text: the rest comes back with no model run, end to end.

A model run shows up at the client as ``infill/status`` "busy"; the requests after typing
a head of the suggestion must not cause one, and typing something else must.
"""

import asyncio

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.session import change_document, inline_params, open_document, wait_for_status

pytestmark = pytest.mark.asyncio(loop_scope="module")

# The tiny random model's sampled alternatives decode to U+FFFD, never offered: its explicit
# suggestions differ only by budget, an empty line's (48) against one line's (24). Decoding is
# pinned: by default an explicit request's greedy tries decode more carefully than typing's.
INIT_OPTIONS = {"blockTokens": 48, "threshold": 0.9, "stepsPerToken": 0.5}

TEXT = "def area(w, h):\n    \n    return w * h\n"


async def suggest(client: LanguageClient, uri: str, line: int, character: int) -> str | None:
    result = await client.text_document_inline_completion_async(
        inline_params(uri, line, character, automatic=True))
    if result is None:
        return None
    [item] = result.items
    cursor = types.Position(line=line, character=character)
    assert item.range == types.Range(start=cursor, end=cursor)
    return item.insert_text


async def settled(client: LanguageClient) -> int:
    """Wait until the server reports idle after the last model run; the status count then."""
    if any(s["state"] == "busy" for s in client.statuses):
        await wait_for_status(client, "ready", since=_last_busy(client))
    await asyncio.sleep(0.2)  # a late status notification would land before the count
    return len(client.statuses)


def _last_busy(client: LanguageClient) -> int:
    return max(i for i, s in enumerate(client.statuses) if s["state"] == "busy")


def busy_since(client: LanguageClient, since: int) -> int:
    return sum(s["state"] == "busy" for s in client.statuses[since:])


def typed_at(text: str, line: int, character: int) -> tuple[int, int]:
    """The cursor after typing ``text`` at (line, character) (ASCII text)."""
    if "\n" not in text:
        return line, character + len(text)
    return line + text.count("\n"), len(text.rsplit("\n", 1)[1])


async def test_typing_the_suggestion_answers_its_rest_without_the_model(client):
    uri = "file:///e2e/typing.py"
    open_document(client, uri, TEXT)
    since = len(client.statuses)
    first = await suggest(client, uri, 1, 4)
    assert first is not None and len(first) >= 3, "the tiny model fills the empty body"
    assert busy_since(client, since) >= 1, "the first answer is the model's"
    version, (line, character), done = 1, (1, 4), ""
    for typed in (first[:1], first[1:3]):  # one keystroke, then two more
        version += 1
        cursor = types.Position(line=line, character=character)
        change_document(client, uri, version, types.Range(start=cursor, end=cursor), typed)
        line, character = typed_at(typed, line, character)
        done += typed
        since = await settled(client)
        assert await suggest(client, uri, line, character) == first[len(done):]
        await asyncio.sleep(0.2)
        assert busy_since(client, since) == 0, "typing through ran the model"


async def test_typing_something_else_asks_the_model_again(client):
    uri = "file:///e2e/typing_else.py"
    open_document(client, uri, TEXT)
    first = await suggest(client, uri, 1, 4)
    assert first is not None
    other = "Z" if first[0] != "Z" else "Q"
    cursor = types.Position(line=1, character=4)
    change_document(client, uri, 2, types.Range(start=cursor, end=cursor), other)
    since = await settled(client)
    await suggest(client, uri, 1, 5)
    await wait_for_status(client, "busy", since=since)


async def test_an_explicit_request_gets_alternatives_and_typing_keeps_them(client):
    uri = "file:///e2e/typing_explicit.py"
    open_document(client, uri, TEXT)
    shown = await suggest(client, uri, 1, 4)  # typing asked: one suggestion
    since = await settled(client)
    result = await client.text_document_inline_completion_async(inline_params(uri, 1, 4))
    texts = [item.insert_text for item in result.items]
    assert len(texts) > 1 and texts[0] == shown  # the key asked for more: the model ran again
    await wait_for_status(client, "busy", since=since)
    head = texts[0][0]
    cursor = types.Position(line=1, character=4)
    change_document(client, uri, 2, types.Range(start=cursor, end=cursor), head)
    since = await settled(client)
    again = await client.text_document_inline_completion_async(  # as typing asks
        inline_params(uri, 1, 5, automatic=True))
    assert [item.insert_text for item in again.items] == [
        text[1:] for text in texts if text.startswith(head)]
    await asyncio.sleep(0.2)
    assert busy_since(client, since) == 0, "typing through ran the model"


async def test_a_selected_completion_item_is_continued_and_accepting_it_keeps_the_rest(client):
    uri = "file:///e2e/selected.py"
    open_document(client, uri, "import os\n\n\ndef here():\n    return os.pa\n")
    word = types.Range(start=types.Position(line=4, character=14),
                       end=types.Position(line=4, character=16))  # "pa", the cursor at its end
    params = inline_params(uri, 4, 16, automatic=True)
    params.context.selected_completion_info = types.SelectedCompletionInfo(range=word,
                                                                           text="path")
    result = await client.text_document_inline_completion_async(params)
    [item] = result.items
    assert item.range == word  # replaces the typed "pa" with the item and what follows it
    assert item.insert_text.startswith("path") and len(item.insert_text) > len("path")
    # accepting "path" from the suggest widget: the ghost text is the rest, no model run
    change_document(client, uri, 2, word, "path")
    since = await settled(client)
    assert await suggest(client, uri, 4, 18) == item.insert_text[len("path"):]
    await asyncio.sleep(0.2)
    assert busy_since(client, since) == 0, "the continuation was computed after 'path'"
