"""cell_context: a cell sees the code cells around it, in the notebook's order."""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace import Workspace

from lsp_server.documents import DocumentStore
from lsp_server.notebooks import cell_context

CODE, MARKUP = types.NotebookCellKind.Code, types.NotebookCellKind.Markup
CELLS = [("c0", CODE, "import math\n"), ("c1", MARKUP, "# Notes"), ("c2", CODE, "x = 1\n"),
         ("c3", CODE, "   \n"), ("c4", CODE, "print(x)")]


def notebook(cells=CELLS):
    workspace, store = Workspace(None), DocumentStore()
    workspace.put_notebook_document(types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(
            uri="file:///nb.ipynb", notebook_type="jupyter-notebook", version=1,
            cells=[types.NotebookCell(kind=kind, document=uri) for uri, kind, _ in cells]),
        cell_text_documents=[types.TextDocumentItem(uri=uri, language_id="python", version=1,
                                                    text=text) for uri, _, text in cells]))
    for uri, _, text in cells:
        store.open(uri, "python", 1, text)
    return workspace, store


def test_code_cells_around_a_cell_in_order_markup_and_blank_ones_left_out():
    workspace, store = notebook()
    assert cell_context(workspace, store, "c2") == ("import math\n\n", "\n\nprint(x)")
    assert cell_context(workspace, store, "c0") == ("", "\n\nx = 1\n\nprint(x)")
    assert cell_context(workspace, store, "c4") == ("import math\n\nx = 1\n\n", "")


def test_a_plain_document_or_an_unknown_cell_has_no_context():
    workspace, store = notebook()
    assert cell_context(workspace, store, "file:///plain.py") == ("", "")
    store.close("c2")  # a cell the store does not know (closed): still no crash
    assert cell_context(workspace, store, "c4") == ("import math\n\n", "")
