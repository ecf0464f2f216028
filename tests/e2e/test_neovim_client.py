"""Replaying Neovim 0.11's recorded capabilities: UTF-16 despite its utf-8 preference, plain
``changes`` edits (it has no ``documentChanges``), resolve and executeCommand."""

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from tests.conftest import SHIPPED
from tests.e2e.session import apply_text_edits, open_document

pytestmark = pytest.mark.asyncio(loop_scope="module")
# The shipped model: an inserted docstring must read as prose, which random weights never write.
INIT_OPTIONS = {"modelPath": str(SHIPPED)}
CLIENT_CAPABILITIES = client_capabilities("neovim@v0.11.0")
TEXT = "def total(prices, tax):\n    subtotal = sum(prices)\n    return subtotal * (1 + tax)\n"
URI = "file:///e2e/neovim.py"


async def test_utf16_is_chosen_over_neovims_utf8(client: LanguageClient):
    assert CLIENT_CAPABILITIES.general.position_encodings[0] == "utf-8"
    assert client.init_result.capabilities.position_encoding == "utf-16"


async def test_resolved_docstring_uses_plain_changes(client: LanguageClient):
    open_document(client, URI, TEXT)
    found = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=URI),
        range=types.Range(start=types.Position(line=1, character=4),
                          end=types.Position(line=1, character=4)),
        context=types.CodeActionContext(diagnostics=[])))
    action = next(a for a in found if a.title == "Insert docstring")
    resolved = await client.code_action_resolve_async(action)
    assert resolved.edit.document_changes is None
    [edit] = resolved.edit.changes[URI]
    assert edit.range.start == types.Position(line=1, character=0)
    after = apply_text_edits(TEXT, [edit]).split("\n")
    assert after[1].startswith('    """') and after[2:] == TEXT.split("\n")[1:]


async def test_fix_command_applies_through_apply_edit(client: LanguageClient):
    broken = "file:///e2e/neovim_broken.py"
    open_document(client, broken, TEXT.replace("sum(prices)", "sum(prices) +"))
    before = len(client.applied_edits)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="infill.fixFunction",
        arguments=[{"uri": broken, "position": {"line": 1, "character": 4}}]))
    assert result is not None
    [applied] = client.applied_edits[before:]
    assert set(applied.changes) == {broken}
    for edit in applied.changes[broken]:
        assert edit.range.start.line in (1, 2)  # the statement with the syntax error
