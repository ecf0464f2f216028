"""With the default ``syntaxAttempts``, no suggestion that breaks the code reaches the client.

The tiny checkpoint's random weights write text that rarely parses, so the same requests with
the check off (``syntaxAttempts: 0``) must show broken suggestions: that is what proves the
check, not the model, keeps them away.
"""

import ast

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.session import apply_text_edits, edits_of, inline_params, open_document

pytestmark = pytest.mark.asyncio(loop_scope="module")

INIT_OPTIONS = {"syntaxAttempts": 2}
FUNCTIONS = 8
# Each function: an empty line in its body (a block completion) and a line to finish mid-way.
TEXT = "".join(
    f"def f{i}(x, y):\n    total = x + {i}\n    \n    return total * y\n\n\n"
    for i in range(FUNCTIONS)
)
CURSORS = [(6 * i + row, col) for i in range(FUNCTIONS) for row, col in ((2, 4), (1, 11))]


def parses(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


async def suggestions(client: LanguageClient, uri: str) -> list[str]:
    """The document as each offered inline suggestion would leave it."""
    after = []
    for line, character in CURSORS:
        result = await client.text_document_inline_completion_async(
            inline_params(uri, line, character))
        for item in result.items if result else []:
            edit = types.TextEdit(range=item.range, new_text=item.insert_text)
            after.append(apply_text_edits(TEXT, [edit]))
    return after


def set_attempts(client: LanguageClient, count: int) -> None:
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"infill": {"syntaxAttempts": count}}))


async def test_no_offered_suggestion_breaks_the_syntax_and_the_check_is_why(client):
    assert parses(TEXT)
    uri = "file:///e2e/syntax.py"
    open_document(client, uri, TEXT)
    checked = await suggestions(client, uri)
    assert all(parses(text) for text in checked)
    set_attempts(client, 0)
    try:
        unchecked = await suggestions(client, uri)
    finally:
        set_attempts(client, 2)
    assert len(unchecked) > len(checked)  # some were withheld ...
    assert not all(parses(text) for text in unchecked)  # ... because they broke the code


async def test_fix_this_function_offers_no_fix_that_leaves_it_broken(client):
    uri = "file:///e2e/syntax_fix.py"
    broken = TEXT.replace("total = x + 3", "total = x +", 1)
    assert not parses(broken)
    open_document(client, uri, broken)
    row = broken.split("\n").index("    total = x +")
    before = len(client.applied_edits)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="infill.fixFunction",
        arguments=[{"uri": uri, "position": {"line": row, "character": 8}}]))
    applied = client.applied_edits[before:]
    assert (result is None) == (not applied)
    for edit in applied:  # random weights may find no fix; any fix offered must parse
        assert parses(apply_text_edits(broken, edits_of(edit, uri)))
