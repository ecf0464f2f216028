"""LastSuggestions: the rest of a suggestion only when its head was typed at the old cursor."""

from __future__ import annotations

import msgspec
import pytest

from lsp_server.config import ServerConfig
from lsp_server.documents import DocumentStore
from lsp_server.suggestions import LastSuggestions

URI = "file:///w/typing.py"
TEXT = "def area(w, h):\n    \n    return w * h\n"
CURSOR = (1, 4)  # the empty body line, after its indentation
SUGGESTION = "s = w * h\n    print(s)"
CONFIG = ServerConfig()


@pytest.fixture
def store():
    store = DocumentStore()
    store.open(URI, "python", 1, TEXT)
    return store


@pytest.fixture
def shown(store):
    last = LastSuggestions()
    doc = store.get(URI)
    last.remember(doc, doc.offset_at(*CURSOR), SUGGESTION, CONFIG)
    return last


def edit(store, start, end, text):
    """One incremental change, as an editor sends it; the new document."""
    version = store.get(URI).version + 1
    return store.change(URI, version, [((start, end), text)])


def rest_at(last, doc, line, character, config=CONFIG):
    return last.rest(doc, doc.offset_at(line, character), config)


def test_the_same_document_and_cursor_get_the_whole_suggestion(store, shown):
    assert rest_at(shown, store.get(URI), *CURSOR) == SUGGESTION


@pytest.mark.parametrize("typed", ["s", "s = w", "s = w * h\n", "s = w * h\n    pr"])
def test_typing_the_head_leaves_the_rest(store, shown, typed):
    doc = edit(store, CURSOR, CURSOR, typed)
    row = CURSOR[0] + typed.count("\n")
    column = len(typed.rsplit("\n", 1)[-1]) + (CURSOR[1] if "\n" not in typed else 0)
    assert rest_at(shown, doc, row, column) == SUGGESTION[len(typed):]


def test_backspace_within_the_typed_head_still_matches(store, shown):
    edit(store, CURSOR, CURSOR, "s = w")
    doc = edit(store, (1, 8), (1, 9), "")  # "s = w" -> "s = "
    assert rest_at(shown, doc, 1, 8) == "w * h\n    print(s)"


@pytest.mark.parametrize("typed", ["t", "s = v", "s  "])
def test_typing_something_else_is_a_miss(store, shown, typed):
    doc = edit(store, CURSOR, CURSOR, typed)
    assert rest_at(shown, doc, 1, 4 + len(typed)) is None


def test_typing_all_of_it_is_a_miss(store, shown):
    doc = edit(store, CURSOR, CURSOR, SUGGESTION)
    assert rest_at(shown, doc, 2, len("    print(s)")) is None


def test_an_edit_elsewhere_is_a_miss(store, shown):
    edit(store, CURSOR, CURSOR, "s")
    before = edit(store, (0, 4), (0, 8), "surface")  # renamed above the cursor
    assert rest_at(shown, before, 1, 5) is None
    store.open(URI, "python", 1, TEXT)
    edit(store, CURSOR, CURSOR, "s")
    after = edit(store, (2, 11), (2, 16), "w")  # changed below the cursor
    assert rest_at(shown, after, 1, 5) is None


def test_the_cursor_must_follow_what_was_typed(store, shown):
    doc = edit(store, CURSOR, CURSOR, "s = ")
    assert rest_at(shown, doc, 1, 6) is None  # inside the typed text
    assert rest_at(shown, doc, 2, 4) is None  # on another line


def test_other_settings_or_a_closed_document_are_a_miss(store, shown):
    doc = edit(store, CURSOR, CURSOR, "s")
    assert rest_at(shown, doc, 1, 5, ServerConfig()) == SUGGESTION[1:]  # equal settings
    assert rest_at(shown, doc, 1, 5, msgspec.structs.replace(CONFIG, threshold=0.9)) is None
    shown.forget(URI)
    assert rest_at(shown, doc, 1, 5) is None
