"""``textDocument/didOpen``, ``didChange`` (incremental) and ``didClose`` into the DocumentStore."""

from __future__ import annotations

import logging

from lsprotocol import types

from lsp_server.server import InfillServer, server

log = logging.getLogger(__name__)


def _range(change) -> tuple[tuple[int, int], tuple[int, int]] | None:
    rng = getattr(change, "range", None)
    if rng is None:
        return None
    return (rng.start.line, rng.start.character), (rng.end.line, rng.end.character)


def open_document(ls: InfillServer, item: types.TextDocumentItem) -> None:
    """Track and parse a document (a file, or a notebook cell)."""
    doc = ls.documents.open(item.uri, item.language_id, item.version, item.text)
    if doc.skipped_reason:
        log.warning("infill disabled for %s: %s", item.uri, doc.skipped_reason)


def change_document(ls: InfillServer, document: types.VersionedTextDocumentIdentifier,
                    content_changes) -> None:
    """Apply edits (reparsing incrementally) and cancel the document's running jobs. A change
    to a document that is not open never gets here: ``InfillProtocol`` drops it."""
    ls.scheduler.cancel_document(document.uri)
    changes = [(_range(c), c.text) for c in content_changes]
    ls.documents.change(document.uri, document.version, changes)


def close_document(ls: InfillServer, uri: str) -> None:
    """Forget a document and its last suggestion, and cancel its jobs."""
    ls.scheduler.cancel_document(uri)
    ls.documents.close(uri)
    ls.suggestions.forget(uri)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: InfillServer, params: types.DidOpenTextDocumentParams) -> None:
    """Track and parse a newly opened document."""
    open_document(ls, params.text_document)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: InfillServer, params: types.DidChangeTextDocumentParams) -> None:
    """Apply edits to an open document."""
    change_document(ls, params.text_document, params.content_changes)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: InfillServer, params: types.DidCloseTextDocumentParams) -> None:
    """Forget a closed document."""
    close_document(ls, params.text_document.uri)
