"""Notebook cells through notebookDocument/* sync: completions in a cell, edits to it, close."""

import attrs
import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import SHIPPED
from tests.e2e.session import CAPABILITIES, inline_params

pytestmark = pytest.mark.asyncio(loop_scope="module")
# The shipped model: an inserted docstring must read as prose, which random weights never write.
INIT_OPTIONS = {"modelPath": str(SHIPPED)}
CLIENT_CAPABILITIES = attrs.evolve(  # the server advertises notebook sync to such clients
    CAPABILITIES, notebook_document=types.NotebookDocumentClientCapabilities(
        synchronization=types.NotebookDocumentSyncClientCapabilities()))

NOTEBOOK = "file:///e2e/analysis.ipynb"
CELLS = [  # (uri, kind, text)
    ("vscode-notebook-cell:/e2e/analysis.ipynb#W0sZmlsZQ%3D%3D", types.NotebookCellKind.Code,
     "import math\n\n\ndef area(r):\n    return math.pi * r ** 2\n"),
    ("vscode-notebook-cell:/e2e/analysis.ipynb#W1sZmlsZQ%3D%3D", types.NotebookCellKind.Markup,
     "# Areas"),
    ("vscode-notebook-cell:/e2e/analysis.ipynb#W2sZmlsZQ%3D%3D", types.NotebookCellKind.Code,
     "sizes = [1, 2, 3]\ntotal = "),
]
LAST = CELLS[2][0]


def open_notebook(client: LanguageClient) -> None:
    client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(
            uri=NOTEBOOK, notebook_type="jupyter-notebook", version=1,
            cells=[types.NotebookCell(kind=kind, document=uri) for uri, kind, _ in CELLS]),
        cell_text_documents=[
            types.TextDocumentItem(uri=uri, version=1, text=text,
                                   language_id="python" if kind == 2 else "markdown")
            for uri, kind, text in CELLS]))


async def complete(client: LanguageClient, uri: str, line: int, character: int):
    result = await client.text_document_inline_completion_async(
        inline_params(uri, line, character, automatic=True))
    return result.items[0] if result and result.items else None


async def test_the_server_advertises_notebook_sync_for_python_cells(client):
    sync = client.init_result.capabilities.notebook_document_sync
    [selector] = sync.notebook_selector
    assert [cell.language for cell in selector.cells] == ["python"]


async def test_a_cell_gets_completions_and_follows_its_edits(client):
    open_notebook(client)
    item = await complete(client, LAST, 1, 8)
    assert item is not None, "the tiny model answers in a cell"
    cursor = types.Position(line=1, character=8)
    assert item.range == types.Range(start=cursor, end=cursor)
    # Type in the cell: the change comes inside notebookDocument/didChange.
    end = types.Position(line=1, character=8)
    typed = types.TextDocumentContentChangePartial(range=types.Range(start=end, end=end),
                                                   text="sum(area(s) for s in sizes)\n")
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        notebook_document=types.VersionedNotebookDocumentIdentifier(uri=NOTEBOOK, version=2),
        change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(
            text_content=[types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=LAST, version=2),
                changes=[typed])]))))
    item = await complete(client, LAST, 2, 0)  # the new empty last line of the cell
    assert item is not None
    assert item.range.start == types.Position(line=2, character=0)
    # A position past the old text would have been clamped to line 1.


async def test_a_cell_gets_its_docstring_with_the_other_cells_as_context(client):
    first = CELLS[0][0]  # `def area(r)` on its line 3
    edit = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="infill.insertDocstring",
        arguments=[{"uri": first, "position": {"line": 4, "character": 4}}]))
    [change] = edit["documentChanges"]
    assert change["textDocument"]["uri"] == first
    [text_edit] = change["edits"]
    assert text_edit["range"]["start"] == {"line": 4, "character": 0}
    assert text_edit["newText"].startswith('    """')


async def test_closing_the_notebook_forgets_its_cells(client):
    client.notebook_document_did_close(types.DidCloseNotebookDocumentParams(
        notebook_document=types.NotebookDocumentIdentifier(uri=NOTEBOOK),
        cell_text_documents=[types.TextDocumentIdentifier(uri=uri) for uri, _, _ in CELLS]))
    assert await client.text_document_inline_completion_async(
        inline_params(LAST, 1, 8, automatic=True)) is None


async def test_a_change_to_an_unknown_notebook_is_dropped_and_the_server_serves_on(client):
    before, shown = len(client.log_messages), len(client.messages)
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        notebook_document=types.VersionedNotebookDocumentIdentifier(
            uri="file:///e2e/never-opened.ipynb", version=2),
        change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(
            text_content=[types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri="cell:never", version=2),
                changes=[types.TextDocumentContentChangeWholeDocument(text="x = 1\n")])]))))
    open_notebook(client)  # and a notebook opened after it still works
    assert await complete(client, LAST, 1, 8) is not None
    warned = [m.message for m in client.log_messages[before:]]
    assert any("never-opened.ipynb" in m for m in warned), warned  # logged, not shown
    assert not client.messages[shown:], client.messages
