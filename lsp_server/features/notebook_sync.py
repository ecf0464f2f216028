"""``notebookDocument/didOpen``, ``didChange`` and ``didClose``: cells into the DocumentStore.

pygls' own handlers run first and keep the notebook's structure (``ls.workspace``); these keep
each cell's text, parsed, as ``text_sync`` does for plain documents.
"""

from __future__ import annotations

from lsprotocol import types

from lsp_server.features.text_sync import change_document, close_document, open_document
from lsp_server.server import InfillServer, server


@server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
def did_open(ls: InfillServer, params: types.DidOpenNotebookDocumentParams) -> None:
    """Track the cells of a newly opened notebook."""
    for cell in params.cell_text_documents:
        open_document(ls, cell)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
def did_change(ls: InfillServer, params: types.DidChangeNotebookDocumentParams) -> None:
    """Cells added, removed or edited (edits cancel the cell's running jobs)."""
    cells = params.change.cells
    if cells is None:
        return
    if cells.structure is not None:
        for cell in cells.structure.did_open or []:
            open_document(ls, cell)
        for closed in cells.structure.did_close or []:
            close_document(ls, closed.uri)
    for content in cells.text_content or []:
        change_document(ls, content.document, content.changes)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
def did_close(ls: InfillServer, params: types.DidCloseNotebookDocumentParams) -> None:
    """Forget a closed notebook's cells."""
    for cell in params.cell_text_documents:
        close_document(ls, cell.uri)
