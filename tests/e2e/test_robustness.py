"""Bad input never crashes the server: unknown documents, malformed params, bad settings."""

import asyncio

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from tests.e2e.session import TIMEOUT, inline_params, open_document, raw_request

pytestmark = pytest.mark.asyncio(loop_scope="module")
TEXT = "def double(x):\n    return x * 2\n"


async def still_serving(client: LanguageClient) -> None:
    """The server answers a real request on a real document."""
    uri = "file:///e2e/alive.py"
    open_document(client, uri, TEXT)
    result = await client.text_document_inline_completion_async(inline_params(uri, 1, 16))
    assert result is not None and result.items


async def test_unknown_document_gives_null(client: LanguageClient):
    uri = "file:///e2e/never-opened.py"
    assert await client.text_document_inline_completion_async(inline_params(uri, 0, 0)) is None
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=0, character=0),
                          end=types.Position(line=0, character=0)),
        context=types.CodeActionContext(diagnostics=[])))
    assert actions is None
    before, shown = len(client.log_messages), len(client.messages)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text="x")]))
    await still_serving(client)
    warned = [m.message for m in client.log_messages[before:]]
    assert any("not open" in m and uri in m for m in warned), warned  # logged, not shown
    assert not client.messages[shown:], client.messages


async def test_malformed_params_get_an_invalid_params_error(client: LanguageClient):
    with pytest.raises(JsonRpcInvalidParams):
        await raw_request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION,
                          {"textDocument": {"uri": 7}, "position": "here"})
    await still_serving(client)


async def test_command_for_an_unknown_document_is_an_error(client: LanguageClient):
    with pytest.raises(JsonRpcInvalidParams, match="not open"):
        await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="infill.fixFunction",
            arguments=[{"uri": "file:///e2e/nope.py",
                        "position": {"line": 0, "character": 0}}]))


@pytest.mark.parametrize("text", ["\x00\x01binary", "x = 1\n" * 400_000], ids=["nul", "huge"])
async def test_binary_and_huge_files_are_skipped_with_a_warning(client: LanguageClient, text):
    uri = f"file:///e2e/skipped-{len(text)}.py"
    before = len(client.log_messages)
    open_document(client, uri, text)
    assert await client.text_document_inline_completion_async(inline_params(uri, 0, 1)) is None
    warnings = [m.message for m in client.log_messages[before:]]
    assert any(uri in message for message in warnings)
    await still_serving(client)


async def test_invalid_settings_are_reported_and_the_old_ones_kept(client: LanguageClient):
    shown = client.wait_for_notification(types.WINDOW_SHOW_MESSAGE)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"infill": {"threshold": 7, "features": {"inlineCompletion": False}}}))
    message = await asyncio.wait_for(shown, TIMEOUT)
    assert message.type == types.MessageType.Error
    assert "$.threshold" in message.message
    await still_serving(client)  # inline completion was not switched off either


async def test_feature_flags_switch_features_off_and_on(client: LanguageClient):
    uri = "file:///e2e/flags.py"
    open_document(client, uri, TEXT)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"infill": {"features": {"inlineCompletion": False}}}))
    assert await client.text_document_inline_completion_async(inline_params(uri, 1, 16)) is None
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"infill": {"features": {"inlineCompletion": True}}}))
    await still_serving(client)


async def test_disabled_languages_get_no_suggestions(client: LanguageClient):
    python, script = "file:///e2e/quiet.py", "file:///e2e/quiet.js"
    open_document(client, python, TEXT)
    open_document(client, script, "function double(x) {\n  return x * 2;\n}\n", "javascript")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"infill": {"disabledLanguages": ["python"], "features": {"completion": True}}}))
    assert await client.text_document_inline_completion_async(inline_params(python, 1, 16)) \
        is None
    assert await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=python),
        position=types.Position(line=1, character=16))) is None
    found = await client.text_document_inline_completion_async(inline_params(script, 1, 15))
    assert found is not None and found.items  # the other languages still get suggestions
    fixes = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=python),
        range=types.Range(start=types.Position(line=1, character=4),
                          end=types.Position(line=1, character=4)),
        context=types.CodeActionContext(diagnostics=[])))
    assert any(action.title == "Fix this function" for action in fixes or [])  # still offered
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"infill": {"disabledLanguages": [], "features": {"completion": None}}}))
    await still_serving(client)


async def test_out_of_range_positions_are_clamped(client: LanguageClient):
    uri = "file:///e2e/range.py"
    open_document(client, uri, TEXT)
    far = types.Position(line=999, character=999)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=far, end=far), context=types.CodeActionContext(diagnostics=[])))
    assert actions is None or all(isinstance(a, types.CodeAction) for a in actions)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="infill.insertDocstring",
        arguments=[{"uri": uri, "position": {"line": 999, "character": 999}}]))
    assert result is None or "documentChanges" in result
    await still_serving(client)


async def test_resolve_with_foreign_data_is_an_error(client: LanguageClient):
    action = types.CodeAction(title="Fix this function", data={"something": "else"})
    with pytest.raises(JsonRpcInvalidParams, match="uri"):
        await client.code_action_resolve_async(action)
    await still_serving(client)


async def test_half_of_a_surrogate_pair_in_a_document_is_no_error(client: LanguageClient):
    # an edit that splits an emoji leaves a lone UTF-16 surrogate in the text
    uri = "file:///e2e/half-emoji.py"
    open_document(client, uri, "def smile(x):\n    s = '\ud83d'\n    return x * 2\n")
    before = len(client.log_messages)
    result = await client.text_document_inline_completion_async(inline_params(uri, 2, 16))
    assert result is not None and result.items
    # the code parses: the fix scores its tokens (random weights prefer none clearly: no fix)
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="infill.fixFunction", arguments=[{"uri": uri, "position": {"line": 2,
                                                                              "character": 4}}]))
    errors = [m.message for m in client.log_messages[before:] if m.type == types.MessageType.Error]
    assert not errors, errors
