"""Notebook cells as one program: the code cells around a cell are the model's context.

With ``notebookDocumentSync`` the client sends a notebook's cells as text documents inside
``notebookDocument/*`` notifications; pygls keeps the notebook's cell order, the
``DocumentStore`` keeps each cell's text. A completion, fix or docstring in a cell then sees
the code cells before and after it, as if the notebook were one file (a blank line between cells).
"""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace import Workspace

from lsp_server.documents import DocumentStore

SYNC = types.NotebookDocumentSyncOptions(
    notebook_selector=[types.NotebookDocumentFilterWithCells(
        notebook="*", cells=[types.NotebookCellLanguage(language="python")])],
)
SEPARATOR = "\n\n"


def cell_context(workspace: Workspace, documents: DocumentStore, cell_uri: str
                 ) -> tuple[str, str]:
    """The code cells before and after ``cell_uri`` in its notebook, as text to put around the
    cell's own; empty strings for a document that is not a cell."""
    notebook = workspace.get_notebook_document(cell_uri=cell_uri)
    if notebook is None:
        return "", ""
    texts: list[str | None] = []
    for cell in notebook.cells:
        doc = documents.get(cell.document)
        if cell.document == cell_uri:
            texts.append(None)
        elif cell.kind == types.NotebookCellKind.Code and doc is not None:
            texts.append(doc.text.rstrip("\n"))
    if None not in texts:
        return "", ""
    at = texts.index(None)
    before = "".join(text + SEPARATOR for text in texts[:at] if text and text.strip())
    after = "".join(SEPARATOR + text for text in texts[at + 1:] if text and text.strip())
    return before, after
