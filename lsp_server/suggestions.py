"""The last inline suggestion of each document, so that typing it costs no model run.

Editors ask again after every keystroke. When the user types the start of the suggestion on
screen, the new request is answered with the rest of it at once: the same text the model
proposed, so the ghost text neither flickers nor changes under the user's fingers. The
answer holds only when the document is exactly the old one with the typed text inserted at
the old cursor (so the old syntax check and cleaning still hold), under the same settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsp_server.config import ServerConfig
from lsp_server.documents import Document


@dataclass(frozen=True)
class Shown:
    """A suggestion as computed: the text around the cursor then, and what it inserts."""

    before: str
    after: str
    text: str
    config: ServerConfig


class LastSuggestions:
    """One remembered suggestion per open document."""

    def __init__(self) -> None:
        self._by_uri: dict[str, Shown] = {}

    def remember(self, doc: Document, offset: int, text: str, config: ServerConfig) -> None:
        """Keep ``text``, computed for insertion at ``offset`` of ``doc``."""
        self._by_uri[doc.uri] = Shown(doc.text[:offset], doc.text[offset:], text, config)

    def rest(self, doc: Document, offset: int, config: ServerConfig) -> str | None:
        """What is left of the remembered suggestion when ``doc`` is the old document with a
        head of it typed at the old cursor, and ``offset`` is just after what was typed.
        None otherwise, or when all of it was typed (the next suggestion is the model's)."""
        shown = self._by_uri.get(doc.uri)
        if shown is None or shown.config != config:
            return None
        text, start = doc.text, len(shown.before)
        if (offset < start or len(text) - offset != len(shown.after)
                or not text.startswith(shown.before) or not text.endswith(shown.after)):
            return None
        typed = text[start:offset]
        if len(typed) >= len(shown.text) or not shown.text.startswith(typed):
            return None
        return shown.text[len(typed):]

    def forget(self, uri: str) -> None:
        """Drop the document's suggestion (it was closed)."""
        self._by_uri.pop(uri, None)
