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


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: InfillServer, params: types.DidOpenTextDocumentParams) -> None:
    """Track and parse a newly opened document."""
    item = params.text_document
    doc = ls.documents.open(item.uri, item.language_id, item.version, item.text)
    if doc.skipped_reason:
        log.warning("infill disabled for %s: %s", item.uri, doc.skipped_reason)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: InfillServer, params: types.DidChangeTextDocumentParams) -> None:
    """Apply edits (reparsing incrementally) and cancel the document's running jobs."""
    uri = params.text_document.uri
    ls.scheduler.cancel_document(uri)
    changes = [(_range(c), c.text) for c in params.content_changes]
    ls.documents.change(uri, params.text_document.version, changes)  # (open: InfillProtocol)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: InfillServer, params: types.DidCloseTextDocumentParams) -> None:
    """Forget a closed document (and its last suggestion) and cancel its jobs."""
    ls.scheduler.cancel_document(params.text_document.uri)
    ls.documents.close(params.text_document.uri)
    ls.suggestions.forget(params.text_document.uri)
