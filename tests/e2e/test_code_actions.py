"""Code actions ("Fix this function", "Insert docstring"), lazy resolve and executeCommand."""

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import SHIPPED
from tests.e2e.session import apply_text_edits, edits_of, open_document

pytestmark = pytest.mark.asyncio(loop_scope="module")
# The shipped model: an inserted docstring must read as prose, which random weights never write.
INIT_OPTIONS = {"modelPath": str(SHIPPED)}

TEXT = (
    "import math\n"
    "\n"
    "\n"
    "class Shape:\n"
    "    def __init__(self, sides):\n"
    "        self.sides = sides\n"
    "\n"
    "    def perimeter(self, length):\n"
    "        total = self.sides * length\n"
    "        total = total +* 0\n"
    "        return total\n"
    "\n"
    "\n"
    "def documented(x):\n"
    '    """Already has one."""\n'
    "    return math.sqrt(x)\n"
)
LINES = TEXT.split("\n")
ROW = {line.strip(): i for i, line in enumerate(LINES)}


def pos(line: int, character: int = 0) -> types.Position:
    return types.Position(line=line, character=character)


async def code_actions(client, uri, line, character=8, diagnostics=(), only=None):
    return await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=pos(line, character), end=pos(line, character)),
            context=types.CodeActionContext(diagnostics=list(diagnostics), only=only),
        )
    )


def by_title(found) -> dict[str, types.CodeAction]:
    return {action.title: action for action in found or []}


def changed_rows(before: str, after: str) -> set[int]:
    old, new = before.split("\n"), after.split("\n")
    assert len(old) == len(new)
    return {i for i, (a, b) in enumerate(zip(old, new)) if a != b}


@pytest.fixture(scope="module")
def uri(client: LanguageClient):
    uri = "file:///e2e/actions.py"
    open_document(client, uri, TEXT, version=4)
    return uri


async def test_menu_offers_both_actions_lazily(client, uri):
    found = by_title(await code_actions(client, uri, ROW["def __init__(self, sides):"] + 1))
    assert set(found) == {"Fix this function", "Insert docstring"}
    fix, doc = found["Fix this function"], found["Insert docstring"]
    assert fix.kind == types.CodeActionKind.QuickFix
    assert doc.kind == types.CodeActionKind.RefactorRewrite
    assert fix.edit is None and doc.edit is None  # computed on resolve
    assert fix.data["uri"] == uri and fix.data["version"] == 4


async def test_docstring_not_offered_when_one_exists(client, uri):
    found = by_title(await code_actions(client, uri, ROW["return math.sqrt(x)"], 4))
    assert set(found) == {"Fix this function"}


async def test_only_filters_by_kind(client, uri):
    found = await code_actions(client, uri, ROW["self.sides = sides"],
                               only=[types.CodeActionKind.Refactor])
    assert [a.title for a in found] == ["Insert docstring"]


async def test_no_actions_outside_functions(client, uri):
    assert await code_actions(client, uri, 0, 0) is None


async def test_fix_rewrites_only_the_diagnosed_line(client, uri):
    row = ROW["total = self.sides * length"]
    diagnostic = types.Diagnostic(range=types.Range(start=pos(row, 8), end=pos(row, 20)),
                                  message="suspicious", severity=types.DiagnosticSeverity.Warning)
    fix = by_title(await code_actions(client, uri, row, diagnostics=[diagnostic]))[
        "Fix this function"]
    resolved = await client.code_action_resolve_async(fix)
    assert resolved.edit is not None, "the tiny model rewrites the flagged line"
    [change] = resolved.edit.document_changes
    assert change.text_document.version == 4
    after = apply_text_edits(TEXT, edits_of(resolved.edit, uri))
    assert changed_rows(TEXT, after) == {row}
    assert after.split("\n")[row].startswith("        ")


async def test_fix_without_diagnostics_targets_the_syntax_error(client, uri):
    row = ROW["total = total +* 0"]
    fix = by_title(await code_actions(client, uri, row))["Fix this function"]
    resolved = await client.code_action_resolve_async(fix)
    assert resolved.edit is not None
    edits = edits_of(resolved.edit, uri)
    assert {e.range.start.line for e in edits} <= {row, row + 1}
    after = apply_text_edits(TEXT, edits).split("\n")
    first, last = ROW["def perimeter(self, length):"], ROW["return total"]
    assert after[:first + 2] == LINES[:first + 2]  # everything above the error, byte-identical
    tail = len(LINES) - last - 1
    assert after[-tail:] == LINES[-tail:]  # and everything after the function


async def test_docstring_resolve_inserts_an_indented_docstring(client, uri):
    row = ROW["def perimeter(self, length):"]
    action = by_title(await code_actions(client, uri, row, 8))["Insert docstring"]
    resolved = await client.code_action_resolve_async(action)
    assert resolved.edit is not None
    [edit] = edits_of(resolved.edit, uri)
    assert edit.range == types.Range(start=pos(row + 1), end=pos(row + 1))
    assert edit.new_text.startswith('        """') and edit.new_text.endswith('"""\n')
    after = apply_text_edits(TEXT, [edit]).split("\n")
    assert after[: row + 1] + after[row + 2 :] == LINES


async def test_execute_command_applies_and_returns_the_edit(client, uri):
    row = ROW["def __init__(self, sides):"]
    before = len(client.applied_edits)
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="infill.insertDocstring",
                                   arguments=[{"uri": uri, "position": {"line": row,
                                                                        "character": 8}}]))
    assert result is not None
    [applied] = client.applied_edits[before:]
    [edit] = edits_of(applied, uri)
    assert edit.range.start == pos(row + 1)
    assert edit.new_text.startswith('        """')
    returned = result["documentChanges"][0]["edits"][0]
    assert returned["newText"] == edit.new_text


async def test_execute_command_with_bad_arguments_is_an_error(client, uri):
    from pygls.exceptions import JsonRpcInvalidParams

    with pytest.raises(JsonRpcInvalidParams, match="position"):
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="infill.fixFunction",
                                       arguments=[{"uri": uri, "position": {"line": -1}}]))


async def test_fix_respells_a_name_nothing_binds(client):
    """No diagnostic: ``reslt`` raises NameError, so the fix finds it and writes ``result``."""
    uri = "file:///e2e/respell.py"
    text = ("def total(xs):\n    result = 0\n    for x in xs:\n        result += x\n"
            "    return reslt\n")
    open_document(client, uri, text)
    fix = by_title(await code_actions(client, uri, 4))["Fix this function"]
    resolved = await client.code_action_resolve_async(fix)
    assert resolved.edit is not None
    after = apply_text_edits(text, edits_of(resolved.edit, uri))
    assert after == text.replace("reslt", "result")
