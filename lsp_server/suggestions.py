"""The last inline suggestions of each document, so that typing one costs no model run.

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
    """Suggestions as computed: the text around the cursor then, and what each inserts."""

    before: str
    after: str
    texts: tuple[str, ...]
    config: ServerConfig


class LastSuggestions:
    """The remembered suggestions of the ``max_documents`` documents that got one last (each
    holds a copy of its document's text)."""

    def __init__(self, max_documents: int = 8) -> None:
        self.max_documents = max_documents
        self._by_uri: dict[str, Shown] = {}

    def remember(self, doc: Document, offset: int, texts: list[str],
                 config: ServerConfig) -> None:
        """Keep ``texts``, computed for insertion at ``offset`` of ``doc``."""
        self._by_uri.pop(doc.uri, None)  # re-inserted last: the most recent
        self._by_uri[doc.uri] = Shown(doc.text[:offset], doc.text[offset:], tuple(texts), config)
        while len(self._by_uri) > self.max_documents:
            del self._by_uri[next(iter(self._by_uri))]

    def rest(self, doc: Document, offset: int, config: ServerConfig) -> list[str]:
        """What is left of each remembered suggestion that ``doc`` has a head of typed at the
        old cursor, ``offset`` being just after what was typed; in the old order. Empty when
        the document differs otherwise, or a suggestion was typed whole (the next one is the
        model's)."""
        shown = self._by_uri.get(doc.uri)
        if shown is None or shown.config != config:
            return []
        text, start = doc.text, len(shown.before)
        if (offset < start or len(text) - offset != len(shown.after)
                or not text.startswith(shown.before) or not text.endswith(shown.after)):
            return []
        typed = text[start:offset]
        if any(s == typed for s in shown.texts):
            return []
        return [s[len(typed):] for s in shown.texts if s.startswith(typed)]

    def forget(self, uri: str) -> None:
        """Drop the document's suggestion (it was closed)."""
        self._by_uri.pop(uri, None)
