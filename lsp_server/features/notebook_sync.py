"""``notebookDocument/didOpen``, ``didChange`` and ``didClose``: cells into the DocumentStore.

pygls' own handlers run first and keep the notebook's structure (``ls.workspace``); these keep
each cell's text, parsed, as ``text_sync`` does for plain documents.
"""

from __future__ import annotations

from lsprotocol import types

from lsp_server.features.text_sync import _range
from lsp_server.server import InfillServer, server


def _open_cells(ls: InfillServer, cells) -> None:
    for cell in cells or []:
        ls.documents.open(cell.uri, cell.language_id, cell.version, cell.text)


def _close_cells(ls: InfillServer, cells) -> None:
    for cell in cells or []:
        ls.scheduler.cancel_document(cell.uri)
        ls.documents.close(cell.uri)
        ls.suggestions.forget(cell.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
def did_open(ls: InfillServer, params: types.DidOpenNotebookDocumentParams) -> None:
    """Track the cells of a newly opened notebook."""
    _open_cells(ls, params.cell_text_documents)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
def did_change(ls: InfillServer, params: types.DidChangeNotebookDocumentParams) -> None:
    """Cells added, removed or edited (edits cancel the cell's running jobs)."""
    cells = params.change.cells
    if cells is None:
        return
    if cells.structure is not None:
        _open_cells(ls, cells.structure.did_open)
        _close_cells(ls, cells.structure.did_close)
    for content in cells.text_content or []:
        uri = content.document.uri
        ls.scheduler.cancel_document(uri)
        changes = [(_range(c), c.text) for c in content.changes]
        ls.documents.change(uri, content.document.version, changes)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
def did_close(ls: InfillServer, params: types.DidCloseNotebookDocumentParams) -> None:
    """Forget a closed notebook's cells."""
    _close_cells(ls, params.cell_text_documents)
