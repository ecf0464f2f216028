"""LastSuggestions: the rest of suggestions only when a head of them was typed at the old cursor."""

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
OTHER = "s = w + h"  # a second suggestion, as an explicit request returns
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
    last.remember(doc, doc.offset_at(*CURSOR), [SUGGESTION, OTHER], CONFIG)
    return last


def edit(store, start, end, text):
    """One incremental change, as an editor sends it; the new document."""
    version = store.get(URI).version + 1
    return store.change(URI, version, [((start, end), text)])


def rest_at(last, doc, line, character, config=CONFIG):
    return last.rest(doc, doc.offset_at(line, character), config)


def test_the_same_document_and_cursor_get_the_whole_suggestions(store, shown):
    assert rest_at(shown, store.get(URI), *CURSOR) == [SUGGESTION, OTHER]


@pytest.mark.parametrize("typed", ["s", "s = w ", "s = w * h\n", "s = w * h\n    pr"])
def test_typing_the_head_leaves_the_rest_of_those_it_starts(store, shown, typed):
    doc = edit(store, CURSOR, CURSOR, typed)
    row = CURSOR[0] + typed.count("\n")
    column = len(typed.rsplit("\n", 1)[-1]) + (CURSOR[1] if "\n" not in typed else 0)
    expected = [s[len(typed):] for s in (SUGGESTION, OTHER) if s.startswith(typed)]
    assert rest_at(shown, doc, row, column) == expected
    assert len(expected) == (1 if "\n" in typed else 2)


def test_backspace_within_the_typed_head_still_matches(store, shown):
    edit(store, CURSOR, CURSOR, "s = w *")
    doc = edit(store, (1, 10), (1, 11), "")  # "s = w *" -> "s = w "
    assert rest_at(shown, doc, 1, 10) == ["* h\n    print(s)", "+ h"]


@pytest.mark.parametrize("typed", ["t", "s = v", "s  "])
def test_typing_something_else_is_a_miss(store, shown, typed):
    doc = edit(store, CURSOR, CURSOR, typed)
    assert rest_at(shown, doc, 1, 4 + len(typed)) == []


def test_typing_one_of_them_whole_is_a_miss(store, shown):
    doc = edit(store, CURSOR, CURSOR, SUGGESTION)
    assert rest_at(shown, doc, 2, len("    print(s)")) == []
    store.open(URI, "python", 1, TEXT)
    doc = edit(store, CURSOR, CURSOR, OTHER)
    assert rest_at(shown, doc, 1, 4 + len(OTHER)) == []


def test_an_edit_elsewhere_is_a_miss(store, shown):
    edit(store, CURSOR, CURSOR, "s")
    before = edit(store, (0, 4), (0, 8), "surface")  # renamed above the cursor
    assert rest_at(shown, before, 1, 5) == []
    store.open(URI, "python", 1, TEXT)
    edit(store, CURSOR, CURSOR, "s")
    after = edit(store, (2, 11), (2, 16), "w")  # changed below the cursor
    assert rest_at(shown, after, 1, 5) == []


def test_the_cursor_must_follow_what_was_typed(store, shown):
    doc = edit(store, CURSOR, CURSOR, "s = ")
    assert rest_at(shown, doc, 1, 6) == []  # inside the typed text
    assert rest_at(shown, doc, 2, 4) == []  # on another line


def test_other_settings_or_a_closed_document_are_a_miss(store, shown):
    doc = edit(store, CURSOR, CURSOR, "s")
    assert rest_at(shown, doc, 1, 5, ServerConfig()) == [SUGGESTION[1:], OTHER[1:]]  # equal
    assert rest_at(shown, doc, 1, 5, msgspec.structs.replace(CONFIG, threshold=0.3)) == []
    shown.forget(URI)
    assert rest_at(shown, doc, 1, 5) == []


def test_only_the_documents_that_got_one_last_are_remembered():
    store, last = DocumentStore(), LastSuggestions(max_documents=2)
    docs = [store.open(f"file:///w/{name}.py", "python", 1, TEXT) for name in "abc"]
    offset = docs[0].offset_at(*CURSOR)
    for doc in (docs[0], docs[1], docs[0], docs[2]):  # `a` again: `b` is now the oldest
        last.remember(doc, offset, [SUGGESTION], CONFIG)
    typed = [store.change(doc.uri, 2, [((CURSOR, CURSOR), "s")]) for doc in docs]
    assert [bool(last.rest(doc, offset + 1, CONFIG)) for doc in typed] == [True, False, True]
